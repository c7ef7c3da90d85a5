"""Classification metrics on integer labels: accuracy, macro-F1, balanced accuracy, confusion matrix."""

from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``(num_classes, num_classes)`` counts; row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return matrix


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Fraction of predictions equal to the labels."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return float((labels == predictions).mean()) if labels.size else float("nan")


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Unweighted mean of the per-class F1 over the classes that occur in the labels or the predictions."""
    matrix = confusion_matrix(labels, predictions, num_classes)
    true_positive = np.diag(matrix).astype(np.float64)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    occurring = (support + predicted) > 0
    if not occurring.any():
        return float("nan")
    f1 = 2 * true_positive[occurring] / (support[occurring] + predicted[occurring])
    return float(f1.mean())


def balanced_accuracy(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Unweighted mean of the per-class recall over the classes that occur in the labels (equals accuracy when
    the classes are balanced; chance is ``1 / classes present`` whatever their frequencies)."""
    matrix = confusion_matrix(labels, predictions, num_classes)
    support = matrix.sum(axis=1)
    present = support > 0
    if not present.any():
        return float("nan")
    return float((np.diag(matrix)[present] / support[present]).mean())


def chance_level(labels: np.ndarray, num_classes: int) -> float:
    """Accuracy of always predicting the most frequent class of ``labels``."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)
    return float(counts.max() / counts.sum())


def scores(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> dict[str, float]:
    """``accuracy``, ``macro_f1`` and ``balanced_accuracy`` of ``predictions``."""
    return {"accuracy": accuracy(labels, predictions), "macro_f1": macro_f1(labels, predictions, num_classes),
            "balanced_accuracy": balanced_accuracy(labels, predictions, num_classes)}
