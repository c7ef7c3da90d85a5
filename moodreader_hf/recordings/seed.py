"""SEED (BCMI, SJTU): 15 subjects x 3 sessions x 15 film clips, 62 electrodes, labels negative / neutral / positive.

Published layout (one folder per kind of data, each with its own ``label.mat``)::

    ExtractedFeatures/<subject>_<yyyymmdd>.mat   de_LDS1..15, de_movingAve1..15: (62, T, 5), 1 s windows
    ExtractedFeatures/label.mat                  label: (1, 15), values -1, 0, 1
    Preprocessed_EEG/<subject>_<yyyymmdd>.mat    <initials>_eeg1..15: (62, samples) microvolts at 200 Hz
    Preprocessed_EEG/label.mat

A subject's session is the rank of the recording date among that subject's files (``"1"`` is the earliest).
Labels -1, 0, 1 become class indices 0, 1, 2 (:data:`SEED_LABEL_NAMES`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .matfile import describe_shape, load_mat, mat_shapes, require_shape
from .trial import Trial

SEED_LABEL_NAMES: tuple[str, ...] = ("negative", "neutral", "positive")
SEED_FEATURES: tuple[str, ...] = ("de_LDS", "de_movingAve")
SEED_SFREQ = 200.0
"""Sampling rate in Hz of ``Preprocessed_EEG``."""

_FILE_NAME = re.compile(r"^(\d+)_(\d{8})\.mat$")
_RAW_KEY = re.compile(r"^(.+)_eeg(\d+)$")
_DE_DIMS = "(channels, windows, bands)"


@dataclass(frozen=True)
class SessionFile:
    """One subject's session file of a SEED-family layout."""

    path: Path
    subject: str
    session: str


def require_folder(folder: Path) -> Path:
    """Return ``folder`` after checking it is a directory (error names the folder of the published layout)."""
    if not folder.is_dir():
        fail(str(folder), "folder", "a directory of the published layout", "no such directory")
    return folder


def subject_files(folder: Path, extension: str, pattern: re.Pattern[str], example: str) -> list[Path]:
    """The ``extension`` files of ``folder``, whose names must match ``pattern`` (its first group is the subject
    number), ordered by subject. A file with another name, or no file at all, is an error; ``example`` shows the
    expected name in the message (e.g. ``"'sXX.dat'"``)."""
    folder = require_folder(folder)
    files = []
    for path in folder.glob(f"*{extension}"):
        if pattern.match(path.name) is None:
            fail(str(path), "file name", example, repr(path.name))
        files.append(path)
    if not files:
        fail(str(folder), "files", f"at least one {example} file", "none")
    return sorted(files, key=lambda path: int(pattern.match(path.name).group(1)))


def seed_session_files(folder: Path) -> list[SessionFile]:
    """List ``<subject>_<yyyymmdd>.mat`` files of ``folder`` with sessions ranked by date, by subject then session.

    ``label.mat`` and files that are not ``.mat`` are skipped; any other ``.mat`` name is an error.
    """
    dated: dict[str, list[tuple[str, Path]]] = {}
    for path in sorted(require_folder(folder).glob("*.mat")):
        if path.name == "label.mat":
            continue
        match = _FILE_NAME.match(path.name)
        if match is None:
            fail(str(path), "file name", "'<subject>_<yyyymmdd>.mat' (e.g. '1_20131027.mat')", repr(path.name))
        dated.setdefault(match.group(1), []).append((match.group(2), path))
    if not dated:
        fail(str(folder), "files", "at least one '<subject>_<yyyymmdd>.mat' file", "none")
    return [
        SessionFile(path=path, subject=subject, session=str(rank))
        for subject in sorted(dated, key=int)
        for rank, (_, path) in enumerate(sorted(dated[subject]), start=1)
    ]


def read_seed_labels(path: Path) -> np.ndarray:
    """Read SEED's ``label.mat`` (key ``label``, ``(1, trials)``, values -1, 0, 1) as class indices 0, 1, 2."""
    if not path.is_file():
        fail(str(path), "label", "label.mat with key 'label' of shape (1, 15)", "no such file")
    shapes = mat_shapes(path)
    require_shape(path, shapes, "label", (1, None), "(1, trials)")
    labels = check_array(load_mat(path, ["label"])["label"], source=str(path), field="label", dtype=np.float64)[0]
    if not np.isin(labels, (-1, 0, 1)).all():
        found = sorted(set(labels.tolist()))
        fail(str(path), "label", "values -1, 0, 1 (negative, neutral, positive)", f"values {found}")
    return labels.astype(np.int64) + 1


