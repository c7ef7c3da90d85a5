"""Raw-signal rows for MBSM pre-training, streamed from corpora (Parquet shards) and built datasets.

Nothing is held whole in memory: each process reads its own part of every source
(``datasets.distributed.split_dataset_by_node``: whole shards when their number divides among the processes,
otherwise every n-th row), in Arrow batches, through a bounded shuffle buffer, and cuts padded batches from it.
The one exception is a small corpus read by a single process: its decoded rows (up to :data:`CACHE_BYTES`) are
kept after the first epoch, in the same order, so later epochs skip the Parquet decoding (the demo reads its
corpus twelve times in 60 steps; decoding took 5 of its 28 s).

Order and resumption. An epoch of a process is fully determined by ``(seed, epoch, rank)``: the shard order is a
permutation drawn from them, and so is the buffer's choice of rows. The stream position is ``(epoch, rows read in
the epoch)``; a resumed run re-reads the epoch up to that row without training on it (reading costs a small share
of a training step) and then continues with exactly the rows an uninterrupted run would have seen. The position is
per process, so a run resumes only on the number of processes it was started with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from ..configuration_moodreader import MoodReaderConfig, electrode_ids
from ..provenance import metadata_identity
from ..validation import fail

CORPUS_METADATA = "moodreader_corpus.json"
READ_BATCH_ROWS = 16
"""Rows per Arrow batch read from a source (row-by-row decoding is about 25 times slower)."""
CACHE_BYTES = 2**30
"""Decoded signal of a single process's corpus kept between epochs, at most (bytes)."""


@dataclass
class SignalSource:
    """One corpus or built dataset that pre-training reads.

    Attributes:
        path: Its folder.
        kind: ``"corpus"`` (``moodreader build-corpus``) or ``"dataset"`` (``moodreader build-dataset
            --include-signal``; labels ignored).
        dataset_id: Which dataset its recordings come from (see :mod:`moodreader_hf.provenance`).
        sampling_rate: Hz of its signals. samples_per_row: samples per row and channel.
        rows, hours, subjects, montages, rates: What it holds, for the provenance record.
        files: Its Parquet shards (corpora) or ``None`` (built datasets).
        channel_names: The stored electrodes of a built dataset (corpora store them per row).
    """

    path: str
    kind: str
    dataset_id: str
    sampling_rate: float
    samples_per_row: int
    rows: int
    hours: float
    subjects: list[str]
    montages: dict[str, Any] = field(default_factory=dict)
    rates: dict[str, Any] = field(default_factory=dict)
    simulated: bool = False
    files: list[str] | None = None
    channel_names: list[str] | None = None

    def record(self) -> dict[str, Any]:
        """The provenance entry of this source (no file lists)."""
        return {"path": self.path, "kind": self.kind, "dataset_id": self.dataset_id, "rows": self.rows,
                "hours": self.hours, "subjects": self.subjects, "montages": self.montages, "rates": self.rates,
                "sampling_rate": self.sampling_rate, "simulated": self.simulated}


