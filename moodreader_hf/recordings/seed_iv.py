"""SEED-IV (BCMI, SJTU): 15 subjects x 3 sessions x 24 trials, 62 electrodes, eye movements; 4 emotions.

Published layout::

    eeg_feature_smooth/<session 1|2|3>/<subject>_<yyyymmdd>.mat   de_LDS1..24, de_movingAve1..24: (62, T, 5)
    eye_feature_smooth/<session>/<subject>_<yyyymmdd>.mat         eye_1..eye_24: (31, T)

DE windows are 4 s long. The session is the folder name; labels are the per-session lists of the dataset's ReadMe
(:data:`SEED_IV_SESSION_LABELS`), class indices into :data:`SEED_IV_LABEL_NAMES`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .matfile import load_mat, mat_shapes, require_shape
from .seed import SEED_FEATURES, SessionFile, de_from_mat, require_folder, seed_session_files
from .trial import Trial

SEED_IV_LABEL_NAMES: tuple[str, ...] = ("neutral", "sad", "fear", "happy")
SEED_IV_SESSION_LABELS: dict[str, tuple[int, ...]] = {
    "1": (1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3),
    "2": (2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1),
    "3": (1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0),
}
"""Trial labels of each session, in trial order, from the SEED-IV ReadMe."""
SEED_IV_TRIALS = 24
SEED_IV_EYE_DIMS = 31
SEED_IV_WINDOW_SECONDS = 4.0

_DE_DIMS = "(channels, windows, bands)"
_EYE_DIMS = "(eye_dims, windows)"


def seed_iv_session_files(root: str | Path) -> list[SessionFile]:
    """List ``eeg_feature_smooth/<session>/<subject>_<date>.mat``, ordered by subject then session."""
    folder = require_folder(Path(root) / "eeg_feature_smooth")
    files = []
    for session in SEED_IV_SESSION_LABELS:
        for file in seed_session_files(folder / session):
            files.append(SessionFile(path=file.path, subject=file.subject, session=session))
    return sorted(files, key=lambda file: (int(file.subject), int(file.session)))


def iter_seed_iv(root: str | Path, feature: str = "de_LDS", with_eye: bool = True) -> Iterator[Trial]:
    """Yield SEED-IV trials, one file (24 trials) at a time.

    Args:
        root: The SEED-IV download folder, holding ``eeg_feature_smooth/`` (and ``eye_feature_smooth/``).
        feature: ``"de_LDS"`` or ``"de_movingAve"``.
        with_eye: Also read the eye-movement features of the same subject and session.

    Yields:
        :class:`Trial` with ``de`` ``(windows, 62, 5)`` float32 over 4 s windows, ``eye`` ``(windows, 31)`` float32
        (or ``None``), and the class index into :data:`SEED_IV_LABEL_NAMES`.
    """
    if feature not in SEED_FEATURES:
        fail("iter_seed_iv", "feature", f"one of {SEED_FEATURES}", repr(feature))
    for file in seed_iv_session_files(root):
        keys = [f"{feature}{index}" for index in range(1, SEED_IV_TRIALS + 1)]
        shapes = mat_shapes(file.path)
        windows = [require_shape(file.path, shapes, key, (62, None, 5), _DE_DIMS)[1] for key in keys]
        eyes: list[np.ndarray | None] = [None] * SEED_IV_TRIALS
        if with_eye:
            eyes = list(_read_eye(Path(root), file, windows))
        arrays = load_mat(file.path, keys)
        for index, key in enumerate(keys):
            yield Trial(
                subject=file.subject,
                session=file.session,
                trial=index + 1,
                label=SEED_IV_SESSION_LABELS[file.session][index],
                de=de_from_mat(arrays[key], file.path, key),
                eye=eyes[index],
                window_seconds=SEED_IV_WINDOW_SECONDS,
                source=str(file.path),
            )


def _read_eye(root: Path, file: SessionFile, windows: list[int]) -> Iterator[np.ndarray]:
    """Eye features ``(windows, 31)`` of each trial, checked to have as many windows as the DE features."""
    path = root / "eye_feature_smooth" / file.session / file.path.name
    if not path.is_file():
        fail(str(path), "file", f"the eye features of {file.path}", "no such file")
    keys = [f"eye_{index}" for index in range(1, SEED_IV_TRIALS + 1)]
    shapes = mat_shapes(path)
    for key, count in zip(keys, windows):
        require_shape(path, shapes, key, (SEED_IV_EYE_DIMS, count), _EYE_DIMS)
    arrays = load_mat(path, keys)
    for key, count in zip(keys, windows):
        eye = check_array(arrays[key], source=str(path), field=key, shape=(SEED_IV_EYE_DIMS, count), dims=_EYE_DIMS)
        yield np.ascontiguousarray(eye.T)
