"""Named evaluation protocols: how the rows of a built dataset are split into folds.

Each protocol is a recipe value (``finetune.protocol``) and a ``--protocol`` choice; :data:`PROTOCOLS` holds its
definition as the README, the report and the model card state it. Cross-subject protocols keep subjects apart
(validation, by default: whole training subjects held out); within-subject protocols keep trials apart
(validation: whole training trials of the same subject). Folds and validation splits depend only on the dataset and
``split_seed`` (the recipe's ``seed``), so every seed of a run trains on the same folds. Tail rows (a trial's last
windows, :mod:`moodreader_hf.builders.windows`) are tested but never trained or validated on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..validation import MoodReaderInputError, fail
from .folds import Fold, split_validation, subject_order, without_tail_rows
from .given_split import given_assignment
from .window_scores import trial_keys

WITHIN_TRIALS_TRAIN = {"seed": 9, "seed-raw": 9, "seed-iv": 16}
"""``within-trials``: training trials per session by layout (SEED: first 9 of 15; SEED-IV: first 16 of 24)."""
SEED_V_BLOCKS = 3
AUTO_SUBJECT_VALIDATION = 3
"""``validation: auto`` holds out whole subjects when a fold's training pool has at least this many (so that two or
more remain to train on); with fewer it holds out trials."""


@dataclass(frozen=True)
class SplitSettings:
    """What a protocol needs besides the rows.

    Attributes:
        validation: ``"auto"``, ``"subjects"`` or ``"trials"`` (``finetune.validation``).
        fraction: Share of the training pool's subjects or trials held out for early stopping.
        split_seed: Seed of every random choice of folds and validation splits.
        layout: The dataset's layout (decides ``within-trials``' default count).
        train_trials: ``within-trials``: training trials per session; ``None``: the layout's default.
        kfold: ``kfold-subject``: number of folds.
        split_file: ``given-split``: the table of :mod:`.given_split`.
    """

    validation: str = "auto"
    fraction: float = 0.15
    split_seed: int = 0
    layout: str | None = None
    train_trials: int | None = None
    kfold: int = 5
    split_file: str | None = None


@dataclass(frozen=True)
class Rows:
    """The identity columns of a dataset's rows: ``subjects``, ``sessions`` (strings), ``trials`` (int), and
    ``tail`` (bool, True for a trial's tail row; ``None``: the dataset has no tail rows), all ``(rows,)``."""

    subjects: np.ndarray
    sessions: np.ndarray
    trials: np.ndarray
    tail: np.ndarray | None = None

    @property
    def keys(self) -> np.ndarray:
        """``"subject|session|trial"`` per row."""
        return trial_keys(self.subjects, self.sessions, self.trials)


@dataclass(frozen=True)
class Protocol:
    """A named split: ``scope`` is ``"cross-subject"``, ``"within-subject"`` or ``"given"``; ``definition`` the
    sentence the README, report and card print; ``make(rows, settings)`` the folds."""

    name: str
    scope: str
    definition: str
    make: Callable[[Rows, SplitSettings], list[Fold]]


def folder_name(*parts: str) -> str:
    """A fold name safe as a folder name."""
    return "-".join(re.sub(r"[^A-Za-z0-9._]+", "_", part) for part in parts)


def _validation_mode(protocol: str, scope: str, settings: SplitSettings) -> str:
    """``"subjects"`` or ``"trials"``; ``"auto"`` is subjects for cross-subject protocols (trials where a fold's
    training pool holds fewer than :data:`AUTO_SUBJECT_VALIDATION` subjects), trials for within-subject ones."""
    if settings.validation == "auto":
        return "subjects" if scope == "cross-subject" else "trials"
    if settings.validation == "subjects" and scope == "within-subject":
        fail("recipe", "finetune.validation", f"'trials' or 'auto' for the within-subject protocol {protocol!r} (its "
             "training rows are the tested subject's own)", "'subjects'")
    return settings.validation


def _fold(name: str, rows: Rows, test: np.ndarray, pool: np.ndarray, settings: SplitSettings, mode: str, number: int,
          unit: str, session: str | None = None) -> Fold:
    pool_subjects = len(set(rows.subjects[pool].tolist()))
    if mode == "subjects" and settings.validation == "auto" and pool_subjects < AUTO_SUBJECT_VALIDATION:
        mode = "trials"
    groups = rows.subjects if mode == "subjects" else rows.keys
    train, validation = split_validation(pool, groups, settings.fraction, settings.split_seed + number,
                                         unit=mode.rstrip("s"))
    return Fold(name=name, test_subjects=tuple(subject_order(rows.subjects[test])),
                train_subjects=tuple(subject_order(rows.subjects[pool])),
                validation_subjects=tuple(subject_order(rows.subjects[validation])),
                train=train, validation=validation, test=np.sort(test), unit=unit, validation_by=mode,
                session=session)


def fitting_protocols(rows: Rows, settings: SplitSettings) -> list[str]:
    """The protocols that are not cross-subject and make folds of ``rows`` with ``settings`` (``given-split`` is
    listed as needing its table when none is set)."""
    fitting = []
    for name, entry in PROTOCOLS.items():
        if entry.scope == "cross-subject":
            continue
        if name == "given-split" and settings.split_file is None:
            fitting.append("given-split (with a split table)")
            continue
        try:
            entry.make(rows, settings)
        except MoodReaderInputError:
            continue
        fitting.append(name)
    return fitting


def _need_subjects(protocol: str, rows: Rows, settings: SplitSettings, count: int) -> None:
    names = subject_order(rows.subjects)
    if len(names) < count:
        fitting = ", ".join(fitting_protocols(rows, settings)) or "none of the protocols fits these rows"
        fail("dataset", "subject", f"at least {count} subjects for the cross-subject protocol {protocol!r} (with "
             f"{len(names)}, use a protocol that fits: {fitting})", f"subjects {names}")


def loso_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """One fold per subject: test on all its sessions, train and validate on the other subjects."""
    _need_subjects("loso", rows, settings, 2)
    names = subject_order(rows.subjects)
    mode = _validation_mode("loso", "cross-subject", settings)
    return [_fold(folder_name("subject", name), rows, np.flatnonzero(rows.subjects == name),
                  np.flatnonzero(rows.subjects != name), settings, mode, number, "subject")
            for number, name in enumerate(names)]


def loso_session_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """Per session, one fold per subject: test on its rows of that session, train on the other subjects' rows of
    the same session."""
    _need_subjects("loso-session", rows, settings, 2)
    mode = _validation_mode("loso-session", "cross-subject", settings)
    folds = []
    for session in subject_order(rows.sessions):
        in_session = rows.sessions == session
        names = subject_order(rows.subjects[in_session])
        if len(names) < 2:
            fail("dataset", "session", f"at least two subjects in session {session!r} for 'loso-session'",
                 f"subjects {names}")
        for name in names:
            folds.append(_fold(folder_name("session", session, "subject", name), rows,
                               np.flatnonzero(in_session & (rows.subjects == name)),
                               np.flatnonzero(in_session & (rows.subjects != name)), settings, mode, len(folds),
                               "subject", session))
    return folds


def cross_session_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """One fold per subject: test on its last session (natural order of names), train on its earlier ones."""
    mode = _validation_mode("cross-session", "within-subject", settings)
    folds = []
    for number, name in enumerate(subject_order(rows.subjects)):
        own = rows.subjects == name
        sessions = subject_order(rows.sessions[own])
        if len(sessions) < 2:
            fail("dataset", "session", f"at least two sessions of subject {name} for 'cross-session'",
                 f"sessions {sessions}")
        last = rows.sessions == sessions[-1]
        folds.append(_fold(folder_name("subject", name), rows, np.flatnonzero(own & last),
                           np.flatnonzero(own & ~last), settings, mode, number, "trial"))
    return folds


def within_trials_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """One fold per subject and session: its first ``train_trials`` trials (in trial order) train, the rest test."""
    count = settings.train_trials if settings.train_trials is not None else WITHIN_TRIALS_TRAIN.get(
        str(settings.layout))
    if count is None:
        fail("recipe", "finetune.train_trials", f"the training trials per session for 'within-trials' (layout "
             f"{settings.layout!r} has no default; SEED: 9, SEED-IV: 16)", "null")
    mode = _validation_mode("within-trials", "within-subject", settings)
    folds = []
    for name in subject_order(rows.subjects):
        for session in subject_order(rows.sessions[rows.subjects == name]):
            own = (rows.subjects == name) & (rows.sessions == session)
            numbers = sorted(set(rows.trials[own].tolist()))
            if len(numbers) <= count:
                fail("dataset", "trial", f"more than {count} trials (finetune.train_trials) in subject {name} session "
                     f"{session} for 'within-trials'", f"{len(numbers)} trials")
            train_pool = own & np.isin(rows.trials, numbers[:count])
            folds.append(_fold(folder_name("subject", name, "session", session), rows,
                               np.flatnonzero(own & ~train_pool), np.flatnonzero(train_pool), settings, mode,
                               len(folds), "trial"))
    return folds


def seed_v_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """Per subject, three folds: each session's trials (in order) are cut into three consecutive blocks; fold k
    tests block k of every session and trains on the other blocks."""
    mode = _validation_mode("seed-v-3fold", "within-subject", settings)
    folds = []
    for name in subject_order(rows.subjects):
        own = rows.subjects == name
        block = np.full(len(rows.trials), -1)
        for session in subject_order(rows.sessions[own]):
            in_session = own & (rows.sessions == session)
            numbers = sorted(set(rows.trials[in_session].tolist()))
            if len(numbers) < SEED_V_BLOCKS:
                fail("dataset", "trial", f"at least {SEED_V_BLOCKS} trials in subject {name} session {session} for "
                     "'seed-v-3fold'", f"{len(numbers)} trials")
            for index, part in enumerate(np.array_split(np.asarray(numbers), SEED_V_BLOCKS)):
                block[in_session & np.isin(rows.trials, part)] = index
        for index in range(SEED_V_BLOCKS):
            folds.append(_fold(folder_name("subject", name, "block", str(index + 1)), rows,
                               np.flatnonzero(own & (block == index)), np.flatnonzero(own & (block != index)),
                               settings, mode, len(folds), "trial"))
    return folds


def kfold_subject_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """``kfold`` folds over subjects: shuffled once with ``split_seed``, dealt into folds of near-equal size."""
    _need_subjects("kfold-subject", rows, settings, 2)
    names = subject_order(rows.subjects)
    k = settings.kfold
    if k < 2 or k > len(names):
        fail("recipe", "finetune.kfold", f"from 2 to the number of subjects ({len(names)}) for 'kfold-subject'", k)
    mode = _validation_mode("kfold-subject", "cross-subject", settings)
    shuffled = np.random.default_rng(settings.split_seed).permutation(np.asarray(names, dtype=object))
    folds = []
    for number, part in enumerate(np.array_split(shuffled, k)):
        tested = np.isin(rows.subjects, part.astype(str))
        folds.append(_fold(folder_name("fold", str(number + 1)), rows, np.flatnonzero(tested),
                           np.flatnonzero(~tested), settings, mode, number, "subject"))
    return folds


def given_split_folds(rows: Rows, settings: SplitSettings) -> list[Fold]:
    """One fold from the table of :mod:`.given_split`: its ``test`` rows test; its ``validation`` rows, when it has
    them, stop early, else ``finetune.validation`` draws them from its ``train`` rows."""
    if settings.split_file is None:
        fail("recipe", "finetune.split_file", "a table of the dataset's own split for 'given-split' (CSV with "
             "subject, split and optionally session, trial; or --split-file)", "null")
    split = given_assignment(settings.split_file, rows.subjects, rows.sessions, rows.trials)
    test, pool, given = (np.flatnonzero(split == name) for name in ("test", "train", "validation"))
    crossed = not set(rows.subjects[test].tolist()) & set(rows.subjects[np.concatenate([pool, given])].tolist())
    unit = "subject" if crossed else "trial"
    if given.size:
        return [Fold(name="given-split", test_subjects=tuple(subject_order(rows.subjects[test])),
                     train_subjects=tuple(subject_order(rows.subjects[np.concatenate([pool, given])])),
                     validation_subjects=tuple(subject_order(rows.subjects[given])), train=pool, validation=given,
                     test=test, unit=unit, validation_by="given")]
    mode = _validation_mode("given-split", "cross-subject" if crossed else "within-subject", settings)
    return [_fold("given-split", rows, test, pool, settings, mode, 0, unit)]


PROTOCOLS: dict[str, Protocol] = {
    protocol.name: protocol
    for protocol in (
        Protocol("loso", "cross-subject",
                 "Leave-one-subject-out over all sessions: one fold per subject; the model is trained on the other "
                 "subjects and tested on every session of the held-out one.", loso_folds),
        Protocol("loso-session", "cross-subject",
                 "Leave-one-subject-out within each session separately, as in the DGCNN and DANN line of SEED "
                 "papers: for session s and subject k, train on the other subjects' session-s rows and test on k's; "
                 "results per session, then averaged.", loso_session_folds),
        Protocol("cross-session", "within-subject",
                 "Cross-session, per subject: train on the subject's earlier sessions, test on its last session.",
                 cross_session_folds),
        Protocol("within-trials", "within-subject",
                 "Subject-dependent, per subject and session: the first train_trials trials train and the rest test "
                 "(SEED: first 9 of 15 trials, last 6 test; SEED-IV: first 16 of 24, last 8 test).",
                 within_trials_folds),
        Protocol("seed-v-3fold", "within-subject",
                 "SEED-V's three folds per subject: each session's trials are cut into three consecutive blocks "
                 "(trials 1-5, 6-10, 11-15, each holding one trial per emotion); fold k tests block k of every "
                 "session and trains on the other two. Whether SEED-V's authors pool the sessions within a fold, "
                 "as here, could not be verified from their public material.", seed_v_folds),
        Protocol("kfold-subject", "cross-subject",
                 "k-fold over subjects (finetune.kfold, default 5), for large datasets such as FACED: subjects "
                 "shuffled once with the recipe seed and dealt into k folds; each fold tests its subjects and trains "
                 "on the others.", kfold_subject_folds),
        Protocol("given-split", "given",
                 "The dataset's own train/test assignment (e.g. a competition's files), from a table "
                 "(finetune.split_file or --split-file: subject, split and optionally session, trial); one fold.",
                 given_split_folds),
    )
}
"""Every protocol by name, in the order the README's table lists them."""


def make_folds(protocol: str, rows: Rows, settings: SplitSettings) -> list[Fold]:
    """The folds of ``protocol`` (a name of :data:`PROTOCOLS`) on ``rows``, tail rows in no fold's ``train`` or
    ``validation``."""
    if protocol not in PROTOCOLS:
        fail("recipe", "finetune.protocol", f"one of {', '.join(PROTOCOLS)}", repr(protocol))
    return [without_tail_rows(fold, rows.tail) for fold in PROTOCOLS[protocol].make(rows, settings)]
