"""From rows to windows: the granularity papers report.

A dataset row holds ``windows_per_row`` consecutive DE windows of one trial, from window ``start``. A window is
scored with the prediction of the row that holds it; where rows overlap (``stride < sequence_windows``, or a last
row placed to reach a trial's trailing windows), a window held by several rows takes the class of the mean of
their probabilities, so every window of a trial is counted once whatever the stride.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import fail


@dataclass
class Windows:
    """The distinct windows held by a set of rows.

    Attributes:
        keys: ``(windows,)`` int64 identifiers, sorted (trial number in the row set x stride + window index).
        inverse: ``(rows, windows_per_row)`` index into ``keys`` of every (row, position) pair.
        first_row, first_position: ``(windows,)`` the first (row, position) holding each window.
    """

    keys: np.ndarray
    inverse: np.ndarray
    first_row: np.ndarray
    first_position: np.ndarray

    def __len__(self) -> int:
        return int(self.keys.size)


@dataclass
class WindowPredictions:
    """One entry per distinct window: its subject, session, trial, window index, label and class probabilities
    ``(windows, classes)`` (the mean over the rows holding it)."""

    subjects: np.ndarray
    sessions: np.ndarray
    trials: np.ndarray
    windows: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        """``(windows,)`` predicted class of every window."""
        return self.probabilities.argmax(axis=1)

    def __len__(self) -> int:
        return int(self.labels.size)


def trial_keys(subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """``"subject|session|trial"`` of every row: the identity of a trial across the dataset."""
    return np.array([f"{a}|{b}|{c}" for a, b, c in zip(subjects, sessions, trials)])


def distinct_windows(trials: np.ndarray, starts: np.ndarray, windows_per_row: int) -> Windows:
    """The distinct windows of rows given by their trial key ``trials (rows,)`` and first window ``starts``."""
    _, trial_index = np.unique(np.asarray(trials), return_inverse=True)
    starts = np.asarray(starts, dtype=np.int64)
    span = int(starts.max(initial=0)) + windows_per_row
    positions = np.arange(windows_per_row, dtype=np.int64)
    pairs = trial_index.astype(np.int64)[:, None] * span + starts[:, None] + positions[None, :]
    keys, first, inverse = np.unique(pairs.ravel(), return_index=True, return_inverse=True)
    return Windows(keys=keys, inverse=inverse.reshape(pairs.shape), first_row=first // windows_per_row,
                   first_position=first % windows_per_row)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits (rows, classes)`` in float64."""
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = shifted - shifted.max(axis=1, keepdims=True)
    exponential = np.exp(shifted)
    return exponential / exponential.sum(axis=1, keepdims=True)


def window_predictions(
    subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray, starts: np.ndarray, labels: np.ndarray,
    logits: np.ndarray, windows_per_row: int, *, source: str = "predictions",
) -> WindowPredictions:
    """Score every distinct window of the rows (arrays ``(rows,)``; ``logits (rows, classes)``) with the mean
    probabilities of the rows that hold it."""
    subjects, sessions = np.asarray(subjects).astype(str), np.asarray(sessions).astype(str)
    trials, labels = np.asarray(trials, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    found = distinct_windows(trial_keys(subjects, sessions, trials), starts, windows_per_row)
    probabilities = softmax(logits)
    total = np.zeros((len(found), probabilities.shape[1]))
    np.add.at(total, found.inverse, np.repeat(probabilities[:, None, :], windows_per_row, axis=1))
    counts = np.bincount(found.inverse.ravel(), minlength=len(found))
    window_labels = labels[found.first_row]
    disagree = window_labels[found.inverse] != labels[:, None]
    if disagree.any():
        row = int(np.flatnonzero(disagree.any(axis=1))[0])
        fail(source, "label", "one label for every row of a trial",
             f"rows of subject {subjects[row]} session {sessions[row]} trial {trials[row]} with different labels")
    first = found.first_row
    return WindowPredictions(
        subjects=subjects[first], sessions=sessions[first], trials=trials[first],
        windows=np.asarray(starts, dtype=np.int64)[first] + found.first_position, labels=window_labels,
        probabilities=total / counts[:, None],
    )
