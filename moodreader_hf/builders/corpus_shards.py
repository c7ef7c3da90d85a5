"""Writing a corpus's rows to Parquet shards that are never visible half-written, and the journal of a build.

A shard is written under ``<output>/.partial/`` and renamed into ``<output>/data/`` once complete; then the journal
``<output>/.moodreader_build.json`` is replaced (atomically) by one that lists it, with the position of the next row
to write and the counts of every recording whose rows are all in listed shards. A killed build leaves the listed
shards plus, at worst, a shard renamed but not yet listed: a rerun removes that one and the ``.partial`` folder, and
continues from the journal's position, writing exactly what an uninterrupted build writes.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from datasets import Dataset, Features

from ..atomic import write_json
from .corpus_sources import RecordingRows

DATA_FOLDER = "data"
PARTIAL_FOLDER = ".partial"
JOURNAL_FILE = ".moodreader_build.json"
SHARD_NAME = re.compile(r"^train-\d{5}\.parquet$")
ROW_GROUP_BYTES = 16 * 2**20
"""Rows are handed to the Parquet writer in groups of about this many bytes (Parquet row groups)."""
DICTIONARY_COLUMNS = ["channel_names.list.element", "subject", "source"]
"""Columns worth dictionary encoding; a signal's dictionary page would only add to the file."""


def shard_name(index: int) -> str:
    """Path of shard ``index`` relative to the corpus folder."""
    return f"{DATA_FOLDER}/train-{index:05d}.parquet"


def row_bytes(signal: np.ndarray, names: tuple[str, ...], subject: str, source: str) -> int:
    """Bytes a row occupies uncompressed: its signal, its strings and two float64 columns."""
    return signal.nbytes + sum(len(name) for name in names) + len(subject) + len(source) + 16


class ShardWriter:
    """Writes rows to shard after shard of at most ``limit_bytes`` (a row larger than that is a shard alone)."""

    def __init__(self, output: Path, features: Features, limit_bytes: int, next_index: int):
        self.output = output
        self.features = features
        self.limit_bytes = limit_bytes
        self.index = next_index
        self.writer: pq.ParquetWriter | None = None
        self.pending: list[dict[str, Any]] = []
        self.pending_bytes = 0
        self.rows = 0
        self.bytes = 0
        self.seconds = 0.0

    def fits(self, size: int) -> bool:
        """Whether a row of ``size`` bytes still goes into the current shard."""
        return self.rows == 0 or self.bytes + size <= self.limit_bytes

    def add(self, row: dict[str, Any], size: int) -> None:
        """Append one row (a dict of the corpus's columns) of ``size`` bytes to the current shard."""
        self.pending.append(row)
        self.pending_bytes += size
        self.rows += 1
        self.bytes += size
        self.seconds += row["signal"].shape[1] / row["sampling_rate"]
        if self.pending_bytes >= ROW_GROUP_BYTES:
            self._write_pending()

    def _write_pending(self) -> None:
        if not self.pending:
            return
        # The table's schema carries the declared features (Hugging Face metadata), so readers restore them.
        table = Dataset.from_dict({column: [row[column] for row in self.pending] for column in self.features},
                                  features=self.features).data.table  # fmt: skip
        if self.writer is None:
            partial = self.output / PARTIAL_FOLDER
            partial.mkdir(exist_ok=True)
            self.writer = pq.ParquetWriter(partial / Path(shard_name(self.index)).name, table.schema,
                                           compression="zstd", use_dictionary=DICTIONARY_COLUMNS)  # fmt: skip
        self.writer.write_table(table)
        self.pending, self.pending_bytes = [], 0

    def commit(self) -> dict[str, Any]:
        """Close the current shard, rename it into ``data/`` and return its entry ``{"path", "rows", "bytes",
        "seconds"}``; the next row starts a new shard."""
        self._write_pending()
        self.writer.close()
        self.writer = None
        name = shard_name(self.index)
        os.replace(self.output / PARTIAL_FOLDER / Path(name).name, self.output / name)
        entry = {"path": name, "rows": self.rows, "bytes": self.bytes, "seconds": self.seconds}
        self.index += 1
        self.rows, self.bytes, self.seconds = 0, 0, 0.0
        return entry


