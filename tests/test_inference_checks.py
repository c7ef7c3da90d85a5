"""What the pipeline checks and reports at inference: a local timeline (a step change shows where it happens), the
Nyquist frequency, electrode coverage, features far from the training data, NaN logits, MNE's warnings."""

from __future__ import annotations

import mne
import numpy as np
import pytest
import torch

from moodreader_hf import MoodReaderForEmotionRecognition
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor, normalization_statistics
from moodreader_hf.pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline

from .conftest import tiny_config

RATE = 200
SEGMENT = 4


def _recording(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """62 channels of noise plus an occipital 10 Hz rhythm whose amplitude (µV) follows ``alpha`` (one value per
    second)."""
    seconds = len(alpha)
    time = np.arange(seconds * RATE) / RATE
    signal = 10 * rng.standard_normal((62, time.size))
    envelope = np.repeat(alpha, RATE)
    signal[50:62] += envelope * np.sin(2 * np.pi * 10 * time)
    return signal


@pytest.fixture(scope="module")
def alpha_pipe() -> EEGEmotionRecognitionPipeline:
    """A tiny two-class model trained here to tell weak (class "low") from strong (class "high") occipital alpha."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    config = tiny_config(num_labels=2, id2label={0: "low", 1: "high"}, label2id={"low": 0, "high": 1},
                         max_windows=SEGMENT, sequence_windows=SEGMENT)
    raw_extractor = MoodReaderFeatureExtractor.from_model_config(config, smoothing="moving_average",
                                                                 moving_average_window=3)
    rows, labels = [], []
    for label, amplitude in ((0, 2.0), (1, 40.0)):
        de = raw_extractor(_recording(np.full(40, amplitude), rng), sampling_rate=RATE, smoothing_span=SEGMENT,
                           return_tensors="np")["de_features"][0]
        rows += [de[start : start + SEGMENT] for start in range(0, 40, SEGMENT)]
        labels += [label] * (40 // SEGMENT)
    rows = np.stack(rows)
    mean, std = normalization_statistics(rows)
    extractor = MoodReaderFeatureExtractor.from_model_config(config, smoothing="moving_average",
                                                             moving_average_window=3, de_mean=mean, de_std=std)
    model = MoodReaderForEmotionRecognition(config)
    inputs = torch.from_numpy(((rows - np.asarray(mean)) / np.asarray(std)).astype(np.float32))
    targets = torch.tensor(labels)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = model(de_features=inputs, labels=targets).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return EEGEmotionRecognitionPipeline(model=model.eval(), feature_extractor=extractor, task=TASK, device=-1)


def test_a_step_change_shows_in_the_timeline_within_three_windows(alpha_pipe):
    step = 18  # seconds; inside the segment [16, 20)
    alpha = np.where(np.arange(40) < step, 2.0, 40.0)
    result = alpha_pipe(_recording(alpha, np.random.default_rng(5)), sampling_rate=RATE,
                        channel_names=list(SEED_CHANNEL_NAMES), segment_windows=SEGMENT)
    labels = [(segment["start"], segment["end"], segment["label"]) for segment in result["segments"]]
    assert all(label == "low" for start, end, label in labels if end <= step - 3 + 1), labels
    assert all(label == "high" for start, end, label in labels if start >= step + 3 - 1), labels
    first_high = min(start for start, _, label in labels if label == "high")
    assert abs(first_high - step) <= 3, labels


def test_a_recording_below_the_highest_band_edge_is_refused(alpha_pipe):
    with pytest.raises(ValueError, match=r"sampling_rate.*at least 100 Hz.*got 50 Hz: the recording holds nothing "
                                         r"above 25 Hz"):
        alpha_pipe(np.random.default_rng(0).standard_normal((62, 50 * 20)), sampling_rate=50,
                   channel_names=list(SEED_CHANNEL_NAMES))


def test_a_19_channel_recording_gets_the_coverage_warning_and_field(alpha_pipe):
    names = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8",
             "O1", "O2"]
    signals = 10 * np.random.default_rng(1).standard_normal((19, RATE * 12))
    with pytest.warns(RuntimeWarning, match=r"only 31% of the model's electrodes are present \(43 missing\)"):
        result = alpha_pipe(signals, sampling_rate=RATE, channel_names=names)
    assert result["coverage"] == pytest.approx(19 / 62) and len(result["missing_channels"]) == 43
    assert any("31%" in note for note in result["warnings"])
    with pytest.raises(ValueError, match=r"at least 75% of the model's electrodes"):
        alpha_pipe(signals, sampling_rate=RATE, channel_names=names, on_low_coverage="raise")


def test_features_far_from_the_training_data_are_flagged(alpha_pipe):
    volts = 1e-5 * np.random.default_rng(2).standard_normal((62, RATE * 12))  # volts, not µV: 6 orders too small
    with pytest.warns(RuntimeWarning, match=r"training standard deviations from the training data"):
        result = alpha_pipe(volts * 1e3, sampling_rate=RATE, channel_names=list(SEED_CHANNEL_NAMES))
    assert max(result["feature_shift"].values()) > 3
    calm = alpha_pipe(_recording(np.full(12, 2.0), np.random.default_rng(3)), sampling_rate=RATE,
                      channel_names=list(SEED_CHANNEL_NAMES))
    assert max(calm["feature_shift"].values()) < 3 and calm["warnings"] == []


def test_nan_logits_are_an_error(alpha_pipe):
    broken = MoodReaderForEmotionRecognition(alpha_pipe.model.config).eval()
    with torch.no_grad():
        broken.classifier.weight.fill_(float("nan"))
    pipe = EEGEmotionRecognitionPipeline(model=broken, feature_extractor=alpha_pipe.feature_extractor, task=TASK,
                                         device=-1)
    with pytest.raises(ValueError, match=r"field 'logits': expected finite class scores"):
        pipe(_recording(np.full(8, 2.0), np.random.default_rng(4)), sampling_rate=RATE,
             channel_names=list(SEED_CHANNEL_NAMES))


def test_mnes_warning_about_a_truncated_edf_reaches_the_user(alpha_pipe, tmp_path):
    raw = mne.io.RawArray(1e-5 * np.random.default_rng(6).standard_normal((62, RATE * 30)),
                          mne.create_info(list(SEED_CHANNEL_NAMES), RATE, "eeg"), verbose="error")
    path = tmp_path / "full.edf"
    mne.export.export_raw(path, raw, verbose="error")
    truncated = tmp_path / "truncated.edf"
    data = path.read_bytes()
    truncated.write_bytes(data[: len(data) * 3 // 10])
    with pytest.warns(RuntimeWarning, match=r"truncated.edf: Number of records from the header does not match"):
        result = alpha_pipe(str(truncated))
    assert result["segments"][-1]["end"] < 30
