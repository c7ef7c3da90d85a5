"""MATLAB ``.mat`` files read key by key: names and shapes first (cheap), then only the arrays asked for.

MATLAB v4-v7 files are read with :mod:`scipy.io`; v7.3 files (HDF5) are read with ``h5py`` when it is installed,
with their axes transposed back to MATLAB's order. Every failure is a :class:`MoodReaderInputError` naming the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.io

from ..validation import fail


def _open_hdf5(path: Path):
    try:
        import h5py
    except ImportError:
        fail(
            str(path),
            "file format",
            "a MATLAB v5/v7 .mat file (this one is MATLAB v7.3, an HDF5 file: install h5py to read it)",
            "MATLAB v7.3",
        )
    return h5py.File(path, "r")


def mat_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Return ``{variable name: shape}`` of a ``.mat`` file without loading its arrays (shapes in MATLAB's order)."""
    try:
        return {name: tuple(int(size) for size in shape) for name, shape, _ in scipy.io.whosmat(path)}
    except NotImplementedError:
        with _open_hdf5(path) as handle:
            return {name: tuple(reversed(item.shape)) for name, item in handle.items() if hasattr(item, "shape")}
    except Exception as error:  # noqa: BLE001 - any parser failure means the file is not a readable .mat file
        fail(str(path), "file", "a MATLAB .mat file", f"an unreadable file ({type(error).__name__}: {error})")


def load_mat(path: Path, keys: Iterable[str]) -> dict[str, np.ndarray]:
    """Load only ``keys`` from a ``.mat`` file (check they exist with :func:`mat_shapes` first)."""
    names = list(keys)
    try:
        loaded = scipy.io.loadmat(path, variable_names=names)
    except NotImplementedError:
        with _open_hdf5(path) as handle:
            return {name: np.asarray(handle[name]).T for name in names}
    except Exception as error:  # noqa: BLE001 - any parser failure means the file is not a readable .mat file
        fail(str(path), "file", "a MATLAB .mat file", f"an unreadable file ({type(error).__name__}: {error})")
    return {name: loaded[name] for name in names}


def describe_shape(shape: Sequence[int | None], dims: str) -> str:
    """Format an expected shape as :func:`~moodreader_hf.validation.check_array` does: ``shape (62, any, 5) dims``."""
    return "shape (" + ", ".join("any" if size is None else str(size) for size in shape) + f") {dims}"


def require_shape(
    source: Path, shapes: dict[str, tuple[int, ...]], key: str, shape: Sequence[int | None], dims: str
) -> tuple[int, ...]:
    """Return the shape of ``key`` after checking it exists and matches ``shape`` (``None`` matches any size)."""
    if key not in shapes:
        present = sorted(shapes)
        listed = ", ".join(present[:8]) + (f", ... ({len(present)} keys)" if len(present) > 8 else "")
        fail(str(source), key, f"an array of {describe_shape(shape, dims)}", f"no such key (keys: {listed or 'none'})")
    got = shapes[key]
    if len(got) != len(shape) or any(want is not None and want != size for want, size in zip(shape, got)):
        fail(str(source), key, describe_shape(shape, dims), f"shape {got}")
    return got
