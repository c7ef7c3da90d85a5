"""Learning, per-window metrics, several seeds, baselines and the report, on simulated SEED with its planted effects.

The planted effects (``moodreader_hf.simulation.effects``) change band power on fixed electrodes for every subject in
the same direction, so a classifier trained on other subjects finds them: LOSO accuracy per window must clear chance
by 0.15 and keep up with logistic regression on the same per-window DE. Every reported number is checked against an
independent computation: windows from ``predictions.csv``, the baselines refitted with scikit-learn, the interval
with ``scipy.stats.t``, the p-value with ``scipy.stats.wilcoxon``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.stats
import torch
from huggingface_hub import ModelCard
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from moodreader_hf import hub
from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.recordings.deap import DEAP_CHANNEL_NAMES
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.baseline import window_set
from moodreader_hf.training.data import EEGTensors
from moodreader_hf.training.evaluate import evaluate_model
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.training.metrics import accuracy, balanced_accuracy
from moodreader_hf.training.report import attach_report
from moodreader_hf.training.statistics import confidence_interval, wilcoxon_test
from moodreader_hf.training.window_scores import window_predictions
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import write_recipe

SEEDS = [0, 1]
SUBJECTS = ["1", "2", "3", "4", "5"]
LEARNING_SCHEDULE = {"seeds": SEEDS, "batch_size": 16, "epochs": 10, "keep": "last"}
"""The tiny recipe with a fixed schedule: with 4 training subjects the validation split is one subject (15 trials),
too few to choose an epoch. Measured on simulation draws 0-5 (mean of the two seeds): early stopping on it gave
0.65, 0.51, 0.48, 0.45, 0.44, 0.47 (four draws failing this test); the last weights after 10 epochs gave 0.65,
0.59, 0.56, 0.66, 0.69, 0.62, against logistic regression 0.65, 0.42, 0.50, 0.55, 0.54, 0.64."""


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """LOSO with the tiny recipe over two seeds on 5 simulated subjects (1 session, 15 trials of 26-30 s), SEED's
    de_LDS features on a 32-electrode cap (DEAP's electrodes, half the cost of SEED's 62), rows of 10 windows."""
    folder = tmp_path_factory.mktemp("learning")
    root = simulate_seed(folder / "raw", n_subjects=5, n_sessions=1, trial_seconds=30.0, seed=0, progress=False)
    dataset = build_dataset("seed", root, folder / "dataset", sequence_windows=10, stride=10,
                            montage=DEAP_CHANNEL_NAMES, progress=False)
    recipe = write_recipe(folder / "recipe.yaml", dataset={"sequence_windows": 10, "stride": 10},
                          finetune=LEARNING_SCHEDULE)
    report = run_finetuning(load_recipe(recipe), dataset, folder / "run", progress=False)
    return folder / "run", dataset, report


def test_loso_learns_per_window_above_chance_and_keeps_up_with_logistic_regression(learned):
    _, _, report = learned
    logistic = report["baselines"]["logistic_regression"]["accuracy_mean"]
    assert report["protocol"] == "loso" and report["seeds"] == SEEDS and report["metric_unit"] == "window"
    assert report["chance_level"] == pytest.approx(1 / 3, abs=0.03)
    assert report["accuracy_mean"] > report["chance_level"] + 0.15, report["per_seed"]
    assert report["accuracy_mean"] >= logistic - 0.05, (report["accuracy_mean"], logistic)
    assert report["accuracy_mean"] == pytest.approx(np.mean([seed["accuracy_mean"] for seed in report["per_seed"]]))


def read_predictions(run: Path, fold: dict) -> list[dict[str, str]]:
    with open(run / fold["predictions"]) as handle:
        return list(csv.DictReader(handle))


def windows_from_predictions(rows: list[dict[str, str]], classes: list[str]) -> dict[tuple, tuple[str, str]]:
    """``{(subject, session, trial, window): (label, predicted class)}``: each row's softmax spread over its windows,
    averaged where rows overlap (a trial's tail row overlaps the row before it), then the most probable class."""
    sums: dict[tuple, np.ndarray] = {}
    labels: dict[tuple, str] = {}
    for row in rows:
        logits = np.array([float(row[f"logit_{name}"]) for name in classes])
        probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        for window in range(int(row["start"]), int(row["start"]) + int(row["windows"])):
            key = (row["subject"], row["session"], int(row["trial"]), window)
            sums[key] = sums.get(key, 0) + probabilities
            labels[key] = row["label"]
    return {key: (labels[key], classes[int(np.argmax(total))]) for key, total in sums.items()}


def recomputed_subject_accuracy(run: Path, report: dict, seed: int) -> dict[str, float]:
    classes = report["dataset"]["classes"]
    windows = {}
    for fold in report["folds"]:
        if fold["seed"] == seed:
            windows.update(windows_from_predictions(read_predictions(run, fold), classes))
    return {name: float(np.mean([label == predicted for key, (label, predicted) in windows.items() if key[0] == name]))
            for name in SUBJECTS}


def subject_windows(root: Path) -> dict[str, int]:
    """Windows per subject: the lengths of its trials' ``de_LDS`` arrays in the simulated files, summed."""
    totals: dict[str, int] = {}
    for path in (root / "ExtractedFeatures").glob("*_*.mat"):
        subject = path.stem.split("_")[0]
        for name, shape, _ in scipy.io.whosmat(path):
            if name.startswith("de_LDS"):
                totals[subject] = totals.get(subject, 0) + shape[1]
    return totals


def test_per_window_accuracy_equals_a_recomputation_from_the_saved_predictions(learned):
    run, dataset, report = learned
    per_seed = {seed: recomputed_subject_accuracy(run, report, seed) for seed in SEEDS}
    totals = subject_windows(dataset.parent / "raw")
    for entry in report["subjects"]:
        name = entry["subject"]
        assert entry["windows"] == totals[name]  # every window of every trial (all are longer than a row)
        for seed in SEEDS:
            assert entry["seeds"][str(seed)]["accuracy"] == pytest.approx(per_seed[seed][name], abs=1e-12)
        assert entry["accuracy"] == pytest.approx(np.mean([per_seed[seed][name] for seed in SEEDS]))
    for summary in report["per_seed"]:
        values = list(per_seed[summary["seed"]].values())
        assert summary["accuracy_mean"] == pytest.approx(np.mean(values))
        assert summary["accuracy_std"] == pytest.approx(np.std(values))
    fold = next(fold for fold in report["folds"] if fold["seed"] == 0)
    rows = read_predictions(run, fold)
    assert fold["row_accuracy"] == pytest.approx(np.mean([row["label"] == row["prediction"] for row in rows]))
    evaluated = evaluate_model(run / fold["model"], dataset, subjects=[fold["test_subject"]])
    assert evaluated["accuracy"] == pytest.approx(fold["accuracy"]) and evaluated["n_windows"] == fold["n_test_windows"]


def test_confidence_intervals_are_student_t_over_seeds_and_subjects(learned):
    _, _, report = learned
    seed_means = [entry["accuracy_mean"] for entry in report["per_seed"]]
    low, high = scipy.stats.t.interval(0.95, len(seed_means) - 1, loc=np.mean(seed_means),
                                       scale=scipy.stats.sem(seed_means))
    assert report["accuracy_ci95_seeds"] == pytest.approx([low, high])
    subjects = [entry["accuracy"] for entry in report["subjects"]]
    low, high = scipy.stats.t.interval(0.95, len(subjects) - 1, loc=np.mean(subjects), scale=scipy.stats.sem(subjects))
    assert report["accuracy_ci95_subjects"] == pytest.approx([low, high])
    assert report["accuracy_std"] == pytest.approx(np.std(subjects))


def test_wilcoxon_p_values_equal_scipy_on_the_per_subject_numbers(learned):
    run, _, report = learned
    model = [np.mean([recomputed_subject_accuracy(run, report, seed)[name] for seed in SEEDS]) for name in SUBJECTS]
    for key, entry in report["baselines"].items():
        baseline = [subject["baselines"][key]["accuracy"] for subject in report["subjects"]]
        expected = scipy.stats.wilcoxon(model, baseline)
        assert entry["wilcoxon"]["accuracy"]["p_value"] == pytest.approx(expected.pvalue)
        assert entry["wilcoxon"]["accuracy"]["statistic"] == pytest.approx(expected.statistic)
        assert entry["wilcoxon"]["accuracy"]["n"] == len(SUBJECTS)


def test_logistic_regression_picks_c_on_the_validation_windows_of_the_fold(learned):
    _, dataset, report = learned
    columns = load_built_dataset(dataset)[0]["train"].with_format("numpy")[:]
    subjects, tail, starts = columns["subject"].astype(str), columns["tail"], columns["start"]
    de, labels = columns["de"].astype(np.float64), columns["label"].astype(int)
    trials = np.array([f"{a}|{b}|{c}" for a, b, c in zip(subjects, columns["session"], columns["trial"])])

    def windows(names: list[str], tested: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The windows of the subjects' regular rows (stride = row: each once) and, for the test subject, the
        windows its tail rows add after the trial's last regular row."""
        chosen = np.isin(subjects, names) & ~tail
        parts = [(de[chosen].reshape(-1, de.shape[2] * de.shape[3]), np.repeat(labels[chosen], de.shape[1]))]
        for row in np.flatnonzero(np.isin(subjects, names) & tail) if tested else []:
            end = starts[chosen & (trials == trials[row])].max() + de.shape[1]
            added = starts[row] + np.arange(de.shape[1]) >= end
            parts.append((de[row][added].reshape(-1, de.shape[2] * de.shape[3]), np.full(added.sum(), labels[row])))
        return np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts])

    fold = report["folds"][0]
    record = report["baselines"]["logistic_regression"]["folds"][0]
    train_x, train_y = windows(sorted(set(fold["train_subjects"]) - set(fold["validation_subjects"])))
    validation_x, validation_y = windows(fold["validation_subjects"])
    test_x, test_y = windows([fold["test_subject"]], tested=True)
    scaler = StandardScaler().fit(train_x)
    scores, fitted = {}, {}
    for c in sorted(report["recipe"]["finetune"]["baseline_c"]):
        fitted[c] = LogisticRegression(C=c, max_iter=1000).fit(scaler.transform(train_x), train_y)
        scores[c] = float((fitted[c].predict(scaler.transform(validation_x)) == validation_y).mean())
        assert record["validation_accuracy"][str(c)] == pytest.approx(scores[c])
    best = max(scores, key=lambda c: (scores[c], -c))
    assert record["c"] == best and record["fold"] == fold["name"]
    tested = float((fitted[best].predict(scaler.transform(test_x)) == test_y).mean())
    first = next(entry for entry in report["subjects"] if entry["subject"] == fold["test_subject"])
    assert first["baselines"]["logistic_regression"]["accuracy"] == pytest.approx(tested)


