"""The rows of a built dataset written to Arrow shards as they are produced, in the folder layout of
``Dataset.save_to_disk`` (``data-XXXXX-of-YYYYY.arrow``, ``state.json``, ``dataset_info.json``), so that
``datasets.load_from_disk`` reads the result as if ``save_to_disk`` had written it.

Nothing is held beyond one record batch: a SEED-sized build with the raw signal (7 GB of rows) writes in the memory
of a few batches, where building the whole table and then saving it (``from_generator`` + ``save_to_disk``) maps and
reads every page of it back.
"""

from __future__ import annotations

import json
from pathlib import Path

from datasets import DatasetInfo, Features, SplitDict, SplitInfo
from datasets.arrow_writer import ArrowWriter
from datasets.utils.py_utils import asdict

SHARD_BYTES = 500 * 2**20
"""Rows of about this many bytes go into one shard (``save_to_disk``'s default ``max_shard_size``)."""


class ShardWriter:
    """Write encoded rows into ``folder`` shard by shard.

    Args:
        folder: The split's folder (created).
        features: The declared columns; every row is encoded with ``features.encode_example``.
        row_bytes: Bytes of one row (its arrays), to cut shards of :data:`SHARD_BYTES`.
        batch_rows: Rows per Arrow record batch.
        split: The split's name, recorded in ``state.json``.
        shard_bytes: Bytes per shard (default :data:`SHARD_BYTES`).
    """

    def __init__(self, folder: Path, features: Features, *, row_bytes: int, batch_rows: int, split: str,
                 shard_bytes: int | None = None):  # fmt: skip
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.features = features
        self.split = split
        self.batch_rows = batch_rows
        self.rows_per_shard = max(1, (shard_bytes or SHARD_BYTES) // max(row_bytes, 1))
        self.shards: list[tuple[Path, int, int]] = []
        self.writer: ArrowWriter | None = None
        self.current: Path | None = None
        self.rows_in_shard = 0

    def _open(self) -> ArrowWriter:
        path = self.folder / f"shard-{len(self.shards):05d}.arrow"
        self.current = path
        return ArrowWriter(features=self.features, path=str(path), writer_batch_size=self.batch_rows)

    def _finish_shard(self) -> None:
        rows, size = self.writer.finalize()
        self.writer.close()
        self.shards.append((self.current, rows, size))
        self.writer, self.rows_in_shard = None, 0

    def write(self, row: dict[str, object]) -> None:
        """Encode and append one row."""
        if self.writer is None:
            self.writer = self._open()
        self.writer.write(self.features.encode_example(row))
        self.rows_in_shard += 1
        if self.rows_in_shard >= self.rows_per_shard:
            self._finish_shard()

    def close(self, fingerprint: str) -> tuple[int, int]:
        """Finish the last shard, give the shards their final names and write ``state.json`` and
        ``dataset_info.json``; returns the number of rows and of bytes."""
        if self.writer is not None:
            self._finish_shard()
        count = len(self.shards)
        names = [f"data-{index:05d}-of-{count:05d}.arrow" for index in range(count)]
        for (path, _, _), name in zip(self.shards, names):
            path.rename(self.folder / name)
        rows, size = sum(shard[1] for shard in self.shards), sum(shard[2] for shard in self.shards)
        state = {"_data_files": [{"filename": name} for name in names], "_fingerprint": fingerprint,
                 "_format_columns": None, "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False,
                 "_split": self.split}  # fmt: skip
        (self.folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True))
        splits = SplitDict()
        splits.add(SplitInfo(name=self.split, num_bytes=size, num_examples=rows))
        info = asdict(DatasetInfo(features=self.features, splits=splits, dataset_size=size, size_in_bytes=size))
        (self.folder / "dataset_info.json").write_text(json.dumps({key: info[key] for key in sorted(info)}, indent=2))
        return rows, size

    def abort(self) -> None:
        """Close an open shard after a failure (the caller removes the folder)."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
