"""Dataset columns as tensors, loaded once, and batches cut from them by index slicing.

A ``datasets.Dataset`` is never iterated row by row: each needed column is read whole from its Arrow buffers
(:func:`read_columns`) and batches are slices of those arrays (:class:`SlicedRows`), served by a
``DataLoader`` whose batch sampler :meth:`accelerate.Accelerator.prepare` shards across processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler

from ..feature_extraction_moodreader import match_channels, normalization_statistics
from ..validation import fail

SPLIT = "train"
"""The split of a built dataset that holds every subject."""


@dataclass
class EEGTensors:
    """The columns of a built dataset, ``rows`` long, with electrodes in the model's montage order.

    Attributes:
        de: ``(rows, time, channels, bands)`` float32 DE, as stored (not normalised).
        labels: ``(rows,)`` int64 class indices (``-1`` where the dataset has no labels).
        subjects, sessions: ``(rows,)`` strings.
        trials, starts: ``(rows,)`` int64: trial number and first window of the row.
        channel_mask: ``(rows, channels)`` int64, 1 where the electrode was recorded.
        eye: ``(rows, time, eye_dims)`` float32 or ``None``.
        signal: ``(rows, channels, time * samples_per_window)`` float32 µV or ``None``.
        tail: ``(rows,)`` bool, True for a trial's tail row (test-only, see :mod:`moodreader_hf.builders.windows`);
            all False for a dataset without the ``tail`` column (built before tail rows). ``None`` means all False.
        label_names: Class names by index.
        metadata: The dataset's metadata (layout, channel names, simulated, ...).
    """

    de: torch.Tensor
    labels: torch.Tensor
    subjects: np.ndarray
    sessions: np.ndarray
    trials: np.ndarray
    starts: np.ndarray
    channel_mask: torch.Tensor
    eye: torch.Tensor | None = None
    signal: torch.Tensor | None = None
    tail: np.ndarray | None = None
    label_names: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tail is None:
            self.tail = np.zeros(len(self), dtype=bool)

    def __len__(self) -> int:
        return int(self.de.shape[0])


def _fixed_shape_values(column: Any) -> np.ndarray | None:
    """The values of an Arrow column of equal-shaped nested lists (``Array2D``/``Array3D``, fixed-length
    ``List``) as one ``(rows, *shape)`` array, read from the buffers in one copy; ``None`` when the column is not
    such a column (other types, nulls, ragged rows), for the general path."""
    import pyarrow as pa

    shape: list[int] = []
    pieces = []
    for chunk in column.chunks:
        values = chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk
        chunk_shape = []
        while pa.types.is_list(values.type) or pa.types.is_fixed_size_list(values.type):
            if values.null_count or len(values) == 0:
                return None
            lengths = values.value_lengths().to_numpy(zero_copy_only=False)
            if lengths.min() != lengths.max():
                return None
            chunk_shape.append(int(lengths[0]))
            values = values.flatten()
        if not chunk_shape or values.null_count or not (pa.types.is_integer(values.type)
                                                      or pa.types.is_floating(values.type)):
            return None
        if shape and chunk_shape != shape:
            return None
        shape = chunk_shape
        pieces.append(values.to_numpy(zero_copy_only=False))
    if not pieces:
        return None
    return np.concatenate(pieces).reshape(-1, *shape)


def read_columns(dataset: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The columns ``names`` of a ``datasets.Dataset`` as NumPy arrays, rows in the dataset's order.

    Columns of equal-shaped arrays (DE, raw signal, masks) are read straight from the Arrow buffers in one copy
    each; ``with_format("numpy")`` would build them row by row (2.7 s against 0.3 s for the demo's 0.7 GB of
    signal). Every other column goes through ``with_format("numpy")``."""
    table = dataset.select_columns(list(names)).with_format("arrow")[:]
    data: dict[str, np.ndarray] = {}
    general = []
    for name in names:
        values = _fixed_shape_values(table.column(name))
        if values is None:
            general.append(name)
        else:
            data[name] = values
    if general:
        data.update(dataset.select_columns(general).with_format("numpy")[:])
    return data


