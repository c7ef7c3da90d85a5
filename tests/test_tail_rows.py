"""Tail rows: a trial's last windows, when no regular row reaches them, are held by one more row that starts at
``n - sequence_windows``; it is tested and scored, and never trained, validated or normalised on. Trial lengths come
from the DE files written here, never from the builder's bookkeeping."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from datasets import Value, load_from_disk

from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.builders.card import card_text
from moodreader_hf.builders.windows import iter_sequences
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.training.data import load_tensors
from moodreader_hf.training.finetune import run_finetuning, split_settings
from moodreader_hf.training.protocols import Rows, SplitSettings, make_folds
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.training.report import _trailing_note

from .training_helpers import SEED_LABELS, write_recipe

WINDOWS, STRIDE = 4, 2
LENGTHS = {"1": (8, 9, 10, 11, 13, 3), "2": (9, 12, 7, 10, 11, 8), "3": (11, 8, 9, 12, 10, 13)}
"""Windows of the six trials of each subject (one session): odd lengths leave a window after the last regular row
(rows of 4 every 2 windows), even ones do not; 3 is shorter than a row."""
FINETUNE = {"epochs": 1, "batch_size": 512, "patience": 1, "baseline_c": [1.0], "fold_workers": 0}
"""One epoch, every fold's rows in one batch (so every row of a split is fed), folds in this process (fast)."""


def write_download(root: Path) -> Path:
    """SEED ``ExtractedFeatures``: ``de_LDS<k>`` of shape ``(62, LENGTHS[subject][k-1], 5)``, random DE shifted by
    the trial's label."""
    rng = np.random.default_rng(3)
    folder = root / "ExtractedFeatures"
    folder.mkdir(parents=True)
    for subject, lengths in LENGTHS.items():
        arrays = {}
        for trial, (length, label) in enumerate(zip(lengths, SEED_LABELS), start=1):
            arrays[f"de_LDS{trial}"] = 10 + label + rng.normal(size=(62, length, 5))
            arrays[f"de_movingAve{trial}"] = arrays[f"de_LDS{trial}"]
        scipy.io.savemat(folder / f"{subject}_20130101.mat", arrays)
    scipy.io.savemat(folder / "label.mat", {"label": np.array([SEED_LABELS], dtype=np.int16)})
    return root


def file_lengths(root: Path) -> dict[tuple[str, int], int]:
    """``(subject, trial) -> windows`` read from the shapes of the written files."""
    lengths = {}
    for path in sorted((root / "ExtractedFeatures").glob("*_*.mat")):
        for name, shape, _ in scipy.io.whosmat(path):
            if name.startswith("de_LDS"):
                lengths[path.stem.split("_")[0], int(name[len("de_LDS"):])] = shape[1]
    return lengths


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return write_download(tmp_path_factory.mktemp("tail-raw"))


@pytest.fixture(scope="module")
def dataset(root, tmp_path_factory) -> Path:
    with pytest.warns(UserWarning, match="1 of 18 trials were shorter than one sequence"):
        return build_dataset("seed", root, tmp_path_factory.mktemp("tail") / "dataset", sequence_windows=WINDOWS,
                             stride=STRIDE, progress=False)


@pytest.fixture(scope="module")
def table(dataset) -> dict[str, np.ndarray]:
    return load_built_dataset(dataset)[0]["train"].with_format("numpy")[:]


@pytest.fixture(scope="module")
def recipe_path(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("tail-recipe") / "recipe.yaml",
                        dataset={"sequence_windows": WINDOWS, "stride": STRIDE}, finetune=FINETUNE)


@pytest.fixture(scope="module")
def loso(dataset, recipe_path, tmp_path_factory):
    fed: dict[tuple[str, str], list[int]] = defaultdict(list)

    def record(fold: str, phase: str, rows: torch.Tensor) -> None:
        fed[fold, phase].extend(rows.tolist())

    output = tmp_path_factory.mktemp("tail-loso")
    report = run_finetuning(load_recipe(recipe_path), dataset, output, progress=False, callback=record,
                            final_model=output / "model")
    return output, report, fed