@dataclass
class CorpusCounts:
    """What the recordings whose rows are written held: every channel kept or dropped, rows dropped, montages,
    rates, subjects and skipped files. Channel, montage and rate counts are numbers of recordings; ``files``,
    ``subjects``, ``montages`` and ``rates`` count only recordings that gave rows."""

    recordings: int = 0
    files: int = 0
    last_file: str | None = None
    subjects: set[str] = field(default_factory=set)
    kept: Counter = field(default_factory=Counter)
    matched: Counter = field(default_factory=Counter)
    renamed: Counter = field(default_factory=Counter)
    dropped: dict[str, Counter] = field(default_factory=dict)
    rows_dropped: Counter = field(default_factory=Counter)
    montages: Counter = field(default_factory=Counter)
    rates: Counter = field(default_factory=Counter)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def add(self, result: RecordingRows) -> None:
        """Count one processed recording."""
        self.recordings += 1
        if len(result.starts) and result.file != self.last_file:
            self.files += 1
            self.last_file = result.file
        if result.skipped is not None:
            self.skipped.append({"source": result.source, "path": result.file, "reason": result.skipped})
        mapping = result.channels
        if mapping is not None:
            self.kept.update(mapping.names)
            self.matched.update(mapping.how)
            self.renamed.update(f"{original} -> {name}" for original, name, how in
                                zip(mapping.originals, mapping.names, mapping.how) if how != "name")  # fmt: skip
            for original, reason in mapping.dropped:
                self.dropped.setdefault(reason, Counter())[original] += 1
        self.rows_dropped.update(result.rows_dropped or {})
        if len(result.starts):
            self.subjects.add(str(result.subject))
            self.montages[" ".join(result.channel_names)] += 1
            self.rates[f"{result.sfreq:g} Hz"] += 1

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable copy (for the journal)."""
        return {
            "recordings": self.recordings, "files": self.files, "last_file": self.last_file,
            "subjects": sorted(self.subjects), "kept": dict(self.kept), "matched": dict(self.matched),
            "renamed": dict(self.renamed), "dropped": {reason: dict(names) for reason, names in self.dropped.items()},
            "rows_dropped": dict(self.rows_dropped), "montages": dict(self.montages), "rates": dict(self.rates),
            "skipped": list(self.skipped),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CorpusCounts:
        """The inverse of :meth:`to_json`."""
        return cls(
            recordings=data["recordings"], files=data["files"], last_file=data["last_file"],
            subjects=set(data["subjects"]), kept=Counter(data["kept"]), matched=Counter(data["matched"]),
            renamed=Counter(data["renamed"]),
            dropped={reason: Counter(names) for reason, names in data["dropped"].items()},
            rows_dropped=Counter(data["rows_dropped"]), montages=Counter(data["montages"]),
            rates=Counter(data["rates"]), skipped=list(data["skipped"]),
        )  # fmt: skip


@dataclass
class Journal:
    """The state of an unfinished build: its fingerprint (sources and options), the committed shards, the next row
    to write (``next_recording``, ``next_row``) and the counts of the recordings before ``next_recording``."""

    fingerprint: str
    shards: list[dict[str, Any]] = field(default_factory=list)
    next_recording: int = 0
    next_row: int = 0
    counts: CorpusCounts = field(default_factory=CorpusCounts)

    def save(self, output: Path) -> None:
        """Replace the journal file atomically."""
        write_json(output / JOURNAL_FILE, {
            "kind": "moodreader corpus build", "fingerprint": self.fingerprint, "shards": self.shards,
            "next_recording": self.next_recording, "next_row": self.next_row, "counts": self.counts.to_json(),
        })  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Journal:
        """The journal read back from its file's JSON."""
        return cls(data["fingerprint"], list(data["shards"]), int(data["next_recording"]), int(data["next_row"]),
                   CorpusCounts.from_json(data["counts"]))  # fmt: skip


def clear_uncommitted(output: Path, shards: list[dict[str, Any]]) -> None:
    """Remove what a killed build left beyond its journal: the ``.partial`` folder and shards not listed."""
    shutil.rmtree(output / PARTIAL_FOLDER, ignore_errors=True)
    listed = {Path(shard["path"]).name for shard in shards}
    for path in (output / DATA_FOLDER).glob("train-*.parquet"):
        if SHARD_NAME.match(path.name) and path.name not in listed:
            path.unlink()
