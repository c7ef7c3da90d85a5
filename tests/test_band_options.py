"""Band edges as a build option: a dataset built with a slow band (0.1-1 Hz, 10 s windows) has the DE of a
sinusoid's band variance in closed form, carries its bands in the metadata and the card, and the model trained on
it (recipe ``dataset.bands``) saves a feature extractor with those bands; recipes that disagree are refused."""

from __future__ import annotations

import json
from pathlib import Path

import mne
import numpy as np
import pytest
import yaml

from moodreader_hf import cli
from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.features import band_table, parse_bands
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.contract import check_recipe_against_dataset, dataset_feature_config
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import TINY_RECIPE

RATE = 100.0
WINDOW = 10.0
BANDS = {"slow": [0.1, 1.0], "delta": [1.0, 4.0], "alpha": [8.0, 14.0]}
CHANNELS = ("Cz", "Pz", "Oz")
SLOW = {"high": 20.0, "low": 5.0}
"""Amplitude in µV of the 0.5 Hz sinusoid in the spans of each class."""
ALPHA = 8.0
SPAN = 40.0


def _closed_form(amplitude: float) -> float:
    """DE of a sinusoid of ``amplitude`` µV alone in its band: its variance is amplitude**2 / 2."""
    return 0.5 * np.log(2 * np.pi * np.e * amplitude**2 / 2)


def _write(root: Path) -> Path:
    """Three subjects, one FIF each at 100 Hz: spans of 40 s alternately "high" and "low" slow amplitude, a 10 Hz
    alpha of 8 µV throughout, faint white noise."""
    rng = np.random.default_rng(2)
    rows = ["file,onset,duration,label,subject"]
    for subject in ("a", "b", "c"):
        labels = ["high", "low", "high", "low"]
        time = np.arange(int(RATE * SPAN * len(labels))) / RATE
        slow = np.concatenate([np.full(int(RATE * SPAN), SLOW[label]) for label in labels])
        signal = slow * np.sin(2 * np.pi * 0.5 * time) + ALPHA * np.sin(2 * np.pi * 10.0 * time)
        data = np.tile(signal, (len(CHANNELS), 1)) + 0.01 * rng.standard_normal((len(CHANNELS), time.size))
        raw = mne.io.RawArray(data * 1e-6, mne.create_info(list(CHANNELS), RATE, "eeg"), verbose="error")
        raw.save(root / f"{subject}_raw.fif", verbose="error")
        rows += [f"{subject}_raw.fif,{index * SPAN},{SPAN},{label},{subject}" for index, label in enumerate(labels)]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("slow"))


