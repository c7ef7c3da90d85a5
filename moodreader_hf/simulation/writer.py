"""Write simulated recordings in the published SEED and SEED-V file layouts (the package's default data).

``simulate_seed(out, layout="seed")`` writes::

    out/SIMULATED.txt                          what generated the folder, the seed, and that it is not real EEG
    out/Preprocessed_EEG/<subject>_<yyyymmdd>.mat   <initials>_eeg1..15: (62, samples) float32 microvolts, 200 Hz
    out/Preprocessed_EEG/label.mat             label: (1, 15), SEED's clip order 1, 0, -1, -1, 0, 1, ...
    out/ExtractedFeatures/<subject>_<yyyymmdd>.mat  de_LDS1..15, de_movingAve1..15: (62, T, 5), 1 s windows
    out/ExtractedFeatures/label.mat

``layout="seed-v"`` writes ``EEG_DE_features/<subject>_123.npz`` (pickled dicts: trial index 0..44 -> LDS-smoothed
DE ``(T, 310)`` over 4 s windows, electrode-major, and the per-window labels) and ``Eye_movement_features/
<subject>_123.npz`` (``(T, 33)`` per trial), with SEED-V's trial order of emotions per session.

The DE of the feature files is computed from the simulated signal by this package's own
:func:`~moodreader_hf.features.differential_entropy` and smoothed by ``lds_smooth`` / ``moving_average``.
Every file also holds a ``simulated`` variable saying it is simulated (the loaders ignore extra keys, as real
files carry others such as ``psd_*``). Every trial draws from its own generator seeded by ``(seed, subject, session, trial)``, so the output is
reproducible and does not depend on which trials are written first. Each file is written under a temporary name,
then renamed, and the whole folder is written under a temporary sibling name and renamed into place only once
complete: a killed run leaves no partial folder for a builder to read (its leftover is removed by the next run).
"""

from __future__ import annotations

import datetime
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.io
from tqdm.auto import tqdm

from ..atomic import atomic_folder, atomic_path
from ..feature_extraction_moodreader import differential_entropy, lds_smooth, moving_average
from ..validation import fail
from .effects import SEED_EMOTIONS, SEED_V_EMOTIONS
from .eye import draw_eye_subject, simulate_eye
from .signals import SAMPLING_RATE, SubjectProfile, draw_session_gain, draw_subject, simulate_trial, spatial_mixing

SEED_CLIP_LABELS: tuple[int, ...] = (1, 0, -1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 0, 1, -1)
"""SEED's label of each of the 15 clips (-1 negative, 0 neutral, 1 positive), the same in every session."""

