"""The ``moodreader`` command: one subcommand per module in :mod:`moodreader_hf.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from .validation import MoodReaderInputError

COMMAND_MODULES: tuple[str, ...] = ("demo", "pretrain", "finetune", "evaluate", "simulate", "build_dataset", "build_corpus", "predict", "explain", "publish", "publish_dataset", "publish_space")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; each command module provides ``register(subparsers)``."""
    parser = argparse.ArgumentParser(prog="moodreader", description="Cross-subject EEG emotion recognition.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"moodreader_hf.commands.{name}").register(subparsers)
    return parser


def run_command(run: Callable[[argparse.Namespace], int | None], args: argparse.Namespace, prog: str) -> int:
    """``run(args)``; bad input ends with ``"<prog>: error: <message>"`` and exit status 2, not a traceback."""
    try:
        return int(run(args) or 0)
    except MoodReaderInputError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2


def script_main(
    prog: str,
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int | None],
    argv: list[str] | None = None,
) -> int:
    """A ``scripts/*.py`` entry point (for ``accelerate launch``): the subcommand's arguments, run the same way."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_arguments(parser)
    return run_command(run, parser.parse_args(argv), prog)


def main(argv: list[str] | None = None) -> int:
    """Run ``moodreader``; bad input ends with its message and exit status 2, not a traceback."""
    args = build_parser().parse_args(argv)
    return run_command(args.func, args, f"moodreader {args.command}")


if __name__ == "__main__":
    sys.exit(main())