def test_report_files_hold_every_section_a_paper_needs(learned):
    run, _, report = learned
    written = json.loads((run / "report.json").read_text())
    assert written["accuracy_mean"] == pytest.approx(report["accuracy_mean"])
    assert written["confusion_matrix"]["unit"] == "window"
    assert np.sum(written["confusion_matrix"]["counts"]) == len(SEEDS) * sum(entry["windows"] for entry in
                                                                            report["subjects"])
    assert written["versions"]["scikit-learn"] and written["dataset"]["classes"] == ["negative", "neutral", "positive"]
    for fold in written["folds"]:
        assert fold["isolation"]["test"] == [fold["test_subject"]] and fold["isolation"]["leaked"] == []
        assert (run / fold["model"] / "evaluation.json").is_file()
    text = (run / "report.md").read_text()
    for part in ("## Protocol", "Leave-one-subject-out over all sessions", "## Dataset", "SEED (simulated, seed 0)",
                 "## Results", "95 % CI over seeds", "### Per seed", "### Baselines", "### Per subject",
                 "### Per session", "### Folds", "![Confusion matrix", "## Pre-training", "Simulated data",
                 "scikit-learn"):
        assert part in text, part
    low, high = report["accuracy_ci95_seeds"]
    assert f"| accuracy | **{report['accuracy_mean']:.3f} ± {report['accuracy_std']:.3f}** | " in text
    assert f"[{low:.3f}, {high:.3f}]" in text
    p_value = report["baselines"]["linear_svm"]["wilcoxon"]["accuracy"]["p_value"]
    assert f"| {p_value:.3g} |" in text
    subject_table = text.split("### Per subject")[1].split("###")[0]
    assert [line.split(" | ")[0][2:] for line in subject_table.splitlines() if line.startswith("| ")][1:] == SUBJECTS
    assert (run / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_fold_model_publishes_with_its_protocol_numbers_and_the_simulated_warning(learned, tmp_path):
    run, _, report = learned
    fold = report["folds"][0]
    repo = hub.build_model_repo(run / fold["model"], tmp_path / "repo")
    card = ModelCard.load(repo / "README.md")
    lines = [line for line in card.text.splitlines() if line.strip()]
    assert "trained on simulated data" in lines[0] and "simulated data" in lines[1]
    values = {(result.metric_type, result.metric_config): result for result in card.data.eval_results}
    assert values["accuracy", None].metric_value == pytest.approx(report["accuracy_mean"])
    assert values["f1", "macro"].metric_value == pytest.approx(report["macro_f1_mean"])
    assert {result.dataset_config for result in card.data.eval_results} == {"loso"}
    assert values["accuracy", None].dataset_args == {"protocol": "loso", "unit": "window", "seeds": "0 1",
                                                     "validation": "auto"}
    assert f"This folder is the model of fold `{fold['name']}` (seed 0)" in card.text
    assert f"p = {report['baselines']['logistic_regression']['wilcoxon']['accuracy']['p_value']:.3g}" in card.text
    assert "| **loso** | cross-subject |" in card.text and "| seed-v-3fold | within-subject |" in card.text
    for entry in report["subjects"]:
        assert f"| {entry['subject']} | {entry['accuracy']:.4f} | {entry['macro_f1']:.4f} | {entry['windows']} |" \
            in card.text


def test_a_model_carrying_the_report_publishes_its_numbers(learned, tmp_path):
    run, _, report = learned
    model = tmp_path / "model"
    model.mkdir()
    for path in (run / report["folds"][0]["model"]).iterdir():
        if path.name != "evaluation.json":
            (model / path.name).write_bytes(path.read_bytes())
    assert "no evaluation report" in ModelCard.load(hub.build_model_repo(model, tmp_path / "bare") / "README.md").text
    attach_report(model, run, "Trained on all 5 subjects; the LOSO numbers estimate a new subject.")
    card = ModelCard.load(hub.build_model_repo(model, tmp_path / "repo") / "README.md")
    assert "Trained on all 5 subjects; the LOSO numbers estimate a new subject." in card.text
    assert card.data.eval_results[0].metric_value == pytest.approx(report["accuracy_mean"])
    assert (model / "report.md").is_file() and (model / "confusion_matrix.png").is_file()


def test_overlapping_and_trailing_rows_score_every_window_once_with_their_mean_probabilities():
    """A trial of 7 windows in rows of 4 with stride 2 (starts 0 and 2) and a last row placed at 3 to reach the
    trailing window 6: windows 2-5 are held by two or three rows and take the class of their mean probabilities."""
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4], [0.2, 0.2, 0.6]]))
    scored = window_predictions(np.array(["s"] * 3), np.array(["1"] * 3), np.array([4, 4, 4]), np.array([0, 2, 3]),
                                np.array([2, 2, 2]), logits, 4)
    held = {0: [0], 1: [0], 2: [0, 1], 3: [0, 1, 2], 4: [1, 2], 5: [1, 2], 6: [2]}
    probabilities = np.exp(logits)
    assert scored.windows.tolist() == list(range(7)) and set(scored.trials.tolist()) == {4}
    for window, rows in held.items():
        np.testing.assert_allclose(scored.probabilities[window], probabilities[rows].mean(axis=0))
    assert scored.predictions.tolist() == [0, 0, 0, 2, 2, 2, 2]  # window 3: (1.0, 0.9, 1.1) / 3 -> class 2
    assert accuracy(scored.labels, scored.predictions) == pytest.approx(4 / 7)


