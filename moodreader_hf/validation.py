"""Checks at the boundary of the library: one kind of message, naming the source, the field and what was expected."""

from __future__ import annotations

import os
import pickle
import struct
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

import numpy as np


class MoodReaderInputError(ValueError):
    """Bad input: a file, a field or an array that is not what the library expects."""


def fail(source: str, field: str, expected: str, received: object) -> NoReturn:
    """Raise :class:`MoodReaderInputError` reading ``"<source>: field '<field>': expected <expected>, got <received>."``"""
    raise MoodReaderInputError(f"{source}: field '{field}': expected {expected}, got {received}.")


def check_array(
    value: object,
    *,
    source: str,
    field: str,
    shape: Sequence[int | None] | None = None,
    dims: str | None = None,
    finite: bool = True,
    dtype: type | np.dtype = np.float32,
) -> np.ndarray:
    """Return ``value`` as a numpy array of ``dtype`` after checking its shape and values.

    Args:
        value: Anything ``numpy.asarray`` accepts.
        source: What the value came from (a file path, a function name), used in the message.
        field: The name of the value inside its source (a key of a ``.mat`` file, a column, an argument).
        shape: Expected shape; ``None`` entries match any size.
        dims: Names of the dimensions for the message, e.g. ``"(channels, samples)"``.
        finite: Reject NaN and infinite values.
        dtype: The dtype of the returned array.
    """
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        fail(source, field, f"a numeric array {dims or ''}".rstrip(), f"{type(value).__name__} ({error})")
    if shape is not None:
        matches = array.ndim == len(shape) and all(want is None or want == got for want, got in zip(shape, array.shape))
        if not matches:
            wanted = "(" + ", ".join("any" if size is None else str(size) for size in shape) + ")"
            fail(source, field, f"shape {wanted}" + (f" {dims}" if dims else ""), f"shape {tuple(array.shape)}")
    if finite and np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = int(np.size(array) - np.isfinite(array).sum())
        fail(source, field, "finite values", f"{bad} NaN or infinite values")
    return array


def one_line(value: object) -> str:
    """``str(value)`` on one line (runs of whitespace, newlines included, become one space)."""
    return " ".join(str(value).split())


FILE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, ValueError, EOFError, UnicodeError, pickle.UnpicklingError, zipfile.BadZipFile, struct.error,
)
"""What reading a file that is not what it should be raises (missing, unreadable, truncated, not the format)."""


def is_file_error(error: BaseException) -> bool:
    """Whether ``error`` is one of :data:`FILE_ERRORS` or a safetensors error (matched by name, so that this module
    needs no safetensors)."""
    return isinstance(error, FILE_ERRORS) or type(error).__name__ == "SafetensorError"


@contextmanager
def reading(source: str | os.PathLike, field: str = "file", expected: str = "a readable file") -> Iterator[None]:
    """Turn the errors of reading ``source`` (see :func:`is_file_error`) into one :class:`MoodReaderInputError`
    naming it: ``with reading(path, "config.json", "a JSON model configuration"): ...``."""
    try:
        yield
    except MoodReaderInputError:
        raise
    except Exception as error:
        if not is_file_error(error):
            raise
        fail(os.fspath(source), field, expected, f"{type(error).__name__}: {one_line(error)}"[:600])


def _raised_by_package(error: BaseException) -> bool:
    """Whether the innermost frame of ``error``'s traceback is a file of this package (a check of ours that raised
    a plain ``ValueError``, as the self-contained remote-code files must), not a library deep below."""
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    filename = os.path.abspath(traceback.tb_frame.f_code.co_filename)
    return filename.startswith(os.path.dirname(os.path.abspath(__file__)) + os.sep)


def input_error_message(error: BaseException) -> str | None:
    """The one-line message of ``error`` if it is bad input, ``None`` if it is a bug (to be shown as a traceback).

    Bad input is: a :class:`MoodReaderInputError` (also when a library wrapped it, as ``datasets`` and
    ``accelerate`` do: the chain of causes is searched); an ``OSError`` (a missing, unreadable or unwritable
    file, a full disk, an unreachable Hub), named by its file; a ``ValueError`` raised by one of this package's own
    checks (the remote-code files raise plain ``ValueError``).
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, MoodReaderInputError):
            return one_line(link)
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    if isinstance(error, OSError):
        if error.filename is not None:
            target = f" -> {error.filename2}" if error.filename2 is not None else ""
            return one_line(f"{error.filename}{target}: {error.strerror or type(error).__name__}")
        return one_line(f"{type(error).__name__}: {error}")
    if isinstance(error, ValueError) and _raised_by_package(error):
        return one_line(error)
    return None
