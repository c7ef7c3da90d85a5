"""Differential entropy (DE) features of EEG and the Mood Reader feature extractor.

The DE math used for training and for inference lives here, once: a model trained on LDS-smoothed DE must see
LDS-smoothed DE computed the same way at inference. This file travels to the Hugging Face Hub as remote code: it
imports only the standard library, numpy, scipy, transformers and ``configuration_moodreader``.

Conventions: signals are ``(channels, samples)`` arrays in microvolts sampled at ``sfreq`` Hz; DE features are
``(time, channels, bands)`` arrays, one time step per non-overlapping window of ``window_seconds`` seconds; band
edges are ``(low, high)`` pairs in Hz, each band covering ``[low, high)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import NoReturn

import numpy as np
from scipy.signal import butter, iirnotch, resample_poly, sosfiltfilt, sosfreqz, tf2sos
from scipy.signal.windows import hann
from transformers import BatchFeature, FeatureExtractionMixin

from .configuration_moodreader import (
    BAND_EDGES,
    ELECTRODE_ALIASES,
    SEED_CHANNEL_NAMES,
    MoodReaderConfig,
    electrode_ids,
    electrode_key,
)

DE_METHODS: tuple[str, ...] = ("stft", "filterbank")
SMOOTHINGS: tuple[str, ...] = ("lds", "lds_rts", "moving_average", "causal_moving_average", "none")
"""Smoothing of DE along time: ``"lds"`` (Kalman filter, forward only, as the widely used Python port of SEED's
``de_LDS`` code), ``"lds_rts"`` (the same filter plus a Rauch-Tung-Striebel backward pass), ``"moving_average"``
(centred, as SEED's ``de_movingAve``), ``"causal_moving_average"`` (trailing: each step averages itself and the
steps before it), ``"none"``. With SEED's LDS parameters (Q = 1e-4, R = 1) both LDS variants make a series
nearly constant (a gain of about 0.01 per step); the moving averages keep changes within their window."""
ON_MISSING: tuple[str, ...] = ("raise", "mask")
DE_SOURCES: tuple[str, ...] = ("computed", "distributed")
"""Where the training DE came from: computed by this file from raw EEG, or distributed with a dataset (SEED,
SEED-IV, SEED-V ship DE made by their own code, which differs from ours by an affine map per band)."""
FILTER_ORDER = 4
"""Order of the Butterworth prototype of each ``filterbank`` band (the band-pass filter has twice as many poles)."""
CHANNEL_ALIASES: dict[str, str] = ELECTRODE_ALIASES
"""Old 10-20 names and their 10-10 equivalents (lower case); matching uses them in both directions."""
_HALF_LOG_2_PI_E = 0.5 * np.log(2 * np.pi * np.e)
_MIN_PLAUSIBLE_STD_UV = 1e-3


def _fail(source: str, field: str, expected: str, received: object) -> NoReturn:
    raise ValueError(f"{source}: field '{field}': expected {expected}, got {received}.")


def _check_bands(bands: Sequence[Sequence[float]], sfreq: float, source: str, *, strict_nyquist: bool) -> np.ndarray:
    """Return ``bands`` as a ``(bands, 2)`` float array after checking ``0 <= low < high <= sfreq / 2``."""
    try:
        edges = np.asarray(bands, dtype=np.float64)
    except (TypeError, ValueError):
        edges = None
    if edges is None or edges.ndim != 2 or edges.shape[1] != 2 or len(edges) == 0 or not np.isfinite(edges).all():
        _fail(source, "bands", "a non-empty sequence of (low, high) pairs in Hz", repr(bands))
    if not (edges[:, 0] >= 0).all() or not (edges[:, 0] < edges[:, 1]).all():
        _fail(source, "bands", "pairs (low, high) in Hz with 0 <= low < high", edges.tolist())
    nyquist = sfreq / 2
    above = edges[:, 1] >= nyquist if strict_nyquist else edges[:, 1] > nyquist
    if above.any():
        relation = "below" if strict_nyquist else "at or below"
        _fail(source, "bands", f"upper edges {relation} the Nyquist frequency {nyquist:g} Hz of sfreq={sfreq:g} Hz",
              f"{edges[above].tolist()} (raise the sampling rate or lower the bands)")
    return edges


def _check_signals(signals: object, source: str, *, finite: bool = True) -> np.ndarray:
    """``signals`` as a float64 ``(channels, samples)`` array; ``finite=False`` leaves the (costly) check of the
    values to the caller, which must then call :func:`_check_finite`."""
    try:
        array = np.asarray(signals, dtype=np.float64)
    except (TypeError, ValueError) as error:
        _fail(source, "signals", "a numeric array (channels, samples) in microvolts", f"{type(signals).__name__} "
              f"({error})")
    if array.ndim != 2 or array.shape[0] == 0:
        _fail(source, "signals", "a 2-D array (channels, samples) in microvolts", f"shape {array.shape}")
    if finite:
        _check_finite(array, source)
    return array


def _check_finite(array: np.ndarray, source: str) -> None:
    if not np.isfinite(array).all():
        bad_channels = np.flatnonzero(~np.isfinite(array).all(axis=1)).tolist()
        _fail(source, "signals", "finite values", f"NaN or infinite values in channel indices {bad_channels}")


def _window_samples(sfreq: float, window_seconds: float, source: str) -> int:
    if isinstance(sfreq, bool) or not (isinstance(sfreq, (int, float, np.number)) and np.isfinite(sfreq)
                                       and sfreq > 0):
        _fail(source, "sfreq", "a positive sampling rate in Hz", repr(sfreq))
    if isinstance(window_seconds, bool) or not (isinstance(window_seconds, (int, float, np.number))
                                                and np.isfinite(window_seconds) and window_seconds > 0):
        _fail(source, "window_seconds", "a positive number of seconds", repr(window_seconds))
    samples = round(sfreq * window_seconds)
    if samples < 2 or abs(sfreq * window_seconds - samples) > 1e-6 * max(1.0, samples):
        _fail(source, "window_seconds", f"a whole number (at least 2) of samples at sfreq={sfreq:g} Hz",
              f"{window_seconds!r} s = {sfreq * window_seconds:g} samples")
    return samples


@lru_cache(maxsize=32)
def _stft_band_matrix(window: int, sfreq: float, edges: tuple[tuple[float, float], ...]) -> np.ndarray:
    """``(2 * bins, bands)`` matrix turning the squared real and imaginary parts of a Hann-windowed rfft into power.

    Row ``2k`` (real part) and ``2k + 1`` (imaginary part) of bin ``k`` hold ``c_k / (window * sum(hann**2))`` for
    the band containing the bin's frequency, where ``c_k`` is 1 for the DC bin and 2 for the others (positive and
    negative frequencies; the Nyquist bin is never in a band, since bands are ``[low, high)`` with
    ``high <= sfreq / 2``).
    """
    taper = hann(window, sym=False)
    freqs = np.arange(window // 2 + 1) * sfreq / window
    one_sided = np.full(len(freqs), 2.0)
    one_sided[0] = 1.0
    tolerance = 1e-9 * sfreq
    matrix = np.zeros((len(freqs), len(edges)))
    for band, (low, high) in enumerate(edges):
        in_band = (freqs >= low - tolerance) & (freqs < high - tolerance)
        if not in_band.any():
            _fail("differential_entropy", "bands", f"bands at least one frequency bin wide (bins are "
                  f"{sfreq / window:g} Hz apart for {window} samples)", f"no bin in [{low:g}, {high:g}) Hz")
        matrix[in_band, band] = one_sided[in_band] / (window * np.sum(taper**2))
    return np.repeat(matrix, 2, axis=0)


def _half_power_design_edges(low: float, high: float, sfreq: float, order: int) -> tuple[float, float]:
    """Design edges (Hz) of a Butterworth band-pass whose zero-phase (forward-backward) response is -3 dB at
    ``low`` and ``high``.

    In the pre-warped analog domain the band-pass response is ``1 / (1 + x**(2 * order))`` with
    ``x = (w**2 - w0**2) / (w * bw)``. Keeping the centre ``w0**2 = w_low * w_high`` and widening the bandwidth to
    ``bw = (w_high - w_low) / x_h``, with ``(1 + x_h**(2 * order))**2 = 2``, puts the forward-backward half-power
    points exactly at ``low`` and ``high``.
    """
    w_low, w_high = (2 * sfreq * np.tan(np.pi * f / sfreq) for f in (low, high))
    x_half = (np.sqrt(2.0) - 1.0) ** (1.0 / (2 * order))
    bandwidth = (w_high - w_low) / x_half
    w_upper = (bandwidth + np.sqrt(bandwidth**2 + 4 * w_low * w_high)) / 2
    w_lower = w_low * w_high / w_upper
    return tuple(float(sfreq / np.pi * np.arctan(w / (2 * sfreq))) for w in (w_lower, w_upper))


@lru_cache(maxsize=32)
def _filterbank_band(low: float, high: float, sfreq: float) -> tuple[np.ndarray, float]:
    """Second-order sections of one band and its noise gain: ``|H|**4`` integrated over ``[0, sfreq / 2]`` Hz,
    divided by ``high - low``."""
    sos = butter(FILTER_ORDER, _half_power_design_edges(low, high, sfreq, FILTER_ORDER), btype="bandpass",
                 fs=sfreq, output="sos")
    freqs, response = sosfreqz(sos, worN=1 << 16, fs=sfreq)
    power_response = np.abs(response) ** 4
    noise_bandwidth = np.sum((power_response[1:] + power_response[:-1]) / 2 * np.diff(freqs))
    return sos, float(noise_bandwidth / (high - low))


def differential_entropy(
    signals: np.ndarray,
    sfreq: float,
    window_seconds: float = 1.0,
    bands: Sequence[Sequence[float]] = BAND_EDGES,
    method: str = "stft",
) -> np.ndarray:
    """DE per non-overlapping window, channel and band: ``0.5 * log(2 * pi * e * power)``.

    ``power`` is the band power in µV² (signal variance carried by the band), normalised so that both methods
    estimate the same quantity: a sinusoid of amplitude ``A`` inside a band gives ``A**2 / 2`` and white noise of
    variance ``s**2`` gives ``s**2 * (high - low) / (sfreq / 2)``. Scaling the signal by ``k`` adds exactly
    ``log(k)`` to the DE. (Ports of the SEED code that average ``|FFT|**2`` over the band's bins and take
    ``log2(100 * E)`` differ from this by an affine map per band, which per-channel-and-band normalisation removes.)

    Args:
        signals: ``(channels, samples)`` in µV. Trailing samples that do not fill a whole window are dropped.
        sfreq: Sampling rate in Hz.
        window_seconds: Window length in seconds; must be a whole number of samples.
        bands: ``(low, high)`` edges in Hz; each band covers ``[low, high)``.
        method: ``"stft"``, the SEED recipe: each window is tapered by a periodic Hann window, transformed with one
            real FFT (bins ``1 / window_seconds`` Hz apart) and the power of the bins in ``[low, high)`` summed,
            normalised by the window's energy (Parseval). ``"filterbank"``: each band is filtered forward and
            backward (zero phase) by an order-4 Butterworth band-pass in second-order sections whose zero-phase
            response is -3 dB at the band edges; ``power`` is the window's mean square of the filtered signal,
            divided by the filter's noise gain (its ``|H|**4`` integrated over frequency, relative to ``high - low``;
            within 0.3 % of 1 for the SEED bands at 200 Hz) so that white noise gives the analytic band power.

    Returns:
        ``(windows, channels, bands)`` float32, ``windows = samples // round(sfreq * window_seconds)``.

    Raises:
        ValueError: non-2-D or non-finite ``signals``, fewer samples than one window, a band above the Nyquist
            frequency (or reaching it, for ``filterbank``) or narrower than one bin, an unknown ``method``, or a
            window with zero power in a band (a flat channel).
    """
    source = "differential_entropy"
    if method not in DE_METHODS:
        _fail(source, "method", f"one of {DE_METHODS}", repr(method))
    data = _check_signals(signals, source, finite=False)
    window = _window_samples(sfreq, window_seconds, source)
    sfreq = float(sfreq)
    edges = _check_bands(bands, sfreq, source, strict_nyquist=method == "filterbank")
    n_channels, n_samples = data.shape
    n_windows = n_samples // window
    if n_windows == 0:
        _fail(source, "signals", f"at least one window of {window} samples ({window_seconds:g} s at {sfreq:g} Hz)",
              f"{n_samples} samples")
    if method == "stft":
        matrix = _stft_band_matrix(window, sfreq, tuple(map(tuple, edges.tolist())))
        trial = np.ascontiguousarray(data[:, : n_windows * window])  # loadmat gives column-major arrays
        tapered = trial.reshape(n_channels, n_windows, window) * hann(window, sym=False)
        spectrum = np.fft.rfft(tapered, axis=-1).view(np.float64)
        power = np.square(spectrum, out=spectrum) @ matrix
    else:
        if not (edges[:, 0] > 0).all():
            _fail(source, "bands", "lower edges above 0 Hz for method='filterbank'", edges.tolist())
        designs = [_filterbank_band(low, high, sfreq) for low, high in edges.tolist()]
        minimum = max(3 * (2 * len(sos) + 1) for sos, _ in designs)
        if n_samples <= minimum:
            _fail(source, "signals", f"more than {minimum} samples for the zero-phase filters", f"{n_samples}")
        power = np.empty((n_channels, n_windows, len(edges)))
        for band, (sos, noise_gain) in enumerate(designs):
            filtered = sosfiltfilt(sos, data, axis=-1)[:, : n_windows * window]
            power[..., band] = np.mean(np.square(filtered).reshape(n_channels, n_windows, window), axis=-1) / noise_gain
    if not np.isfinite(power).all():  # NaN and infinity propagate to the power: check the input only then
        _check_finite(data, source)
        _fail(source, "signals", "values whose squares fit in float64", "an overflow of the band power")
    if not (power > 0).all():
        flat = sorted(set(np.nonzero(~(power > 0))[0].tolist()))
        _fail(source, "signals", "non-zero power in every band of every window", f"zero power in channel indices "
              f"{flat} (flat channels?)")
    return (_HALF_LOG_2_PI_E + 0.5 * np.log(power)).transpose(1, 0, 2).astype(np.float32)


def _check_filters(band_pass: Sequence[float | None] | None, notch: float | None, source: str) -> None:
    if band_pass is not None:
        if len(band_pass) != 2 or all(edge is None for edge in band_pass):
            _fail(source, "band_pass", "None or (low, high) in Hz (one edge may be None)", repr(band_pass))
        low, high = band_pass
        if (low is not None and low <= 0) or (high is not None and low is not None and high <= low):
            _fail(source, "band_pass", "0 < low < high in Hz", repr(list(band_pass)))
    if notch is not None and notch not in (50.0, 60.0):
        _fail(source, "notch", "None, 50 or 60 (Hz)", repr(notch))


def _filter(data: np.ndarray, sfreq: float, band_pass: Sequence[float | None] | None,
            notch: float | None) -> np.ndarray:
    """Notch (with harmonics) and band-pass ``(channels, samples)`` at its own rate ``sfreq``, zero phase; an edge at
    or above 95 % of the Nyquist frequency is left out."""
    nyquist = sfreq / 2
    if notch is not None:
        for frequency in np.arange(notch, 0.95 * nyquist, notch):
            data = sosfiltfilt(tf2sos(*iirnotch(frequency, 30.0, fs=sfreq)), data, axis=-1)
    if band_pass is not None:
        low, high = band_pass
        high = high if high is not None and high < 0.95 * nyquist else None
        if low is not None and high is not None:
            data = sosfiltfilt(butter(4, [low, high], btype="bandpass", fs=sfreq, output="sos"), data, axis=-1)
        elif low is not None:
            data = sosfiltfilt(butter(4, low, btype="highpass", fs=sfreq, output="sos"), data, axis=-1)
        elif high is not None:
            data = sosfiltfilt(butter(4, high, btype="lowpass", fs=sfreq, output="sos"), data, axis=-1)
    return data


def _check_sequence(values: object, source: str, field: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        _fail(source, field, "a numeric array (time, ...)", f"{type(values).__name__} ({error})")
    if array.ndim == 0 or array.shape[0] == 0:
        _fail(source, field, "an array (time, ...) with at least one time step", f"shape {array.shape}")
    if not np.isfinite(array).all():
        _fail(source, field, "finite values", f"{int(array.size - np.isfinite(array).sum())} NaN or infinite values")
    return array


def moving_average(de: np.ndarray, window: int = 5, *, causal: bool = False) -> np.ndarray:
    """Moving average along time (axis 0): centred, as in SEED's ``de_movingAve`` features, or trailing.

    Centred, step ``t`` is the mean of steps ``t - (window - 1) // 2`` to ``t + window // 2``; ``causal``, of steps
    ``t - window + 1`` to ``t`` (nothing after ``t``). Near the ends the window is cut to the steps that exist (no
    padding), so the output has the input's length and a constant stays constant.

    Args:
        de: ``(time, ...)``, e.g. ``(time, channels, bands)``.
        window: Number of time steps averaged (positive).

    Returns:
        An array of ``de``'s shape, float32.
    """
    data = _check_sequence(de, "moving_average", "de")
    if not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window < 1:
        _fail("moving_average", "window", "a positive whole number of time steps", repr(window))
    steps = data.shape[0]
    cumulative = np.concatenate([np.zeros((1, *data.shape[1:])), np.cumsum(data, axis=0)])
    before, after = (window - 1, 0) if causal else ((window - 1) // 2, window // 2)
    starts = np.clip(np.arange(steps) - before, 0, steps)
    stops = np.clip(np.arange(steps) + after + 1, 0, steps)
    counts = (stops - starts).reshape(-1, *([1] * (data.ndim - 1)))
    return ((cumulative[stops] - cumulative[starts]) / counts).astype(np.float32)


def lds_smooth(
    de: np.ndarray,
    *,
    transition: float = 1.0,
    observation: float = 1.0,
    process_noise: float = 1e-4,
    observation_noise: float = 1.0,
    initial_variance: float = 0.01,
    backward: bool = False,
) -> np.ndarray:
    """Linear-dynamical-system smoothing along time (axis 0), as in SEED's ``de_LDS`` features.

    Every series (each channel and band) is the observation ``y_t = C z_t + v_t`` of a latent state
    ``z_t = A z_{t-1} + w_t``, ``w ~ N(0, Q)``, ``v ~ N(0, R)``, with prior ``z_0 ~ N(mean of the series, V0)``. A
    Kalman filter runs forward and its state means are returned (smoothing ``"lds"``, as the widely used Python port
    of SEED's code does); with ``backward`` a Rauch-Tung-Striebel smoother then runs backward (smoothing
    ``"lds_rts"``), which differs from the forward filter by up to half a step change.
    The defaults ``A = C = 1``, ``Q = 1e-4``, ``R = 1``, ``V0 = 0.01`` are those of the widely used Python port of
    the SEED LDS code. The variances and gains do not depend on the data, so one scalar recursion over time
    serves every channel and band at once.

    Args:
        de: ``(time, ...)``, e.g. ``(time, channels, bands)``.
        transition: ``A``. observation: ``C``. process_noise: ``Q``. observation_noise: ``R``.
        initial_variance: ``V0``, the prior variance of the first state.
        backward: Add the Rauch-Tung-Striebel backward pass.

    Returns:
        The filtered (or smoothed) states, an array of ``de``'s shape, float32.
    """
    source = "lds_smooth"
    data = _check_sequence(de, source, "de")
    for field, value, positive in (("transition", transition, False), ("observation", observation, False),
                                   ("process_noise", process_noise, True),
                                   ("observation_noise", observation_noise, True),
                                   ("initial_variance", initial_variance, True)):
        if not (isinstance(value, (int, float, np.number)) and np.isfinite(value) and (value > 0 or not positive)):
            _fail(source, field, "a positive finite number" if positive else "a finite number", repr(value))
    a, c, q, r = float(transition), float(observation), float(process_noise), float(observation_noise)
    steps = data.shape[0]
    filtered = np.empty_like(data)
    variance = np.empty(steps)
    predicted_variance = np.empty(steps)
    predicted_mean = data.mean(axis=0)
    predicted_variance[0] = initial_variance
    for t in range(steps):
        if t > 0:
            predicted_mean = a * filtered[t - 1]
            predicted_variance[t] = a * variance[t - 1] * a + q
        gain = predicted_variance[t] * c / (c * predicted_variance[t] * c + r)
        filtered[t] = predicted_mean + gain * (data[t] - c * predicted_mean)
        variance[t] = (1 - gain * c) * predicted_variance[t]
    smoothed = filtered.copy()
    for t in range(steps - 2 if backward else -1, -1, -1):
        back_gain = variance[t] * a / predicted_variance[t + 1]
        smoothed[t] = filtered[t] + back_gain * (smoothed[t + 1] - a * filtered[t])
    return smoothed.astype(np.float32)


_channel_key = electrode_key


def match_channels(names: Sequence[str], montage: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Find each montage electrode among a recording's channel names.

    Names are compared case-insensitively after removing a leading ``"EEG "``, a ``"-REF"`` or ``"-LE"`` suffix and
    dots (PhysioNet EDF files name channels ``"Fp1."``, ``"Fc5."``). An exact name wins over an alias; the aliases
    ``T3``/``T7``, ``T4``/``T8``, ``T5``/``P7``, ``T6``/``P8`` match in both directions.

    Args:
        names: Channel names of the recording, in its order.
        montage: Electrode names of the model, in its order.

    Returns:
        ``indices`` (int64, one per montage electrode: its position in ``names``, or -1) and ``missing`` (the
        montage names not found, in montage order).

    Raises:
        ValueError: a montage electrode matches several recording channels.
    """
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        positions.setdefault(_channel_key(str(name)), []).append(index)
    reverse_aliases = {new: old for old, new in CHANNEL_ALIASES.items()}
    indices = np.full(len(montage), -1, dtype=np.int64)
    missing = []
    for slot, electrode in enumerate(montage):
        key = _channel_key(str(electrode))
        alias = CHANNEL_ALIASES.get(key) or reverse_aliases.get(key)
        found = positions.get(key) or positions.get(alias, [])
        if len(found) > 1:
            _fail("match_channels", "names", f"one channel for electrode {electrode!r}",
                  f"{[names[i] for i in found]}")
        if found:
            indices[slot] = found[0]
        else:
            missing.append(str(electrode))
    return indices, missing


