"""Electrode importance of a Mood Reader classifier on recordings and built datasets, drawn as scalp topomaps.

The methods, the per-class summary and the drawing live in :mod:`moodreader_hf.importance` (which the Space ships
as is); this module adds the rows of a built dataset as input.
"""

from __future__ import annotations

import os

import numpy as np

from .feature_extraction_moodreader import MoodReaderFeatureExtractor
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
    path: str | os.PathLike, extractor: MoodReaderFeatureExtractor, *, max_rows: int = 512
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of a built dataset, normalised by ``extractor``: DE ``(rows, windows, channels, bands)``,
    ``channel_mask (rows, channels)`` and ``labels (rows,)``. At most ``max_rows`` rows, evenly spaced."""
    from .builders import load_built_dataset

    if not (isinstance(max_rows, int) and max_rows >= 1):
        fail(os.fspath(path), "max_rows", "a positive number of rows", repr(max_rows))
    dataset, metadata = load_built_dataset(path)
    rows = dataset["train"].with_format("numpy")
    picked = np.unique(np.linspace(0, len(rows) - 1, num=min(max_rows, len(rows))).round().astype(np.int64))
    table = rows[picked]
    names = list(metadata["channel_names"])
    de, masks = [], []
    for sequence, recorded in zip(table["de"], table["channel_mask"]):
        present = np.asarray(recorded).astype(bool)
        features = extractor(de_features=sequence[:, present], channel_names=[n for n, p in zip(names, present) if p],
                             on_missing="mask", return_tensors="np")
        de.append(features["de_features"][0])
        masks.append(features["channel_mask"][0])
    return np.stack(de), np.stack(masks), np.asarray(table["label"], dtype=np.int64)


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
