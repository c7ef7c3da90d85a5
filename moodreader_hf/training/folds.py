"""Evaluation splits: leave-one-subject-out (LOSO) and within-subject, each with a validation split drawn from
the training rows only, whole trials at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..validation import fail


@dataclass(frozen=True)
class Fold:
    """One train/validation/test split of the rows of a dataset.

    Attributes:
        name: Folder-safe name, e.g. ``"subject-3"``.
        test_subject: The subject whose rows are tested.
        train_subjects: Subjects whose rows train (and validate) the model.
        train: Row numbers that train the model.
        validation: Row numbers for early stopping, whole trials of the training subjects.
        test: Row numbers of the test set.
    """

    name: str
    test_subject: str
    train_subjects: tuple[str, ...]
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def subject_order(subjects: np.ndarray) -> list[str]:
    """The distinct subjects in natural order (``"2"`` before ``"10"``)."""
    def key(name: str) -> list:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]

    return sorted({str(subject) for subject in subjects}, key=key)


def split_validation(
    rows: np.ndarray, groups: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` into (train, validation) by whole groups (trials): ``round(fraction * groups)`` groups, at
    least one, drawn at random with ``seed``; returns sorted row numbers."""
    names = np.unique(groups[rows])
    if len(names) < 2:
        fail("split_validation", "rows", "rows of at least two trials (one for validation)", f"{len(names)} trial")
    count = min(max(1, round(fraction * len(names))), len(names) - 1)
    chosen = np.random.default_rng(seed).choice(names, size=count, replace=False)
    held = np.isin(groups[rows], chosen)
    return np.sort(rows[~held]), np.sort(rows[held])


def _trial_groups(subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray) -> np.ndarray:
    return np.array([f"{a}|{b}|{c}" for a, b, c in zip(subjects, sessions, trials)])


def loso_folds(
    subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray, *, validation_fraction: float, seed: int
) -> list[Fold]:
    """One fold per subject: test on that subject, train and validate on all the others."""
    names = subject_order(subjects)
    if len(names) < 2:
        fail("loso_folds", "subject", "at least two subjects for leave-one-subject-out", f"{names}")
    subjects = np.asarray(subjects).astype(str)
    groups = _trial_groups(subjects, sessions, trials)
    folds = []
    for number, name in enumerate(names):
        training = np.flatnonzero(subjects != name)
        train, validation = split_validation(training, groups, validation_fraction, seed + number)
        folds.append(Fold(f"subject-{name}", name, tuple(n for n in names if n != name), train, validation,
                          np.flatnonzero(subjects == name)))
    return folds


def within_subject_folds(
    subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray, *, validation_fraction: float, seed: int
) -> list[Fold]:
    """One fold per subject: test on the subject's last session, train and validate on its earlier sessions."""
    subjects = np.asarray(subjects).astype(str)
    sessions = np.asarray(sessions).astype(str)
    groups = _trial_groups(subjects, sessions, trials)
    folds = []
    for number, name in enumerate(subject_order(subjects)):
        own = subjects == name
        session_names = subject_order(sessions[own])
        if len(session_names) < 2:
            fail("within_subject_folds", "session", f"at least two sessions of subject {name}", f"{session_names}")
        test = np.flatnonzero(own & (sessions == session_names[-1]))
        train, validation = split_validation(np.flatnonzero(own & (sessions != session_names[-1])), groups,
                                             validation_fraction, seed + number)
        folds.append(Fold(f"subject-{name}", name, (name,), train, validation, test))
    return folds


def make_folds(
    protocol: str, subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray, *,
    validation_fraction: float, seed: int,
) -> list[Fold]:
    """The folds of ``protocol`` (``"loso"`` or ``"within"``)."""
    if protocol == "loso":
        return loso_folds(subjects, sessions, trials, validation_fraction=validation_fraction, seed=seed)
    if protocol == "within":
        return within_subject_folds(subjects, sessions, trials, validation_fraction=validation_fraction, seed=seed)
    fail("make_folds", "protocol", "'loso' or 'within'", repr(protocol))