def normalization_statistics(
    values: np.ndarray, *, feature_axes: int = 2, min_std: float = 1e-3
) -> tuple[list, list]:
    """Mean and standard deviation per feature of training data, for ``MoodReaderFeatureExtractor``.

    Args:
        values: DE ``(..., channels, bands)`` (``feature_axes=2``), e.g. ``(rows, time, channels, bands)``, or eye
            features ``(..., eye_dims)`` (``feature_axes=1``); from the training subjects only.
        feature_axes: How many trailing axes index the features; the statistics run over all the others.
        min_std: Floor of the standard deviation, so constant features are not blown up.

    Returns:
        ``(mean, std)`` as nested lists of the feature shape (``(channels, bands)`` for DE: the extractor's
        ``de_mean``/``de_std``; ``(eye_dims,)`` for eye features: ``eye_mean``/``eye_std``).
    """
    source = "normalization_statistics"
    data = np.asarray(values, dtype=np.float64)
    if data.ndim <= feature_axes or data.size == 0:
        _fail(source, "values", f"a non-empty array with {feature_axes} feature axes after the sample axes",
              f"shape {data.shape}")
    if not np.isfinite(data).all():
        _fail(source, "values", "finite values", f"{int(data.size - np.isfinite(data).sum())} NaN or infinite values")
    flat = data.reshape(-1, *data.shape[data.ndim - feature_axes :])
    return flat.mean(axis=0).tolist(), np.maximum(flat.std(axis=0), min_std).tolist()


