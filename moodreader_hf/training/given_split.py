"""A dataset's own train/test assignment (``given-split``), supplied as a table because a built dataset has no split
column: ``finetune.split_file`` in the recipe or ``moodreader finetune --split-file``.

The table is CSV (``.tsv``: tab-separated) with a header and the columns ``subject`` and ``split`` (``train``,
``validation`` or ``test``), and optionally ``session`` and ``trial``: a line assigns every row of the dataset that
matches it on the columns the table has (``subject,split``: whole subjects, as a competition's per-subject files;
``subject,session,trial,split``: single trials). Every row of the dataset must be assigned exactly once, and every
line must match rows of the dataset, so a mistyped name is an error rather than a silently smaller split. Lines with
``validation`` make that split the early-stopping set; without them ``finetune.validation`` draws one from the
training rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..validation import fail, reading

SPLITS = ("train", "validation", "test")
KEY_COLUMNS = ("subject", "session", "trial")


def read_split_file(path: str | Path) -> tuple[tuple[str, ...], dict[tuple[str, ...], tuple[str, int]]]:
    """The key columns the table uses and ``{key values: (split, line number)}``."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        fail(source, "split_file", "a CSV or TSV table with columns subject, split (and optionally session, trial)",
             "no such file")
    with reading(path, "split_file", "a UTF-8 CSV or TSV table"):
        text = path.read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in ("subject", "split") if name not in header]
    if missing:
        fail(source, missing[0], "a header with the columns subject and split (optionally session, trial)",
             f"columns {header}")
    columns = tuple(name for name in KEY_COLUMNS if name in header)
    table: dict[tuple[str, ...], tuple[str, int]] = {}
    for number, line in enumerate(reader, start=2):
        values = {name.strip(): (value or "").strip() for name, value in line.items() if name is not None}
        split = values.get("split", "")
        if split not in SPLITS:
            fail(source, f"line {number}: split", f"one of {', '.join(SPLITS)}", repr(split))
        key = tuple(values.get(name, "") for name in columns)
        if not all(key):
            fail(source, f"line {number}: {columns[key.index('')]}", "a value", "an empty cell")
        if "trial" in columns:
            trial = key[columns.index("trial")]
            if not trial.isdigit():
                fail(source, f"line {number}: trial", "a trial number (1-based, as in the dataset)", repr(trial))
            key = tuple(str(int(value)) if name == "trial" else value for name, value in zip(columns, key))
        if key in table and table[key][0] != split:
            fail(source, f"line {number}: split", f"one split for {dict(zip(columns, key))} (line {table[key][1]} "
                 f"says {table[key][0]})", repr(split))
        table[key] = (split, number)
    if not table:
        fail(source, "split_file", "at least one line after the header", "no lines")
    return columns, table


def given_assignment(path: str | Path, subjects: np.ndarray, sessions: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """``(rows,)`` the split (``"train"``, ``"validation"`` or ``"test"``) of every dataset row."""
    columns, table = read_split_file(path)
    values = {"subject": np.asarray(subjects).astype(str), "session": np.asarray(sessions).astype(str),
              "trial": np.asarray(trials, dtype=np.int64).astype(str)}
    keys = list(zip(*(values[name] for name in columns)))
    assigned = np.array([table.get(key, ("", 0))[0] for key in keys], dtype=object)
    unassigned = np.flatnonzero(assigned == "")
    if unassigned.size:
        row = int(unassigned[0])
        fail(str(path), "split_file", f"a line for every row of the dataset ({unassigned.size} rows have none)",
             f"no line for subject {str(values['subject'][row])!r} session {str(values['session'][row])!r} "
             f"trial {values['trial'][row]}")
    present = set(keys)
    for key, (_, number) in table.items():
        if key not in present:
            fail(str(path), f"line {number}", "a line that matches rows of the dataset",
                 f"{dict(zip(columns, key))}, which matches none")
    for split in ("train", "test"):
        if not (assigned == split).any():
            fail(str(path), "split", f"rows assigned to {split!r}", "none")
    return assigned.astype(str)
