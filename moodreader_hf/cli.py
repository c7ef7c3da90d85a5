"""The ``moodreader`` command: one subcommand per module in :mod:`moodreader_hf.commands`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from .validation import input_error_message

COMMAND_MODULES: tuple[str, ...] = ("demo", "pretrain", "finetune", "evaluate", "simulate", "build_dataset", "build_corpus", "predict", "explain", "publish", "publish_dataset", "publish_space")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; each command module provides ``register(subparsers)``."""
    parser = OneLineErrorParser(prog="moodreader", description="Cross-subject EEG emotion recognition.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"moodreader_hf.commands.{name}").register(subparsers)
    return parser


def run_command(run: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, prog: str) -> int:
    """``run(args)``; bad input ends with one line ``"<prog>: error: <message>"`` on stderr and exit status 2.

    Bad input is what :func:`~moodreader_hf.validation.input_error_message` recognises: the package's own
    refusals (also wrapped by a library), file-system errors naming their file, the package's own ``ValueError``
    checks. Anything else is a bug and keeps its traceback. Under several processes (``accelerate launch``) only
    the first prints the line; every process exits with the status.
    """
    if getattr(args, "quiet", False):
        _quiet_libraries()
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        _print_once(f"{prog}: interrupted")
        return 130
    except Exception as error:
        message = input_error_message(error)
        if message is None:
            raise
        _print_once(f"{prog}: error: {message}")
        return 2


def _quiet_libraries() -> None:
    """With ``--quiet``, the progress bars of transformers (saving and loading weights) and datasets stay off too."""
    import datasets
    import transformers

    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()


def _print_once(line: str) -> None:
    if os.environ.get("RANK", "0") == "0":
        print(line, file=sys.stderr, flush=True)


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``"<prog>: error: <message> (see --help)"``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        _print_once(f"{self.prog}: error: {message} (see --help)")
        sys.exit(2)


def script_main(
    prog: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int | None],
    argv: list[str] | None = None,
) -> int:
    """A ``scripts/*.py`` entry point (for ``accelerate launch``): the subcommand's arguments, run the same way.

    It returns the exit status (2 for bad input after its one line) for the script to ``sys.exit`` with; nothing is
    re-raised. ``accelerate launch`` itself prints a traceback of its own when a script exits non-zero, unless it is
    run with ``--quiet`` (``-q``): ``accelerate launch -q scripts/pretrain.py ...``.
    """
    parser = OneLineErrorParser(prog=prog, description=description)
    add_arguments(parser)
    return run_command(run, parser.parse_args(argv), prog)


def main(argv: list[str] | None = None) -> int:
    """Run ``moodreader``; bad input ends with its message and exit status 2, not a traceback."""
    args = build_parser().parse_args(argv)
    return run_command(args.func, args, f"moodreader {args.command}")


if __name__ == "__main__":
    sys.exit(main())