def tensors_from_dataset(
    dataset: Any,
    metadata: dict[str, Any],
    *,
    channel_names: Sequence[str],
    need: Sequence[str] = ("de", "label"),
    source: str = "dataset",
) -> EEGTensors:
    """Read the columns of ``dataset`` (a ``datasets.Dataset`` or ``DatasetDict`` with split ``"train"``) once.

    Args:
        dataset: The built dataset.
        metadata: Its metadata; ``channel_names`` there name the stored electrodes.
        channel_names: The model's montage; stored electrodes are matched to it by name, missing ones are zero
            with ``channel_mask`` 0.
        need: Columns that must exist besides ``subject``, ``session``, ``trial``, ``start``
            (e.g. ``"label"``, ``"signal"``, ``"eye"``); a missing one is an error naming it.
        source: What the dataset is called in error messages (its path).
    """
    if isinstance(dataset, dict):
        if SPLIT not in dataset:
            fail(source, "split", f"a split named {SPLIT!r}", f"splits {sorted(dataset)}")
        dataset = dataset[SPLIT]
    columns = set(dataset.column_names)
    required = ["subject", "session", "trial", "start", "de", *need]
    missing = [name for name in dict.fromkeys(required) if name not in columns]
    if missing:
        fail(source, missing[0], f"a column {missing[0]!r} (the recipe needs columns {list(dict.fromkeys(required))})",
             f"columns {sorted(columns)}")
    wanted = [name for name in ("subject", "session", "trial", "start", "de", "label", "eye", "signal",
                                "channel_mask", "tail")
              if name in columns and (name in required or name in ("channel_mask", "tail"))]
    data = read_columns(dataset, wanted)
    de = np.asarray(data["de"], dtype=np.float32)
    if de.ndim != 4 or len(de) == 0:
        fail(source, "de", "rows of shape (time, channels, bands)", f"array of shape {de.shape}")
    stored_names = list(metadata.get("channel_names") or channel_names)
    if len(stored_names) != de.shape[2]:
        fail(source, "channel_names", f"{de.shape[2]} names (one per stored electrode)", f"{len(stored_names)} names")
    indices, _ = match_channels(stored_names, list(channel_names))
    present = indices >= 0
    if not present.any():
        fail(source, "channel_names", f"at least one electrode of the model's montage {list(channel_names)[:5]}...",
             f"{stored_names[:5]}...")
    rows = de.shape[0]
    in_order = len(stored_names) == len(channel_names) and np.array_equal(indices, np.arange(len(channel_names)))
    if in_order:
        montage_de = de
    else:
        montage_de = np.zeros((rows, de.shape[1], len(channel_names), de.shape[3]), dtype=np.float32)
        montage_de[:, :, present] = de[:, :, indices[present]]
    stored_mask = np.asarray(data["channel_mask"], dtype=np.int64) if "channel_mask" in data else np.ones(
        (rows, len(stored_names)), dtype=np.int64)
    channel_mask = np.zeros((rows, len(channel_names)), dtype=np.int64)
    channel_mask[:, present] = stored_mask[:, indices[present]]
    if not np.isfinite(de).all():
        fail(source, "de", "finite values", f"{int(de.size - np.isfinite(de).sum())} NaN or infinite values")
    signal = None
    if "signal" in required:
        signal = np.asarray(data["signal"], dtype=np.float32)
        if not in_order:  # the stored electrodes in the model's montage order, absent ones zero
            stored_signal = signal
            signal = np.zeros((rows, len(channel_names), stored_signal.shape[-1]), dtype=np.float32)
            signal[:, present] = stored_signal[:, indices[present]]
    label_feature = dataset.features.get("label")
    labels = np.asarray(data["label"], dtype=np.int64) if "label" in data else np.full(rows, -1, dtype=np.int64)
    return EEGTensors(
        de=torch.from_numpy(montage_de),
        labels=torch.from_numpy(labels),
        subjects=np.asarray(data["subject"]).astype(str),
        sessions=np.asarray(data["session"]).astype(str),
        trials=np.asarray(data["trial"], dtype=np.int64),
        starts=np.asarray(data["start"], dtype=np.int64),
        channel_mask=torch.from_numpy(channel_mask),
        eye=torch.from_numpy(np.asarray(data["eye"], dtype=np.float32)) if "eye" in required else None,
        signal=None if signal is None else torch.from_numpy(signal),
        tail=np.asarray(data["tail"], dtype=bool) if "tail" in data else np.zeros(rows, dtype=bool),
        label_names=list(getattr(label_feature, "names", []) or []),
        metadata=dict(metadata),
    )


def load_tensors(
    path: str | Path, *, channel_names: Sequence[str], need: Sequence[str] = ("de", "label")
) -> EEGTensors:
    """Load the built dataset at ``path`` (see :func:`moodreader_hf.builders.load_built_dataset`) as tensors."""
    from ..builders import load_built_dataset

    if not Path(path).exists():
        fail(str(path), "(folder)", "a dataset folder written by moodreader_hf.builders.build_dataset", "no such folder")
    dataset, metadata = load_built_dataset(path)
    return tensors_from_dataset(dataset, metadata, channel_names=channel_names, need=need, source=str(path))


