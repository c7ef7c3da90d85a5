"""DE math, smoothing and channel matching against independent expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moodreader_hf.configuration_moodreader import BAND_EDGES, SEED_CHANNEL_NAMES
from moodreader_hf.features import differential_entropy, lds_smooth, match_channels, moving_average

SFREQ = 200
METHODS = ("stft", "filterbank")
HALF_LOG_2_PI_E = 0.5 * math.log(2 * math.pi * math.e)


def sine(amplitude: float, frequency: float, seconds: float = 20.0, sfreq: float = SFREQ) -> np.ndarray:
    t = np.arange(round(seconds * sfreq)) / sfreq
    return amplitude * np.sin(2 * np.pi * frequency * t)


def band_power(de: np.ndarray) -> np.ndarray:
    return np.exp(2 * (de.astype(np.float64) - HALF_LOG_2_PI_E))


@pytest.mark.parametrize("method", METHODS)
def test_10_hz_sine_lands_in_alpha(method):
    de = differential_entropy(sine(5.0, 10.0)[None], SFREQ, method=method)
    assert de.shape == (20, 1, 5) and de.dtype == np.float32
    assert (de[:, 0].argmax(axis=1) == 2).all()
    # The band power is the sine's variance A**2 / 2 (within the filter's ripple for the filter bank).
    np.testing.assert_allclose(band_power(de[2:-2, 0, 2]), 12.5, rtol=1e-5 if method == "stft" else 0.01)


@pytest.mark.parametrize("method", METHODS)
def test_doubling_amplitude_adds_half_log_4(method):
    rng = np.random.default_rng(1)
    signal = sine(3.0, 10.0) + rng.normal(0.0, 1.0, 20 * SFREQ)
    de = differential_entropy(np.stack([signal, 2 * signal]), SFREQ, method=method)
    np.testing.assert_allclose(de[:, 1, 2] - de[:, 0, 2], 0.5 * math.log(4), atol=1e-5)
    np.testing.assert_allclose(de[:, 1] - de[:, 0], 0.5 * math.log(4), atol=1e-4)


@pytest.mark.parametrize("method", METHODS)
def test_white_noise_gives_analytic_band_power(method):
    channels, seconds, variance = 16, 600, 4.0
    noise = np.random.default_rng(7).normal(0.0, math.sqrt(variance), (channels, seconds * SFREQ))
    power = band_power(differential_entropy(noise, SFREQ, method=method)).mean(axis=(0, 1))
    widths = np.array([high - low for low, high in BAND_EDGES])
    expected = variance * widths / (SFREQ / 2)
    # Relative standard error of a band power averaged over bandwidth x duration degrees of freedom.
    tolerance = 4 / np.sqrt(widths * channels * seconds)
    assert (np.abs(power / expected - 1) < tolerance).all(), (power / expected, tolerance)


def test_stft_matches_a_per_window_loop():
    rng = np.random.default_rng(3)
    sfreq, window = 100, 50
    signals = rng.normal(0.0, 10.0, (3, 4 * window + 17))
    bands = ((0.0, 6.0), (6.0, 20.0), (20.0, 50.0))  # the DC bin counts once
    de = differential_entropy(signals, sfreq, window_seconds=0.5, bands=bands, method="stft")
    taper = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(window) / window)
    freqs = np.abs(np.fft.fftfreq(window, 1 / sfreq))
    expected = np.empty((4, 3, 3))
    for w in range(4):
        for c in range(3):
            spectrum = np.abs(np.fft.fft(signals[c, w * window : (w + 1) * window] * taper)) ** 2
            for b, (low, high) in enumerate(bands):
                # Two-sided spectrum: positive and negative frequencies of the band, Parseval-normalised.
                power = spectrum[(freqs >= low) & (freqs < high)].sum() / (window * np.sum(taper**2))
                expected[w, c, b] = 0.5 * np.log(2 * np.pi * np.e * power)
    assert de.shape == (4, 3, 3)  # the 17 trailing samples are dropped
    np.testing.assert_allclose(de, expected, rtol=1e-6, atol=1e-6)


def test_trailing_samples_are_dropped():
    signals = np.random.default_rng(4).normal(size=(2, 3 * SFREQ + 199))
    for method in METHODS:
        full = differential_entropy(signals, SFREQ, method=method)
        assert full.shape == (3, 2, 5)
    np.testing.assert_array_equal(differential_entropy(signals, SFREQ), differential_entropy(signals[:, :600], SFREQ))


@pytest.mark.parametrize("method", METHODS)
def test_column_major_input_gives_the_same_features(method):
    """scipy.io.loadmat returns Fortran-ordered arrays: the features must not depend on memory layout."""
    signals = np.random.default_rng(6).normal(size=(4, 3 * SFREQ))
    np.testing.assert_array_equal(
        differential_entropy(np.asfortranarray(signals), SFREQ, method=method),
        differential_entropy(signals, SFREQ, method=method),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signals": np.ones(400)}, "2-D array"),
        ({"signals": np.ones((2, 100))}, "at least one window"),
        ({"signals": np.full((2, 400), np.nan)}, "finite"),
        ({"sfreq": 80}, "Nyquist"),
        ({"bands": ((1.0, 4.0), (30.0, 100.0)), "method": "filterbank"}, "Nyquist"),
        ({"bands": ((1.2, 1.8),)}, "frequency bin"),
        ({"bands": ((0.0, 4.0),), "method": "filterbank"}, "above 0 Hz"),
        ({"bands": ((4.0, 1.0),)}, "low < high"),
        ({"method": "wavelet"}, "method"),
        ({"window_seconds": 0.0125}, "whole number"),
        ({"signals": np.zeros((2, 400))}, "zero power"),
    ],
)
def test_bad_inputs_raise(kwargs, message):
    arguments = {"signals": np.random.default_rng(0).normal(size=(2, 400)), "sfreq": SFREQ} | kwargs
    with pytest.raises(ValueError, match=message):
        differential_entropy(**arguments)


def test_moving_average_hand_computed():
    de = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    # window 3, centred; the ends average the steps that exist.
    expected = [(1 + 2) / 2, (1 + 2 + 4) / 3, (2 + 4 + 8) / 3, (4 + 8 + 16) / 3, (8 + 16) / 2]
    np.testing.assert_allclose(moving_average(de, 3), expected, rtol=1e-6)
    # window 4 covers t-1 .. t+2.
    expected4 = [(1 + 2 + 4) / 3, (1 + 2 + 4 + 8) / 4, (2 + 4 + 8 + 16) / 4, (4 + 8 + 16) / 3, (8 + 16) / 2]
    np.testing.assert_allclose(moving_average(de, 4), expected4, rtol=1e-6)
    np.testing.assert_allclose(moving_average(de, 1), de)


def test_moving_average_is_per_channel_and_band():
    rng = np.random.default_rng(5)
    de = rng.normal(size=(7, 3, 2))
    smoothed = moving_average(de, 3)
    assert smoothed.shape == de.shape
    np.testing.assert_allclose(smoothed[:, 1, 0], moving_average(de[:, 1, 0], 3), rtol=1e-6)
    np.testing.assert_allclose(smoothed[3], de[2:5].mean(axis=0), rtol=1e-6)
    causal = moving_average(de, 3, causal=True)
    np.testing.assert_allclose(causal[3], de[1:4].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(causal[0], de[0], rtol=1e-6)


def scalar_kalman_rts_by_hand(y, a, c, q, r, v0):
    """Four steps of the scalar Kalman filter and RTS smoother, written out one step at a time: (filtered means,
    smoothed means)."""
    y1, y2, y3, y4 = y
    m0 = (y1 + y2 + y3 + y4) / 4  # prior mean: the sequence mean
    # step 1: prior (m0, v0) is the prediction
    p1 = v0
    k1 = p1 * c / (c * p1 * c + r)
    m1 = m0 + k1 * (y1 - c * m0)
    v1 = (1 - k1 * c) * p1
    # step 2
    p2 = a * v1 * a + q
    k2 = p2 * c / (c * p2 * c + r)
    m2 = a * m1 + k2 * (y2 - c * a * m1)
    v2 = (1 - k2 * c) * p2
    # step 3
    p3 = a * v2 * a + q
    k3 = p3 * c / (c * p3 * c + r)
    m3 = a * m2 + k3 * (y3 - c * a * m2)
    v3 = (1 - k3 * c) * p3
    # step 4
    p4 = a * v3 * a + q
    k4 = p4 * c / (c * p4 * c + r)
    m4 = a * m3 + k4 * (y4 - c * a * m3)
    # Rauch-Tung-Striebel, backwards
    s4 = m4
    s3 = m3 + (v3 * a / p4) * (s4 - a * m3)
    s2 = m2 + (v2 * a / p3) * (s3 - a * m2)
    s1 = m1 + (v1 * a / p2) * (s2 - a * m1)
    return [m1, m2, m3, m4], [s1, s2, s3, s4]


def test_lds_smooth_seed_defaults_hand_computed():
    y = [-2.0, 0.0, -1.0, 3.0]  # mean 0, so float32 keeps the small departures from it exact enough
    # SEED port defaults: A = C = 1, Q = 1e-4, R = 1, V0 = 0.01.
    filtered, expected = scalar_kalman_rts_by_hand(y, 1.0, 1.0, 1e-4, 1.0, 0.01)
    np.testing.assert_allclose(lds_smooth(np.array(y), backward=True), expected, rtol=1e-5)
    np.testing.assert_allclose(lds_smooth(np.array(y)), filtered, rtol=1e-5, atol=1e-7)  # "lds": forward only
    # So little process noise keeps the smoothed series near the mean, drifting towards the late values.
    assert np.abs(expected).max() < 0.01 and expected[0] < expected[1] < expected[2] < expected[3]


def test_lds_smooth_other_parameters_hand_computed():
    y = [2.0, -1.0, 4.0, 0.5]
    filtered, expected = scalar_kalman_rts_by_hand(y, 0.9, 1.5, 0.5, 2.0, 1.0)
    options = dict(transition=0.9, observation=1.5, process_noise=0.5, observation_noise=2.0, initial_variance=1.0)
    np.testing.assert_allclose(lds_smooth(np.array(y), backward=True, **options), expected, rtol=1e-6)
    np.testing.assert_allclose(lds_smooth(np.array(y), **options), filtered, rtol=1e-6)


def test_lds_smooth_is_independent_per_channel_and_band():
    rng = np.random.default_rng(6)
    de = rng.normal(size=(9, 4, 5))
    smoothed = lds_smooth(de, process_noise=0.1)
    assert smoothed.shape == de.shape and smoothed.dtype == np.float32
    for c, b in ((0, 0), (3, 4), (2, 1)):
        np.testing.assert_allclose(smoothed[:, c, b], lds_smooth(de[:, c, b], process_noise=0.1), rtol=1e-6)


def test_smoothing_bad_inputs_raise():
    with pytest.raises(ValueError, match="window"):
        moving_average(np.ones((4, 2, 5)), 0)
    with pytest.raises(ValueError, match="finite"):
        lds_smooth(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="process_noise"):
        lds_smooth(np.ones(3), process_noise=0.0)
    with pytest.raises(ValueError, match="at least one time step"):
        moving_average(np.ones((0, 2)))


def test_match_channels_names_aliases_and_missing():
    names = ["EEG FP1-REF", "EEG T3-LE", "Fc5.", "oz", "Cz.."]
    indices, missing = match_channels(names, ["Fp1", "T7", "FC5", "Oz", "Cz", "P8"])
    assert indices.tolist() == [0, 1, 2, 3, 4, -1]
    assert missing == ["P8"]
    # Reverse alias: a montage written with the old names finds 10-10 names.
    indices, missing = match_channels(["T8", "P7", "P8"], ["T4", "T5", "T6", "T3"])
    assert indices.tolist() == [0, 1, 2, -1] and missing == ["T3"]
    # An exact name wins over an alias.
    indices, _ = match_channels(["T3", "T7"], ["T7"])
    assert indices.tolist() == [1]


def test_match_channels_physionet_names_against_seed():
    physionet = [
        "Fc5.", "Fc3.", "Fc1.", "Fcz.", "Fc2.", "Fc4.", "Fc6.", "C5..", "C3..", "C1..", "Cz..", "C2..", "C4..", "C6..",
        "Cp5.", "Cp3.", "Cp1.", "Cpz.", "Cp2.", "Cp4.", "Cp6.", "Fp1.", "Fpz.", "Fp2.", "Af7.", "Af3.", "Afz.", "Af4.",
        "Af8.", "F7..", "F5..", "F3..", "F1..", "Fz..", "F2..", "F4..", "F6..", "F8..", "Ft7.", "Ft8.", "T7..", "T8..",
        "T9..", "T10.", "Tp7.", "Tp8.", "P7..", "P5..", "P3..", "P1..", "Pz..", "P2..", "P4..", "P6..", "P8..", "Po7.",
        "Po3.", "Poz.", "Po4.", "Po8.", "O1..", "Oz..", "O2..", "Iz..",
    ]  # fmt: skip
    indices, missing = match_channels(physionet, SEED_CHANNEL_NAMES)
    assert sorted(missing) == ["CB1", "CB2", "PO5", "PO6"]
    assert (indices >= 0).sum() == 58
    assert physionet[indices[SEED_CHANNEL_NAMES.index("FCz")]] == "Fcz."
    assert physionet[indices[SEED_CHANNEL_NAMES.index("TP8")]] == "Tp8."


def test_match_channels_ambiguous_names_raise():
    with pytest.raises(ValueError, match="Fp1"):
        match_channels(["Fp1", "EEG FP1-REF"], ["Fp1"])