def test_tail_rows_start_at_the_trials_last_row_and_hold_its_last_windows(root, dataset, table):
    features = load_built_dataset(dataset)[0]["train"].features
    assert features["tail"] == Value("bool")
    sources = {path.stem.split("_")[0]: scipy.io.loadmat(path) for path in (root / "ExtractedFeatures").glob("*.mat")
               if path.stem != "label"}
    subjects, trials, starts, tail = table["subject"].astype(str), table["trial"], table["start"], table["tail"]
    for (subject, trial), length in file_lengths(root).items():
        own = (subjects == subject) & (trials == trial)
        if length < WINDOWS:
            assert not own.any()
            continue
        regular = sorted(starts[own & ~tail].tolist())
        assert regular == list(range(0, length - WINDOWS + 1, STRIDE))
        tails = np.flatnonzero(own & tail)
        if (length - WINDOWS) % STRIDE == 0:  # the last regular row already ends at the trial's end
            assert tails.size == 0, (subject, trial)
            continue
        assert tails.size == 1 and starts[tails[0]] == length - WINDOWS, (subject, trial)
        source = sources[subject][f"de_LDS{trial}"].transpose(1, 0, 2)
        np.testing.assert_allclose(table["de"][tails[0]], source[length - WINDOWS :], rtol=1e-6)
        before = int(np.flatnonzero(own & ~tail & (starts == regular[-1]))[0])
        shared = regular[-1] + WINDOWS - (length - WINDOWS)
        assert shared == WINDOWS - 1
        np.testing.assert_array_equal(table["de"][tails[0]][:shared], table["de"][before][-shared:])
    assert int(tail.sum()) == sum((n - WINDOWS) % STRIDE != 0 for n in file_lengths(root).values() if n >= WINDOWS)


def test_metadata_and_card_count_tail_windows_as_in_rows(root, dataset):
    _, metadata = load_built_dataset(dataset)
    lengths = list(file_lengths(root).values())
    assert metadata["tail_rows"] is True
    coverage = metadata["coverage"]
    assert coverage["in_rows"] == pytest.approx(sum(n for n in lengths if n >= WINDOWS))  # 1 s windows
    assert coverage["short_trials"] == pytest.approx(sum(n for n in lengths if n < WINDOWS))
    assert coverage["between_rows"] == 0
    card = (dataset / "README.md").read_text()
    assert "the tail row" in card and "dropped: 3 s trials shorter than one row." in card
    assert "trailing windows that do not fill a row are dropped" not in card


def test_stride_longer_than_a_row_keeps_its_gaps_and_adds_only_the_tail():
    de = np.arange(12, dtype=np.float32)[:, None, None] * np.ones((12, 2, 3), np.float32)
    sequences = list(iter_sequences(de, sequence_windows=3, stride=5))
    assert [(s.start, s.tail) for s in sequences] == [(0, False), (5, False), (9, True)]
    assert [s.de[:, 0, 0].tolist() for s in sequences] == [[0, 1, 2], [5, 6, 7], [9, 10, 11]]
    assert [(s.start, s.tail) for s in iter_sequences(de, sequence_windows=3, stride=3)] == [
        (0, False), (3, False), (6, False), (9, False)]
    assert list(iter_sequences(de[:2], sequence_windows=3, stride=1)) == []


def test_make_folds_keeps_tail_rows_for_testing_in_every_protocol(tmp_path):
    """Two rows per trial, the second a tail row: train and validation are exactly the regular rows of the pool."""
    subjects = np.repeat(["1", "2", "3", "4"], 12)
    sessions = np.tile(np.repeat(["1", "2"], 6), 4)
    trials = np.tile(np.repeat([1, 2, 3], 2), 8)
    tail = np.tile([False, True], 24)
    rows = Rows(subjects, sessions, trials, tail)
    table = tmp_path / "split.csv"
    table.write_text("subject,split\n1,test\n2,validation\n3,train\n4,train\n")
    settings = SplitSettings(layout="seed", train_trials=2, kfold=2, split_file=str(table))
    for protocol in ("loso", "loso-session", "cross-session", "within-trials", "kfold-subject", "given-split"):
        for fold in make_folds(protocol, rows, settings):
            used = np.concatenate([fold.train, fold.validation])
            assert not tail[used].any() and len(fold.train) and len(fold.validation), (protocol, fold.name)
            assert tail[fold.test].sum() == len(fold.test) // 2, (protocol, fold.name)
            tested = set(zip(subjects[fold.test], sessions[fold.test], trials[fold.test]))
            pool = [i for i in range(len(tail)) if (subjects[i], sessions[i], trials[i]) not in tested]
            if protocol in ("loso", "kfold-subject", "given-split"):  # the pool is every other row
                assert sorted(used.tolist()) == [i for i in pool if not tail[i]], (protocol, fold.name)


