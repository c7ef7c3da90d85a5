"""Fine-tuning and evaluation: LOSO folds never mix subjects (in the report and in the batches fed), normalisation
comes from training subjects only, two real processes reproduce one process, and the outputs are complete.
(Every protocol: tests/test_protocols.py; per-window metrics, seeds, baselines, report: test_baselines_report.py.)"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from moodreader_hf.builders import load_built_dataset
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.training.evaluate import evaluate_model
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe

from .training_helpers import REPO, build_tiny_dataset, write_recipe

FINETUNE = {"epochs": 2, "batch_size": 16, "patience": 2}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return build_tiny_dataset(tmp_path_factory.mktemp("finetune-data"))


@pytest.fixture(scope="module")
def recipe_path(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("recipe") / "recipe.yaml", finetune=FINETUNE)


@pytest.fixture(scope="module")
def loso(dataset, recipe_path, tmp_path_factory):
    output = tmp_path_factory.mktemp("loso")
    fed: dict[tuple[str, str], list[int]] = defaultdict(list)

    def record(fold: str, phase: str, rows: torch.Tensor) -> None:
        fed[fold, phase].extend(rows.tolist())

    report = run_finetuning(load_recipe(recipe_path), dataset, output, progress=False, callback=record)
    return output, report, fed


def _columns(dataset: Path) -> dict[str, np.ndarray]:
    built, _ = load_built_dataset(dataset)
    return built["train"].with_format("numpy")[:]


def test_loso_report_has_one_fold_per_subject_and_never_mixes_them(loso, dataset):
    output, report, _ = loso
    written = json.loads((output / "report.json").read_text())
    subjects = sorted(set(_columns(dataset)["subject"].tolist()))
    assert [fold["test_subject"] for fold in written["folds"]] == subjects
    for fold in written["folds"]:
        assert fold["test_subject"] not in fold["train_subjects"]
        assert sorted(fold["train_subjects"] + [fold["test_subject"]]) == subjects
    accuracies = [fold["accuracy"] for fold in written["folds"]]
    assert written["accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert written["accuracy_std"] == pytest.approx(np.std(accuracies))
    # the planted class effect is learnt in two epochs: above chance on every fold, clearly on average
    assert all(fold["accuracy"] > written["chance_level"] for fold in written["folds"]), accuracies
    assert written["accuracy_mean"] > written["chance_level"] + 0.15, accuracies
    for key in ("protocol", "dataset", "macro_f1_mean", "macro_f1_std", "chance_level", "baselines", "recipe",
                "versions", "simulated", "runtime", "subjects", "per_seed"):
        assert key in written, key
    assert written["protocol"] == "loso" and written["simulated"] is False and written["seeds"] == [0]
    assert written["versions"]["torch"] == version("torch")
    assert set(written["baselines"]) == {"logistic_regression", "linear_svm"}
    assert all(len(entry["folds"]) == len(subjects) for entry in written["baselines"].values())
    assert written["chance_level"] == pytest.approx(1 / 3)
    table = (output / "report.md").read_text().split("### Per subject")[1].split("###")[0]
    assert sum(line.startswith("| ") for line in table.splitlines()) == len(subjects) + 1
    assert (output / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    counts = np.array(written["confusion_matrix"]["counts"])
    windows = _columns(dataset)["de"].shape[1]
    assert counts.sum() == sum(fold["n_test_windows"] for fold in written["folds"]) == windows * sum(
        fold["n_test"] for fold in written["folds"]) == windows * len(_columns(dataset)["subject"])


def test_batches_fed_to_the_model_hold_only_the_folds_subjects(loso, dataset):
    _, report, fed = loso
    subjects = _columns(dataset)["subject"].astype(str)
    for fold in report["folds"]:
        name = f"subject-{fold['test_subject']}"
        trained = set(subjects[fed[name, "train"]]) | set(subjects[fed[name, "validation"]])
        assert trained == set(fold["train_subjects"])
        assert set(subjects[fed[name, "validation"]]) == set(fold["validation_subjects"])
        assert fold["validation_by"] == "trials"  # validation: auto, and two training subjects: trials of both
        assert set(subjects[fed[name, "test"]]) == {fold["test_subject"]}
        assert len(fed[name, "test"]) == fold["n_test"]
        assert not set(fed[name, "train"]) & set(fed[name, "validation"])


def test_fold_normalisation_uses_training_subjects_only(loso, dataset):
    output, report, _ = loso
    columns = _columns(dataset)
    subjects, de = columns["subject"].astype(str), columns["de"].astype(np.float64)
    for fold in report["folds"]:
        extractor = MoodReaderFeatureExtractor.from_pretrained(output / fold["model"])
        training = de[np.isin(subjects, fold["train_subjects"])]
        np.testing.assert_allclose(extractor.de_mean, training.mean(axis=(0, 1)), rtol=1e-6)
        np.testing.assert_allclose(extractor.de_std, training.std(axis=(0, 1)), rtol=1e-6)
        everyone = de.mean(axis=(0, 1))
        assert not np.allclose(extractor.de_mean, everyone, rtol=1e-6)


def test_fold_models_reproduce_their_predictions(loso, dataset):
    output, report, _ = loso
    fold = report["folds"][0]
    folder = output / fold["model"]
    for name in ("config.json", "model.safetensors", "preprocessor_config.json", "modeling_moodreader.py",
                 "configuration_moodreader.py", "feature_extraction_moodreader.py"):
        assert (folder / name).is_file(), name
    result = evaluate_model(folder, dataset, subjects=[fold["test_subject"]])
    assert result["n"] == fold["n_test"]
    assert result["accuracy"] == pytest.approx(fold["accuracy"])
    with open(output / "folds" / f"subject-{fold['test_subject']}" / "predictions.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == fold["n_test"] and {row["subject"] for row in rows} == {fold["test_subject"]}
    assert np.mean([row["label"] == row["prediction"] for row in rows]) == pytest.approx(fold["row_accuracy"])
    assert fold["accuracy"] == pytest.approx(fold["row_accuracy"])  # rows of equal length without overlap


def _launch(command: list[str]) -> None:
    finished = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert finished.returncode == 0, finished.stderr[-3000:]


def test_two_processes_give_the_one_process_report(dataset, recipe_path, tmp_path):
    script = ["scripts/finetune.py", "--recipe", str(recipe_path), "--dataset", str(dataset), "--no-progress"]
    launch = [sys.executable, "-m", "accelerate.commands.launch"]
    _launch([*launch, "--config_file", "modeling/accelerate/cpu_1proc.yaml", *script, "--output-dir",
             str(tmp_path / "one")])
    _launch([*launch, "--config_file", "modeling/accelerate/cpu_2proc.yaml", *script, "--output-dir",
             str(tmp_path / "two")])
    one = json.loads((tmp_path / "one" / "report.json").read_text())
    two = json.loads((tmp_path / "two" / "report.json").read_text())
    assert one["runtime"]["num_processes"] == 1
    assert two["runtime"]["num_processes"] == 2 and two["runtime"]["distributed_type"] == "MULTI_CPU"
    assert [fold["n_test"] for fold in one["folds"]] == [fold["n_test"] for fold in two["folds"]]
    for key in ("accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "chance_level"):
        assert two[key] == pytest.approx(one[key], abs=1e-6), key
    for name, baseline in one["baselines"].items():
        assert two["baselines"][name]["accuracy_mean"] == pytest.approx(baseline["accuracy_mean"])
    for fold in one["folds"]:
        first = load_file(tmp_path / "one" / fold["model"] / "model.safetensors")
        second = load_file(tmp_path / "two" / fold["model"] / "model.safetensors")
        for name in first:
            torch.testing.assert_close(second[name], first[name], rtol=1e-4, atol=1e-5, msg=name)