SEED_V_SESSION_LABELS: tuple[tuple[int, ...], ...] = (
    (4, 1, 3, 2, 0, 4, 1, 3, 2, 0, 4, 1, 3, 2, 0),
    (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
    (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
)
"""SEED-V's class index (into ``SEED_V_EMOTIONS``) of each trial of sessions 1, 2 and 3: 3 trials per emotion."""

DEFAULT_TRIAL_SECONDS = 60.0
"""Default longest trial in seconds: a quarter of SEED's ~4 min clips, so a 5-subject demo set stays cheap."""

SHORTEST_TRIAL_FRACTION = 0.85
"""Trials last between this fraction of ``trial_seconds`` and ``trial_seconds`` (whole seconds), like SEED's
clips of varying length."""

MOVING_AVERAGE_WINDOWS = 5
"""Windows of the moving average of ``de_movingAve`` (SEED does not document its own)."""

LAYOUTS = ("seed", "seed-v")
MAX_SUBJECTS = 1000
MAX_SESSIONS = 100
MAX_TRIAL_SECONDS = 600.0
"""Bounds of the simulation's options: a trial of 10 minutes is simulated in memory (about 0.5 GB at most)."""
SIMULATION_KIND = "simulation"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of a simulated folder."""
_SEED_V_WINDOW_SECONDS = 4.0
_SUBJECT, _SESSION, _TRIAL, _EYE = 1, 2, 3, 4


def _generator(seed: int, kind: int, *indices: int) -> np.random.Generator:
    return np.random.default_rng([seed, kind, *indices])


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` through ``write(file)`` into a temporary file of the same folder, then rename it."""
    with atomic_path(path) as temporary, open(temporary, "wb") as file:
        write(file)


def _note(seed: int) -> str:
    return f"SIMULATED DATA - NOT REAL EEG. Written by moodreader_hf.simulation.simulate_seed (seed {seed})."


def _save_mat(path: Path, arrays: dict[str, np.ndarray], seed: int) -> None:
    """Save a ``.mat`` file whose extra variable ``simulated`` says what it is (loaders ignore extra keys)."""
    content = {**arrays, "simulated": _note(seed)}
    _write_atomically(path, lambda file: scipy.io.savemat(file, content, do_compression=False))


def _save_pickled_npz(path: Path, data: dict[int, np.ndarray], labels: dict[int, np.ndarray], seed: int) -> None:
    """Save a SEED-V ``.npz`` (pickled dicts under ``data`` and ``label``) with an extra ``simulated`` note."""
    _write_atomically(
        path,
        lambda file: np.savez(file, data=pickle.dumps(data), label=pickle.dumps(labels), simulated=_note(seed)),
    )


def _trial_seconds(rng: np.random.Generator, longest: float) -> int:
    return int(max(1, round(rng.uniform(SHORTEST_TRIAL_FRACTION, 1.0) * longest)))


def _session_date(subject: int, session: int) -> str:
    day = datetime.date(2013, 4, 1) + datetime.timedelta(days=5 * (subject - 1) + 21 * (session - 1))
    return day.strftime("%Y%m%d")


def _marker_text(layout: str, n_subjects: int, n_sessions: int, trial_seconds: float, seed: int) -> str:
    return (
        "SIMULATED DATA - NOT REAL EEG\n\n"
        f"Generated by moodreader_hf.simulation.simulate_seed(layout={layout!r}, n_subjects={n_subjects}, "
        f"n_sessions={n_sessions}, trial_seconds={trial_seconds}, seed={seed}).\n"
        "These files imitate the published file layout of SEED/SEED-V so that the same loaders read them, but every\n"
        "signal is synthetic: 1/f background, an occipital alpha rhythm, and per-emotion band-power changes planted\n"
        "on known electrodes (moodreader_hf.simulation.effects.PLANTED_EFFECTS), with per-subject differences.\n"
        "Nothing here was recorded from a person. Results obtained on it say nothing about real emotion recognition.\n"
    )


def _write_seed_session(
    root: Path,
    subject: int,
    session: int,
    profile: SubjectProfile,
    mixing: np.ndarray,
    seed: int,
    trial_seconds: float,
) -> None:
    session_gain = draw_session_gain(_generator(seed, _SESSION, subject, session), mixing)
    raw: dict[str, np.ndarray] = {}
    features: dict[str, np.ndarray] = {}
    for trial, clip_label in enumerate(SEED_CLIP_LABELS, start=1):
        rng = _generator(seed, _TRIAL, subject, session, trial)
        seconds = _trial_seconds(rng, trial_seconds)
        emotion = SEED_EMOTIONS[clip_label + 1]
        signal = simulate_trial(profile, session_gain, emotion, seconds * SAMPLING_RATE, rng, mixing)
        raw[f"{profile.initials}_eeg{trial}"] = signal
        de = differential_entropy(signal, SAMPLING_RATE, window_seconds=1.0)
        features[f"de_LDS{trial}"] = lds_smooth(de).transpose(1, 0, 2).astype(np.float64)
        features[f"de_movingAve{trial}"] = moving_average(de, MOVING_AVERAGE_WINDOWS).transpose(1, 0, 2).astype(
            np.float64
        )
    name = f"{subject}_{_session_date(subject, session)}.mat"
    _save_mat(root / "Preprocessed_EEG" / name, raw, seed)
    _save_mat(root / "ExtractedFeatures" / name, features, seed)


def _write_seed_v_subject(
    root: Path, subject: int, profile: SubjectProfile, mixing: np.ndarray, seed: int, trial_seconds: float
) -> None:
    eye_offset, eye_strength = draw_eye_subject(_generator(seed, _EYE, subject))
    de_data: dict[int, np.ndarray] = {}
    eye_data: dict[int, np.ndarray] = {}
    labels: dict[int, np.ndarray] = {}
    for index in range(3 * len(SEED_V_SESSION_LABELS[0])):
        session, trial = divmod(index, len(SEED_V_SESSION_LABELS[0]))
        session_gain = draw_session_gain(_generator(seed, _SESSION, subject, session + 1), mixing)
        rng = _generator(seed, _TRIAL, subject, session + 1, trial + 1)
        seconds = _trial_seconds(rng, trial_seconds)
        label = SEED_V_SESSION_LABELS[session][trial]
        emotion = SEED_V_EMOTIONS[label]
        signal = simulate_trial(profile, session_gain, emotion, seconds * SAMPLING_RATE, rng, mixing)
        de = lds_smooth(differential_entropy(signal, SAMPLING_RATE, window_seconds=_SEED_V_WINDOW_SECONDS))
        windows = de.shape[0]
        de_data[index] = de.reshape(windows, -1).astype(np.float64)
        eye_data[index] = simulate_eye(eye_offset, eye_strength, emotion, windows, rng).astype(np.float64)
        labels[index] = np.full(windows, label, dtype=np.float64)
    name = f"{subject}_123.npz"
    _save_pickled_npz(root / "EEG_DE_features" / name, de_data, labels, seed)
    _save_pickled_npz(root / "Eye_movement_features" / name, eye_data, labels, seed)


def shortest_trial_seconds(layout: str) -> float:
    """The smallest ``trial_seconds`` of ``layout``: its shortest trial must hold one DE window."""
    return (_SEED_V_WINDOW_SECONDS if layout == "seed-v" else 1.0) / SHORTEST_TRIAL_FRACTION


def estimated_bytes(layout: str, n_subjects: int, n_sessions: int, trial_seconds: float) -> int:
    """An upper bound of what :func:`simulate_seed` writes: float32 signal and two float64 DE arrays per trial
    (``seed``), or float64 DE and eye features per 4 s window (``seed-v``)."""
    samples = float(trial_seconds) * SAMPLING_RATE
    if layout == "seed-v":
        windows = float(trial_seconds) / _SEED_V_WINDOW_SECONDS
        return int(n_subjects * 3 * len(SEED_V_SESSION_LABELS[0]) * windows * (310 + 33 + 1) * 8 * 2) + 2**20
    per_trial = samples * 62 * 4 + float(trial_seconds) * 62 * 5 * 8 * 2
    return int(n_subjects * n_sessions * len(SEED_CLIP_LABELS) * per_trial) + 2**20


def simulate_seed(
    output_dir: str | Path,
    *,
    n_subjects: int = 5,
    n_sessions: int = 3,
    trial_seconds: float = DEFAULT_TRIAL_SECONDS,
    seed: int = 0,
    layout: str = "seed",
    progress: bool = True,
) -> Path:
    """Simulate SEED-like recordings and write them in the published layout; returns ``output_dir``.

    The data is simulated, not real EEG: ``output_dir/SIMULATED.txt`` says so and names the generator and seed.

    Args:
        output_dir: Folder to write: new, empty, or an earlier simulation (replaced once the new one is complete);
            a folder holding anything else is refused. Nothing appears there until the whole simulation is written.
        n_subjects: Number of subjects, named ``"1"`` ... ``"n"``.
        n_sessions: Sessions per subject (``"seed"``: any number; ``"seed-v"``: 3, as its files hold 45 trials).
        trial_seconds: Longest trial in seconds; each trial lasts 85-100 % of it (whole seconds). ``"seed-v"``
            trials need at least 4 s (one window). At most :data:`MAX_TRIAL_SECONDS`.
        seed: Seed of every random draw.
        layout: ``"seed"`` (3 classes; raw signal and DE files) or ``"seed-v"`` (5 classes; DE and eye features).
        progress: Show a progress bar over files.
    """
    if layout not in LAYOUTS:
        fail("simulate_seed", "layout", f"one of {LAYOUTS}", repr(layout))
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        fail("simulate_seed", "seed", "a whole number from 0", repr(seed))
    if not isinstance(n_subjects, int) or isinstance(n_subjects, bool) or n_subjects < 1:
        fail("simulate_seed", "n_subjects", "a positive integer", repr(n_subjects))
    sessions_allowed = n_sessions == 3 if layout == "seed-v" else isinstance(n_sessions, int) and n_sessions >= 1
    if not sessions_allowed:
        expected = "3 (a SEED-V subject file holds 3 sessions)" if layout == "seed-v" else "a positive integer"
        fail("simulate_seed", "n_sessions", expected, repr(n_sessions))
    if n_subjects > MAX_SUBJECTS or n_sessions > MAX_SESSIONS:
        fail("simulate_seed", "n_subjects/n_sessions", f"at most {MAX_SUBJECTS} subjects and {MAX_SESSIONS} sessions",
             f"{n_subjects} and {n_sessions}")
    numeric = isinstance(trial_seconds, (int, float)) and not isinstance(trial_seconds, bool)
    if not (numeric and shortest_trial_seconds(layout) <= trial_seconds <= MAX_TRIAL_SECONDS):
        fail("simulate_seed", "trial_seconds", f"from {shortest_trial_seconds(layout):.2f} to {MAX_TRIAL_SECONDS:g} s",
             trial_seconds)
    target = Path(output_dir)
    needed = estimated_bytes(layout, n_subjects, n_sessions, trial_seconds)
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if needed > free:
        fail(str(target), "disk space", f"room for the simulated files (about {needed / 2**30:.2f} GiB)",
             f"{free / 2**30:.2f} GiB free")
    with atomic_folder(target, SIMULATION_KIND, field="output_dir") as root:
        _simulate_into(root, layout, n_subjects, n_sessions, trial_seconds, seed, progress)
    return target


def _simulate_into(root: Path, layout: str, n_subjects: int, n_sessions: int, trial_seconds: float, seed: int,
                   progress: bool) -> None:
    marker = _marker_text(layout, n_subjects, n_sessions, trial_seconds, seed)
    _write_atomically(root / "SIMULATED.txt", lambda file: file.write(marker.encode()))
    mixing = spatial_mixing()
    if layout == "seed":
        label_row = np.array([SEED_CLIP_LABELS], dtype=np.float64)
        for folder in ("Preprocessed_EEG", "ExtractedFeatures"):
            _save_mat(root / folder / "label.mat", {"label": label_row}, seed)
    units = n_subjects * (n_sessions if layout == "seed" else 1)
    with tqdm(total=units, desc="Simulating (not real EEG)", unit="file", disable=not progress) as bar:
        for subject in range(1, n_subjects + 1):
            profile = draw_subject(_generator(seed, _SUBJECT, subject), mixing)
            if layout == "seed-v":
                _write_seed_v_subject(root, subject, profile, mixing, seed, trial_seconds)
                bar.update()
                continue
            for session in range(1, n_sessions + 1):
                _write_seed_session(root, subject, session, profile, mixing, seed, trial_seconds)
                bar.update()