class MoodReaderFeatureExtractor(FeatureExtractionMixin):
    r"""
    Turns an EEG recording (or precomputed DE) into Mood Reader model inputs.

    Raw signals are resampled to ``sampling_rate``, reordered to ``channel_names`` by name, cut into windows, turned
    into DE (:func:`differential_entropy`), smoothed along time, and normalised per channel and band as
    ``(de - de_mean) / de_std``. Electrodes absent from the recording are zero after normalisation and flagged in
    ``channel_mask``; so are the ``unfitted_channels``, which the training data never recorded. Eye-movement
    features, for models that use them, are normalised as ``(eye - eye_mean) / eye_std``. Saved as
    ``preprocessor_config.json``.

    Args:
        sampling_rate: Rate in Hz that signals are resampled to (the model's rate).
        channel_names: Electrodes of the model's montage, in the model's channel order.
        band_edges: ``(low, high)`` in Hz per band.
        window_seconds: Length of one DE window in seconds.
        method: ``"stft"`` (SEED recipe) or ``"filterbank"``; see :func:`differential_entropy`.
        smoothing: ``"lds"`` (:func:`lds_smooth`), ``"moving_average"`` (:func:`moving_average`) or ``"none"``.
        moving_average_window: Window, in time steps, of the moving average.
        de_mean: ``None`` or nested lists ``(channels, bands)``: per-feature mean of the training subjects' DE.
        de_std: ``None`` or nested lists ``(channels, bands)``: per-feature standard deviation (positive).
        eye_mean: ``None`` or a list ``(eye_dims,)``: per-feature mean of the training subjects' eye features.
        eye_std: ``None`` or a list ``(eye_dims,)``: their standard deviation (positive).
        de_source: ``"computed"`` (the model was trained on DE computed by this extractor's recipe) or
            ``"distributed"`` (trained on the DE a dataset distributes, made by the dataset's own code). A
            ``"distributed"`` extractor refuses raw signals: our DE of a recording is not the dataset's DE (the
            recipes differ by an affine map per band, e.g. a slope of about 2.8 against the common Python port of
            SEED's ``log2(100 * mean |X|**2)``), and normalising it with the distributed DE's statistics would put it
            tens of standard deviations off the training data. Pass ``de_features`` made the dataset's way.
        dataset: Name of the dataset whose DE a ``"distributed"`` extractor expects (for messages).
        band_pass: ``None`` or ``(low, high)`` Hz: signals are band-passed (zero-phase order-4 Butterworth, at their
            own rate) before resampling, as the training recordings were; ``low`` or ``high`` may be ``None``.
        notch: ``None``, 50 or 60: the mains frequency (and its harmonics below the Nyquist frequency) is notched.
        unfitted_channels: Electrodes of ``channel_names`` that no training row recorded (a montage that differs
            between subjects: in a leave-one-subject-out fold, those only the test subject has). The model never
            learned them and ``de_mean``/``de_std`` hold no statistics of them, so they are masked in every input,
            recorded or not, as they were when the model was evaluated.
        padding_value: Value of padded time steps when a pipeline batches several recordings.
        padding_side: Side on which they are padded.

    Example:

    ```python
    >>> import numpy as np
    >>> extractor = MoodReaderFeatureExtractor()
    >>> inputs = extractor(np.random.randn(62, 400 * 10), sampling_rate=400)
    >>> inputs["de_features"].shape
    torch.Size([1, 10, 62, 5])
    ```"""

    model_input_names = ["de_features", "channel_mask", "attention_mask", "electrode_ids"]

    def __init__(
        self,
        sampling_rate: int = 200,
        channel_names: Sequence[str] = SEED_CHANNEL_NAMES,
        band_edges: Sequence[Sequence[float]] = BAND_EDGES,
        window_seconds: float = 1.0,
        method: str = "stft",
        smoothing: str = "lds",
        moving_average_window: int = 5,
        de_mean: Sequence[Sequence[float]] | None = None,
        de_std: Sequence[Sequence[float]] | None = None,
        eye_mean: Sequence[float] | None = None,
        eye_std: Sequence[float] | None = None,
        de_source: str = "computed",
        dataset: str | None = None,
        band_pass: Sequence[float | None] | None = None,
        notch: float | None = None,
        unfitted_channels: Sequence[str] = (),
        padding_value: float = 0.0,
        padding_side: str = "right",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sampling_rate = sampling_rate
        self.channel_names = [str(name) for name in channel_names]
        self.band_edges = [[float(low), float(high)] for low, high in band_edges]
        self.window_seconds = window_seconds
        self.method = method
        self.smoothing = smoothing
        self.moving_average_window = moving_average_window
        self.de_mean = None if de_mean is None else np.asarray(de_mean, dtype=np.float64).tolist()
        self.de_std = None if de_std is None else np.asarray(de_std, dtype=np.float64).tolist()
        self.eye_mean = None if eye_mean is None else np.asarray(eye_mean, dtype=np.float64).tolist()
        self.eye_std = None if eye_std is None else np.asarray(eye_std, dtype=np.float64).tolist()
        self.de_source = de_source
        self.dataset = dataset
        self.band_pass = None if band_pass is None else [None if edge is None else float(edge) for edge in band_pass]
        self.notch = None if notch is None else float(notch)
        self.unfitted_channels = [str(name) for name in unfitted_channels]
        self.padding_value = padding_value
        self.padding_side = padding_side
        self._check_attributes()

    @classmethod
    def from_model_config(cls, config: MoodReaderConfig, **kwargs) -> MoodReaderFeatureExtractor:
        """An extractor for ``config``'s montage, bands, sampling rate and window length; ``kwargs`` set the rest."""
        return cls(sampling_rate=config.sampling_rate, channel_names=config.channel_names,
                   band_edges=config.band_edges, window_seconds=config.window_seconds, **kwargs)

    @property
    def samples_per_window(self) -> int:
        """Samples of signal in one DE window at ``sampling_rate``."""
        return round(self.sampling_rate * self.window_seconds)

    def _check_attributes(self) -> None:
        source = type(self).__name__
        if isinstance(self.sampling_rate, bool) or not (isinstance(self.sampling_rate, (int, float))
                                                         and self.sampling_rate > 0):
            _fail(source, "sampling_rate", "a positive rate in Hz", repr(self.sampling_rate))
        _window_samples(self.sampling_rate, self.window_seconds, source)
        _check_bands(self.band_edges, self.sampling_rate, source, strict_nyquist=self.method == "filterbank")
        if self.method not in DE_METHODS:
            _fail(source, "method", f"one of {DE_METHODS}", repr(self.method))
        _check_filters(self.band_pass, self.notch, source)
        if self.de_source not in DE_SOURCES:
            _fail(source, "de_source", f"one of {DE_SOURCES}", repr(self.de_source))
        if self.smoothing not in SMOOTHINGS:
            _fail(source, "smoothing", f"one of {SMOOTHINGS}", repr(self.smoothing))
        if isinstance(self.moving_average_window, bool) or not (isinstance(self.moving_average_window, int)
                                                                 and self.moving_average_window >= 1):
            _fail(source, "moving_average_window", "a positive whole number of time steps",
                  repr(self.moving_average_window))
        if len({_channel_key(name) for name in self.channel_names}) != len(self.channel_names):
            _fail(source, "channel_names", "distinct electrode names", self.channel_names)
        electrode_ids(self.channel_names, source)
        outside = [name for name in self.unfitted_channels if name not in self.channel_names]
        if outside or len(set(self.unfitted_channels)) != len(self.unfitted_channels):
            _fail(source, "unfitted_channels", "distinct electrodes of channel_names",
                  f"{outside or 'repeated names'}")
        expected = (len(self.channel_names), len(self.band_edges))
        for field in ("de_mean", "de_std"):
            value = getattr(self, field)
            if value is None:
                continue
            array = np.asarray(value, dtype=np.float64)
            if array.shape != expected or not np.isfinite(array).all():
                _fail(source, field, f"finite values of shape (channels, bands) = {expected}", f"shape {array.shape}")
        if (self.de_mean is None) != (self.de_std is None):
            _fail(source, "de_std", "de_mean and de_std both set or both None",
                  f"de_mean {'set' if self.de_mean is not None else 'None'}, "
                  f"de_std {'set' if self.de_std is not None else 'None'}")
        if self.de_std is not None and not (np.asarray(self.de_std) > 0).all():
            _fail(source, "de_std", "positive standard deviations", "zero or negative values")
        if (self.eye_mean is None) != (self.eye_std is None):
            _fail(source, "eye_std", "eye_mean and eye_std both set or both None",
                  f"eye_mean {'set' if self.eye_mean is not None else 'None'}, "
                  f"eye_std {'set' if self.eye_std is not None else 'None'}")
        if self.eye_mean is not None:
            mean, std = np.asarray(self.eye_mean), np.asarray(self.eye_std)
            if mean.ndim != 1 or mean.shape != std.shape or not np.isfinite(mean).all() or not (std > 0).all():
                _fail(source, "eye_std", "finite eye_mean and positive eye_std, two lists of one length",
                      f"shapes {mean.shape} and {std.shape}")

    def __call__(
        self,
        signals: np.ndarray | None = None,
        *,
        sampling_rate: float | None = None,
        channel_names: Sequence[str] | None = None,
        de_features: np.ndarray | None = None,
        eye_features: np.ndarray | None = None,
        on_missing: str = "mask",
        return_signals: bool = False,
        smoothing_span: int | None = None,
        band_pass: Sequence[float | None] | None = None,
        notch: float | None = None,
        return_tensors: str | None = "pt",
    ) -> BatchFeature:
        """Model inputs for one recording.

        Args:
            signals: ``(channels, samples)`` in µV (convert MNE's volts with ``* 1e6``). Give this or
                ``de_features``.
            sampling_rate: Rate of ``signals`` in Hz (required with ``signals``); resampled to ``self.sampling_rate``
                with a polyphase filter (``scipy.signal.resample_poly``; the ratio of the rates is approximated by
                a fraction whose denominator is at most 1000).
            channel_names: Names of the rows of ``signals`` (or of the channel axis of ``de_features``), matched to
                ``self.channel_names`` with :func:`match_channels`. Without names the rows must already be the
                montage, in order.
            de_features: Precomputed, already smoothed DE ``(time, channels, bands)``: only reordered and normalised.
            eye_features: Eye-movement features ``(time, eye_dims)``, one row per DE window, for models with an eye
                modality; normalised with ``eye_mean``/``eye_std``.
            on_missing: ``"mask"`` (missing electrodes are zero and ``channel_mask`` is 0 there; the default, as
                for the command line and the pipeline) or ``"raise"`` (an error names them).
            band_pass, notch: Override the extractor's ``band_pass`` / ``notch`` for this call.
            smoothing_span: Smooth each run of this many windows independently (the pipeline passes its segment
                length, so a segment's features depend on its own windows only); ``None``: the whole recording, as
                the builders smooth each trial.
            return_signals: Also return ``eeg_signals``, the resampled signal in µV ``(1, channels, time *
                samples_per_window)`` (samples after the last whole window dropped, missing electrodes zero).
            return_tensors: ``"pt"``, ``"np"`` or ``None`` (nested lists).

        Returns:
            ``BatchFeature`` with ``de_features`` ``(1, time, channels, bands)`` float32, ``channel_mask``
            ``(1, channels)`` int64 (1 = electrode present), ``attention_mask`` ``(1, time)`` int64 (all 1; a
            pipeline pads it with 0 when batching), ``electrode_ids`` ``(1, channels)`` int64 (the montage's ids in
            ``ELECTRODE_VOCABULARY``), ``eye_features`` ``(1, time, eye_dims)`` float32 if given, and
            ``eeg_signals`` if asked.
        """
        source = type(self).__name__
        if (signals is None) == (de_features is None):
            _fail(source, "signals", "either signals (channels, samples) or de_features (time, channels, bands)",
                  "both" if signals is not None else "neither")
        if on_missing not in ON_MISSING:
            _fail(source, "on_missing", f"one of {ON_MISSING}", repr(on_missing))
        if de_features is not None and return_signals:
            _fail(source, "return_signals", "False when de_features are given (no signal to return)", "True")
        if signals is not None and self.de_source == "distributed":
            _fail(source, "signals", f"de_features (time, channels, bands) computed as {self.dataset or 'the dataset'} "
                  "computes its distributed DE: this model was trained on that DE, which this package's DE of a raw "
                  "recording does not reproduce (the recipes differ by an affine map per band)", "raw signals")
        n_channels, n_bands = len(self.channel_names), len(self.band_edges)
        if signals is not None:
            data = _check_signals(signals, source)
            count = data.shape[0]
        else:
            data = np.asarray(de_features, dtype=np.float64)
            if data.ndim != 3 or data.shape[0] == 0 or data.shape[2] != n_bands:
                _fail(source, "de_features", f"shape (time, channels, {n_bands}) (time, channels, bands)",
                      f"shape {data.shape}")
            if not np.isfinite(data).all():
                _fail(source, "de_features", "finite values", "NaN or infinite values")
            count = data.shape[1]
        indices = self._channel_indices(channel_names, count, on_missing, source)
        present = (indices >= 0) & ~np.isin(self.channel_names, self.unfitted_channels)
        if not present.any():
            _fail(source, "channel_names", "at least one electrode the model was trained on",
                  f"only electrodes no training subject recorded ({self.unfitted_channels})")
        if signals is not None:
            if sampling_rate is None:
                _fail(source, "sampling_rate", "the sampling rate of signals in Hz", "None")
            if isinstance(sampling_rate, bool):
                _fail(source, "sampling_rate", "a positive rate in Hz", repr(sampling_rate))
            highest = max(high for _, high in self.band_edges)
            if isinstance(sampling_rate, (int, float, np.number)) and sampling_rate / 2 < highest:
                _fail(source, "sampling_rate", f"a rate whose Nyquist frequency reaches the model's highest band edge "
                      f"{highest:g} Hz (at least {2 * highest:g} Hz)", f"{sampling_rate:g} Hz: the recording "
                      f"holds nothing above {sampling_rate / 2:g} Hz")
            band = self.band_pass if band_pass is None else list(band_pass)
            mains = self.notch if notch is None else float(notch)
            _check_filters(band, mains, source)
            filtered = _filter(data[indices[present]], float(sampling_rate), band, mains)
            resampled = self._resample(filtered, sampling_rate, source)
            median_std = float(np.median(resampled.std(axis=1)))
            if median_std < _MIN_PLAUSIBLE_STD_UV:
                _fail(source, "signals", f"EEG in microvolts (median channel standard deviation at least "
                      f"{_MIN_PLAUSIBLE_STD_UV:g} µV)", f"{median_std:.3g} (volts? multiply by 1e6)")
            de = differential_entropy(resampled, self.sampling_rate, self.window_seconds, self.band_edges,
                                      self.method)
            de = self._smooth(de, smoothing_span)
        else:
            de = data[:, indices[present], :]
        if self.de_mean is not None:
            de = (de - np.asarray(self.de_mean)[present]) / np.asarray(self.de_std)[present]
        steps = de.shape[0]
        features = np.zeros((1, steps, n_channels, n_bands), dtype=np.float32)
        features[0][:, present] = de
        outputs = {
            "de_features": features,
            "channel_mask": present.astype(np.int64)[None],
            "attention_mask": np.ones((1, steps), dtype=np.int64),
            "electrode_ids": np.asarray(electrode_ids(self.channel_names, source), dtype=np.int64)[None],
        }
        if eye_features is not None:
            outputs["eye_features"] = self._eye_features(eye_features, steps, source)[None]
        if return_signals:
            eeg = np.zeros((1, n_channels, steps * self.samples_per_window), dtype=np.float32)
            eeg[0, present] = resampled[:, : steps * self.samples_per_window]
            outputs["eeg_signals"] = eeg
        return BatchFeature(outputs, tensor_type=return_tensors)

    def _eye_features(self, eye_features: np.ndarray, steps: int, source: str) -> np.ndarray:
        """``(time, eye_dims)`` checked against the ``steps`` DE windows and normalised, as float32."""
        eye = np.asarray(eye_features, dtype=np.float64)
        dims = len(self.eye_mean) if self.eye_mean is not None else None
        if eye.ndim != 2 or eye.shape[0] != steps or (dims is not None and eye.shape[1] != dims):
            _fail(source, "eye_features", f"shape ({steps}, {dims or 'eye_dims'}) (time, eye_dims), one row per DE "
                  "window", f"shape {eye.shape}")
        if not np.isfinite(eye).all():
            _fail(source, "eye_features", "finite values", "NaN or infinite values")
        if self.eye_mean is not None:
            eye = (eye - np.asarray(self.eye_mean)) / np.asarray(self.eye_std)
        return eye.astype(np.float32)

    def _channel_indices(self, names: Sequence[str] | None, count: int, on_missing: str, source: str) -> np.ndarray:
        if names is None:
            if count != len(self.channel_names):
                _fail(source, "channel_names", f"names for the {count} channels given (the montage has "
                      f"{len(self.channel_names)} electrodes)", "None")
            return np.arange(count)
        if isinstance(names, str) or len(names) != count:
            _fail(source, "channel_names", f"{count} names, one per channel", repr(names))
        indices, missing = match_channels(list(names), self.channel_names)
        if missing and on_missing == "raise":
            _fail(source, "channel_names", "every electrode of the montage (or on_missing='mask')",
                  f"missing {missing}")
        if not (indices >= 0).any():
            _fail(source, "channel_names", "at least one electrode of the montage", f"none of {list(names)}")
        return indices

    def _resample(self, data: np.ndarray, sampling_rate: float, source: str) -> np.ndarray:
        if not (isinstance(sampling_rate, (int, float, np.number)) and np.isfinite(sampling_rate)
                and sampling_rate > 0):
            _fail(source, "sampling_rate", "a positive rate in Hz", repr(sampling_rate))
        ratio = Fraction(self.sampling_rate / sampling_rate).limit_denominator(1000)
        if ratio == 1:
            return data
        return resample_poly(data, ratio.numerator, ratio.denominator, axis=-1)

    def _smooth(self, de: np.ndarray, span: int | None = None) -> np.ndarray:
        """Smooth ``de (time, ...)`` as ``self.smoothing`` says, over the whole series or, with ``span``, over each
        run of ``span`` windows independently (a segment never sees the windows of another)."""
        if span is not None and span < de.shape[0]:
            return np.concatenate([self._smooth(de[start : start + span]) for start in range(0, de.shape[0], span)])
        if self.smoothing in ("lds", "lds_rts"):
            return lds_smooth(de, backward=self.smoothing == "lds_rts")
        if self.smoothing in ("moving_average", "causal_moving_average"):
            return moving_average(de, self.moving_average_window, causal=self.smoothing == "causal_moving_average")
        return de


__all__ = [
    "MoodReaderFeatureExtractor",
    "differential_entropy",
    "lds_smooth",
    "match_channels",
    "moving_average",
    "normalization_statistics",
]
