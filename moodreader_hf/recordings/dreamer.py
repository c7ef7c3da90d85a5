"""DREAMER (Katsigiannis & Ramzan, 2018): 23 subjects x 18 film clips, 14-channel Emotiv EPOC at 128 Hz.

Published layout: one MATLAB file holding one struct::

    DREAMER.mat   DREAMER: struct with fields
                    Data              (1, 23) struct array, one per subject, with fields
                      EEG             struct: stimuli (18, 1) cell of (samples, 14); baseline (18, 1) cell (61 s)
                      ScoreValence, ScoreArousal, ScoreDominance   (18, 1) self-assessments 1..5
                    EEG_SamplingRate  128
                    EEG_Electrodes    (1, 14) cell of names (AF3 F7 F3 FC5 T7 P7 O1 O2 P8 T8 FC6 F4 F8 AF4)

A trial is one clip's ``stimuli`` recording; the baseline recordings are not used. The samples are the Emotiv's raw
values in microvolts, which carry a DC offset of several thousand microvolts: each channel's mean over the trial is
subtracted (a constant has no meaning for the DE and would ring through resampling). A trial is labelled 1
(``high_<target>``) when its rating is strictly greater than the threshold, else 0 (``low_<target>``).

The struct layout is that of the file's documentation as read by public loaders (TorchEEG's ``DREAMERDataset``
and others), not checked against a downloaded file here. ``EEG_SamplingRate`` and ``EEG_Electrodes`` are checked
when present. The file is read whole (about 2 GB in memory), as ``scipy.io`` cannot read part of one struct.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .matfile import load_mat, mat_shapes
from .trial import Trial

DREAMER_CHANNEL_NAMES: tuple[str, ...] = (
    "AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4",
)  # fmt: skip
"""The 14 Emotiv EPOC electrodes, in the order of the columns of DREAMER's EEG arrays."""
DREAMER_TARGETS: tuple[str, ...] = ("valence", "arousal", "dominance")
DREAMER_SFREQ = 128.0
DREAMER_SUBJECTS = 23
"""Subjects of the published file (for progress counts; a file with another number is read as it is)."""
DREAMER_CLIPS = 18
DREAMER_FILE = "DREAMER.mat"


def dreamer_files(root: str | Path) -> list[Path]:
    """``[root / "DREAMER.mat"]`` after checking it exists."""
    path = Path(root) / DREAMER_FILE
    if not path.is_file():
        fail(str(path), "file", "the DREAMER download's single MATLAB file", "no such file")
    return [path]


def dreamer_label_names(target: str = "valence") -> tuple[str, str]:
    """``("low_<target>", "high_<target>")``: the class names of a thresholded DREAMER rating."""
    if target not in DREAMER_TARGETS:
        fail("DREAMER", "target", f"one of {DREAMER_TARGETS}", repr(target))
    return (f"low_{target}", f"high_{target}")


def _field(struct: object, name: str, path: Path, where: str) -> object:
    """The content of field ``name`` of a MATLAB struct as ``scipy.io.loadmat`` returns it (a 1x1 record)."""
    record = struct[0, 0] if isinstance(struct, np.ndarray) and struct.dtype.names and struct.size == 1 else struct
    names = getattr(getattr(record, "dtype", None), "names", None) or ()
    if name not in names:
        fail(str(path), f"{where}.{name}", "a field of the DREAMER struct", f"no such field (fields: {sorted(names)})")
    value = record[name]
    return value[0, 0] if isinstance(value, np.ndarray) and value.dtype == object and value.size == 1 else value


def _cells(value: object, path: Path, field: str, count: int | None) -> list[object]:
    """The entries of a cell array or struct array of shape ``(count, 1)`` or ``(1, count)`` (any count when
    ``count`` is ``None``)."""
    shape = tuple(np.shape(value))
    size = "n" if count is None else count
    if not isinstance(value, np.ndarray) or len(shape) != 2 or min(shape) != 1 or max(shape) != (count or max(shape)):
        fail(str(path), field, f"{size} entries, shape ({size}, 1) or (1, {size})", f"shape {shape}")
    return list(value.ravel())


