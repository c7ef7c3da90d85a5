"""The numbers of a report: per-subject and per-session tables, per-seed means, the headline with confidence
intervals, and the baselines beside the model with a paired test.

Every metric is computed on a subject's test windows pooled over the folds that test it (each window is tested
once per seed in every protocol), then summarised over subjects: mean ± standard deviation (``ddof=0``) and a 95 %
Student-t interval. With several seeds, a subject's number is its mean over seeds; the headline is the mean over
seeds of the per-seed means over subjects (the same number), with the interval over the seed means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .baseline import BASELINES
from .folds import natural_key
from .metrics import accuracy, confusion_matrix, scores
from .statistics import confidence_interval, mean_std, wilcoxon_test
from .window_scores import WindowPredictions

METRICS = ("accuracy", "macro_f1", "balanced_accuracy")
"""Per-window metrics of every table; ``row_accuracy`` (one prediction per dataset row) is reported beside them."""


@dataclass
class RowPredictions:
    """Per-row results of a fold: ``subjects``, ``sessions``, ``labels``, ``predictions`` (all ``(rows,)``)."""

    subjects: np.ndarray
    sessions: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray


def concatenate(parts: list[WindowPredictions]) -> WindowPredictions:
    """The windows of several folds as one set."""
    return WindowPredictions(**{name: np.concatenate([getattr(part, name) for part in parts])
                                for name in ("subjects", "sessions", "trials", "windows", "labels", "probabilities")})


def _grouped(windows: WindowPredictions, groups: np.ndarray, num_classes: int) -> dict[str, dict[str, float]]:
    predicted = windows.predictions
    return {name: {**scores(windows.labels[groups == name], predicted[groups == name], num_classes),
                   "windows": int((groups == name).sum())}
            for name in sorted(set(groups.tolist()), key=natural_key)}


def _row_accuracy(rows: list[RowPredictions], subject: str) -> float:
    labels = np.concatenate([part.labels[part.subjects == subject] for part in rows])
    predictions = np.concatenate([part.predictions[part.subjects == subject] for part in rows])
    return accuracy(labels, predictions)


def _summary(values: dict[str, list[float]], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, numbers in values.items():
        out[f"{prefix}{name}_mean"], out[f"{prefix}{name}_std"] = mean_std(numbers)
        out[f"{prefix}{name}_ci95_subjects"] = confidence_interval(numbers)
    return out


def summarise(
    model: dict[int, list[WindowPredictions]], rows: dict[int, list[RowPredictions]],
    baselines: dict[str, list[WindowPredictions]], baseline_records: dict[str, list[dict[str, Any]]], *,
    num_classes: int, eye: bool,
) -> dict[str, Any]:
    """The report's numbers from the test windows of every fold: ``model`` and ``rows`` by seed, ``baselines`` by
    baseline key (fitted once per fold: they do not depend on the seed)."""
    seeds = sorted(model)
    pooled = {seed: concatenate(model[seed]) for seed in seeds}
    subject_names = sorted(set(pooled[seeds[0]].subjects.tolist()), key=natural_key)
    by_seed = {seed: _grouped(pooled[seed], pooled[seed].subjects, num_classes) for seed in seeds}
    references = {kind: concatenate(parts) for kind, parts in baselines.items()}
    by_baseline = {kind: _grouped(windows, windows.subjects, num_classes) for kind, windows in references.items()}
    subjects = []
    for name in subject_names:
        per_seed = {str(seed): {**{metric: by_seed[seed][name][metric] for metric in METRICS},
                                "row_accuracy": _row_accuracy(rows[seed], name)} for seed in seeds}
        entry = {"subject": name, "windows": by_seed[seeds[0]][name]["windows"],
                 "rows": int(sum((part.subjects == name).sum() for part in rows[seeds[0]]))}
        for metric in (*METRICS, "row_accuracy"):
            entry[metric] = float(np.mean([per_seed[str(seed)][metric] for seed in seeds]))
        entry["seeds"] = per_seed
        entry["baselines"] = {kind: {metric: table[name][metric] for metric in METRICS}
                              for kind, table in by_baseline.items()}
        subjects.append(entry)
    per_seed_summary = []
    for seed in seeds:
        values = {metric: [entry["seeds"][str(seed)][metric] for entry in subjects]
                  for metric in (*METRICS, "row_accuracy")}
        per_seed_summary.append({"seed": seed, **_summary(values)})
    headline: dict[str, Any] = {}
    for metric in (*METRICS, "row_accuracy"):
        averaged = [entry[metric] for entry in subjects]
        seed_means = [summary[f"{metric}_mean"] for summary in per_seed_summary]
        headline[f"{metric}_mean"] = float(np.mean(seed_means))
        headline[f"{metric}_std"] = mean_std(averaged)[1]
        headline[f"{metric}_ci95_subjects"] = confidence_interval(averaged)
        headline[f"{metric}_ci95_seeds"] = confidence_interval(seed_means)
        headline[f"{metric}_std_over_seeds"] = mean_std(seed_means)[1]
    sessions = []
    for session in sorted(set(pooled[seeds[0]].sessions.tolist()), key=natural_key):
        values: dict[str, list[float]] = {metric: [] for metric in METRICS}
        tested = []
        for name in subject_names:
            mask = {seed: (pooled[seed].subjects == name) & (pooled[seed].sessions == session) for seed in seeds}
            if not mask[seeds[0]].any():
                continue
            tested.append(name)
            seed_scores = [scores(pooled[seed].labels[mask[seed]], pooled[seed].predictions[mask[seed]], num_classes)
                           for seed in seeds]
            for metric in METRICS:
                values[metric].append(float(np.mean([entry[metric] for entry in seed_scores])))
        reference = {}
        for kind, windows in references.items():
            per_subject = [scores(windows.labels[mask], windows.predictions[mask], num_classes)["accuracy"]
                           for name in tested for mask in [(windows.subjects == name) & (windows.sessions == session)]]
            reference[kind] = {"accuracy_mean": mean_std(per_subject)[0], "accuracy_std": mean_std(per_subject)[1]}
        sessions.append({"session": session, "subjects": tested, **_summary(values), "baselines": reference})
    baseline_summary = {}
    for kind, table in by_baseline.items():
        values = {metric: [table[name][metric] for name in subject_names] for metric in METRICS}
        baseline_summary[kind] = {
            "name": BASELINES[kind] + (" + eye features" if eye else ""), **_summary(values),
            "wilcoxon": {metric: wilcoxon_test([entry[metric] for entry in subjects], values[metric])
                         for metric in ("accuracy", "macro_f1")},
            "folds": baseline_records[kind],
        }
    matrix = sum(confusion_matrix(pooled[seed].labels, pooled[seed].predictions, num_classes) for seed in seeds)
    return {"subjects": subjects, "sessions": sessions, "per_seed": per_seed_summary, **headline,
            "baselines": baseline_summary, "confusion_matrix_counts": matrix}
