"""Cut one trial into fixed-length sequences of DE windows: the rows of a built dataset."""

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
        de: ``(sequence_windows, channels, bands)`` float32.
        eye: ``(sequence_windows, eye_dims)`` float32, or ``None``.
        signal: ``(channels, sequence_windows * samples_per_window)`` float32 microvolts, or ``None``.
    """

    start: int
    de: np.ndarray
    eye: np.ndarray | None
    signal: np.ndarray | None


def check_sequence_options(sequence_windows: int, stride: int) -> None:
    """Both must be positive whole numbers of windows."""
    for field, value in (("sequence_windows", sequence_windows), ("stride", stride)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            fail("build_dataset", field, "a positive whole number of windows", repr(value))


def sequence_starts(n_windows: int, sequence_windows: int, stride: int) -> range:
    """Start windows of the sequences of a trial of ``n_windows`` windows: ``0, stride, 2*stride, ...`` as long as
    the sequence fits; trailing windows that do not fill a sequence are dropped (empty when the trial is shorter
    than one sequence)."""
    return range(0, max(n_windows - sequence_windows + 1, 0), stride)


def covered_windows(n_windows: int, sequence_windows: int, stride: int) -> int:
    """How many of a trial's ``n_windows`` windows lie in at least one of its rows (:func:`sequence_starts`): the
    rest are dropped, after the last row or, when ``stride > sequence_windows``, between rows."""
    starts = sequence_starts(n_windows, sequence_windows, stride)
    if not starts:
        return 0
    return (len(starts) - 1) * min(stride, sequence_windows) + sequence_windows


def iter_sequences(
    de: np.ndarray,
    *,
    sequence_windows: int,
    stride: int,
    eye: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    samples_per_window: int = 0,
) -> Iterator[WindowSequence]:
    """Yield the window sequences of one trial.

    Args:
        de: ``(windows, channels, bands)``.
        sequence_windows: Windows per sequence.
        stride: Windows between the starts of consecutive sequences.
        eye: ``(windows, eye_dims)`` aligned with ``de``, or ``None``.
        signal: ``(channels, samples)`` with at least ``windows * samples_per_window`` samples, or ``None``.
        samples_per_window: Samples of ``signal`` per DE window.
    """
    for start in sequence_starts(de.shape[0], sequence_windows, stride):
        stop = start + sequence_windows
        yield WindowSequence(
            start=start,
            de=de[start:stop],
            eye=None if eye is None else eye[start:stop],
            signal=None if signal is None else signal[:, start * samples_per_window : stop * samples_per_window],
        )
