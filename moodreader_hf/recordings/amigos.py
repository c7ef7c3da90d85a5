"""AMIGOS (Miranda-Correa et al.): 40 participants, 16 short and 4 long videos, 14-channel Emotiv at 128 Hz.

Published layout (the preprocessed MATLAB files, one per participant ``NN`` = 01 ... 40)::

    data_preprocessed/Data_Preprocessed_P<NN>.mat
        joined_data              (1, 20) cell: one (samples, 17) array per video at 128 Hz: 14 EEG channels
                                 (:data:`AMIGOS_CHANNEL_NAMES`), 2 ECG, 1 GSR
        labels_selfassessment    (1, 20) cell: one (1, 12) array per video: arousal, valence, dominance, liking,
                                 familiarity (1-9), then 7 basic emotions (0/1)

Videos 1-16 are the short videos (session ``"1"``, trials 1-16) and 17-20 the long ones (session ``"2"``, trials
1-4), watched by 37 of the 40 participants. A video whose EEG and ratings are both empty (a long video a participant
did not watch) is skipped; one that has only one of the two is skipped with a warning naming it. A trial is labelled
1 (``high_<target>``) when its rating is strictly greater than the threshold, else 0 (``low_<target>``).

What could not be verified here (no copy of the dataset): the variable names, cell shapes, column order and the order
of the ratings are those of TorchEEG's ``AMIGOSDataset`` and of the dataset's description, not of a downloaded
file; the preprocessed EEG (band-passed 4-45 Hz, common average reference) is assumed to be in microvolts. TorchEEG
treats the first 5 s of every video as a baseline; whether the preprocessed trials hold one could not be checked, so
the whole trial is kept.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .matfile import load_mat, mat_shapes
from .seed import subject_files
from .trial import Trial

AMIGOS_CHANNEL_NAMES: tuple[str, ...] = (
    "AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4",
)  # fmt: skip
"""The 14 Emotiv electrodes, in the order of the first 14 columns of ``joined_data``."""
AMIGOS_TARGETS: tuple[str, ...] = ("arousal", "valence", "dominance", "liking")
"""Ratings that can be classified, in the order of the first columns of ``labels_selfassessment``."""
AMIGOS_VIDEOS: dict[str, range] = {"short": range(16), "long": range(16, 20), "all": range(20)}
"""Which of the 20 videos each ``videos`` option reads (0-based)."""
AMIGOS_SFREQ = 128.0
AMIGOS_TRIALS = 20
"""Videos per participant file (16 short, 4 long)."""
AMIGOS_SHORT_VIDEOS = 16
AMIGOS_COLUMNS = 17
AMIGOS_RATINGS = 12

_FILE_NAME = re.compile(r"^Data_Preprocessed_P(\d+)\.mat$")


def amigos_files(root: str | Path) -> list[Path]:
    """List ``data_preprocessed/Data_Preprocessed_P<NN>.mat`` ordered by participant."""
    return subject_files(Path(root) / "data_preprocessed", ".mat", _FILE_NAME,
                         "'Data_Preprocessed_P<NN>.mat' (e.g. 'Data_Preprocessed_P01.mat')")


def amigos_label_names(target: str = "valence") -> tuple[str, str]:
    """``("low_<target>", "high_<target>")``: the class names of a thresholded AMIGOS rating."""
    if target not in AMIGOS_TARGETS:
        fail("AMIGOS", "target", f"one of {AMIGOS_TARGETS}", repr(target))
    return (f"low_{target}", f"high_{target}")


def _cells(path: Path, shapes: dict[str, tuple[int, ...]], key: str, expected: str) -> list[object]:
    """The entries of the cell array ``key``, one per video (checked by name and shape before loading)."""
    if key not in shapes:
        fail(str(path), key, expected, f"no such variable (variables: {sorted(shapes)})")
    if sorted(shapes[key]) != [1, AMIGOS_TRIALS]:
        fail(str(path), key, f"a (1, {AMIGOS_TRIALS}) cell array, one entry per video: {expected}",
             f"shape {shapes[key]}")
    cells = load_mat(path, [key])[key]
    if cells.dtype != object:
        fail(str(path), key, f"a cell array: {expected}", f"a numeric array of dtype {cells.dtype}")
    return list(cells.ravel())


def iter_amigos(
    root: str | Path, target: str = "valence", threshold: float = 5.0, videos: str = "short"
) -> Iterator[Trial]:
    """Yield AMIGOS trials, one participant file at a time.

    Args:
        root: The AMIGOS download folder, holding ``data_preprocessed/``.
        target: The rating to classify: ``"valence"``, ``"arousal"``, ``"dominance"`` or ``"liking"``.
        threshold: Ratings strictly greater than this (on AMIGOS's 1-9 scale) are class 1 (high), others class 0.
        videos: ``"short"`` (the 16 short videos), ``"long"`` (the 4 long videos) or ``"all"``.

    Yields:
        :class:`Trial` with subject ``"P<NN>"`` as in the file name, session ``"1"`` (short videos) or ``"2"``
        (long videos), ``signal`` ``(14, samples)`` float32 microvolts at 128 Hz in :data:`AMIGOS_CHANNEL_NAMES`
        order; no DE.
    """
    amigos_label_names(target)
    if videos not in AMIGOS_VIDEOS:
        fail("AMIGOS", "videos", f"one of {tuple(AMIGOS_VIDEOS)}", repr(videos))
    column = AMIGOS_TARGETS.index(target)
    for path in amigos_files(root):
        shapes = mat_shapes(path)
        eeg = _cells(path, shapes, "joined_data", f"(samples, {AMIGOS_COLUMNS}) signals")
        ratings = _cells(path, shapes, "labels_selfassessment", f"(1, {AMIGOS_RATINGS}) ratings")
        for index in AMIGOS_VIDEOS[videos]:
            samples, rating = np.asarray(eeg[index]), np.asarray(ratings[index])
            if samples.size == 0 or rating.size == 0:
                if samples.size or rating.size:
                    missing = "labels_selfassessment" if samples.size else "joined_data"
                    warnings.warn(f"{path}: video {index + 1} skipped: its {missing} entry is empty.", stacklevel=2)
                continue
            data = check_array(samples, source=str(path), field=f"joined_data{{{index + 1}}}",
                               shape=(None, AMIGOS_COLUMNS), dims="(samples, channels)")
            values = check_array(rating, source=str(path), field=f"labels_selfassessment{{{index + 1}}}",
                                 shape=(1, AMIGOS_RATINGS), dims="(1, ratings)", dtype=np.float64)
            if not 1.0 <= values[0, column] <= 9.0:
                fail(str(path), f"labels_selfassessment{{{index + 1}}}",
                     f"{target} (column {column + 1}) rated from 1 to 9", values[0, column])
            short = index < AMIGOS_SHORT_VIDEOS
            yield Trial(
                subject=path.stem.rsplit("_", 1)[1],
                session="1" if short else "2",
                trial=index + 1 if short else index + 1 - AMIGOS_SHORT_VIDEOS,
                label=int(values[0, column] > threshold),
                signal=np.ascontiguousarray(data[:, : len(AMIGOS_CHANNEL_NAMES)].T),
                sfreq=AMIGOS_SFREQ,
                window_seconds=1.0,
                source=str(path),
            )
