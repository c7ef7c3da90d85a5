"""Electrode importance of a Mood Reader classifier, per class (and per band), drawn as scalp topomaps.

This module is shipped inside the Space built by ``moodreader publish-space`` (with ``validation.py``), where
the model comes from remote code: it imports only numpy, torch, MNE, matplotlib and ``.validation``.

Two methods:

- ``"attention"``: the spatial attention an electrode receives, averaged over layers, heads, query electrodes (the
  present ones) and windows. Attention mixes bands inside a token, so it has one value per electrode (the band axis
  has size 1, named ``"all bands"``).
- ``"gradient"``: gradient x input on the normalised DE features, ``|d log p(class) / d x * x|``, averaged over
  windows. Normalised DE is 0 at the training mean, so the product measures how far an electrode's band departs
  from the average and how much that moves the class's log-probability. One value per electrode and band.

Each sample counts towards one class: its label when labels are given (a dataset), otherwise the class the model
predicts; ``"gradient"`` differentiates that class's log-probability.

Positions come from MNE's standard 10-05 montage, unless the caller gives positions (those a recording's file
holds, or a montage's): they replace the template's for the electrodes they name. The SEED cap's cerebellar
electrodes CB1 and CB2 are not in the template: they are drawn at the midpoint of PO9 and I1 (CB1) and of PO10 and
I2 (CB2), an approximation of where the NeuroScan Quik-Cap places them (below O1/O2, above the inion). Electrodes
absent from the input are left out of the maps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .atomic import atomic_path
from .validation import check_array, fail

if TYPE_CHECKING:
    from .modeling_moodreader import MoodReaderForEmotionRecognition
    from .pipeline_moodreader import EEGEmotionRecognitionPipeline

METHODS: tuple[str, ...] = ("attention", "gradient")
APPROXIMATE_POSITIONS: dict[str, tuple[str, str]] = {"CB1": ("PO9", "I1"), "CB2": ("PO10", "I2")}
"""Electrodes missing from MNE's 10-05 montage, drawn at the midpoint of these two 10-05 positions."""
MIN_COLOUR_RANGE_PERCENT = 25.0
"""Smallest half-range of a topomap's colour scale, in percent of the mean electrode's importance."""
STANDARD_MONTAGES: tuple[str, ...] = ("colin27_1005", "standard_1005")
"""MNE's 10-05 template montage under its current name, then its name before MNE 1.12."""


@dataclass
class ElectrodeImportance:
    """Mean importance of each electrode (and band) for each class.

    Attributes:
        method: ``"attention"`` or ``"gradient"``.
        values: ``(classes, channels, bands)``; for ``"attention"`` ``bands`` is 1. NaN for absent electrodes and
            for classes without samples.
        samples: ``(classes,)`` number of samples behind each class's values.
        present: ``(channels,)`` bool, electrodes present in the input.
        channel_names, band_names, class_names: Names of the axes of ``values``.
    """

    method: str
    values: np.ndarray
    samples: np.ndarray
    present: np.ndarray
    channel_names: list[str]
    band_names: list[str]
    class_names: list[str]

    def overall(self) -> np.ndarray:
        """``(channels,)``: the importance summed over bands, averaged over classes weighted by their samples."""
        weights = self.samples / max(int(self.samples.sum()), 1)
        summed = np.nan_to_num(self.values.sum(axis=2))
        result = (summed * weights[:, None]).sum(axis=0)
        return np.where(self.present, result, np.nan)

    def top_electrodes(self, k: int, class_name: str | None = None, band: str | None = None) -> list[str]:
        """The ``k`` most important present electrodes, overall or for one class (and one band)."""
        if class_name is None:
            scores = self.overall()
        else:
            values = self.values[self.class_names.index(class_name)]
            scores = values[:, self.band_names.index(band)] if band is not None else values.sum(axis=1)
        order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
        return [self.channel_names[index] for index in order[:k]]


