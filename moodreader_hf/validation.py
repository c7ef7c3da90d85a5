"""Checks at the boundary of the library: one kind of message, naming the source, the field and what was expected."""

from __future__ import annotations

from collections.abc import Sequence
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
