"""The references a reader compares the model with, on the same folds and the same inputs: multinomial logistic
regression and a linear SVM (scikit-learn) on per-window features.

A sample is one DE window, ``channels * bands`` values (plus the window's eye features when the model uses them),
each window of a trial counted once however many rows hold it. Features are standardised with the training
windows' mean and standard deviation. The penalty ``C`` is chosen from a grid by accuracy on the fold's validation
windows, the split that stops the model's training early; the classifier fitted on the training windows with that
``C`` predicts the test windows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from .data import EEGTensors
from .folds import Fold
from .metrics import accuracy
from .window_scores import WindowPredictions, distinct_windows, trial_keys

BASELINES: dict[str, str] = {
    "logistic_regression": "logistic regression on per-window DE",
    "linear_svm": "linear SVM on per-window DE",
}
"""Baseline key -> the name the report prints (``+ eye features`` is appended when they are used)."""
MAX_ITERATIONS = {"logistic_regression": 1000, "linear_svm": 5000}


@dataclass
class WindowSet:
    """Per-window samples of a set of rows: ``features (windows, dims)`` float64, ``labels (windows,)`` and the
    identity of each window (``subjects``, ``sessions``, ``trials``, ``windows``)."""

    features: np.ndarray
    labels: np.ndarray
    subjects: np.ndarray
    sessions: np.ndarray
    trials: np.ndarray
    windows: np.ndarray


def window_set(tensors: EEGTensors, rows: np.ndarray, *, use_eye: bool) -> WindowSet:
    """The distinct windows of ``rows`` as samples: DE ``(channels * bands)`` per window as stored (electrodes
    absent from a recording are 0), then the eye features when ``use_eye``."""
    rows = np.asarray(rows, dtype=np.int64)
    windows_per_row = int(tensors.de.shape[1])
    found = distinct_windows(trial_keys(tensors.subjects[rows], tensors.sessions[rows], tensors.trials[rows]),
                             tensors.starts[rows], windows_per_row)
    source_rows = rows[found.first_row]
    features = [tensors.de.numpy()[source_rows, found.first_position].reshape(len(found), -1)]
    if use_eye:
        features.append(tensors.eye.numpy()[source_rows, found.first_position])
    return WindowSet(
        features=np.concatenate(features, axis=1).astype(np.float64),
        labels=tensors.labels.numpy()[source_rows], subjects=tensors.subjects[source_rows],
        sessions=tensors.sessions[source_rows], trials=tensors.trials[source_rows],
        windows=tensors.starts[source_rows] + found.first_position,
    )


def _classifier(kind: str, c: float) -> Any:
    if kind == "logistic_regression":
        return LogisticRegression(C=c, max_iter=MAX_ITERATIONS[kind])
    return LinearSVC(C=c, max_iter=MAX_ITERATIONS[kind], random_state=0)


def fit_select(kind: str, train_x: np.ndarray, train_y: np.ndarray, validation_x: np.ndarray,
               validation_y: np.ndarray, grid: list[float]) -> tuple[Any, StandardScaler, dict[str, Any]]:
    """Fit ``kind`` on the training samples ``(samples, dims)`` for every ``C`` of ``grid`` and keep the one with the
    best accuracy on the validation samples (ties: the smaller ``C``). Returns the classifier, the scaler fitted on
    the training samples and ``{"c", "validation_accuracy" (per C), "converged"}``."""
    scaler = StandardScaler().fit(train_x)
    train_x, validation_x = scaler.transform(train_x), scaler.transform(validation_x)
    best, chosen, scores, converged = None, None, {}, {}
    for c in sorted(grid):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            classifier = _classifier(kind, c).fit(train_x, train_y)
        converged[c] = not any(issubclass(item.category, ConvergenceWarning) for item in caught)
        scores[c] = accuracy(validation_y, classifier.predict(validation_x))
        if best is None or scores[c] > scores[chosen]:
            best, chosen = classifier, c
    return best, scaler, {"c": chosen, "validation_accuracy": {str(c): value for c, value in scores.items()},
                          "converged": converged[chosen]}


def baseline_fold(kind: str, tensors: EEGTensors, fold: Fold, num_classes: int, *, grid: list[float],
                  use_eye: bool) -> tuple[WindowPredictions, dict[str, Any]]:
    """The test windows of ``fold`` predicted by baseline ``kind`` (one-hot probabilities) and the fit record."""
    train = window_set(tensors, fold.train, use_eye=use_eye)
    validation = window_set(tensors, fold.validation, use_eye=use_eye)
    test = window_set(tensors, fold.test, use_eye=use_eye)
    classifier, scaler, record = fit_select(kind, train.features, train.labels, validation.features,
                                            validation.labels, grid)
    predicted = classifier.predict(scaler.transform(test.features))
    probabilities = np.zeros((len(predicted), num_classes))
    probabilities[np.arange(len(predicted)), predicted] = 1.0
    return WindowPredictions(subjects=test.subjects, sessions=test.sessions, trials=test.trials, windows=test.windows,
                             labels=test.labels, probabilities=probabilities), {
        **record, "train_windows": int(len(train.labels)), "validation_windows": int(len(validation.labels))}
