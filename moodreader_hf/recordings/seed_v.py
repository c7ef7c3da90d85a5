"""SEED-V (BCMI, SJTU): 16 subjects x 3 sessions x 15 trials, 62 electrodes, eye movements; 5 emotions.

Published layout::

    EEG_DE_features/<subject>_123.npz         data, label: pickled dicts {trial index 0..44: (T, 310) / (T,)}
    Eye_movement_features/<subject>_123.npz   data, label: pickled dicts {trial index 0..44: (T, 33) / (T,)}

The 310 DE values of a window are electrode-major (62 electrodes x 5 bands); windows are 4 s long. Trial index
``i`` is session ``i // 15 + 1``, trial ``i % 15 + 1``. Every window of a trial carries the trial's label.

.. warning::
    The ``.npz`` files hold Python pickles, and unpickling runs code chosen by whoever wrote the file. Read them
    only from a download you trust (the dataset's own distribution).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .seed import subject_files
from .trial import Trial

SEED_V_LABEL_NAMES: tuple[str, ...] = ("disgust", "fear", "sad", "neutral", "happy")
SEED_V_TRIALS = 45
SEED_V_TRIALS_PER_SESSION = 15
SEED_V_EYE_DIMS = 33
SEED_V_WINDOW_SECONDS = 4.0

_FILE_NAME = re.compile(r"^(\d+)_123\.npz$")


def seed_v_files(root: str | Path) -> list[Path]:
    """List ``EEG_DE_features/<subject>_123.npz`` ordered by subject."""
    return subject_files(Path(root) / "EEG_DE_features", ".npz", _FILE_NAME, "'<subject>_123.npz' (e.g. '1_123.npz')")


def _load_pickled_dict(path: Path, key: str) -> dict[int, np.ndarray]:
    """Unpickle the dict stored as bytes under ``key`` of an ``.npz`` file (trusted files only: code execution)."""
    try:
        archive = np.load(path, allow_pickle=True)
    except Exception as error:  # noqa: BLE001 - any parser failure means the file is not a readable archive
        fail(str(path), "file", "an .npz archive", f"an unreadable file ({type(error).__name__}: {error})")
    if not isinstance(archive, np.lib.npyio.NpzFile):
        fail(str(path), "file", "an .npz archive", type(archive).__name__)
    with archive:
        if key not in archive.files:
            fail(str(path), key, "a pickled dict {trial index 0..44: array}", f"no such key (keys: {archive.files})")
        stored = archive[key]
    payload = stored.item() if stored.dtype == object else stored.tobytes()
    if not isinstance(payload, bytes):
        fail(str(path), key, "pickled bytes of a dict", f"{type(payload).__name__} of dtype {stored.dtype}")
    try:
        value = pickle.loads(payload)
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a corrupt entry
        fail(str(path), key, "pickled bytes of a dict", f"bytes that do not unpickle ({type(error).__name__}: {error})")
    if not isinstance(value, dict) or set(value) != set(range(SEED_V_TRIALS)):
        keys = sorted(value, key=str) if isinstance(value, dict) else type(value).__name__
        fail(str(path), key, f"a dict with keys 0..{SEED_V_TRIALS - 1}", keys)
    return value


def _trial_label(path: Path, index: int, labels: np.ndarray, windows: int) -> int:
    field = f"label[{index}]"
    values = check_array(labels, source=str(path), field=field, shape=(windows,), dims="(windows,)", dtype=np.float64)
    unique = np.unique(values)
    if unique.size != 1 or unique[0] not in range(len(SEED_V_LABEL_NAMES)):
        fail(str(path), field, f"one class 0..{len(SEED_V_LABEL_NAMES) - 1} for every window", unique.tolist())
    return int(unique[0])


def iter_seed_v(root: str | Path, with_eye: bool = True) -> Iterator[Trial]:
    """Yield SEED-V trials, one subject file (45 trials, 3 sessions) at a time.

    Only read files from a trusted download: the ``.npz`` files hold pickles, and unpickling executes code.

    Args:
        root: The SEED-V download folder, holding ``EEG_DE_features/`` (and ``Eye_movement_features/``).
        with_eye: Also read the eye-movement features of the same subject.

    Yields:
        :class:`Trial` with ``de`` ``(windows, 62, 5)`` float32 over 4 s windows, ``eye`` ``(windows, 33)`` float32
        (or ``None``), and the class index into :data:`SEED_V_LABEL_NAMES`.
    """
    root = Path(root)
    for path in seed_v_files(root):
        subject = path.name.split("_")[0]
        data, labels = _load_pickled_dict(path, "data"), _load_pickled_dict(path, "label")
        eye_path = root / "Eye_movement_features" / path.name
        if with_eye:
            if not eye_path.is_file():
                fail(str(eye_path), "file", f"the eye features of {path}", "no such file")
            eye_data = _load_pickled_dict(eye_path, "data")
        for index in range(SEED_V_TRIALS):
            field = f"data[{index}]"
            flat = check_array(data[index], source=str(path), field=field, shape=(None, 310), dims="(windows, 62 * 5)")
            label = _trial_label(path, index, labels[index], flat.shape[0])
            eye = None
            if with_eye:
                eye = check_array(
                    eye_data[index],
                    source=str(eye_path),
                    field=field,
                    shape=(flat.shape[0], SEED_V_EYE_DIMS),
                    dims="(windows, eye_dims)",
                )
            yield Trial(
                subject=subject,
                session=str(index // SEED_V_TRIALS_PER_SESSION + 1),
                trial=index % SEED_V_TRIALS_PER_SESSION + 1,
                label=label,
                de=flat.reshape(flat.shape[0], 62, 5),
                eye=eye,
                window_seconds=SEED_V_WINDOW_SECONDS,
                source=str(path),
            )