def _batches(count: int, size: int):
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def attention_scores(model: MoodReaderForEmotionRecognition, de: torch.Tensor, channel_mask: torch.Tensor,
                     **modalities: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: spatial attention received by each electrode ``(samples, channels)`` and the logits.

    ``de`` is ``(samples, time, channels, bands)`` normalised DE, ``channel_mask`` ``(samples, channels)``;
    ``modalities`` are the other inputs the model was trained with (``eeg_signals``, ``eye_features``).
    """
    with torch.no_grad():
        output = model(de_features=de, channel_mask=channel_mask, output_attentions=True, **modalities)
    query_weights = channel_mask.to(de.dtype)[:, None, None, :, None]
    received = []
    for layer in output.spatial_attentions:
        weighted = (layer * query_weights).sum(dim=3) / query_weights.sum(dim=3)
        received.append(weighted.mean(dim=(1, 2)))
    return torch.stack(received).mean(dim=0).numpy(), output.logits.numpy()


def gradient_scores(model: MoodReaderForEmotionRecognition, de: torch.Tensor, channel_mask: torch.Tensor,
                    targets: torch.Tensor | None, **modalities: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: ``|gradient x input|`` of the target class's log-probability on the DE features, averaged over
    windows ``(samples, channels, bands)``, and the logits. ``targets (samples,)`` default to the predicted classes;
    ``modalities`` as in :func:`attention_scores` (held fixed)."""
    inputs = de.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = model(de_features=inputs, channel_mask=channel_mask, **modalities).logits
        chosen = logits.argmax(dim=-1) if targets is None else targets
        log_probabilities = logits.log_softmax(dim=-1).gather(1, chosen[:, None]).sum()
        (gradient,) = torch.autograd.grad(log_probabilities, inputs)
    return (gradient * inputs).abs().mean(dim=1).detach().numpy(), logits.detach().numpy()


def electrode_importance(
    model: MoodReaderForEmotionRecognition,
    de_features: np.ndarray | torch.Tensor,
    *,
    channel_mask: np.ndarray | torch.Tensor | None = None,
    eeg_signals: np.ndarray | torch.Tensor | None = None,
    eye_features: np.ndarray | torch.Tensor | None = None,
    labels: Sequence[int] | np.ndarray | None = None,
    method: str = "attention",
    batch_size: int = 16,
) -> ElectrodeImportance:
    """Electrode importance per class of ``model`` on normalised DE (the feature extractor's output).

    Args:
        model: A classifier; it is put in eval mode.
        de_features: ``(samples, time, channels, bands)`` normalised DE, ``time <= config.max_windows``.
        channel_mask: ``(samples, channels)``, 1 where the electrode is present (default: all present).
        eeg_signals: ``(samples, channels, time * samples_per_window)`` µV, for models with the raw-signal stream.
        eye_features: ``(samples, time, eye_dims)`` normalised, for models with eye features.
        labels: ``(samples,)`` class indices; default: the model's predictions.
        method: ``"attention"`` or ``"gradient"``.
        batch_size: Samples per forward pass.
    """
    source = "electrode_importance"
    if method not in METHODS:
        fail(source, "method", f"one of {METHODS}", repr(method))
    config = model.config
    de = check_array(de_features, source=source, field="de_features",
                     shape=(None, None, config.num_channels, config.num_bands), dims="(samples, time, channels, bands)")
    count = de.shape[0]
    if count == 0:
        fail(source, "de_features", "at least one sample", "0 samples")
    mask = (np.ones((count, config.num_channels), dtype=np.int64) if channel_mask is None else
            check_array(channel_mask, source=source, field="channel_mask", shape=(count, config.num_channels),
                        dims="(samples, channels)", dtype=np.int64))
    targets = None
    if labels is not None:
        targets = check_array(labels, source=source, field="labels", shape=(count,), dims="(samples,)", dtype=np.int64)
        if ((targets < 0) | (targets >= config.num_labels)).any():
            fail(source, "labels", f"class indices in [0, {config.num_labels})", sorted(set(targets.tolist())))
    extra = {}
    for name, value, dims in (("eeg_signals", eeg_signals, "(samples, channels, samples_of_signal)"),
                              ("eye_features", eye_features, "(samples, time, eye_dims)")):
        if value is not None:
            extra[name] = check_array(value, source=source, field=name, shape=(count, None, None), dims=dims)
    model.eval()
    per_sample, predicted = [], []
    for rows in _batches(count, batch_size):
        batch, batch_mask = torch.from_numpy(de[rows]), torch.from_numpy(mask[rows])
        modalities = {name: torch.from_numpy(value[rows]) for name, value in extra.items()}
        if method == "attention":
            scores, logits = attention_scores(model, batch, batch_mask, **modalities)
            scores = scores[:, :, None]
        else:
            scores, logits = gradient_scores(model, batch, batch_mask,
                                             None if targets is None else torch.from_numpy(targets[rows]),
                                             **modalities)
        per_sample.append(scores)
        predicted.append(logits.argmax(axis=-1))
    scores = np.concatenate(per_sample)
    classes = targets if targets is not None else np.concatenate(predicted)
    present = mask.astype(bool).all(axis=0)
    values = np.full((config.num_labels, config.num_channels, scores.shape[2]), np.nan)
    samples = np.bincount(classes, minlength=config.num_labels)
    for label in range(config.num_labels):
        if samples[label]:
            values[label] = scores[classes == label].mean(axis=0)
    values[:, ~present] = np.nan
    return ElectrodeImportance(
        method=method,
        values=values,
        samples=samples,
        present=present,
        channel_names=list(config.channel_names),
        band_names=["all bands"] if method == "attention" else list(config.band_names),
        class_names=[config.id2label[index] for index in range(config.num_labels)],
    )


def recording_inputs(pipe: EEGEmotionRecognitionPipeline, path: str | os.PathLike | Mapping[str, Any],
                     eye_features: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A recording as the pipeline sees it, cut into segments, as keyword arguments of
    :func:`electrode_importance`: normalised DE ``de_features (segments, windows, channels, bands)``,
    ``channel_mask (segments, channels)`` and, when the model uses it, the raw signal ``eeg_signals (segments,
    channels, windows * samples_per_window)`` and, given ``eye_features (windows, eye_dims)`` for an eye model, the
    normalised ``eye_features (segments, windows, eye_dims)``.

    ``path`` is a recording file, or a dict of pipeline inputs (``{"de_features": (windows, channels, bands)}``
    for a model trained on distributed DE, possibly with ``"eye_features"``). Segments have the pipeline's default
    length; windows after the last whole segment are dropped, unless the recording is shorter than one segment (then
    it is one segment).
    """
    given = dict(path) if isinstance(path, Mapping) else {"recording": os.fspath(path)}
    if eye_features is not None:
        given["eye_features"] = eye_features
    inputs = pipe.preprocess(given)
    de, mask = inputs["de_features"][0].numpy(), inputs["channel_mask"].numpy()
    length = min(pipe.default_segment_windows, de.shape[0])
    count = de.shape[0] // length
    result = {"de_features": de[: count * length].reshape(count, length, *de.shape[1:]),
              "channel_mask": np.repeat(mask, count, axis=0)}
    if inputs.get("eeg_signals") is not None:
        signal = inputs["eeg_signals"][0].numpy()
        span = length * pipe.feature_extractor.samples_per_window
        result["eeg_signals"] = signal[:, : count * span].reshape(signal.shape[0], count, span).transpose(1, 0, 2)
    if inputs.get("eye_features") is not None:
        eye = inputs["eye_features"][0].numpy()
        result["eye_features"] = eye[: count * length].reshape(count, length, eye.shape[-1])
    return result


def electrode_positions(channel_names: Sequence[str],
                        positions: Mapping[str, Sequence[float]] | None = None) -> dict[str, np.ndarray]:
    """3-D head positions (metres) of ``channel_names``: from ``positions`` (name -> ``(x, y, z)`` in MNE's head
    frame, e.g. a recording's digitised positions) for the names it holds, else from MNE's 10-05 montage, CB1/CB2
    approximated.

    Names are matched case-insensitively; an electrode that is in neither and not approximated is an error.
    """
    import mne

    available = set(mne.channels.get_builtin_montages())
    name = next(candidate for candidate in STANDARD_MONTAGES if candidate in available)
    template = mne.channels.make_standard_montage(name).get_positions()["ch_pos"]
    by_key = {key.lower(): np.asarray(value) for key, value in template.items()}
    given = {str(key).lower(): np.asarray(value, dtype=float) for key, value in (positions or {}).items()}
    result = {}
    for channel in channel_names:
        key = channel.lower()
        if key in given:
            result[channel] = check_array(given[key], source="electrode_positions", field=f"positions[{channel!r}]",
                                          shape=(3,), dims="(x, y, z) in metres", dtype=np.float64)
        elif key in by_key:
            result[channel] = by_key[key]
        elif channel.upper() in APPROXIMATE_POSITIONS:
            first, second = APPROXIMATE_POSITIONS[channel.upper()]
            result[channel] = (by_key[first.lower()] + by_key[second.lower()]) / 2
        else:
            fail("electrode_positions", "channel_names", f"electrodes of MNE's {name} montage, or positions for "
                 "them (from the recording or a montage)", repr(channel))
    return result


def _info(channel_names: Sequence[str], positions: Mapping[str, Sequence[float]] | None = None):
    import mne

    montage = mne.channels.make_dig_montage(ch_pos=electrode_positions(channel_names, positions), coord_frame="head")
    info = mne.create_info(list(channel_names), sfreq=100.0, ch_types="eeg")
    info.set_montage(montage)
    return info


def relative_importance(values: np.ndarray) -> np.ndarray:
    """Importance of each electrode as its departure, in percent, from the mean over the electrodes: 0 everywhere
    for a uniform map (attention of exactly 1/N to each of N electrodes)."""
    mean = float(np.nanmean(values))
    return (np.asarray(values, dtype=float) / mean - 1) * 100 if mean else np.zeros_like(values, dtype=float)


def plot_topomaps(importance: ElectrodeImportance, path: str | os.PathLike, *, title: str | None = None,
                  positions: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Save scalp topomaps as PNG: one row per class with samples, one column per band (plus "all bands" when
    there are several). Each map shows :func:`relative_importance` on a diverging scale shared per column and
    spanning at least ±``MIN_COLOUR_RANGE_PERCENT``, so a nearly uniform map stays pale; colours are not
    extrapolated beyond the electrodes. Electrodes are drawn at ``positions`` (name -> ``(x, y, z)`` m, MNE head
    frame) where given, else at their 10-05 template positions (:func:`electrode_positions`). Returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mne

    path = Path(path)
    if path.suffix.lower() != ".png":
        fail(str(path), "output", "a .png file name", repr(path.suffix))
    rows = [index for index, count in enumerate(importance.samples) if count]
    present = np.flatnonzero(importance.present)
    names = [importance.channel_names[index] for index in present]
    info = _info(names, positions)
    columns = list(importance.band_names)
    maps = importance.values[:, present, :]
    if len(columns) > 1:
        columns.append("all bands")
        maps = np.concatenate([maps, maps.sum(axis=2, keepdims=True)], axis=2)
    figure, axes = plt.subplots(len(rows), len(columns), figsize=(3.4 * len(columns), 3.2 * len(rows) + 0.8),
                                squeeze=False)
    for column, band in enumerate(columns):
        relative = {label: relative_importance(maps[label, :, column]) for label in rows}
        spread = max(MIN_COLOUR_RANGE_PERCENT, *(float(np.nanmax(np.abs(values))) for values in relative.values()))
        for row, label in enumerate(rows):
            axis = axes[row, column]
            image, _ = mne.viz.plot_topomap(relative[label], info, axes=axis, show=False, cmap="RdBu_r",
                                            vlim=(-spread, spread), contours=0, sensors=True, extrapolate="local")
            axis.set_title(f"{importance.class_names[label]} · {band}", fontsize=9)
        ticks = np.unique(np.round(np.linspace(-spread, spread, 5)))
        bar = figure.colorbar(image, ax=axes[:, column].tolist(), shrink=0.6, ticks=ticks, format="%+.0f%%")
        bar.set_label("vs. the mean electrode", fontsize=8)
    figure.suptitle(f"{title or f'Electrode importance ({importance.method})'}\ncolour: departure from the mean "
                    f"electrode in %, range at least ±{MIN_COLOUR_RANGE_PERCENT:g} % (a uniform map is white)",
                    fontsize=10)
    try:
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=130, bbox_inches="tight")
    finally:
        plt.close(figure)
    return path


__all__ = [
    "APPROXIMATE_POSITIONS",
    "METHODS",
    "ElectrodeImportance",
    "attention_scores",
    "electrode_importance",
    "electrode_positions",
    "gradient_scores",
    "plot_topomaps",
    "recording_inputs",
]
