"""Recipes and datasets are checked before any work; folds, metrics and the baseline against independent
computations."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from datasets import load_from_disk

from moodreader_hf.training.baseline import fit_select
from moodreader_hf.training.data import batch_loader, load_tensors
from moodreader_hf.training.protocols import Rows, SplitSettings, make_folds
from moodreader_hf.training.metrics import accuracy, chance_level, confusion_matrix, macro_f1
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import REPO, TINY_RECIPE, build_tiny_dataset, write_recipe


@pytest.mark.parametrize("name", ["moodreader-tiny", "moodreader-seed", "moodreader-seed-v"])
def test_shipped_recipes_load(name):
    recipe = load_recipe(REPO / "modeling" / f"{name}.yaml")
    assert recipe.name == name
    config = recipe.model_config(num_labels=5 if name.endswith("seed-v") else 3)
    assert (config.eye_feature_size > 0) == recipe.finetune.use_eye


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("finetune", "learnig_rate", 0.1, "finetune.learnig_rate': expected one of the keys"),
        ("finetune", "epochs", "3", "finetune.epochs': expected an integer, got '3'"),
        ("pretrain", "shuffle_buffer", "many", "pretrain.shuffle_buffer': expected an integer"),
        ("finetune", "use_signal", "yes", "finetune.use_signal': expected true or false or one of 'auto'"),
        ("model", "hiden_size", 8, "model.hiden_size': expected a MoodReaderConfig field"),
        ("model", "hidden_size", 8.5, "model.hidden_size': expected an integer"),
        ("finetune", "protocol", "kfold", "finetune.protocol': expected one of 'loso', 'loso-session'"),
    ],
)
def test_bad_recipe_is_rejected_naming_the_key(tmp_path, section, key, value, message):
    path = write_recipe(tmp_path / "bad.yaml", **{section: {key: value}})
    with pytest.raises(MoodReaderInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_recipe(path)


def test_bad_recipe_stops_the_script_before_any_work(tmp_path):
    path = write_recipe(tmp_path / "bad.yaml", surprise=1)
    finished = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "finetune.py"), "--recipe", str(path), "--dataset",
         str(tmp_path / "absent"), "--output-dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert finished.returncode == 2
    assert "field 'surprise': expected one of the keys" in finished.stderr
    assert "Traceback" not in finished.stderr and not (tmp_path / "out").exists()


def test_dataset_without_a_needed_column_is_rejected_naming_it(tmp_path):
    dataset = build_tiny_dataset(tmp_path)
    with pytest.raises(MoodReaderInputError, match="field 'eye': expected a column 'eye'"):
        load_tensors(dataset, channel_names=load_recipe(TINY_RECIPE).model_config().channel_names,
                     need=("de", "label", "eye"))
    built = load_from_disk(str(dataset))
    built["train"].remove_columns("label").save_to_disk(str(tmp_path / "nolabel" / "train"))
    from moodreader_hf.training.data import tensors_from_dataset

    with pytest.raises(MoodReaderInputError, match="field 'label': expected a column 'label'"):
        tensors_from_dataset(load_from_disk(str(tmp_path / "nolabel" / "train")), {}, channel_names=["Fp1"] * 62)


def test_loso_and_within_folds():
    subjects = np.repeat(["1", "2", "10"], 12)
    sessions = np.tile(np.repeat(["a", "b"], 6), 3)
    trials = np.tile(np.repeat([1, 2, 3], 2), 6)
    rows, settings = Rows(subjects, sessions, trials), SplitSettings(fraction=0.3, split_seed=0)
    folds = make_folds("loso", rows, settings)
    assert [fold.test_subject for fold in folds] == ["1", "2", "10"]
    for fold in folds:
        assert set(subjects[fold.test]) == {fold.test_subject}
        assert set(subjects[np.concatenate([fold.train, fold.validation])]) == set(fold.train_subjects)
        assert sorted(np.concatenate([fold.train, fold.validation, fold.test]).tolist()) == list(range(36))
        held = {(subjects[i], sessions[i], trials[i]) for i in fold.validation}
        assert not held & {(subjects[i], sessions[i], trials[i]) for i in fold.train}
    for fold in make_folds("cross-session", rows, settings):
        assert set(sessions[fold.test]) == {"b"} and set(sessions[fold.train]) == {"a"}
        assert set(subjects[np.concatenate([fold.train, fold.validation, fold.test])]) == {fold.test_subject}


def test_metrics_against_hand_counts():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0, 2])
    assert accuracy(labels, predicted) == pytest.approx(5 / 7)
    matrix = confusion_matrix(labels, predicted, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    f1 = [2 * 1 / (2 + 2), 2 * 2 / (2 + 3), 2 * 2 / (3 + 2)]
    assert macro_f1(labels, predicted, 3) == pytest.approx(np.mean(f1))
    assert chance_level(labels, 3) == pytest.approx(3 / 7)


def test_baseline_separates_separable_classes():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3, size=(3, 20))
    labels = rng.integers(0, 3, size=300)
    features = centres[labels] + rng.normal(size=(300, 20))
    for kind in ("logistic_regression", "linear_svm"):
        classifier, scaler, _ = fit_select(kind, features[:150], labels[:150], features[150:200], labels[150:200],
                                           [0.01, 1.0])
        assert accuracy(labels[200:], classifier.predict(scaler.transform(features[200:]))) > 0.95
        classifier, scaler, _ = fit_select(kind, features[:150], rng.permutation(labels[:150]), features[150:200],
                                           labels[150:200], [0.01, 1.0])
        assert accuracy(labels[200:], classifier.predict(scaler.transform(features[200:]))) < 0.6


def test_batches_are_slices_in_a_per_epoch_order():
    loader = batch_loader({"x": torch.arange(10) * 10}, batch_size=4, shuffle=True, seed=3, drop_last=True)
    epochs = []
    for epoch in range(2):
        loader.batch_sampler.sampler.set_epoch(epoch)
        epochs.append([batch["x"].tolist() for batch in loader])
    assert all(len(batch) == 4 for batch in epochs[0]) and len(epochs[0]) == 2
    assert epochs[0] != epochs[1]
    loader.batch_sampler.sampler.set_epoch(0)
    assert [batch["x"].tolist() for batch in loader] == epochs[0]
