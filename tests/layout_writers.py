"""Write tiny files in the exact published layouts of SEED, SEED-IV, SEED-V and DEAP, for tests.

Key names, array orientations, label files and pickling follow each dataset's distribution (see
``shared/DATA.md``); only the sizes are small. Every writer returns what it wrote, in the file's own orientation,
so tests compare loaders against independent expectations. The label lists below are typed from the datasets'
documentation, independently of the loaders' constants.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import scipy.io

SEED_CLIP_LABELS = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
SEED_IV_LABELS = {
    "1": (1, 2, 3, 0, 2, 0, 0, 1, 0, 1, 2, 1, 1, 1, 2, 3, 2, 2, 3, 3, 0, 3, 0, 3),
    "2": (2, 1, 3, 0, 0, 2, 0, 2, 3, 3, 2, 3, 2, 0, 1, 1, 2, 1, 0, 3, 0, 1, 3, 1),
    "3": (1, 2, 2, 1, 3, 3, 3, 1, 1, 2, 1, 0, 2, 3, 3, 0, 2, 3, 0, 0, 2, 0, 1, 0),
}
SEED_SESSIONS = {"2": ("20140419", "20140404", "20140413"), "10": ("20131107", "20131027", "20131030")}
"""Subject -> recording dates (listed out of date order; subject 10 sorts before 2 as text, after it as a number)."""


def write_mat_v73(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A MATLAB v7.3 ``.mat`` file (HDF5 with MATLAB's 512-byte header; arrays stored column-major, i.e. transposed).
    Needs ``h5py``."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        for key, value in arrays.items():
            handle.create_dataset(key, data=np.asarray(value).T)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116) + bytes(8) + b"\x00\x02IM"
    with path.open("r+b") as stream:
        stream.write(header)


def write_seed_label(folder: Path, labels: tuple[int, ...] = SEED_CLIP_LABELS) -> None:
    """``<folder>/label.mat`` with key ``label`` of shape ``(1, trials)``."""
    folder.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder / "label.mat", {"label": np.array([labels], dtype=np.int16)})


def write_seed_features(
    root: Path, sessions: dict[str, tuple[str, ...]] = SEED_SESSIONS, trials: int = 15, seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """``ExtractedFeatures/<subject>_<date>.mat`` with ``de_LDS``, ``de_movingAve``, ``psd_LDS`` and ``dasm_LDS``
    arrays per trial (``(62, T, 5)``, DASM ``(27, T, 5)``), plus ``label.mat``. Returns ``{file name: {key: array}}``.
    """
    rng = np.random.default_rng(seed)
    folder = root / "ExtractedFeatures"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for subject, dates in sessions.items():
        for date in dates:
            arrays = {}
            for index in range(1, trials + 1):
                windows = int(rng.integers(3, 7))
                for name in ("de_movingAve", "de_LDS", "psd_LDS"):
                    arrays[f"{name}{index}"] = rng.normal(size=(62, windows, 5))
                arrays[f"dasm_LDS{index}"] = rng.normal(size=(27, windows, 5))
            name = f"{subject}_{date}.mat"
            scipy.io.savemat(folder / name, arrays)
            written[name] = arrays
    write_seed_label(folder, SEED_CLIP_LABELS[:trials])
    return written


def write_seed_raw(
    root: Path,
    sessions: dict[str, tuple[str, ...]] = SEED_SESSIONS,
    prefixes: dict[str, str] | None = None,
    trials: int = 15,
    seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """``Preprocessed_EEG/<subject>_<date>.mat`` with ``<initials>_eeg1..`` ``(62, samples)`` microvolts at 200 Hz
    (the prefix differs per subject), plus ``label.mat``. Returns ``{file name: {key: array}}``."""
    rng = np.random.default_rng(seed)
    prefixes = prefixes or {subject: initials for subject, initials in zip(sessions, ("djc", "jl", "ww", "xyl"))}
    folder = root / "Preprocessed_EEG"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for subject, dates in sessions.items():
        for date in dates:
            arrays = {
                f"{prefixes[subject]}_eeg{index}": 20.0 * rng.normal(size=(62, int(rng.integers(200, 400))))
                for index in range(1, trials + 1)
            }
            name = f"{subject}_{date}.mat"
            scipy.io.savemat(folder / name, arrays)
            written[name] = arrays
    write_seed_label(folder, SEED_CLIP_LABELS[:trials])
    return written


def write_seed_iv(
    root: Path, subjects: dict[str, tuple[str, str, str]] | None = None, with_eye: bool = True, seed: int = 0
) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """``eeg_feature_smooth/<session>/<subject>_<date>.mat`` (``de_LDS1..24``, ``de_movingAve1..24``, ``psd_LDS*``:
    ``(62, T, 5)``) and ``eye_feature_smooth/<session>/<same name>`` (``eye_1..24``: ``(31, T)``).
    Returns ``{(session, file name): {key: array}}`` with EEG and eye keys together."""
    rng = np.random.default_rng(seed)
    subjects = subjects or {"1": ("20160518", "20160601", "20160615"), "2": ("20150920", "20151012", "20151020")}
    written = {}
    for subject, dates in subjects.items():
        for session, date in zip(("1", "2", "3"), dates):
            eeg, eye = {}, {}
            for index in range(1, 25):
                windows = int(rng.integers(2, 5))
                for name in ("de_movingAve", "de_LDS", "psd_LDS"):
                    eeg[f"{name}{index}"] = rng.normal(size=(62, windows, 5))
                eye[f"eye_{index}"] = rng.normal(size=(31, windows))
            name = f"{subject}_{date}.mat"
            for folder, arrays in (("eeg_feature_smooth", eeg), ("eye_feature_smooth", eye)):
                if folder == "eye_feature_smooth" and not with_eye:
                    continue
                (root / folder / session).mkdir(parents=True, exist_ok=True)
                scipy.io.savemat(root / folder / session / name, arrays)
            written[(session, name)] = {**eeg, **eye}
    return written


def write_seed_v_npz(path: Path, data: dict, label: dict) -> None:
    """One SEED-V ``.npz``: ``data`` and ``label`` each hold the pickle bytes of a dict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, data=pickle.dumps(data), label=pickle.dumps(label))


