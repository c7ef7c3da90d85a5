"""Electrode importance of a Mood Reader classifier on recordings and built datasets, drawn as scalp topomaps.

The methods, the per-class summary and the drawing live in :mod:`moodreader_hf.importance` (which the Space ships
as is); this module adds the rows of a built dataset as input.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .feature_extraction_moodreader import MoodReaderFeatureExtractor, match_channels
from .importance import (
    APPROXIMATE_POSITIONS,
    METHODS,
    ElectrodeImportance,
    attention_scores,
    electrode_importance,
    electrode_positions,
    gradient_scores,
    plot_topomaps,
    recording_inputs,
)
from .validation import fail


def dataset_inputs(
    path: str | os.PathLike, extractor: MoodReaderFeatureExtractor, *, max_rows: int = 512,
    streams: Sequence[str] = ("de",), eye: bool = False,
) -> dict[str, np.ndarray]:
    """Rows of a built dataset as keyword arguments of :func:`electrode_importance`, normalised by ``extractor``:
    ``de_features (rows, windows, channels, bands)``, ``channel_mask (rows, channels)``, ``labels (rows,)`` and,
    for models with the ``"signal"`` stream, ``eeg_signals (rows, channels, samples)`` in the extractor's montage.
    At most ``max_rows`` rows, evenly spaced."""
    from .builders import load_built_dataset

    if not (isinstance(max_rows, int) and max_rows >= 1):
        fail(os.fspath(path), "max_rows", "a positive number of rows", repr(max_rows))
    dataset, metadata = load_built_dataset(path)
    rows = dataset["train"].with_format("numpy")
    picked = np.unique(np.linspace(0, len(rows) - 1, num=min(max_rows, len(rows))).round().astype(np.int64))
    if "signal" in streams and "signal" not in rows.column_names:
        fail(os.fspath(path), "signal", "a raw-signal column (the model uses its raw-signal stream; build the dataset "
             "with --include-signal)", "no such column")
    table = rows[picked]
    names = list(metadata["channel_names"])
    order, _ = match_channels(names, extractor.channel_names)
    if eye and "eye" not in rows.column_names:
        fail(os.fspath(path), "eye", "an eye-feature column (the model uses eye movements)", "no such column")
    de, masks, signals, eyes = [], [], [], []
    for index, (sequence, recorded) in enumerate(zip(table["de"], table["channel_mask"])):
        present = np.asarray(recorded).astype(bool)
        features = extractor(de_features=sequence[:, present], channel_names=[n for n, p in zip(names, present) if p],
                             eye_features=table["eye"][index] if eye else None, on_missing="mask",
                             return_tensors="np")
        de.append(features["de_features"][0])
        masks.append(features["channel_mask"][0])
        if eye:
            eyes.append(features["eye_features"][0])
        if "signal" in streams:
            stored = np.asarray(table["signal"][index], dtype=np.float32)
            signal = np.zeros((len(order), stored.shape[1]), dtype=np.float32)
            signal[order >= 0] = stored[order[order >= 0]]
            signals.append(signal * features["channel_mask"][0][:, None])
    inputs = {"de_features": np.stack(de), "channel_mask": np.stack(masks),
              "labels": np.asarray(table["label"], dtype=np.int64)}
    if signals:
        inputs["eeg_signals"] = np.stack(signals)
    if eyes:
        inputs["eye_features"] = np.stack(eyes)
    return inputs


__all__ = [
    "APPROXIMATE_POSITIONS",
    "METHODS",
    "ElectrodeImportance",
    "attention_scores",
    "dataset_inputs",
    "electrode_importance",
    "electrode_positions",
    "gradient_scores",
    "plot_topomaps",
    "recording_inputs",
]
