"""Electrode importance of a Mood Reader classifier on recordings and built datasets, drawn as scalp topomaps.

The methods, the per-class summary and the drawing live in :mod:`moodreader_hf.importance` (which the Space ships
as is); this module adds the rows of a built dataset as input, and recordings whose channels are named outside the
10-05 system: their channels are matched to the model's electrodes by the positions the file holds (or a montage
gives), and the maps are drawn at those positions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import mne
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
from .recordings.reader import open_raw
from .recordings.vocabulary import ChannelMap, canonical_name, map_raw_channels, raw_positions
from .validation import fail, one_line

MONTAGE_FILES: tuple[str, ...] = (".loc", ".locs", ".eloc", ".sfp", ".csd", ".elc", ".txt", ".elp", ".hpts", ".bvef",
                                  ".csv", ".tsv", ".xyz")
"""Electrode-position files ``mne.channels.read_custom_montage`` reads."""


def load_montage(spec: str | os.PathLike) -> mne.channels.DigMontage:
    """A montage: one of MNE's built-in montages by name (``standard_1020``, ``biosemi64``, ...) or an
    electrode-position file (:data:`MONTAGE_FILES`, read with ``mne.channels.read_custom_montage``)."""
    text = os.fspath(spec)
    if text in mne.channels.get_builtin_montages():
        return mne.channels.make_standard_montage(text)
    path = Path(text)
    if path.suffix.lower() not in MONTAGE_FILES:
        fail(text, "--montage", f"a built-in MNE montage name or a position file ({', '.join(MONTAGE_FILES)})",
             repr(text))
    if not path.is_file():
        fail(text, "--montage", "an electrode-position file", "no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mne.channels.read_custom_montage(path)
    except Exception as error:  # noqa: BLE001 - any parser failure means the file is not a readable montage
        fail(text, "--montage", "an electrode-position file mne.channels.read_custom_montage reads",
             f"{type(error).__name__}: {one_line(error)}"[:300])


def montage_positions(montage: mne.channels.DigMontage) -> dict[str, np.ndarray]:
    """Electrode -> ``(3,)`` position in metres of every montage channel named as a vocabulary electrode (in the
    montage's frame; MNE's built-in and most position files are head-like)."""
    positions = montage.get_positions()["ch_pos"]
    return {canonical_name(name): np.asarray(value) for name, value in positions.items()
            if canonical_name(name) is not None}  # fmt: skip


def vocabulary_recording(path: str | os.PathLike, *, montage: mne.channels.DigMontage | None = None
                         ) -> tuple[mne.io.BaseRaw, dict[str, np.ndarray], ChannelMap]:
    """A recording with its channels renamed to electrodes of the vocabulary, ready for the pipeline.

    Channels named in the 10-05 system keep their electrode; the others are matched by the positions the file holds
    or, with ``montage``, the montage's positions of the channels it names
    (:func:`~moodreader_hf.recordings.vocabulary.map_raw_channels`); unmatched ones are left out.

    Returns:
        The Raw (loaded, EEG channels named as electrodes), the position in metres of each of its electrodes that
        has one (for the maps), and the channel map (what was matched how, what was left out).
    """
    raw = open_raw(path, preload=True)
    if montage is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw.set_montage(montage, match_case=False, on_missing="ignore", verbose="error")
    mapping = map_raw_channels(raw)
    if not mapping.names:
        fail(os.fspath(path), "channels", "channels named in the 10-05 system, or positions for them in the file or "
             "--montage", f"channels {raw.ch_names[:10]}")
    picked = raw.pick(list(mapping.picks))
    picked.set_channel_types(dict.fromkeys(picked.ch_names, "eeg"), verbose="error")
    picked.rename_channels(dict(zip(mapping.originals, mapping.names)), verbose="error")
    return picked, raw_positions(picked), mapping


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
    "load_montage",
    "montage_positions",
    "plot_topomaps",
    "recording_inputs",
    "vocabulary_recording",
]
