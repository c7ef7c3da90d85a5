"""One recording's signal -> the rows of a pre-training corpus: resampled, filtered, cut and checked.

A row is ``sequence_windows`` windows of ``window_seconds``, non-overlapping, starting at 0 s; trailing samples
that do not fill a row are dropped. A row is dropped, and counted under the first reason that applies, when one of
its channels is:

- ``"non-finite"``: holds NaN or infinite samples in the file;
- ``"flat"``: has a standard deviation below :data:`FLAT_STD_UV` in the file (before filtering);
- ``"clipped"``: sits at the recording's own extreme value of that channel (its minimum or maximum over the whole
  file, where an amplifier or the file's range saturates) for at least :data:`CLIPPED_SHARE` of the row's samples;
- ``"out of range"``: exceeds ``max_amplitude_uv`` in absolute value after filtering.
"""

from __future__ import annotations

from dataclasses import dataclass

import mne
import numpy as np

ROW_DROP_REASONS: tuple[str, ...] = ("non-finite", "flat", "clipped", "out of range")
FLAT_STD_UV = 0.5
"""A channel whose samples within a row vary less than this standard deviation (µV) is flat."""
CLIPPED_SHARE = 0.005
"""A channel with at least this share of a row's samples at the file's extreme values is clipped."""


@dataclass(frozen=True)
class RowOptions:
    """How a corpus's rows are made from a signal.

    Attributes:
        sampling_rate: Hz of the rows.
        window_seconds: Seconds per window; a whole number of samples at ``sampling_rate``.
        sequence_windows: Windows per row.
        band_pass: ``(low, high)`` edges in Hz (``low`` 0: low-pass only), or ``None``.
        notch: Mains frequency in Hz removed with its harmonics below the Nyquist frequency, or ``None``.
        max_amplitude_uv: Largest absolute value (µV) a kept row may hold after filtering, or ``None``.
    """

    sampling_rate: float = 200.0
    window_seconds: float = 1.0
    sequence_windows: int = 10
    band_pass: tuple[float, float] | None = (0.5, 75.0)
    notch: float | None = None
    max_amplitude_uv: float | None = 500.0

    @property
    def samples_per_row(self) -> int:
        """Samples of one row and channel."""
        return round(self.sampling_rate * self.window_seconds) * self.sequence_windows

    @property
    def row_seconds(self) -> float:
        """Seconds of one row."""
        return self.samples_per_row / self.sampling_rate


@dataclass
class Rows:
    """The kept rows of one signal.

    Attributes:
        signals: ``(rows, channels, samples_per_row)`` float32 µV.
        starts: ``(rows,)`` start of each row in seconds from the start of the signal.
        dropped: Rows dropped per reason (:data:`ROW_DROP_REASONS`).
    """

    signals: np.ndarray
    starts: np.ndarray
    dropped: dict[str, int]


def filter_signal(data: np.ndarray, sfreq: float, options: RowOptions) -> np.ndarray:
    """``(channels, samples)`` µV at ``sfreq`` Hz -> float64 µV at ``options.sampling_rate``: each channel's mean
    removed, resampled (MNE polyphase, which low-passes before decimating), notched, band-passed (MNE FIR)."""
    rate = options.sampling_rate
    data = np.asarray(data, dtype=np.float64)
    data = data - data.mean(axis=1, keepdims=True)
    if sfreq != rate:
        data = mne.filter.resample(data, up=rate, down=sfreq, method="polyphase", verbose="error")
    if options.notch is not None:
        harmonics = np.arange(options.notch, rate / 2, options.notch)
        if harmonics.size:
            data = mne.filter.notch_filter(data, rate, harmonics, verbose="error")
    if options.band_pass is not None:
        low, high = options.band_pass
        data = mne.filter.filter_data(data, rate, low or None, high, verbose="error")
    return data


def _row_bounds(rows: int, seconds: float, sfreq: float) -> np.ndarray:
    return np.round(np.arange(rows + 1) * seconds * sfreq).astype(np.int64)


def cut_rows(data: np.ndarray, sfreq: float, options: RowOptions) -> Rows:
    """The rows of ``data`` ``(channels, samples)`` µV at ``sfreq`` Hz, after :func:`filter_signal`, without the
    rows dropped by the module's checks."""
    rows = int(data.shape[1] / sfreq / options.row_seconds + 1e-9)
    length = options.samples_per_row
    if rows == 0:
        return Rows(np.zeros((0, data.shape[0], length), np.float32), np.zeros(0), {})
    finite = np.isfinite(data)
    if finite.all():
        low, high = data.min(axis=1, keepdims=True), data.max(axis=1, keepdims=True)
    else:
        low = np.where(finite, data, np.inf).min(axis=1, keepdims=True)
        high = np.where(finite, data, -np.inf).max(axis=1, keepdims=True)
        data = np.where(finite, data, 0.0)  # filtered like a gap; its rows are dropped
    bounds = _row_bounds(rows, options.row_seconds, sfreq)
    reasons: list[str | None] = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        span = data[:, start:stop]
        if not finite[:, start:stop].all():
            reasons.append("non-finite")
        elif (span.std(axis=1) < FLAT_STD_UV).any():
            reasons.append("flat")
        elif (((span <= low) | (span >= high)).mean(axis=1) >= CLIPPED_SHARE).any():
            reasons.append("clipped")
        else:
            reasons.append(None)
    filtered = filter_signal(data, sfreq, options)
    rows = min(rows, filtered.shape[1] // length)
    cut = filtered[:, : rows * length].reshape(filtered.shape[0], rows, length).transpose(1, 0, 2)
    if options.max_amplitude_uv is not None:
        beyond = (np.abs(cut) > options.max_amplitude_uv).any(axis=(1, 2))
        reasons = [reason or ("out of range" if beyond[row] else None) for row, reason in enumerate(reasons[:rows])]
    keep = np.array([reason is None for reason in reasons[:rows]], dtype=bool)
    dropped: dict[str, int] = {}
    for reason in reasons[:rows]:
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
    return Rows(
        signals=cut[keep].astype(np.float32),
        starts=np.flatnonzero(keep) * options.row_seconds,
        dropped=dropped,
    )
