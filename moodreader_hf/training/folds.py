"""Folds: the train / validation / test rows of one split, the validation split drawn from the training rows only
(whole subjects or whole trials), tail rows kept for testing only, and the record that proves a fold's test units
reach nothing else.

The protocols that make folds are in :mod:`moodreader_hf.training.protocols`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..validation import fail


@dataclass(frozen=True)
class Fold:
    """One train/validation/test split of the rows of a dataset.

    Attributes:
        name: Folder-safe name, e.g. ``"subject-3"``, ``"session-1-subject-3"``, ``"subject-3-block-2"``.
        test_subjects: The subjects whose rows are tested.
        train_subjects: Subjects of the training pool: the rows that train the model and the validation rows
            (the DE statistics are fitted on all of them).
        validation_subjects: Subjects whose rows decide early stopping (and the baselines' C).
        train: Row numbers that train the model (never a tail row).
        validation: Row numbers for early stopping: whole subjects or whole trials of the training pool (never a
            tail row).
        test: Row numbers of the test set (tail rows included).
        unit: What the fold keeps apart: ``"subject"`` (no test subject's row is used for anything else) or
            ``"trial"`` (within-subject protocols: no test trial's row is).
        validation_by: How the validation rows were chosen: ``"subjects"``, ``"trials"`` or ``"given"``.
        session: The session the fold is confined to (``loso-session``), else ``None``.
    """

    name: str
    test_subjects: tuple[str, ...]
    train_subjects: tuple[str, ...]
    validation_subjects: tuple[str, ...]
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    unit: str
    validation_by: str
    session: str | None = None

    @property
    def test_subject(self) -> str | None:
        """The tested subject when the fold tests one, else ``None``."""
        return self.test_subjects[0] if len(self.test_subjects) == 1 else None


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers by value (``"2"`` before ``"10"``)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(name))]


def subject_order(subjects: np.ndarray) -> list[str]:
    """The distinct subjects (or sessions) in natural order (``"2"`` before ``"10"``)."""
    return sorted({str(subject) for subject in subjects}, key=natural_key)


def split_validation(
    rows: np.ndarray, groups: np.ndarray, fraction: float, seed: int, *, unit: str = "trial"
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` into (train, validation) by whole groups (trials or subjects, ``groups`` names the group of
    every dataset row): ``round(fraction * groups)`` groups, at least one and at most all but one, drawn at random
    with ``seed``; returns sorted row numbers."""
    names = np.unique(groups[rows])
    if len(names) < 2:
        fail("validation split", unit, f"rows of at least two {unit}s in the training pool (one for early stopping)",
             f"{len(names)} {unit} ({', '.join(map(str, names[:3]))})")
    count = min(max(1, round(fraction * len(names))), len(names) - 1)
    chosen = np.random.default_rng(seed).choice(names, size=count, replace=False)
    held = np.isin(groups[rows], chosen)
    return np.sort(rows[~held]), np.sort(rows[held])


def without_tail_rows(fold: Fold, tail: np.ndarray | None) -> Fold:
    """``fold`` with the tail rows (``tail (dataset rows,)`` bool, True for a trial's tail row; ``None``: none) taken
    out of ``train`` and ``validation``, so they never train, stop early or fit the DE statistics; ``test`` keeps
    them."""
    if tail is None:
        return fold
    tail = np.asarray(tail, dtype=bool)
    return replace(fold, train=fold.train[~tail[fold.train]], validation=fold.validation[~tail[fold.validation]])


def isolation_record(
    fold: Fold, subjects: np.ndarray, trials: np.ndarray, *, normalisation: np.ndarray
) -> dict[str, Any]:
    """The units (subjects, or ``subject|session|trial`` keys for ``unit="trial"``) of the rows each stage used:
    ``train``, ``validation`` (= ``early_stopping``), ``normalisation`` (the rows the DE statistics were fitted on)
    and ``test``, with ``leaked``: the test units found in any other stage (empty, or the run stops)."""
    labels = np.asarray(subjects).astype(str) if fold.unit == "subject" else np.asarray(trials)

    def units(rows: np.ndarray) -> list[str]:
        return sorted({str(label) for label in labels[rows]}, key=natural_key)

    record = {"unit": fold.unit, "test": units(fold.test), "train": units(fold.train),
              "validation": units(fold.validation), "early_stopping": units(fold.validation),
              "normalisation": units(normalisation)}
    others = set(record["train"]) | set(record["validation"]) | set(record["normalisation"])
    record["leaked"] = sorted(set(record["test"]) & others, key=natural_key)
    if record["leaked"]:
        raise RuntimeError(f"fold {fold.name}: test {fold.unit}s {record['leaked']} reached training; this is a bug.")
    return record