def test_rows_of_one_trial_with_different_labels_are_refused():
    with pytest.raises(MoodReaderInputError, match="field 'label': expected one label for every row of a trial"):
        window_predictions(np.array(["s", "s"]), np.array(["1", "1"]), np.array([1, 1]), np.array([0, 1]),
                           np.array([0, 1]), np.zeros((2, 2)), 2)


def test_balanced_accuracy_and_the_paired_test_against_hand_counts():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 0, 1, 1, 0, 2])
    assert balanced_accuracy(labels, predicted, 3) == pytest.approx((3 / 4 + 1 / 2 + 1) / 3)
    assert balanced_accuracy(labels[:4], predicted[:4], 3) == pytest.approx(3 / 4)  # absent classes are not averaged
    assert wilcoxon_test([0.5, 0.6], [0.5, 0.6])["p_value"] is None
    model, baseline = [0.61, 0.72, 0.55, 0.80, 0.66, 0.59], [0.50, 0.70, 0.57, 0.62, 0.60, 0.41]
    result = wilcoxon_test(model, baseline)
    assert result["p_value"] == pytest.approx(scipy.stats.wilcoxon(model, baseline).pvalue)
    assert result["nonzero_differences"] == 6 and confidence_interval([0.5]) is None


def test_baseline_samples_are_distinct_windows_with_the_eye_features_appended():
    rng = np.random.default_rng(2)
    de, eye = rng.normal(size=(3, 4, 2, 5)).astype(np.float32), rng.normal(size=(3, 4, 33)).astype(np.float32)
    tensors = EEGTensors(de=torch.from_numpy(de), labels=torch.tensor([1, 1, 0]), subjects=np.array(["a", "a", "b"]),
                         sessions=np.array(["1", "1", "1"]), trials=np.array([1, 1, 2]), starts=np.array([0, 2, 0]),
                         channel_mask=torch.ones(3, 2, dtype=torch.long), eye=torch.from_numpy(eye))
    samples = window_set(tensors, np.arange(3), use_eye=True)
    expected = [(0, 0), (0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)]  # rows 0, 1 overlap
    assert samples.features.shape == (len(expected), 2 * 5 + 33)
    for index, (row, position) in enumerate(expected):
        np.testing.assert_array_equal(samples.features[index], np.concatenate([de[row, position].ravel(),
                                                                               eye[row, position]]))
    assert samples.labels.tolist() == [1] * 6 + [0] * 4 and samples.windows.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    assert window_set(tensors, np.arange(3), use_eye=False).features.shape == (len(expected), 10)
