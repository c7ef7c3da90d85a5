"""The dataset builder on simulated SEED files and tiny DEAP files: declared features, row counts computed from the
trial lengths, values equal to the source files, atomic rebuilds, the card, Parquet round trip and the command."""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest
import scipy.io
from datasets import Array2D, Array3D, ClassLabel, List, Value
from huggingface_hub import DatasetCard

from moodreader_hf.builders import build_dataset, export_parquet, load_built_dataset
from moodreader_hf.builders.windows import sequence_starts
from moodreader_hf.commands import build_dataset as build_command
from moodreader_hf.commands import simulate as simulate_command
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.features import differential_entropy, lds_smooth
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.validation import MoodReaderInputError

from .layout_writers import write_deap

WINDOWS, STRIDE = 4, 3


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("simulated")
    return simulate_seed(root, n_subjects=2, n_sessions=2, trial_seconds=12, seed=1, progress=False)


@pytest.fixture(scope="module")
def built(seed_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "seed"
    build_dataset("seed", seed_root, out, sequence_windows=WINDOWS, stride=STRIDE, progress=False)
    return out


def _session_files(root: Path, folder: str) -> list[tuple[str, str, Path]]:
    """(subject, session, path) read from the file names: session = rank of the date within the subject."""
    by_subject: dict[str, list[Path]] = {}
    for path in sorted((root / folder).glob("*_*.mat")):
        by_subject.setdefault(path.stem.split("_")[0], []).append(path)
    return [(s, str(rank), p) for s, paths in by_subject.items() for rank, p in enumerate(sorted(paths), start=1)]


def _expected_rows(root: Path, windows: int, stride: int) -> list[tuple[str, str, int, int]]:
    """(subject, session, trial, start) of every row, from the stored de_LDS arrays' lengths: starts every
    ``stride`` windows, plus the tail row at ``length - windows`` when the last regular row ends earlier."""
    rows = []
    for subject, session, path in _session_files(root, "ExtractedFeatures"):
        for name, shape, _ in scipy.io.whosmat(path):
            if name.startswith("de_LDS"):
                trial, length = int(name[len("de_LDS"):]), shape[1]
                starts = list(range(0, length - windows + 1, stride)) if length >= windows else []
                if starts and starts[-1] + windows < length:
                    starts.append(length - windows)
                rows += [(subject, session, trial, start) for start in starts]
    return sorted(rows)


def test_declared_features(built):
    dataset, metadata = load_built_dataset(built)
    features = dataset["train"].features
    assert list(dataset) == ["train"]
    assert features["subject"] == Value("string") and features["session"] == Value("string")
    assert features["trial"] == Value("int32") and features["start"] == Value("int32")
    assert features["de"] == Array3D(shape=(WINDOWS, 62, 5), dtype="float32")
    assert features["channel_mask"] == List(Value("int8"), length=62)
    assert features["label"] == ClassLabel(names=["negative", "neutral", "positive"])
    assert "eye" not in features and "signal" not in features
    assert metadata["simulated"] is True and metadata["sequence_windows"] == WINDOWS and metadata["stride"] == STRIDE


def test_rows_match_trial_lengths_and_source_values(built, seed_root):
    dataset, _ = load_built_dataset(built)
    table = dataset["train"].with_format("numpy")[:]
    got = sorted(zip(table["subject"].tolist(), table["session"].tolist(), table["trial"].tolist(),
                     table["start"].tolist()))  # fmt: skip
    assert got == _expected_rows(seed_root, WINDOWS, STRIDE)
    clip_labels = scipy.io.loadmat(seed_root / "ExtractedFeatures" / "label.mat")["label"][0]
    np.testing.assert_array_equal(table["label"], clip_labels[table["trial"] - 1] + 1)
    assert (table["channel_mask"] == 1).all()
    subject, session, path = _session_files(seed_root, "ExtractedFeatures")[3]
    source = scipy.io.loadmat(path)
    for index in np.flatnonzero((table["subject"] == subject) & (table["session"] == session))[::7]:
        trial, start = int(table["trial"][index]), int(table["start"][index])
        expected = source[f"de_LDS{trial}"].transpose(1, 0, 2)[start : start + WINDOWS]
        np.testing.assert_allclose(table["de"][index], expected, rtol=1e-6)


def test_card_and_metadata_say_simulated(built):
    card = DatasetCard.load(built / "README.md")
    assert "not real EEG" in card.text
    assert "simulated" in card.data.tags and "eeg" in card.data.tags and "emotion-recognition" in card.data.tags
    block = card.data.to_dict()["moodreader"]
    assert block["simulated"] is True and block["channel_names"] == list(SEED_CHANNEL_NAMES)
    assert block["band_names"] == ["delta", "theta", "alpha", "beta", "gamma"] and block["window_seconds"] == 1.0
    assert card.data.to_dict()["dataset_info"]["splits"][0]["num_examples"] == json.loads(
        (built / "moodreader_dataset.json").read_text())["num_rows"]  # fmt: skip


def test_raw_layout_computes_de_and_keeps_the_signal(seed_root, tmp_path):
    out = build_dataset("seed-raw", seed_root, tmp_path / "raw", sequence_windows=WINDOWS, stride=WINDOWS,
                        include_signal=True, progress=False)  # fmt: skip
    dataset, metadata = load_built_dataset(out)
    features = dataset["train"].features
    assert features["signal"] == Array2D(shape=(62, WINDOWS * 200), dtype="float32")
    assert metadata["de_source"] == "computed" and metadata["smoothing"] == "lds" and metadata["simulated"] is True
    subject, session, path = _session_files(seed_root, "Preprocessed_EEG")[0]
    raw = {key.rsplit("_eeg", 1)[1]: value for key, value in scipy.io.loadmat(path).items() if "_eeg" in key}
    table = dataset["train"].with_format("numpy")[:]
    row = int(np.flatnonzero((table["subject"] == subject) & (table["session"] == session) & (table["trial"] == 2)
                             & (table["start"] == WINDOWS))[0])  # fmt: skip
    signal = np.ascontiguousarray(raw["2"], dtype=np.float64)
    np.testing.assert_allclose(table["signal"][row], signal[:, WINDOWS * 200 : 2 * WINDOWS * 200], rtol=1e-6)
    expected_de = lds_smooth(differential_entropy(signal, 200))[WINDOWS : 2 * WINDOWS]
    np.testing.assert_allclose(table["de"][row], expected_de, rtol=1e-4, atol=1e-4)


def test_short_trials_are_skipped_and_counted(seed_root, tmp_path):
    lengths = [shape[1] for _, _, path in _session_files(seed_root, "ExtractedFeatures")
               for name, shape, _ in scipy.io.whosmat(path) if name.startswith("de_LDS")]  # fmt: skip
    windows = 11
    too_short = sum(length < windows for length in lengths)
    assert 0 < too_short < len(lengths)
    with pytest.warns(UserWarning, match=f"{too_short} of {len(lengths)} trials"):
        out = build_dataset("seed", seed_root, tmp_path / "long", sequence_windows=windows, stride=1, progress=False)
    dataset, metadata = load_built_dataset(out)
    assert metadata["skipped_trials"] == too_short
    assert len(dataset["train"]) == sum(len(sequence_starts(length, windows, 1)) for length in lengths)


def test_interrupted_rebuild_keeps_the_old_dataset(seed_root, tmp_path):
    out = build_dataset("seed", seed_root, tmp_path / "ds", sequence_windows=WINDOWS, stride=STRIDE, progress=False)
    before = load_built_dataset(out)[0]["train"].with_format("numpy")[:]
    broken = tmp_path / "broken"
    shutil.copytree(seed_root, broken)
    _, _, third = _session_files(broken, "ExtractedFeatures")[2]
    third.write_bytes(b"not a MATLAB file" * 100)
    with pytest.raises(MoodReaderInputError, match=third.name):
        build_dataset("seed", broken, out, sequence_windows=WINDOWS, stride=STRIDE, progress=False)
    after = load_built_dataset(out)[0]["train"].with_format("numpy")[:]
    np.testing.assert_array_equal(after["de"], before["de"])
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken", "ds"]  # no temporary folders left


def test_refuses_to_replace_a_foreign_folder(seed_root, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(MoodReaderInputError, match="output_dir"):
        build_dataset("seed", seed_root, tmp_path / "mine", progress=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_load_errors_name_the_path_and_what_is_missing(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    (copy / "moodreader_dataset.json").unlink()
    with pytest.raises(MoodReaderInputError, match=r"copy.*moodreader_dataset\.json"):
        load_built_dataset(copy)
    dataset, metadata = load_built_dataset(built)
    stripped = tmp_path / "stripped"
    datasets.DatasetDict({"train": dataset["train"].remove_columns("start")}).save_to_disk(str(stripped))
    (stripped / "moodreader_dataset.json").write_text(json.dumps(metadata))
    with pytest.raises(MoodReaderInputError, match=r"stripped.*'start'"):
        load_built_dataset(stripped)


def test_parquet_keeps_declared_features(built, tmp_path):
    out = export_parquet(built, tmp_path / "parquet")
    files = sorted(str(path) for path in (out / "data").glob("train-*.parquet"))
    reloaded = datasets.load_dataset("parquet", data_files={"train": files}, cache_dir=str(tmp_path / "cache"))
    original = load_built_dataset(built)[0]["train"]
    assert reloaded["train"].features == original.features
    np.testing.assert_array_equal(reloaded["train"].with_format("numpy")[:]["de"],
                                  original.with_format("numpy")[:]["de"])  # fmt: skip
    card = DatasetCard.load(out / "README.md")
    assert card.data.to_dict()["configs"][0]["data_files"][0]["path"] == "data/train-*"


def test_deap_electrodes_missing_from_the_montage_are_masked(tmp_path):
    write_deap(tmp_path / "deap", subjects=(1,), samples=384 + 128 * 4)
    out = build_dataset("deap", tmp_path / "deap", tmp_path / "built", sequence_windows=2, stride=2,
                        include_signal=True, layout_options={"target": "arousal"}, montage=SEED_CHANNEL_NAMES,
                        sampling_rate=200, progress=False)  # fmt: skip
    dataset, metadata = load_built_dataset(out)
    table = dataset["train"].with_format("numpy")[:]
    assert len(table["label"]) == 40 * 2 and dataset["train"].features["label"].num_classes == 2
    mask = table["channel_mask"][0]
    assert mask.sum() == 32 and (table["channel_mask"] == mask).all()
    assert metadata["missing_channels"] == [name for name, kept in zip(SEED_CHANNEL_NAMES, mask) if not kept]
    assert (table["de"][:, :, mask == 0] == 0).all() and (table["signal"][:, mask == 0] == 0).all()
    assert np.isfinite(table["de"]).all() and (table["de"][:, :, mask == 1] != 0).all()
    assert table["signal"].shape == (80, 62, 2 * 200)  # resampled from 128 Hz to 200 Hz
    assert metadata["simulated"] is False and "not real EEG" not in (out / "README.md").read_text()


def test_include_signal_needs_a_raw_layout(seed_root, tmp_path):
    with pytest.raises(MoodReaderInputError, match="include_signal"):
        build_dataset("seed", seed_root, tmp_path / "x", include_signal=True, progress=False)


def test_commands_simulate_then_build_with_parquet(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    simulate_command.register(subparsers)
    build_command.register(subparsers)
    simulate = parser.parse_args(["simulate", str(tmp_path / "sim"), "--subjects", "1", "--sessions", "1",
                                  "--trial-seconds", "6", "--quiet"])  # fmt: skip
    assert simulate.func(simulate) == 0
    build = parser.parse_args(["build-dataset", "seed", str(tmp_path / "sim"), str(tmp_path / "ds"),
                               "--sequence-windows", "5", "--stride", "5", "--parquet", str(tmp_path / "pq"),
                               "--quiet"])  # fmt: skip
    assert build.func(build) == 0
    output = capsys.readouterr().out
    assert "SIMULATED" in output and f"Built {len(_expected_rows(tmp_path / 'sim', 5, 5))} rows" in output
    assert list((tmp_path / "pq" / "data").glob("train-*.parquet"))


def test_seed_v_build_has_eye_features_and_four_second_windows(tmp_path):
    root = simulate_seed(tmp_path / "sim", n_subjects=1, trial_seconds=16, layout="seed-v", progress=False)
    out = build_dataset("seed-v", root, tmp_path / "built", sequence_windows=2, stride=1, progress=False)
    dataset, metadata = load_built_dataset(out)
    features = dataset["train"].features
    assert features["eye"] == Array2D(shape=(2, 33), dtype="float32")
    assert features["label"].names == ["disgust", "fear", "sad", "neutral", "happy"]
    assert metadata["window_seconds"] == 4.0 and metadata["eye_dims"] == 33
    with np.load(root / "Eye_movement_features" / "1_123.npz") as archive:
        eye = pickle.loads(archive["data"].tobytes())
    assert len(dataset["train"]) == sum(len(eye[index]) - 1 for index in range(45))
    table = dataset["train"].with_format("numpy")[:]
    row = int(np.flatnonzero((table["session"] == "2") & (table["trial"] == 3) & (table["start"] == 1))[0])
    np.testing.assert_allclose(table["eye"][row], eye[15 + 2][1:3], rtol=1e-6)