def test_loso_scores_every_window_of_every_trial(root, loso):
    output, report, _ = loso
    lengths = {key: n for key, n in file_lengths(root).items() if n >= WINDOWS}
    assert sum(fold["n_test_windows"] for fold in report["folds"]) == sum(lengths.values())
    held: dict[tuple[str, int], set[int]] = defaultdict(set)
    for fold in report["folds"]:
        for line in (output / fold["predictions"]).read_text().splitlines()[1:]:
            _, subject, _, trial, start, windows = line.split(",")[:6]
            held[subject, int(trial)].update(range(int(start), int(start) + int(windows)))
    assert held == {key: set(range(n)) for key, n in lengths.items()}
    assert "held by one more row ending at its last window" in report["dataset"]["trailing_windows"]


def test_tail_rows_never_train_validate_or_normalise(dataset, table, loso, recipe_path):
    output, report, fed = loso
    tail, subjects = table["tail"], table["subject"].astype(str)
    de = table["de"].astype(np.float64)
    tensors = load_tensors(dataset, channel_names=load_built_dataset(dataset)[1]["channel_names"])
    folds = make_folds("loso", Rows(tensors.subjects, tensors.sessions, tensors.trials, tensors.tail),
                       split_settings(load_recipe(recipe_path), tensors.metadata))
    assert [fold.name for fold in folds] == [fold["name"] for fold in report["folds"]]
    for fold, entry in zip(folds, report["folds"]):
        name = entry["name"]
        assert not tail[fold.train].any() and not tail[fold.validation].any()
        assert set(fed[name, "train"]) == set(fold.train.tolist()) and fold.train.size
        assert set(fed[name, "validation"]) == set(fold.validation.tolist()) and fold.validation.size
        assert not tail[fed[name, "train"]].any() and not tail[fed[name, "validation"]].any()
        tested = subjects == entry["test_subject"]
        assert sorted(set(fed[name, "test"])) == np.flatnonzero(tested).tolist()
        assert tail[fed[name, "test"]].sum() == (tail & tested).sum() > 0
        extractor = MoodReaderFeatureExtractor.from_pretrained(output / entry["model"])
        regular = ~tested & ~tail
        np.testing.assert_allclose(extractor.de_mean, de[regular].mean(axis=(0, 1)), rtol=1e-6)
        np.testing.assert_allclose(extractor.de_std, de[regular].std(axis=(0, 1)), rtol=1e-6)
        assert not np.allclose(extractor.de_mean, de[~tested].mean(axis=(0, 1)), rtol=1e-6)


def test_the_final_model_never_trains_validates_or_normalises_on_tail_rows(table, loso):
    """The model to publish (``final_model``, the demo's ``DIR/model``) trains on every subject's regular rows."""
    output, _, fed = loso
    de, tail = table["de"].astype(np.float64), table["tail"]
    train, validation = set(fed["all-subjects", "train"]), set(fed["all-subjects", "validation"])
    assert train and validation and not train & validation
    assert sorted(train | validation) == np.flatnonzero(~tail).tolist()
    extractor = MoodReaderFeatureExtractor.from_pretrained(output / "model")
    np.testing.assert_allclose(extractor.de_mean, de[~tail].mean(axis=(0, 1)), rtol=1e-6)
    assert not np.allclose(extractor.de_mean, de.mean(axis=(0, 1)), rtol=1e-6)


def test_a_dataset_built_before_tail_rows_loads_with_none(dataset, tmp_path):
    old = tmp_path / "old"
    built = load_from_disk(str(dataset))
    built["train"] = built["train"].filter(lambda row: not row["tail"]).remove_columns("tail")
    built.save_to_disk(str(old))
    metadata = json.loads((dataset / "moodreader_dataset.json").read_text())
    del metadata["tail_rows"]
    (old / "moodreader_dataset.json").write_text(json.dumps(metadata))
    shutil.copy(dataset / "README.md", old / "README.md")
    tensors = load_tensors(old, channel_names=metadata["channel_names"])
    assert tensors.tail.dtype == bool and tensors.tail.shape == (len(tensors),) and not tensors.tail.any()
    folds = make_folds("loso", Rows(tensors.subjects, tensors.sessions, tensors.trials, tensors.tail), SplitSettings())
    assert sorted(np.concatenate([folds[0].train, folds[0].validation, folds[0].test]).tolist()) == list(
        range(len(tensors)))
    assert "are not in the built dataset and are not scored" in _trailing_note(tensors.metadata)
    assert "trailing windows that do not fill a row are dropped" in card_text(tensors.metadata)
    assert "the tail row" not in card_text(tensors.metadata)