def _check_header(dreamer: object, path: Path) -> None:
    names = dreamer[0, 0].dtype.names or ()
    if "EEG_SamplingRate" in names:
        rate = np.asarray(_field(dreamer, "EEG_SamplingRate", path, "DREAMER"), dtype=np.float64).ravel()
        if rate.size != 1 or rate[0] != DREAMER_SFREQ:
            fail(str(path), "DREAMER.EEG_SamplingRate", f"{DREAMER_SFREQ:g} (Hz)", rate.tolist())
    if "EEG_Electrodes" in names:
        cells = _field(dreamer, "EEG_Electrodes", path, "DREAMER")
        electrodes = tuple(str(np.asarray(cell).ravel()[0]) for cell in np.asarray(cells, dtype=object).ravel())
        if tuple(name.upper() for name in electrodes) != tuple(name.upper() for name in DREAMER_CHANNEL_NAMES):
            fail(str(path), "DREAMER.EEG_Electrodes", f"the Emotiv order {DREAMER_CHANNEL_NAMES}", electrodes)


def _load(path: Path) -> object:
    variables = mat_shapes(path)
    if "DREAMER" not in variables:
        fail(str(path), "DREAMER", "the struct variable 'DREAMER'", f"no such variable ({sorted(variables)})")
    dreamer = load_mat(path, ["DREAMER"])["DREAMER"]
    if not (isinstance(dreamer, np.ndarray) and dreamer.dtype.names and dreamer.size == 1):
        fail(str(path), "DREAMER", "a 1x1 MATLAB struct", f"an array of shape {np.shape(dreamer)}")
    _check_header(dreamer, path)
    return dreamer


def _ratings(subject: object, target: str, path: Path, where: str) -> np.ndarray:
    field = f"{where}.Score{target.capitalize()}"
    value = _field(subject, f"Score{target.capitalize()}", path, where)
    ratings = check_array(value, source=str(path), field=field, dtype=np.float64).ravel()
    if ratings.size != DREAMER_CLIPS:
        fail(str(path), field, f"{DREAMER_CLIPS} ratings, one per clip", f"{ratings.size}")
    if not np.isin(ratings, (1, 2, 3, 4, 5)).all():
        fail(str(path), field, "ratings 1, 2, 3, 4 or 5", sorted(set(ratings.tolist())))
    return ratings


def iter_dreamer(root: str | Path, target: str = "valence", threshold: float = 3.0) -> Iterator[Trial]:
    """Yield DREAMER trials, subject by subject (23 in the published file), from the one file (read whole).

    Args:
        root: The DREAMER download folder, holding ``DREAMER.mat``.
        target: The rating to classify: ``"valence"``, ``"arousal"`` or ``"dominance"``.
        threshold: Ratings strictly greater than this (on DREAMER's 1-5 scale) are class 1 (high), others class 0.

    Yields:
        :class:`Trial` with subject ``"1"`` ... ``"23"``, session ``"1"``, trial = clip 1..18, ``signal`` ``(14,
        samples)`` float32 microvolts at 128 Hz (each channel's mean removed), channels in
        :data:`DREAMER_CHANNEL_NAMES` order; no DE.
    """
    dreamer_label_names(target)
    (path,) = dreamer_files(root)
    dreamer = _load(path)
    subjects = _cells(_field(dreamer, "Data", path, "DREAMER"), path, "DREAMER.Data", None)
    for number, subject in enumerate(subjects, start=1):
        where = f"DREAMER.Data({number})"
        ratings = _ratings(subject, target, path, where)
        eeg = _field(subject, "EEG", path, where)
        stimuli = _cells(_field(eeg, "stimuli", path, f"{where}.EEG"), path, f"{where}.EEG.stimuli", DREAMER_CLIPS)
        for clip, samples in enumerate(stimuli, start=1):
            field = f"{where}.EEG.stimuli{{{clip}}}"
            data = check_array(samples, source=str(path), field=field, shape=(None, len(DREAMER_CHANNEL_NAMES)),
                               dims="(samples, channels)", dtype=np.float64)
            signal = data.T - data.mean(axis=0)[:, None]
            yield Trial(
                subject=str(number),
                session="1",
                trial=clip,
                label=int(ratings[clip - 1] > threshold),
                signal=np.ascontiguousarray(signal, dtype=np.float32),
                sfreq=DREAMER_SFREQ,
                window_seconds=1.0,
                source=str(path),
            )