def fit_normalization(de: torch.Tensor, channel_mask: torch.Tensor) -> tuple[list[list[float]], list[list[float]]]:
    """Per (channel, band) mean and standard deviation of ``de (rows, time, channels, bands)`` over recorded
    electrodes only, as nested lists for :class:`MoodReaderFeatureExtractor`. Pass the training rows only."""
    array = de.numpy().astype(np.float64)
    recorded = channel_mask.numpy().astype(bool)
    if recorded.all():
        return normalization_statistics(array)
    mean, std = normalization_statistics(array)
    for channel in np.flatnonzero(~recorded.all(axis=0)):
        rows = recorded[:, channel]
        if rows.any():
            channel_mean, channel_std = normalization_statistics(array[rows][:, :, channel : channel + 1])
            mean[channel], std[channel] = channel_mean[0], channel_std[0]
    return mean, std


def unrecorded_channels(channel_mask: torch.Tensor, channel_names: Sequence[str]) -> list[str]:
    """The electrodes of ``channel_names`` that no row of ``channel_mask (rows, channels)`` recorded: pass the
    training rows, and these are the model's ``unfitted_channels``."""
    recorded = channel_mask.bool().any(dim=0).tolist()
    return [name for name, here in zip(channel_names, recorded) if not here]


def fitted_channel_mask(channel_mask: torch.Tensor, channel_names: Sequence[str], unfitted: Sequence[str]
                        ) -> torch.Tensor:
    """``channel_mask (rows, channels)`` with the ``unfitted`` electrodes masked in every row, as the feature
    extractor masks its ``unfitted_channels``: what the model is given."""
    if not unfitted:
        return channel_mask
    return channel_mask * torch.as_tensor([name not in unfitted for name in channel_names], dtype=channel_mask.dtype)


def normalize(de: torch.Tensor, channel_mask: torch.Tensor, mean: Sequence, std: Sequence) -> torch.Tensor:
    """``(de - mean) / std`` per (channel, band), with unrecorded electrodes set to zero, as the feature
    extractor does. ``de (rows, time, channels, bands)``, ``channel_mask (rows, channels)``."""
    scaled = (de - torch.tensor(mean, dtype=de.dtype)) / torch.tensor(std, dtype=de.dtype)
    return scaled * channel_mask[:, None, :, None].to(de.dtype)


def normalize_eye(eye: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(eye - mean) / std`` per feature of ``eye (rows, time, eye_dims)``, as the feature extractor does."""
    return (eye - torch.tensor(mean, dtype=eye.dtype)) / torch.tensor(std, dtype=eye.dtype)


class SlicedRows(Dataset):
    """Rows of named tensors that share their first axis; ``__getitems__`` cuts a whole batch in one slice, so
    a ``DataLoader`` never assembles a batch row by row. Each batch also carries ``row`` (the row numbers)."""

    def __init__(self, tensors: dict[str, torch.Tensor]):
        lengths = {len(value) for value in tensors.values()}
        if len(lengths) != 1:
            raise ValueError(f"SlicedRows: expected tensors of one length, got lengths {sorted(lengths)}.")
        self.tensors = tensors
        self.length = lengths.pop()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {name: value[index] for name, value in self.tensors.items()}

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        rows = torch.as_tensor(indices, dtype=torch.long)
        return {name: value[rows] for name, value in self.tensors.items()}


class EpochPermutation(Sampler[int]):
    """Row order of one epoch: a permutation drawn from ``seed`` and the epoch number (so a resumed run sees the
    same order), or ``0..n-1`` when not shuffling."""

    def __init__(self, length: int, *, seed: int, shuffle: bool):
        self.length = length
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.length))
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.length, generator=generator).tolist())


def _identity(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return batch


def batch_loader(
    tensors: dict[str, torch.Tensor], *, batch_size: int, shuffle: bool, seed: int, drop_last: bool
) -> DataLoader:
    """A ``DataLoader`` of :class:`SlicedRows` batches for ``accelerator.prepare`` (with ``split_batches=True``
    each process takes its share of every ``batch_size`` batch, so the optimiser sees the same batches on any
    number of processes). The loader has its own generator, so starting an epoch draws nothing from torch's global
    generator (which a resumed run restores mid-epoch)."""
    rows = SlicedRows(tensors)
    sampler = BatchSampler(EpochPermutation(len(rows), seed=seed, shuffle=shuffle), batch_size, drop_last=drop_last)
    return DataLoader(rows, batch_sampler=sampler, collate_fn=_identity,
                      generator=torch.Generator().manual_seed(seed))