def open_corpus(path: str | Path) -> SignalSource:
    """Describe the corpus folder ``path`` from its ``moodreader_corpus.json``."""
    folder = Path(path)
    metadata_path = folder / CORPUS_METADATA
    if not metadata_path.is_file():
        fail(str(folder), CORPUS_METADATA, "a corpus folder written by `moodreader build-corpus`",
             "no such file" if folder.is_dir() else "no such folder")
    try:
        metadata = json.loads(metadata_path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        fail(str(metadata_path), "(file)", "the JSON metadata of a corpus", f"{type(error).__name__}: {error}")
    for key in ("sampling_rate", "samples_per_row", "rows", "shards"):
        if key not in metadata:
            fail(str(metadata_path), key, "a key of the corpus metadata", "none")
    files = [str(folder / shard["path"]) for shard in metadata["shards"] if shard.get("rows", 0) > 0]
    missing = [name for name in files if not Path(name).is_file()]
    if missing:
        fail(str(folder), "shards", "every shard the metadata lists", f"missing {missing[:3]}")
    if not files:
        fail(str(folder), "shards", "at least one shard with rows", "none")
    return SignalSource(
        path=str(folder), kind="corpus", dataset_id=metadata_identity(metadata),
        sampling_rate=float(metadata["sampling_rate"]), samples_per_row=int(metadata["samples_per_row"]),
        rows=int(metadata["rows"]), hours=float(metadata.get("hours", 0.0)),
        subjects=[str(subject) for subject in metadata.get("subjects", [])], montages=metadata.get("montages", {}),
        rates=metadata.get("rates", {}), simulated=bool(metadata.get("simulated", False)), files=files,
    )


def regular_rows(train: Any) -> Any:
    """A built dataset's split without its tail rows, whose windows repeat those of the row before them (see
    :mod:`moodreader_hf.builders.windows`): pre-training reads every recorded window once."""
    if "tail" not in train.column_names:
        return train
    from .data import read_columns

    tail = read_columns(train, ["tail"])["tail"].astype(bool)
    return train.select(np.flatnonzero(~tail)) if tail.any() else train


def open_signal_dataset(path: str | Path) -> SignalSource:
    """Describe the built dataset ``path``, which must hold the raw signal (``build-dataset --include-signal``);
    its tail rows are left out (:func:`regular_rows`)."""
    from ..builders import load_built_dataset

    folder = Path(path)
    if not folder.exists():
        fail(str(folder), "(folder)", "a dataset folder written by moodreader_hf.builders.build_dataset", "no such folder")
    dataset, metadata = load_built_dataset(folder)
    train = dataset["train"]
    if "signal" not in train.column_names:
        fail(str(folder), "signal", "a raw-signal column for MBSM pre-training (build the dataset with "
             "--include-signal from a raw layout, or build a corpus with `moodreader build-corpus`)",
             f"columns {sorted(train.column_names)}")
    samples = int(train.features["signal"].shape[1])
    rate = float(metadata["sampling_rate"])
    train = regular_rows(train)
    return SignalSource(
        path=str(folder), kind="dataset", dataset_id=metadata_identity(metadata), sampling_rate=rate,
        samples_per_row=samples, rows=len(train), hours=len(train) * samples / rate / 3600,
        subjects=[str(subject) for subject in metadata.get("subjects", [])],
        montages={str(len(metadata["channel_names"])): len(train)}, rates={str(rate): len(train)},
        simulated=bool(metadata.get("simulated", False)), channel_names=list(metadata["channel_names"]),
    )


def check_sources(sources: Sequence[SignalSource], config: MoodReaderConfig) -> int:
    """Check that every source fits the model (rate, whole windows, at most ``max_windows``); return the samples
    per row, which all sources must share."""
    if not sources:
        fail("pretraining", "sources", "at least one corpus (--corpus) or dataset with raw signal (--dataset)", "none")
    for source in sources:
        if abs(source.sampling_rate - config.sampling_rate) > 1e-6:
            fail(source.path, "sampling_rate", f"{config.sampling_rate} Hz (model.sampling_rate of the recipe)",
                 f"{source.sampling_rate:g} Hz")
        windows, remainder = divmod(source.samples_per_row, config.samples_per_window)
        if remainder or not 1 <= windows <= config.max_windows:
            fail(source.path, "samples_per_row", f"a whole number (1 to {config.max_windows}) of "
                 f"{config.window_seconds:g} s windows of {config.samples_per_window} samples",
                 f"{source.samples_per_row} samples")
    lengths = {source.samples_per_row for source in sources}
    if len(lengths) != 1:
        fail("pretraining", "samples_per_row", "one row length across all sources",
             {source.path: source.samples_per_row for source in sources})
    return lengths.pop()


def _signal_rows(column: pa.ChunkedArray | pa.Array) -> list[np.ndarray]:
    """An Arrow column of ``(channels, samples)`` arrays to float32 numpy arrays, without per-value conversion."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    rows = []
    for chunk in chunks:
        storage = chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk
        channels = np.diff(np.asarray(storage.offsets))
        inner = storage.flatten()
        values = inner.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        samples = len(values) // max(1, int(channels.sum())) if len(values) else 0
        bounds = np.concatenate([[0], np.cumsum(channels)]) * samples
        rows.extend(values[start:stop].reshape(count, samples)
                    for start, stop, count in zip(bounds[:-1], bounds[1:], channels))
    return rows


class _SourceReader:
    """The rows of one source that one process reads in one epoch, in Arrow batches."""

    def __init__(self, source: SignalSource, seed: int):
        self.source = source
        self.seed = seed
        self._dataset = None
        self._cache: dict[str, list[tuple[np.ndarray, list[str]]]] | None = {}  # file -> rows; None: too big
        self._cached_bytes = 0

    def _file_order(self, epoch: int) -> list[str]:
        order = np.random.default_rng([self.seed, epoch, 7]).permutation(len(self.source.files))
        return [self.source.files[index] for index in order]

    def _iterable(self, epoch: int, rank: int, world_size: int):
        import datasets
        from datasets.distributed import split_dataset_by_node

        if self.source.kind == "corpus":
            stream = datasets.load_dataset("parquet", data_files={"train": self._file_order(epoch)}, split="train",
                                           streaming=True)
        else:
            if self._dataset is None:
                from ..builders import load_built_dataset

                self._dataset = regular_rows(load_built_dataset(self.source.path)[0]["train"]).select_columns(
                    ["signal", "channel_mask"])
            shards = max(world_size, min(64, len(self._dataset)))
            stream = self._dataset.to_iterable_dataset(num_shards=shards)
        return split_dataset_by_node(stream, rank=rank, world_size=world_size).with_format("arrow")

    def _cached_corpus_rows(self, epoch: int) -> Iterator[tuple[np.ndarray, list[str]]]:
        """A single process's corpus rows in the order the stream gives them: file by file in the epoch's order,
        each file decoded once and kept while the whole fits in :data:`CACHE_BYTES`."""
        import pyarrow.parquet as pq

        for file in self._file_order(epoch):
            if self._cache is not None and file in self._cache:
                yield from self._cache[file]
                continue
            rows = []
            for batch in pq.ParquetFile(file).iter_batches(batch_size=READ_BATCH_ROWS,
                                                           columns=["signal", "channel_names"]):
                rows.extend(zip(_signal_rows(batch.column("signal")), batch.column("channel_names").to_pylist()))
            if self._cache is not None:
                self._cached_bytes += sum(signal.nbytes for signal, _ in rows)
                if self._cached_bytes <= CACHE_BYTES:
                    self._cache[file] = rows
                else:
                    self._cache = None
            yield from rows

    def rows(self, epoch: int, rank: int, world_size: int) -> Iterator[tuple[np.ndarray, list[str]]]:
        """``(signal (channels, samples) µV, channel names)`` of each row; recorded channels only."""
        if self.source.kind == "corpus" and world_size == 1 and self._cache is not None:
            yield from self._cached_corpus_rows(epoch)
            return
        for table in self._iterable(epoch, rank, world_size).iter(batch_size=READ_BATCH_ROWS):
            signals = _signal_rows(table.column("signal"))
            if self.source.kind == "corpus":
                names = table.column("channel_names").to_pylist()
                yield from zip(signals, names)
            else:
                masks = table.column("channel_mask").to_pylist()
                for signal, mask in zip(signals, masks):
                    keep = np.asarray(mask, dtype=bool)
                    yield signal[keep], [name for name, kept in zip(self.source.channel_names, keep) if kept]


@dataclass
class StreamPosition:
    """Where a process is in its stream: ``epoch`` and the rows of that epoch already read."""

    epoch: int = 0
    rows: int = 0


class SignalBatches:
    """Padded raw-signal batches of one process, endless (epoch after epoch), resumable at a :class:`StreamPosition`.

    Each batch holds ``eeg_signals (batch, channels, samples)`` float32 µV, ``channel_mask (batch, channels)``
    int64 and ``electrode_ids (batch, channels)`` int64, channels padded to the widest row of the batch (padding:
    zeros, mask 0). An epoch walks every source once, one after the other, through a shuffle buffer of
    ``buffer_size`` rows.
    """

    def __init__(self, sources: Sequence[SignalSource], *, batch_size: int, buffer_size: int, seed: int, rank: int,
                 world_size: int, start: StreamPosition | None = None):
        self.readers = [_SourceReader(source, seed) for source in sources]
        self.batch_size = batch_size
        self.buffer_size = max(1, buffer_size)
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.position = StreamPosition(**vars(start)) if start is not None else StreamPosition()
        self._ids: dict[tuple[str, ...], list[int]] = {}

    def _shuffled(self, epoch: int) -> Iterator[tuple[np.ndarray, list[str]]]:
        rng = np.random.default_rng([self.seed, epoch, self.rank, 11])
        buffer: list[tuple[np.ndarray, list[str]]] = []
        for reader in self.readers:
            for row in reader.rows(epoch, self.rank, self.world_size):
                if len(buffer) < self.buffer_size:
                    buffer.append(row)
                    continue
                index = int(rng.integers(len(buffer)))
                buffer[index], row = row, buffer[index]
                yield row
        while buffer:
            yield buffer.pop(int(rng.integers(len(buffer))))

    def _electrode_ids(self, names: list[str]) -> list[int]:
        key = tuple(names)
        if key not in self._ids:
            self._ids[key] = electrode_ids(names, "corpus row")
        return self._ids[key]

    def _collate(self, rows: list[tuple[np.ndarray, list[str]]]) -> dict[str, torch.Tensor]:
        width = max(len(names) for _, names in rows)
        samples = rows[0][0].shape[1]
        signals = np.zeros((len(rows), width, samples), dtype=np.float32)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        for index, (signal, names) in enumerate(rows):
            signals[index, : len(names)] = signal
            mask[index, : len(names)] = 1
            ids[index, : len(names)] = self._electrode_ids(names)
        return {"eeg_signals": torch.from_numpy(signals), "channel_mask": torch.from_numpy(mask),
                "electrode_ids": torch.from_numpy(ids)}

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        pending: list[tuple[np.ndarray, list[str]]] = []
        while True:
            epoch, skip = self.position.epoch, self.position.rows
            read = 0
            for row in self._shuffled(epoch):
                read += 1
                if read <= skip:
                    continue
                pending.append(row)
                if len(pending) == self.batch_size:
                    self.position = StreamPosition(epoch, read)
                    yield self._collate(pending)
                    pending = []
            if read == 0:
                fail("pretraining", "sources", f"rows for process {self.rank} of {self.world_size}",
                     "none (fewer rows than processes?)")
            self.position = StreamPosition(epoch + 1, 0)
