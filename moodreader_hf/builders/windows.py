"""Cut one trial into fixed-length sequences of DE windows: the rows of a built dataset.

Regular rows start every ``stride`` windows as long as they fit; when the trial's last windows are in none of them,
one more row, the *tail row*, holds the trial's last ``sequence_windows`` windows (it overlaps the last regular row
whenever fewer than ``sequence_windows`` windows trail it, always when ``stride <= sequence_windows``), so trailing
windows are in a row and scored. Tail rows are test-only: the folds of :mod:`moodreader_hf.training.protocols` keep
them out of training, validation and normalisation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..validation import fail


@dataclass(frozen=True)
class WindowSequence:
    """One row: ``sequence_windows`` consecutive windows of one trial, starting at window ``start`` (0-based).

    Attributes:
        start: Index of the first window in the trial.
        tail: Whether this is the trial's tail row (its last windows, start ``n_windows - sequence_windows``).
        de: ``(sequence_windows, channels, bands)`` float32.
        eye: ``(sequence_windows, eye_dims)`` float32, or ``None``.
        signal: ``(channels, sequence_windows * samples_per_window)`` float32 microvolts, or ``None``.
    """

    start: int
    tail: bool
    de: np.ndarray
    eye: np.ndarray | None
    signal: np.ndarray | None


def check_sequence_options(sequence_windows: int, stride: int) -> None:
    """Both must be positive whole numbers of windows."""
    for field, value in (("sequence_windows", sequence_windows), ("stride", stride)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            fail("build_dataset", field, "a positive whole number of windows", repr(value))


def sequence_starts(n_windows: int, sequence_windows: int, stride: int) -> range:
    """Start windows of the regular rows of a trial of ``n_windows`` windows: ``0, stride, 2*stride, ...`` as long
    as the row fits (empty when the trial is shorter than one row). The tail row is :func:`tail_start`."""
    return range(0, max(n_windows - sequence_windows + 1, 0), stride)


def tail_start(n_windows: int, sequence_windows: int, stride: int) -> int | None:
    """Start window of the trial's tail row, ``n_windows - sequence_windows``, when the trial holds at least one
    row and its last window is in no regular row (:func:`sequence_starts`); else ``None``."""
    starts = sequence_starts(n_windows, sequence_windows, stride)
    if not starts or starts[-1] + sequence_windows == n_windows:
        return None
    return n_windows - sequence_windows


def covered_windows(n_windows: int, sequence_windows: int, stride: int) -> int:
    """How many of a trial's ``n_windows`` windows lie in at least one of its rows (regular and tail): all of them
    when ``stride <= sequence_windows``; the rest lie between rows (``stride > sequence_windows``) or in a trial
    shorter than one row."""
    starts = sequence_starts(n_windows, sequence_windows, stride)
    if not starts:
        return 0
    regular_end = starts[-1] + sequence_windows
    regular = (len(starts) - 1) * min(stride, sequence_windows) + sequence_windows
    return regular + min(n_windows - regular_end, sequence_windows)


def iter_sequences(
    de: np.ndarray,
    *,
    sequence_windows: int,
    stride: int,
    eye: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    samples_per_window: int = 0,
) -> Iterator[WindowSequence]:
    """Yield the window sequences of one trial: its regular rows, then its tail row if it has one.

    Args:
        de: ``(windows, channels, bands)``.
        sequence_windows: Windows per sequence.
        stride: Windows between the starts of consecutive regular sequences.
        eye: ``(windows, eye_dims)`` aligned with ``de``, or ``None``.
        signal: ``(channels, samples)`` with at least ``windows * samples_per_window`` samples, or ``None``.
        samples_per_window: Samples of ``signal`` per DE window.
    """
    n_windows = de.shape[0]
    last = tail_start(n_windows, sequence_windows, stride)
    starts = [(start, False) for start in sequence_starts(n_windows, sequence_windows, stride)]
    for start, tail in starts + ([] if last is None else [(last, True)]):
        stop = start + sequence_windows
        yield WindowSequence(
            start=start,
            tail=tail,
            de=de[start:stop],
            eye=None if eye is None else eye[start:stop],
            signal=None if signal is None else signal[:, start * samples_per_window : stop * samples_per_window],
        )