def _trial_keys(path: Path, shapes: dict[str, tuple[int, ...]], prefix: str, count: int, shape_text: str) -> list[str]:
    """Keys ``<prefix>1..count``, checked against the label count: none missing, none beyond ``count``."""
    extra = f"{prefix}{count + 1}"
    if extra in shapes:
        fail(str(path), extra, f"{count} trials, as many as label.mat has labels", f"a trial {count + 1}")
    keys = [f"{prefix}{index}" for index in range(1, count + 1)]
    for key in keys:
        if key not in shapes:
            fail(str(path), key, f"one array per label of label.mat ({count} labels), {shape_text}", "no such key")
    return keys


def iter_seed_features(root: str | Path, feature: str = "de_LDS") -> Iterator[Trial]:
    """Yield SEED trials with precomputed DE features, one file at a time.

    Args:
        root: The SEED download folder, holding ``ExtractedFeatures/``.
        feature: ``"de_LDS"`` (LDS-smoothed) or ``"de_movingAve"`` (moving-average-smoothed) DE.

    Yields:
        :class:`Trial` with ``de`` ``(windows, 62, 5)`` float32 (1 s windows, bands delta..gamma) and the class index.
    """
    if feature not in SEED_FEATURES:
        fail("iter_seed_features", "feature", f"one of {SEED_FEATURES}", repr(feature))
    folder = Path(root) / "ExtractedFeatures"
    files = seed_session_files(folder)
    labels = read_seed_labels(folder / "label.mat")
    for file in files:
        shapes = mat_shapes(file.path)
        keys = _trial_keys(file.path, shapes, feature, len(labels), describe_shape((62, None, 5), _DE_DIMS))
        for key in keys:
            require_shape(file.path, shapes, key, (62, None, 5), _DE_DIMS)
        arrays = load_mat(file.path, keys)
        for index, key in enumerate(keys):
            yield Trial(
                subject=file.subject,
                session=file.session,
                trial=index + 1,
                label=int(labels[index]),
                de=de_from_mat(arrays[key], file.path, key),
                window_seconds=1.0,
                source=str(file.path),
            )


def de_from_mat(array: np.ndarray, path: Path, key: str) -> np.ndarray:
    """A SEED-family DE array ``(62, time, 5)`` (electrodes, windows, bands) of ``key`` in ``path``, checked and
    returned as ``(time, channels, bands)`` float32."""
    de = check_array(array, source=str(path), field=key, shape=(62, None, 5), dims=_DE_DIMS)
    return np.ascontiguousarray(de.transpose(1, 0, 2))


def _raw_prefix(path: Path, shapes: dict[str, tuple[int, ...]]) -> str:
    prefixes = {match.group(1) for match in map(_RAW_KEY.match, shapes) if match}
    if len(prefixes) != 1:
        fail(str(path), "<initials>_eeg<n>", "keys of one prefix, e.g. 'djc_eeg1'...'djc_eeg15'", sorted(prefixes))
    return prefixes.pop()


def iter_seed_raw(root: str | Path) -> Iterator[Trial]:
    """Yield SEED trials with the preprocessed signal, one trial at a time (each trial is loaded alone).

    Args:
        root: The SEED download folder, holding ``Preprocessed_EEG/``.

    Yields:
        :class:`Trial` with ``signal`` ``(62, samples)`` float32 microvolts at 200 Hz (SEED stores microvolts),
        ``sfreq=200.0``, no DE (compute it with :mod:`moodreader_hf.features`).
    """
    folder = Path(root) / "Preprocessed_EEG"
    files = seed_session_files(folder)
    labels = read_seed_labels(folder / "label.mat")
    dims = "(channels, samples)"
    for file in files:
        shapes = mat_shapes(file.path)
        prefix = _raw_prefix(file.path, shapes)
        keys = _trial_keys(file.path, shapes, f"{prefix}_eeg", len(labels), describe_shape((62, None), dims))
        for key in keys:
            require_shape(file.path, shapes, key, (62, None), dims)
        for index, key in enumerate(keys):
            signal = check_array(
                load_mat(file.path, [key])[key], source=str(file.path), field=key, shape=(62, None), dims=dims
            )
            yield Trial(
                subject=file.subject,
                session=file.session,
                trial=index + 1,
                label=int(labels[index]),
                signal=np.ascontiguousarray(signal),
                sfreq=SEED_SFREQ,
                window_seconds=1.0,
                source=str(file.path),
            )
