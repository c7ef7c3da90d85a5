"""The ``moodreader`` command: one subcommand per module in :mod:`moodreader_hf.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys

from .validation import MoodReaderInputError

COMMAND_MODULES: tuple[str, ...] = ("demo", "pretrain", "finetune", "evaluate", "simulate", "build_dataset", "predict", "explain", "publish", "publish_dataset", "publish_space")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand; each command module provides ``register(subparsers)``."""
    parser = argparse.ArgumentParser(prog="moodreader", description="Cross-subject EEG emotion recognition.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"moodreader_hf.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``moodreader``; bad input ends with its message and exit status 2, not a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MoodReaderInputError as error:
        print(f"moodreader {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
