"""What every command shares: one-line argument errors, the progress switch, option types that refuse bad numbers,
and the checks of outputs that run before any work."""

from __future__ import annotations

import argparse
import math
import os
import types
from collections.abc import Callable
from pathlib import Path

from ..atomic import check_output_file, check_replaceable
from ..cli import OneLineErrorParser
from ..validation import fail, one_line

QUIET_HELP = "no progress bars (--no-progress is the same)"


def command_parser(subparsers: argparse._SubParsersAction, name: str, **kwargs) -> argparse.ArgumentParser:
    """``subparsers.add_parser(name, **kwargs)`` whose argument errors are one line on stderr (exit status 2)."""
    parser = subparsers.add_parser(name, **kwargs)
    parser.error = types.MethodType(OneLineErrorParser.error, parser)
    return parser


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """The progress switch of every command: ``--quiet``, with ``--no-progress`` as its alias (``args.quiet``)."""
    parser.add_argument("--quiet", "--no-progress", dest="quiet", action="store_true", help=QUIET_HELP)


def whole_number(low: int = 1, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (booleans, fractions and words refused)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"expected a whole number {bound}, got {text!r}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(low: float = 0.0, high: float | None = None, *, include_low: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number above ``low`` (or from it, with ``include_low``) and at most ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        too_low = value < low if include_low else value <= low
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            bound = f"{'at least' if include_low else 'above'} {low:g}" + (f" and at most {high:g}" if high else "")
            raise argparse.ArgumentTypeError(f"expected a finite number {bound}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def check_output_dir(path: str | os.PathLike, option: str) -> Path:
    """A folder a command writes into (training runs): not a file, not under a file, writable. Checked first."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        fail(str(path), option, "a folder (or a path to create)", "an existing file")
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        fail(str(path), option, "a folder this user may write", "a read-only folder")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        fail(str(path), option, "a path inside a folder", f"{ancestor} is a file")
    if not path.exists() and not os.access(ancestor, os.W_OK | os.X_OK):
        fail(str(path), option, "a path where this user may write", f"{ancestor} is not writable")
    return path


def check_output_path(path: str | os.PathLike | None, option: str) -> Path | None:
    """An output file (``--output``, ``--json``): not a folder, not under a file, writable. Checked first."""
    return None if path is None else check_output_file(path, option)




def read_recipe(path: str | os.PathLike):
    """:func:`~moodreader_hf.training.recipe.load_recipe`, with a file that is not UTF-8 text (or unreadable)
    refused like any other bad recipe."""
    from ..training.recipe import load_recipe
    from ..validation import reading

    with reading(path, "(file)", "a UTF-8 YAML recipe"):
        return load_recipe(path)


def check_built_dataset(path: str | os.PathLike, option: str = "--dataset") -> dict:
    """Refuse, before any work, a folder that is not a dataset built by moodreader; returns its metadata."""
    from ..builders import load_built_dataset

    return load_built_dataset(path)[1]


def check_repo_id(repo_id: str | None, option: str = "--repo-id") -> None:
    """A Hub repository id (``owner/name``) before any work."""
    if repo_id is None:
        return
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        fail(repo_id, option, "a Hub repository id (owner/name)", one_line(error))
    if repo_id.count("/") != 1:
        fail(repo_id, option, "a Hub repository id with its owner (owner/name)", repr(repo_id))


def check_folder(path: str | os.PathLike | None, option: str, expected: str) -> Path | None:
    """An input folder that must exist (``--seed-dir``, ``--corpus``)."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_dir():
        fail(str(path), option, expected, "a file" if path.exists() else "no such folder")
    return path


__all__ = ["QUIET_HELP", "add_quiet", "check_built_dataset", "check_folder", "check_output_dir", "check_output_path",
           "check_repo_id", "check_replaceable", "command_parser", "number", "read_recipe", "whole_number"]
