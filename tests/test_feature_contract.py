"""The dataset decides the features: recipes that disagree with a dataset are refused before work, the saved
extractor carries the dataset's settings, and a model trained on DE distributed with a dataset (written here by an
independent port of the SEED recipe, not by this package) refuses raw signals at inference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from transformers import pipeline

import moodreader_hf  # noqa: F401 - registers the pipeline task
from moodreader_hf.builders import build_dataset
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import write_recipe

RATE = 200
SEED_PORT_BANDS = ((1, 4), (4, 8), (8, 14), (14, 31), (31, 50))
LABELS = (1, 0, -1, -1, 0, 1)


def seed_port_de(signal: np.ndarray, rate: int = RATE) -> np.ndarray:
    """DE as the widely used Python port of SEED's code computes it: per 1 s Hann-windowed segment, a 512-point
    FFT, the mean of ``|X|**2`` over the band's bins, then ``log2(100 * mean)``. ``(channels, samples) -> (channels,
    windows, bands)``; written independently of this package's DE."""
    channels, samples = signal.shape
    windows = samples // rate
    frequencies = np.fft.rfftfreq(512, 1 / rate)
    out = np.empty((channels, windows, len(SEED_PORT_BANDS)))
    for window in range(windows):
        segment = signal[:, window * rate : (window + 1) * rate] * np.hanning(rate)
        power = np.abs(np.fft.rfft(segment, 512, axis=-1)) ** 2
        for band, (low, high) in enumerate(SEED_PORT_BANDS):
            bins = (frequencies >= low) & (frequencies < high)
            out[:, window, band] = np.log2(100 * power[:, bins].mean(axis=-1))
    return out


def _trial_signal(rng: np.random.Generator, label: int, seconds: int) -> np.ndarray:
    time = np.arange(seconds * RATE) / RATE
    signal = 10 * rng.standard_normal((62, time.size))
    signal[40:50] += (20 + 15 * label) * np.sin(2 * np.pi * 10 * time)  # a class-dependent parietal alpha
    return signal


@pytest.fixture(scope="module")
def distributed(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A SEED download whose ExtractedFeatures hold seed-port DE of raw signals, built with the ``seed`` layout;
    also one raw trial and its seed-port DE for inference."""
    root = tmp_path_factory.mktemp("seed-port")
    rng = np.random.default_rng(0)
    (root / "ExtractedFeatures").mkdir()
    for subject in (1, 2, 3):
        arrays = {}
        for trial, label in enumerate(LABELS, start=1):
            de = seed_port_de(_trial_signal(rng, label, 8))
            arrays[f"de_LDS{trial}"] = de
            arrays[f"de_movingAve{trial}"] = de
        scipy.io.savemat(root / "ExtractedFeatures" / f"{subject}_20130401.mat", arrays)
    scipy.io.savemat(root / "ExtractedFeatures" / "label.mat", {"label": np.array([LABELS], dtype=np.int16)})
    dataset = build_dataset("seed", root, root / "dataset", sequence_windows=4, stride=4, progress=False)
    return dataset, _trial_signal(rng, 1, 8)


@pytest.fixture(scope="module")
def trained(distributed, tmp_path_factory) -> Path:
    dataset, _ = distributed
    recipe = load_recipe(write_recipe(tmp_path_factory.mktemp("r") / "r.yaml", finetune={"epochs": 1}))
    output = tmp_path_factory.mktemp("loso")
    report = run_finetuning(recipe, dataset, output, progress=False)
    return output / report["folds"][0]["model"]


def test_a_model_trained_on_distributed_de_refuses_raw_signals_and_takes_that_de(distributed, trained):
    _, raw = distributed
    extractor = MoodReaderFeatureExtractor.from_pretrained(trained)
    assert extractor.de_source == "distributed" and extractor.dataset == "SEED"
    classify = pipeline("eeg-emotion-recognition", model=str(trained), trust_remote_code=True)
    with pytest.raises(ValueError, match=r"field 'signals': expected de_features .* computed as SEED computes its "
                                         r"distributed DE.*got raw signals"):
        classify({"signals": raw, "sampling_rate": RATE, "channel_names": list(SEED_CHANNEL_NAMES)})
    port = seed_port_de(raw).transpose(1, 0, 2)
    result = classify({"de_features": port, "channel_names": list(SEED_CHANNEL_NAMES)})
    assert result["missing_channels"] == [] and len(result["segments"]) == 2
    normalised = (port - np.asarray(extractor.de_mean)) / np.asarray(extractor.de_std)
    assert np.abs(normalised).mean() < 3  # the port's DE sits inside the training distribution ...
    ours = MoodReaderFeatureExtractor(smoothing="none")(raw, sampling_rate=RATE, return_tensors="np")["de_features"][0]
    assert np.abs((ours - np.asarray(extractor.de_mean)) / np.asarray(extractor.de_std)).mean() > 5  # ours does not


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> Path:
    from moodreader_hf.simulation import simulate_seed

    folder = tmp_path_factory.mktemp("computed")
    root = simulate_seed(folder / "raw", n_subjects=2, n_sessions=1, trial_seconds=8, seed=2, progress=False)
    return build_dataset("seed-raw", root, folder / "dataset", sequence_windows=4, stride=4, smoothing="lds",
                         progress=False)


@pytest.mark.parametrize(
    ("sections", "field", "dataset_value", "recipe_value"),
    [
        ({"model": {"window_seconds": 2.0}}, "window_seconds", "1.0", "2.0"),
        ({"dataset": {"method": "filterbank"}}, "method", "'stft'", "'filterbank'"),
        ({"model": {"band_edges": [[1.0, 4.0], [4.0, 8.0], [8.0, 13.0], [13.0, 30.0], [30.0, 45.0]]}}, "band_edges",
         r"\[\[1.0, 4.0\]", r"\[\[1.0, 4.0\], \[4.0, 8.0\], \[8.0, 13.0\]"),
        ({"dataset": {"smoothing": "moving_average"}}, "smoothing", "'lds'", "'moving_average'"),
        ({"model": {"sampling_rate": 250, "signal_patch_size": 50}}, "sampling_rate", "200", "250"),
    ],
)
def test_every_feature_mismatch_is_refused_before_training(computed, tmp_path, sections, field, dataset_value,
                                                            recipe_value):
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", **sections))
    with pytest.raises(MoodReaderInputError, match=rf"field '{field}': expected the recipe's .* = {recipe_value}.*"
                                                   rf"got {dataset_value}.* in the dataset"):
        run_finetuning(recipe, computed, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_the_saved_extractor_carries_the_datasets_settings(computed, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "r.yaml", finetune={"epochs": 1}))
    report = run_finetuning(recipe, computed, tmp_path / "out", progress=False)
    saved = json.loads((tmp_path / "out" / report["folds"][0]["model"] / "preprocessor_config.json").read_text())
    metadata = json.loads((computed / "moodreader_dataset.json").read_text())
    for key in ("sampling_rate", "window_seconds", "band_edges", "method", "smoothing"):
        assert saved[key] == metadata[key], key
    assert saved["de_source"] == "computed"
