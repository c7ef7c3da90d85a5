"""The ``moodreader`` command: one subcommand per module in :mod:`moodreader_hf.commands`."""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from .validation import input_error_message

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "simulate SEED-like data (or read a SEED download), pre-train, evaluate "
        "leave-one-subject-out and write report.json and a publishable model folder",
    ),
    "pretrain": (
        "pretrain",
        "pre-train the encoder with masked brain signal modelling (run under `accelerate "
        "launch` for several devices)",
    ),
    "finetune": (
        "finetune",
        "fine-tune and evaluate under a named protocol (loso, loso-session, cross-session, "
        "within-trials, ...); writes report.json",
    ),
    "evaluate": ("evaluate", "accuracy, macro-F1 and confusion matrix of a fine-tuned model folder on a built dataset"),
    "simulate": ("simulate", "write SIMULATED SEED-like EEG (not real data) in the SEED / SEED-V file layout"),
    "build-dataset": ("build_dataset", "build a datasets.DatasetDict of DE window sequences (with a dataset card)"),
    "build-corpus": (
        "build_corpus",
        "build a pre-training corpus (raw-signal Parquet shards + card) from EEG "
        "recordings of any format",
    ),
    "predict": ("predict", "emotion scores of a recording, per segment and overall"),
    "explain": ("explain", "electrode importance per class (and band) as scalp topomaps"),
    "publish": ("publish", "build the Hub repo folder of a trained model (--local-dir) and/or upload it (--repo-id)"),
    "publish-dataset": (
        "publish_dataset",
        "export a built dataset as a Hub dataset repo (Parquet + card) and/or upload it",
    ),
    "publish-space": ("publish_space", "write a Gradio Space for a model (--local-dir) and/or upload it (--repo-id)"),
}
"""Each subcommand: its module in :mod:`moodreader_hf.commands` and its one-line help (the module's own)."""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser; each command module provides ``register(subparsers)``.

    Only the module of the command named in ``argv`` is imported (all of them when ``argv`` is None): the others
    appear in ``moodreader --help`` by their one-line help alone, so that the help and every command start without
    importing what the other commands need (torch, transformers, MNE).
    """
    parser = OneLineErrorParser(prog="moodreader", description="Cross-subject EEG emotion recognition.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    chosen = None if argv is None else next((word for word in argv if not word.startswith("-")), "")
    for name, (module, summary) in COMMANDS.items():
        if chosen is None or name == chosen:
            importlib.import_module(f"moodreader_hf.commands.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
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
    """With ``--quiet``, the progress bars of transformers (saving and loading weights), datasets and the Hub stay
    off too: through their environment variables, which they read when imported (here and in worker processes), so
    a command does not import them before it needs them; directly for those imported already."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()
    if "datasets" in sys.modules:
        sys.modules["datasets"].disable_progress_bars()


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
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    return run_command(args.func, args, f"moodreader {args.command}")


def console_main() -> NoReturn:
    """The ``moodreader`` console script: :func:`main`, then the process ends without the interpreter's teardown.

    Tearing down the modules of torch and transformers at exit takes about 0.8 s on 2 cores (a sixth of a
    ``predict``) and writes nothing. What a normal exit does that matters happens first: the other non-daemon
    threads are joined, the exit handlers run (logging, multiprocessing's workers and fork server, temporary
    folders), standard output and error are flushed; then ``os._exit`` ends the process with the status. A bug's
    exception keeps the normal exit and its traceback.
    """
    try:
        status = main()
    except SystemExit as exit_request:
        if not isinstance(exit_request.code, int | None):
            raise
        status = exit_request.code or 0
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that closed the pipe; a stream closed by the command
            pass
    os._exit(status)


if __name__ == "__main__":
    console_main()
