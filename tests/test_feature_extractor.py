"""MoodReaderFeatureExtractor: raw signals or DE in, model inputs out; saving, loading and pipeline batching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor
from transformers.pipelines.base import pad_collate_fn

from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES, MoodReaderConfig
from moodreader_hf.features import (
    MoodReaderFeatureExtractor,
    differential_entropy,
    lds_smooth,
    moving_average,
    normalization_statistics,
)

CHANNELS = len(SEED_CHANNEL_NAMES)


def recording(seconds: float, sfreq: float, seed: int = 0) -> np.ndarray:
    """Sums of sines (2-45 Hz, random phases) per channel in µV, a function of time sampled at ``sfreq``."""
    rng = np.random.default_rng(seed)
    freqs = np.array([2.5, 6.0, 10.0, 11.5, 20.0, 27.0, 36.0, 45.0])
    amplitudes = rng.uniform(2.0, 20.0, (CHANNELS, len(freqs)))
    phases = rng.uniform(0, 2 * np.pi, (CHANNELS, len(freqs)))
    t = np.arange(round(seconds * sfreq)) / sfreq
    return np.einsum("cf,cft->ct", amplitudes, np.sin(2 * np.pi * freqs[None, :, None] * t + phases[..., None]))


@pytest.fixture(scope="module")
def statistics():
    de = np.random.default_rng(1).normal(2.0, 0.5, (4, 10, CHANNELS, 5))
    return normalization_statistics(de)


def test_raw_signals_give_smoothed_de(statistics):
    signals = recording(12, 200)
    for smoothing, smooth in (("lds", lds_smooth), ("moving_average", lambda de: moving_average(de, 3)),
                              ("none", lambda de: de)):
        extractor = MoodReaderFeatureExtractor(smoothing=smoothing, moving_average_window=3)
        inputs = extractor(signals, sampling_rate=200)
        assert set(inputs) == {"de_features", "channel_mask", "attention_mask", "electrode_ids"}
        assert inputs["de_features"].shape == (1, 12, CHANNELS, 5) and inputs["de_features"].dtype == torch.float32
        np.testing.assert_allclose(inputs["de_features"][0].numpy(), smooth(differential_entropy(signals, 200)),
                                   rtol=1e-6)
        assert inputs["channel_mask"].tolist() == [[1] * CHANNELS]
        assert inputs["attention_mask"].tolist() == [[1] * 12]


def test_normalisation_applies_training_statistics(statistics):
    mean, std = statistics
    signals = recording(6, 200)
    extractor = MoodReaderFeatureExtractor(smoothing="none", de_mean=mean, de_std=std)
    out = extractor(signals, sampling_rate=200, return_tensors="np")["de_features"][0]
    np.testing.assert_allclose(out, (differential_entropy(signals, 200) - np.array(mean)) / np.array(std),
                               rtol=1e-5, atol=1e-5)
    # The statistics are the mean and floored standard deviation over every leading axis.
    de = np.random.default_rng(2).normal(size=(3, 4, 2, 5))
    de[..., 1, 3] = 7.0
    m, s = normalization_statistics(de, min_std=0.01)
    np.testing.assert_allclose(m, de.reshape(12, 2, 5).mean(axis=0))
    assert s[1][3] == 0.01 and s[0][0] == pytest.approx(de[:, :, 0, 0].std())


def test_precomputed_de_is_only_normalised(statistics):
    mean, std = statistics
    de = np.random.default_rng(3).normal(1.0, 1.0, (7, CHANNELS, 5))
    extractor = MoodReaderFeatureExtractor(de_mean=mean, de_std=std)
    out = extractor(de_features=de, return_tensors="np")
    np.testing.assert_allclose(out["de_features"][0], (de - np.array(mean)) / np.array(std), rtol=1e-5, atol=1e-6)
    assert out["attention_mask"].shape == (1, 7)


def test_eye_features_are_normalised_with_training_statistics(tmp_path):
    rng = np.random.default_rng(5)
    training_eye = rng.normal(3.0, 2.0, (40, 6, 33))
    eye_mean, eye_std = normalization_statistics(training_eye, feature_axes=1)
    np.testing.assert_allclose(eye_mean, training_eye.reshape(-1, 33).mean(axis=0))
    np.testing.assert_allclose(eye_std, training_eye.reshape(-1, 33).std(axis=0))
    extractor = MoodReaderFeatureExtractor(eye_mean=eye_mean, eye_std=eye_std)
    extractor.save_pretrained(tmp_path)
    loaded = MoodReaderFeatureExtractor.from_pretrained(tmp_path)
    eye = rng.normal(3.0, 2.0, (7, 33))
    out = loaded(de_features=np.zeros((7, CHANNELS, 5)), eye_features=eye, return_tensors="np")
    np.testing.assert_allclose(out["eye_features"][0], (eye - np.array(eye_mean)) / np.array(eye_std), rtol=1e-5)
    with pytest.raises(ValueError, match=r"field 'eye_features': expected shape \(7, 33\).*got shape \(6, 33\)"):
        loaded(de_features=np.zeros((7, CHANNELS, 5)), eye_features=eye[:6])
    with pytest.raises(ValueError, match=r"field 'eye_features': expected shape \(7, 33\).*got shape \(7, 31\)"):
        loaded(de_features=np.zeros((7, CHANNELS, 5)), eye_features=eye[:, :31])


def test_save_and_auto_load_round_trip(tmp_path, statistics):
    AutoFeatureExtractor.register(MoodReaderConfig, MoodReaderFeatureExtractor, exist_ok=True)
    mean, std = statistics
    extractor = MoodReaderFeatureExtractor(method="filterbank", smoothing="moving_average", de_mean=mean, de_std=std)
    extractor.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "preprocessor_config.json").read_text())
    assert saved["feature_extractor_type"] == "MoodReaderFeatureExtractor" and saved["method"] == "filterbank"
    assert saved["padding_value"] == 0.0 and saved["padding_side"] == "right"
    loaded = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert type(loaded) is MoodReaderFeatureExtractor
    assert loaded.to_dict() == extractor.to_dict()
    signals = recording(8, 250)
    before = extractor(signals, sampling_rate=250, return_signals=True)
    after = loaded(signals, sampling_rate=250, return_signals=True)
    assert before.keys() == after.keys()
    for key in before:
        assert torch.equal(before[key], after[key]), key


def test_from_model_config_copies_montage_and_rates():
    config = MoodReaderConfig(sampling_rate=128, band_edges=((4, 8), (8, 14), (14, 31), (31, 45)),
                              band_names=("theta", "alpha", "beta", "gamma"), num_bands=4, signal_patch_size=32)
    extractor = MoodReaderFeatureExtractor.from_model_config(config, smoothing="none")
    assert extractor.sampling_rate == 128 and extractor.band_edges == config.band_edges
    assert extractor(recording(3, 128), sampling_rate=128)["de_features"].shape == (1, 3, CHANNELS, 4)


def test_resampling_400_hz_matches_200_hz():
    extractor = MoodReaderFeatureExtractor(smoothing="none")
    direct = extractor(recording(20, 200), sampling_rate=200, return_tensors="np")["de_features"][0]
    # A 160 Hz component exists only at 400 Hz: the anti-alias filter must remove it (plain decimation would fold
    # it onto 40 Hz, in the gamma band).
    fast = recording(20, 400) + 30.0 * np.sin(2 * np.pi * 160.0 * np.arange(20 * 400) / 400)
    resampled = extractor(fast, sampling_rate=400, return_tensors="np")["de_features"][0]
    assert resampled.shape == direct.shape == (20, CHANNELS, 5)
    np.testing.assert_allclose(resampled, direct, atol=0.005)


def test_return_signals_are_resampled_microvolts():
    extractor = MoodReaderFeatureExtractor(smoothing="none")
    signals = recording(5.5, 160)
    out = extractor(signals, sampling_rate=160, return_signals=True, return_tensors="np")
    assert out["eeg_signals"].shape == (1, CHANNELS, 5 * 200)
    reference = recording(5.5, 200)[:, :1000]
    # Same waveform at the model rate (interior samples; the polyphase filter's edges differ slightly).
    np.testing.assert_allclose(out["eeg_signals"][0, :, 100:900], reference[:, 100:900],
                               atol=0.005 * np.abs(reference).max())


def test_channels_are_reordered_by_name():
    extractor = MoodReaderFeatureExtractor(smoothing="none")
    signals = recording(4, 200)
    order = np.random.default_rng(4).permutation(CHANNELS)
    names = [f"EEG {SEED_CHANNEL_NAMES[i].upper()}-REF" for i in order]
    shuffled = extractor(signals[order], sampling_rate=200, channel_names=names, return_signals=True)
    ordered = extractor(signals, sampling_rate=200, return_signals=True)
    torch.testing.assert_close(shuffled["de_features"], ordered["de_features"])
    torch.testing.assert_close(shuffled["eeg_signals"], ordered["eeg_signals"])


def test_missing_electrodes_raise_or_are_masked(statistics):
    mean, std = statistics
    extractor = MoodReaderFeatureExtractor(smoothing="none", de_mean=mean, de_std=std)
    keep = [i for i, name in enumerate(SEED_CHANNEL_NAMES) if name not in ("CB1", "PO5")]
    signals = recording(4, 200)[keep]
    names = [SEED_CHANNEL_NAMES[i] for i in keep]
    with pytest.raises(ValueError, match=r"missing \['PO5', 'CB1'\]"):
        extractor(signals, sampling_rate=200, channel_names=names, on_missing="raise")
    out = extractor(signals, sampling_rate=200, channel_names=names, return_signals=True)  # "mask" is the default
    mask = out["channel_mask"][0]
    missing = [SEED_CHANNEL_NAMES.index("PO5"), SEED_CHANNEL_NAMES.index("CB1")]
    assert mask[missing].tolist() == [0, 0] and int(mask.sum()) == CHANNELS - 2
    assert torch.count_nonzero(out["de_features"][0][:, missing]) == 0
    assert torch.count_nonzero(out["eeg_signals"][0][missing]) == 0
    full = extractor(recording(4, 200), sampling_rate=200)
    torch.testing.assert_close(out["de_features"][0][:, keep], full["de_features"][0][:, keep])


def test_unfitted_electrodes_are_masked_even_when_recorded(statistics, tmp_path):
    """Electrodes no training row recorded: zero, masked and without signal in every input, as if absent; the other
    electrodes as without the field; the field survives saving; a recording of only such electrodes is refused."""
    mean, std = statistics
    unfitted = ["PO5", "CB1"]
    plain = MoodReaderFeatureExtractor(smoothing="none", de_mean=mean, de_std=std)
    MoodReaderFeatureExtractor(smoothing="none", de_mean=mean, de_std=std,
                               unfitted_channels=unfitted).save_pretrained(tmp_path)
    extractor = MoodReaderFeatureExtractor.from_pretrained(tmp_path)
    assert json.loads((tmp_path / "preprocessor_config.json").read_text())["unfitted_channels"] == unfitted
    signals = recording(4, 200)
    masked, full = (chosen(signals, sampling_rate=200, return_signals=True) for chosen in (extractor, plain))
    columns = [SEED_CHANNEL_NAMES.index(name) for name in unfitted]
    others = [index for index in range(CHANNELS) if index not in columns]
    assert masked["channel_mask"][0].tolist() == [int(index in others) for index in range(CHANNELS)]
    assert torch.count_nonzero(masked["de_features"][0][:, columns]) == 0
    assert torch.count_nonzero(masked["eeg_signals"][0][columns]) == 0
    torch.testing.assert_close(masked["de_features"][0][:, others], full["de_features"][0][:, others])
    torch.testing.assert_close(masked["eeg_signals"][0][others], full["eeg_signals"][0][others])
    with pytest.raises(ValueError, match="at least one electrode the model was trained on"):
        extractor(signals[columns], sampling_rate=200, channel_names=unfitted)
    assert MoodReaderFeatureExtractor().unfitted_channels == []


def test_pipeline_batching_pads_time_with_the_padding_value():
    extractor = MoodReaderFeatureExtractor(smoothing="none")
    short = extractor(recording(3, 200), sampling_rate=200)
    long = extractor(recording(5, 200, seed=1), sampling_rate=200)
    batch = pad_collate_fn(None, extractor)([dict(short), dict(long)])
    assert batch["de_features"].shape == (2, 5, CHANNELS, 5)
    assert torch.count_nonzero(batch["de_features"][0, 3:]) == 0
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1] * 5]
    assert batch["channel_mask"].shape == (2, CHANNELS)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({}, "either signals"),
        ({"signals": np.ones((CHANNELS, 400)), "de_features": np.ones((2, CHANNELS, 5))}, "either signals"),
        ({"signals": np.ones((CHANNELS, 400))}, "'sampling_rate'"),
        ({"signals": np.ones(400), "sampling_rate": 200}, "'signals': expected a 2-D array"),
        ({"signals": np.ones((3, 400)), "sampling_rate": 200}, "'channel_names'"),
        ({"signals": np.ones((3, 400)), "sampling_rate": 200, "channel_names": ["Fp1", "Fz"]}, "3 names"),
        ({"signals": np.ones((3, 400)), "sampling_rate": 200, "channel_names": ["A", "B", "C"],
          "on_missing": "mask"}, "at least one electrode"),
        ({"de_features": np.ones((4, CHANNELS, 3))}, "'de_features': expected shape"),
        ({"de_features": np.full((4, CHANNELS, 5), np.inf)}, "finite"),
        ({"signals": 1e-5 * np.random.default_rng(0).normal(size=(CHANNELS, 400)), "sampling_rate": 200}, "volts"),
        ({"signals": np.ones((CHANNELS, 400)), "sampling_rate": -5}, "'sampling_rate'"),
        ({"signals": np.ones((CHANNELS, 400)), "sampling_rate": 200, "on_missing": "ignore"}, "'on_missing'"),
        ({"de_features": np.ones((4, CHANNELS, 5)), "return_signals": True}, "'return_signals'"),
    ],
)
def test_bad_calls_raise(call, message):
    with pytest.raises(ValueError, match=f"MoodReaderFeatureExtractor: field .*{message}"):
        MoodReaderFeatureExtractor()(**call)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "welch"}, "'method'"),
        ({"smoothing": "kalman"}, "'smoothing'"),
        ({"sampling_rate": 64}, "Nyquist"),
        ({"de_mean": [[0.0] * 5] * 3, "de_std": [[1.0] * 5] * 3}, "'de_mean'"),
        ({"de_mean": [[0.0] * 5] * CHANNELS}, "both set"),
        ({"de_mean": [[0.0] * 5] * CHANNELS, "de_std": [[0.0] * 5] * CHANNELS}, "positive"),
        ({"channel_names": ["Fp1", "FP1"], "band_edges": [[1, 4]]}, "distinct"),
        ({"eye_mean": [0.0] * 33}, "eye_mean and eye_std both set"),
        ({"eye_mean": [0.0] * 33, "eye_std": [1.0] * 31}, "'eye_std'"),
        ({"eye_mean": [0.0] * 33, "eye_std": [0.0] * 33}, "'eye_std'"),
        ({"unfitted_channels": ["PO5", "Cz3"]}, r"'unfitted_channels'.*\['Cz3'\]"),
        ({"unfitted_channels": ["PO5", "PO5"]}, "'unfitted_channels'.*repeated"),
    ],
)
def test_bad_attributes_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MoodReaderFeatureExtractor(**kwargs)
