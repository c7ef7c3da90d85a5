"""Feature files given on the command line beside (or instead of) a recording.

- Eye-movement features: one ``.npy`` array or comma-separated ``.csv`` table of shape ``(windows, eye_dims)``, one
  row per DE window, for models trained with eye movements (SEED-V).
- DE features: one ``.npz`` archive holding ``de_features (windows, channels, bands)`` in the model's montage order
  and, for eye models, ``eye_features (windows, eye_dims)``, for models trained on a dataset's distributed DE, which
  refuse raw recordings (their DE was not computed by this package).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .validation import fail

EYE_SUFFIXES = (".npy", ".csv")
FEATURE_ARCHIVE_SUFFIX = ".npz"
ARCHIVE_KEYS = ("de_features", "eye_features")


def read_eye_features(path: str | Path, field: str = "--eye-features") -> np.ndarray:
    """``(windows, eye_dims)`` float64 from a ``.npy`` or ``.csv`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EYE_SUFFIXES:
        fail(str(path), field, "a .npy or .csv file of eye-movement features (windows, eye_dims)", repr(path.suffix))
    if not path.is_file():
        fail(str(path), field, "an existing file", "no such file")
    try:
        array = np.load(path, allow_pickle=False) if suffix == ".npy" else np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as error:
        fail(str(path), field, "a numeric array (windows, eye_dims)", f"{type(error).__name__}: {error}")
    return _checked(np.asarray(array), path, field, 2, "(windows, eye_dims)")


def read_feature_archive(path: str | Path, field: str = "source") -> dict[str, np.ndarray]:
    """``{"de_features": (windows, channels, bands)[, "eye_features": (windows, eye_dims)]}`` from a ``.npz``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            contents = {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        fail(str(path), field, "a readable .npz archive", f"{type(error).__name__}: {error}")
    unknown = sorted(set(contents) - set(ARCHIVE_KEYS))
    if "de_features" not in contents or unknown:
        fail(str(path), field, f"an .npz holding 'de_features' (windows, channels, bands) and optionally "
             f"'eye_features' (windows, eye_dims)", f"keys {sorted(contents)}")
    result = {"de_features": _checked(contents["de_features"], path, "de_features", 3, "(windows, channels, bands)")}
    if "eye_features" in contents:
        result["eye_features"] = _checked(contents["eye_features"], path, "eye_features", 2, "(windows, eye_dims)")
    return result


def is_feature_archive(path: str | Path) -> bool:
    return Path(path).suffix.lower() == FEATURE_ARCHIVE_SUFFIX


def _checked(array: np.ndarray, path: Path, field: str, dims: int, shape: str) -> np.ndarray:
    if array.ndim != dims or not np.issubdtype(array.dtype, np.number) or array.size == 0:
        fail(str(path), field, f"a numeric array {shape}", f"shape {array.shape}, dtype {array.dtype}")
    return array.astype(np.float64)