@pytest.fixture(scope="module")
def built(root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "dataset"
    status = cli.main(["build-dataset", "events", str(root), str(out), "--labels", str(root / "labels.csv"),
                       "--bands", "slow:0.1-1,delta:1-4,alpha:8-14", "--window-seconds", "10",
                       "--sequence-windows", "2", "--stride", "2", "--smoothing", "none", "--quiet"])
    assert status == 0
    return out


def test_the_slow_band_de_is_the_sinusoids_band_variance(built):
    dataset, metadata = load_built_dataset(built)
    assert metadata["band_names"] == list(BANDS) and metadata["band_edges"] == list(BANDS.values())
    assert metadata["window_seconds"] == WINDOW and metadata["sampling_rate"] == 100
    table = dataset["train"].with_format("numpy")[:]
    assert table["de"].shape == (3 * 4 * 2, 2, len(CHANNELS), 3)
    names = dataset["train"].features["label"].names
    for label, amplitude in SLOW.items():
        rows = table["de"][table["label"] == names.index(label)]
        np.testing.assert_allclose(rows[..., 0], _closed_form(amplitude), atol=1e-3)
        np.testing.assert_allclose(rows[..., 2], _closed_form(ALPHA), atol=1e-3)
        assert (rows[..., 1] < _closed_form(amplitude) - 5).all()  # delta holds only the faint noise
    assert "slow (0.1-1 Hz), delta (1-4 Hz), alpha (8-14 Hz)" in (built / "README.md").read_text()


def _recipe(path: Path, **dataset) -> Path:
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="events", sequence_windows=2, stride=2, smoothing="none", include_signal=False,
                             **dataset)  # fmt: skip
    recipe["model"]["signal_patch_size"] = 100  # divides a window at 200 Hz (the default) and at the dataset's 100 Hz
    recipe["finetune"].update(epochs=3, patience=3, batch_size=8)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def trained(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("train")
    recipe = load_recipe(_recipe(folder / "recipe.yaml", bands=BANDS))
    report = run_finetuning(recipe, built, folder / "run", progress=False)
    return folder / "run" / report["folds"][0]["model"]


def test_the_trained_extractor_and_model_use_the_datasets_bands(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["band_names"] == list(BANDS) and config["band_edges"] == list(BANDS.values())
    assert config["num_bands"] == 3 and config["window_seconds"] == WINDOW and config["sampling_rate"] == 100
    extractor = MoodReaderFeatureExtractor.from_pretrained(trained)
    assert extractor.band_edges == list(BANDS.values()) and extractor.window_seconds == WINDOW
    time = np.arange(int(4 * WINDOW * 250)) / 250  # a recording at 250 Hz, resampled by the extractor to 100 Hz
    signal = 12.0 * np.sin(2 * np.pi * 0.5 * time) + ALPHA * np.sin(2 * np.pi * 10.0 * time)
    signals = np.tile(signal, (len(CHANNELS), 1)) + 0.01 * np.random.default_rng(4).standard_normal((3, time.size))
    features = extractor(signals, sampling_rate=250, channel_names=list(CHANNELS), return_tensors="np")
    de = features["de_features"][0] * np.asarray(extractor.de_std) + np.asarray(extractor.de_mean)
    assert de.shape == (4, len(CHANNELS), 3)
    np.testing.assert_allclose(de[..., 0], _closed_form(12.0), atol=5e-3)
    np.testing.assert_allclose(de[..., 2], _closed_form(ALPHA), atol=5e-3)


def test_recipes_disagreeing_with_the_datasets_bands_are_refused(built, tmp_path):
    metadata = load_built_dataset(built)[1]
    other = load_recipe(_recipe(tmp_path / "other.yaml", bands={**BANDS, "alpha": [8.0, 13.0]}))
    with pytest.raises(MoodReaderInputError, match=r"field 'band_edges': expected the recipe's dataset.bands = "
                                                   r"\[\[0.1, 1.0\], \[1.0, 4.0\], \[8.0, 13.0\]\]"):
        check_recipe_against_dataset(other, metadata, str(built), uses_signal=False)
    silent = load_recipe(_recipe(tmp_path / "silent.yaml"))
    check_recipe_against_dataset(silent, metadata, str(built), uses_signal=False)
    fields = dataset_feature_config(silent, metadata)
    assert fields["band_names"] == list(BANDS) and fields["num_bands"] == 3 and fields["window_seconds"] == WINDOW
    both = yaml.safe_load((tmp_path / "other.yaml").read_text())
    both["model"].update(band_edges=list(BANDS.values()), band_names=list(BANDS), num_bands=3)
    (tmp_path / "both.yaml").write_text(yaml.safe_dump(both, sort_keys=False))
    with pytest.raises(MoodReaderInputError, match="field 'dataset.bands': expected bands set in one place"):
        load_recipe(tmp_path / "both.yaml")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"bands": {"slow": [0.1, 1.0]}, "window_seconds": 1.0}, r"field 'bands': expected bands at least one "
                                                                 r"frequency bin wide.*no bin in \[0.1, 1\) Hz"),
        ({"bands": {"broad": [1.0, 60.0]}, "window_seconds": 10.0}, r"field 'bands': expected upper edges at or "
                                                                    r"below the Nyquist frequency 50 Hz"),
        ({"bands": {"slow": [1.0, 0.1]}}, r"field 'bands.slow': expected \[low, high\] in Hz with 0 <= low < high"),
    ],
)
def test_bands_that_do_not_fit_are_refused(root, tmp_path, options, message):
    with pytest.raises(MoodReaderInputError, match=message):
        build_dataset("events", root, tmp_path / "out", sequence_windows=2, stride=2, smoothing="none",
                      layout_options={"labels": root / "labels.csv"}, progress=False, **options)


def test_a_de_layout_declares_as_many_bands_as_its_files_hold(tmp_path):
    sim = simulate_seed(tmp_path / "sim", n_subjects=1, n_sessions=1, trial_seconds=4, seed=0, progress=False)
    with pytest.raises(MoodReaderInputError, match=r"trial 1: .*field 'de_features': expected shape \(time, "
                                                   r"channels, 3\).*got shape \(4, 62, 5\)"):
        build_dataset("seed", sim, tmp_path / "out", sequence_windows=2, stride=2, bands=BANDS, progress=False)


def test_band_text_parsing(capsys, tmp_path):
    assert parse_bands("slow:0.1-1, delta : 1-4") == {"slow": (0.1, 1.0), "delta": (1.0, 4.0)}
    assert band_table(None)[0] == ("delta", "theta", "alpha", "beta", "gamma")
    with pytest.raises(MoodReaderInputError, match="field 'bands': expected distinct band names"):
        parse_bands("a:1-2,a:2-3")
    status = cli.main(["build-dataset", "events", str(tmp_path), str(tmp_path / "out"), "--labels", "x.csv",
                       "--bands", "slow=0.1..1"])
    error = capsys.readouterr().err
    assert status == 2 and len(error.strip().splitlines()) == 1 and "NAME:LOW-HIGH" in error