def write_seed_v(
    root: Path, subjects: tuple[str, ...] = ("1", "2"), with_eye: bool = True, seed: int = 0
) -> dict[str, dict[str, dict[int, np.ndarray]]]:
    """``EEG_DE_features/<subject>_123.npz`` (``{0..44: (T, 310)}``, labels ``{0..44: (T,)}``) and
    ``Eye_movement_features/<subject>_123.npz`` (``{0..44: (T, 33)}``). Returns ``{subject: {"data", "label", "eye",
    "trial_labels"}}``."""
    rng = np.random.default_rng(seed)
    written = {}
    for subject in subjects:
        windows = {index: int(rng.integers(2, 5)) for index in range(45)}
        trial_labels = {index: int(rng.integers(0, 5)) for index in range(45)}
        data = {index: rng.normal(size=(count, 310)) for index, count in windows.items()}
        label = {index: np.full(count, float(trial_labels[index])) for index, count in windows.items()}
        eye = {index: rng.normal(size=(count, 33)) for index, count in windows.items()}
        write_seed_v_npz(root / "EEG_DE_features" / f"{subject}_123.npz", data, label)
        if with_eye:
            write_seed_v_npz(root / "Eye_movement_features" / f"{subject}_123.npz", eye, label)
        written[subject] = {"data": data, "label": label, "eye": eye, "trial_labels": trial_labels}
    return written


def write_deap(
    root: Path, subjects: tuple[int, ...] = (1, 2), samples: int = 384 + 256, seed: int = 0
) -> dict[str, dict[str, np.ndarray]]:
    """``data_preprocessed_python/sXX.dat``: a latin1-compatible pickle of ``{"data": (40, 40, samples),
    "labels": (40, 4)}`` (published files have 8064 samples; fewer keep tests fast). Returns ``{file stem: dict}``."""
    rng = np.random.default_rng(seed)
    folder = root / "data_preprocessed_python"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for subject in subjects:
        content = {
            "data": rng.normal(scale=10.0, size=(40, 40, samples)).astype(np.float32),
            "labels": np.round(rng.uniform(1.0, 9.0, size=(40, 4)), 2),
        }
        content["labels"][:2, :2] = 5.0
        with (folder / f"s{subject:02d}.dat").open("wb") as stream:
            pickle.dump(content, stream, protocol=2)
        written[f"s{subject:02d}"] = content
    return written
