"""The ``eeg-emotion-recognition`` pipeline: an EEG recording in, overall and per-segment emotion scores out.

This file travels to the Hugging Face Hub as remote code, where it is copied on its own: it imports only numpy, torch
and transformers (absolutely). Reading a recording file or an ``mne.io.Raw`` needs MNE, imported only when such an
input is given.

Usage::

    from transformers import pipeline
    classifier = pipeline("eeg-emotion-recognition", model="<repo or folder>", trust_remote_code=True)
    classifier("recording.edf")                                  # any file MNE reads
    classifier(signals, sampling_rate=250, channel_names=names)  # (channels, samples) in microvolts
    classifier(de)                                               # precomputed DE (time, channels, bands)

A recording is turned into DE windows by the repository's feature extractor (one window per
``config.window_seconds`` seconds), cut into consecutive segments of ``segment_windows`` windows (by default the
length of the training rows, ``config.sequence_windows``; at most ``config.max_windows``; the last one may be
shorter), and each segment is classified by one forward pass. The DE of a recording is smoothed per segment (each
segment's features depend on its own windows only), so the timeline is local: a change of state shows in the segment
where it happens instead of being smeared over the recording, as smoothing the whole recording with SEED's LDS would
(its gain of about 0.01 per window spreads a step over minutes). Models trained with the raw-signal stream also get
each segment's raw signal. At most ``batch_segments`` segments go through the model at once, so the model's memory
does not grow with the recording (the DE features, 310 numbers per window, are computed for the whole recording
first).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers import Pipeline

TASK = "eeg-emotion-recognition"
"""The task name under which the pipeline is registered and recorded in ``config.json`` (``custom_pipelines``)."""
DEFAULT_BATCH_SEGMENTS = 8
"""Segments classified per forward pass unless ``batch_segments`` is given."""
MIN_COVERAGE = 0.75
"""Below this share of the model's electrodes present in a recording, the result warns (``on_low_coverage``)."""
MAX_FEATURE_SHIFT = 3.0
"""Above this mean |normalised DE| (training standard deviations from the training mean) in any band, the input lies
far outside the training data and the result warns."""


def _fail(field: str, expected: str, received: object) -> None:
    raise ValueError(f"EEGEmotionRecognitionPipeline: field '{field}': expected {expected}, got {received}.")


def _is_raw(value: object) -> bool:
    """Whether ``value`` looks like an ``mne.io.BaseRaw`` (checked without importing MNE)."""
    return hasattr(value, "info") and hasattr(value, "get_data") and hasattr(value, "ch_names")


def _import_mne():
    try:
        import mne
    except ImportError:
        _fail("inputs", "MNE-Python to read recording files and mne.io.Raw objects (pip install mne), or a "
              "(channels, samples) array with sampling_rate", "no module named 'mne'")
    return mne


def _raw_signals(raw: Any) -> tuple[np.ndarray, list[str], float]:
    """EEG channels of an MNE Raw that are not marked bad: ``(channels, samples)`` in µV, names, rate in Hz."""
    mne = _import_mne()
    picks = mne.pick_types(raw.info, eeg=True, exclude="bads")
    if len(picks) == 0:
        kinds = sorted(set(raw.get_channel_types()))
        _fail("inputs", "a recording with EEG channels not marked bad", f"channel types {kinds}")
    names = [raw.ch_names[index] for index in picks]
    return raw.get_data(picks=picks, units="uV"), names, float(raw.info["sfreq"])


def _read_file(path: str) -> tuple[np.ndarray, list[str], float]:
    """Read a recording with MNE; MNE's warnings about the file (a truncated EDF, odd units) are passed on as
    Python warnings naming the file, never swallowed."""
    mne = _import_mne()
    if not os.path.isfile(path):
        _fail("inputs", "an existing recording file (EDF, BDF, FIF, BrainVision, EEGLAB, CNT)",
              f"{path!r} (no such file)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = mne.io.read_raw(path, preload=True, verbose="warning")
        except Exception as error:  # noqa: BLE001 - any reader failure means the file is not a readable recording
            _fail("inputs", "a recording file MNE can read (EDF, BDF, FIF, BrainVision, EEGLAB, CNT)",
                  f"{path!r} ({type(error).__name__}: {error})")
    for warning in caught:
        warnings.warn(f"{path}: {warning.message}", RuntimeWarning, stacklevel=3)
    return _raw_signals(raw)


def _as_array(value: object, field: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        _fail(field, "a numeric array", f"{type(value).__name__} ({error})")


class EEGEmotionRecognitionPipeline(Pipeline):
    """Emotion scores for an EEG recording, overall and per segment of consecutive windows.

    Inputs (one per call, or a list of them):
        - a path to a recording file MNE reads (needs MNE);
        - an ``mne.io.Raw`` (its EEG channels not marked bad are used; volts are converted to µV);
        - a ``(channels, samples)`` array in µV, with ``sampling_rate`` (Hz) and, unless its rows are already the
          model's montage in order, ``channel_names``;
        - precomputed, already smoothed DE ``(time, channels, bands)``, with ``channel_names`` unless its channel
          axis is the model's montage;
        - a dict with one of the keys ``signals``, ``de_features`` or ``recording`` (a file path or an
          ``mne.io.Raw``), and optionally ``sampling_rate``, ``channel_names`` and ``eye_features`` ``(time,
          eye_dims)`` (one row per window; required by models with an eye modality).

    Parameters:
        sampling_rate: Rate in Hz of an array of signals.
        channel_names: Names of the array's channels; matched to the model's montage by name.
        on_missing: ``"mask"`` (default): montage electrodes absent from the input are masked out and listed in
            the output's ``missing_channels``; ``"raise"``: they are an error.
        segment_windows: Windows per classified segment, 1 to ``config.max_windows`` (default:
            ``config.sequence_windows``, the length of the training rows).
        batch_segments: Segments per forward pass (default 8); bounds the model's memory.
        band_pass: ``(low, high)`` Hz band-pass applied to signals before DE (default: the feature extractor's, i.e.
            what the training data had). notch: 50 or 60 Hz (and harmonics), likewise.
        min_coverage: Share of the model's electrodes below which the result warns (default 0.75).
        on_low_coverage: ``"warn"`` (default) or ``"raise"``.

    Returns:
        A dict: ``label`` and ``score`` (the top class), ``scores`` (every class, ``[{"label", "score"}]``, highest
        first: the mean of the segments' probabilities weighted by their number of windows), ``segments`` (one per
        segment in time order: ``start`` and ``end`` in seconds from the start of the input, ``windows``, ``label``,
        ``scores``), ``missing_channels`` (the model's electrodes it was not given: absent from the input, or
        without training data: the extractor's ``unfitted_channels``), ``coverage`` (share of the model's electrodes
        given),
        ``feature_shift`` (per band, the mean |normalised DE|: training standard deviations from the training mean),
        ``warnings`` (low coverage, features far outside the training data; also issued as Python warnings) and
        ``window_seconds``.
    """

    _load_feature_extractor = True
    _load_tokenizer = False
    _load_image_processor = False
    _load_processor = False

    def _sanitize_parameters(
        self,
        sampling_rate: float | None = None,
        channel_names: Sequence[str] | None = None,
        on_missing: str | None = None,
        segment_windows: int | None = None,
        batch_segments: int | None = None,
        band_pass: Sequence[float] | None = None,
        notch: float | None = None,
        min_coverage: float | None = None,
        on_low_coverage: str | None = None,
        **kwargs,
    ) -> tuple[dict, dict, dict]:
        if kwargs:
            _fail("parameters", "sampling_rate, channel_names, on_missing, segment_windows, batch_segments, "
                  "band_pass, notch, min_coverage or on_low_coverage", sorted(kwargs))
        preprocess, postprocess = {}, {}
        if band_pass is not None:
            preprocess["band_pass"] = band_pass
        if notch is not None:
            preprocess["notch"] = notch
        if min_coverage is not None:
            if isinstance(min_coverage, bool) or not isinstance(min_coverage, (int, float)) or not 0 <= min_coverage <= 1:
                _fail("min_coverage", "a share of the model's electrodes in [0, 1]", repr(min_coverage))
            postprocess["min_coverage"] = float(min_coverage)
        if on_low_coverage is not None:
            if on_low_coverage not in ("warn", "raise"):
                _fail("on_low_coverage", "'warn' or 'raise'", repr(on_low_coverage))
            postprocess["on_low_coverage"] = on_low_coverage
        if sampling_rate is not None:
            preprocess["sampling_rate"] = sampling_rate
        if channel_names is not None:
            preprocess["channel_names"] = list(channel_names)
        if on_missing is not None:
            preprocess["on_missing"] = on_missing
        forward = {}
        if segment_windows is not None:
            limit = self.model.config.max_windows
            if not (isinstance(segment_windows, int) and 1 <= segment_windows <= limit):
                _fail("segment_windows", f"a whole number of windows from 1 to max_windows={limit}",
                      repr(segment_windows))
            forward["segment_windows"] = preprocess["segment_windows"] = segment_windows
        if batch_segments is not None:
            if not (isinstance(batch_segments, int) and batch_segments >= 1):
                _fail("batch_segments", "a positive whole number", repr(batch_segments))
            forward["batch_segments"] = batch_segments
        return preprocess, forward, postprocess

    def preprocess(
        self,
        inputs: Any,
        sampling_rate: float | None = None,
        channel_names: Sequence[str] | None = None,
        on_missing: str = "mask",
        segment_windows: int | None = None,
        band_pass: Sequence[float] | None = None,
        notch: float | None = None,
    ) -> dict[str, Any]:
        signals = de = eye = None
        if isinstance(inputs, dict):
            unknown = sorted(set(inputs) - {"signals", "de_features", "recording", "sampling_rate", "channel_names",
                                            "eye_features"})
            sources = [key for key in ("signals", "de_features", "recording") if key in inputs]
            if unknown or len(sources) != 1:
                _fail("inputs", "a dict with one of 'signals', 'de_features' or 'recording' (a file path or mne.io.Raw; "
                      "and optionally 'sampling_rate', 'channel_names', 'eye_features')", f"keys {sorted(inputs)}")
            if "eye_features" in inputs:
                eye = _as_array(inputs["eye_features"], "eye_features")
            sampling_rate = inputs.get("sampling_rate", sampling_rate)
            channel_names = inputs.get("channel_names", channel_names)
            if "recording" in inputs:
                source = inputs["recording"]
                signals, channel_names, sampling_rate = (_raw_signals(source) if _is_raw(source)
                                                         else _read_file(os.fspath(source)))
            elif "signals" in inputs:
                signals = _as_array(inputs["signals"], "signals")
            else:
                de = _as_array(inputs["de_features"], "de_features")
        elif isinstance(inputs, (str, os.PathLike)):
            signals, channel_names, sampling_rate = _read_file(os.fspath(inputs))
        elif _is_raw(inputs):
            signals, channel_names, sampling_rate = _raw_signals(inputs)
        else:
            array = _as_array(inputs, "inputs")
            if array.ndim == 2:
                signals = array
            elif array.ndim == 3:
                de = array
            else:
                _fail("inputs", "a recording path, an mne.io.Raw, signals (channels, samples) or DE "
                      "(time, channels, bands)", f"an array of shape {array.shape}")
        if signals is not None and sampling_rate is None:
            _fail("sampling_rate", "the rate in Hz of the (channels, samples) signals", "None")
        wants_signal = "signal" in getattr(self.model.config, "streams", ("de",))
        eye_size = getattr(self.model.config, "eye_feature_size", 0)
        if eye_size and eye is None:
            _fail("eye_features", f"eye-movement features (time, {eye_size}), one row per window, passed as a dict "
                  "{'signals' or 'de_features': ..., 'eye_features': ...}: this model was trained with them",
                  "none (a recording file, Raw or array carries no eye movements)")
        if wants_signal and signals is None:
            _fail("inputs", "a recording, an mne.io.Raw or signals (channels, samples): this model was trained with "
                  "its raw-signal stream, which DE features alone cannot feed", "DE features")
        features = self.feature_extractor(
            signals,
            sampling_rate=sampling_rate if signals is not None else None,
            channel_names=channel_names,
            de_features=de,
            eye_features=eye,
            on_missing=on_missing,
            return_signals=wants_signal,
            smoothing_span=segment_windows or self.default_segment_windows,
            band_pass=band_pass,
            notch=notch,
            return_tensors="pt",
        )
        present = features["channel_mask"][0].bool().tolist()
        montage = self.feature_extractor.channel_names
        return {
            "de_features": features["de_features"],
            "eeg_signals": features.get("eeg_signals"),
            "eye_features": features.get("eye_features"),
            "channel_mask": features["channel_mask"],
            "electrode_ids": features.get("electrode_ids"),
            "missing_channels": [name for name, here in zip(montage, present) if not here],
            "coverage": sum(present) / len(present),
            "feature_shift": self._feature_shift(features),
        }

    def _forward(
        self,
        model_inputs: dict[str, Any],
        segment_windows: int | None = None,
        batch_segments: int = DEFAULT_BATCH_SEGMENTS,
    ) -> dict[str, Any]:
        de_features, channel_mask = model_inputs["de_features"], model_inputs["channel_mask"]
        eye_features, eeg_signals = model_inputs["eye_features"], model_inputs.get("eeg_signals")
        electrode_ids = model_inputs.get("electrode_ids")
        length = segment_windows or self.default_segment_windows
        samples = self.feature_extractor.samples_per_window
        total = de_features.shape[1]
        full = total // length

        def segments(features: torch.Tensor | None, first: int, count: int) -> torch.Tensor | None:
            """``count`` segments of ``length`` windows from segment ``first``: ``(count, length, ...)``."""
            if features is None:
                return None
            return features[0, first * length : (first + count) * length].reshape(count, length, *features.shape[2:])

        def signal_segments(first: int, count: int) -> torch.Tensor | None:
            """The raw signal of the same segments: ``(count, channels, length * samples_per_window)``."""
            if eeg_signals is None:
                return None
            span = eeg_signals[0, :, first * length * samples : (first + count) * length * samples]
            return span.reshape(span.shape[0], count, length * samples).transpose(0, 1)

        logits = []
        for first in range(0, full, batch_segments):
            count = min(batch_segments, full - first)
            logits.append(self.model(de_features=segments(de_features, first, count),
                                     eeg_signals=signal_segments(first, count),
                                     eye_features=segments(eye_features, first, count),
                                     channel_mask=channel_mask.expand(count, -1), electrode_ids=electrode_ids).logits)
        if total > full * length:
            tail = slice(full * length, None)
            logits.append(self.model(
                de_features=de_features[:, tail], channel_mask=channel_mask, electrode_ids=electrode_ids,
                eeg_signals=None if eeg_signals is None else eeg_signals[:, :, full * length * samples :],
                eye_features=None if eye_features is None else eye_features[:, tail]).logits)
        starts = list(range(0, total, length))
        return {
            "logits": torch.cat(logits).float(),
            "bounds": [(start, min(start + length, total)) for start in starts],
            "missing_channels": model_inputs["missing_channels"],
            "coverage": model_inputs["coverage"],
            "feature_shift": model_inputs["feature_shift"],
        }

    def _feature_shift(self, features: Any) -> dict[str, float] | None:
        """Mean |normalised DE| per band over the present electrodes and all windows: how many training standard
        deviations the input lies from the training mean (``None`` without normalisation statistics)."""
        if self.feature_extractor.de_mean is None:
            return None
        de = features["de_features"][0].double()
        present = features["channel_mask"][0].bool()
        shift = de[:, present].abs().mean(dim=(0, 1)).tolist()
        names = list(getattr(self.model.config, "band_names", range(len(shift))))
        return {str(name): float(value) for name, value in zip(names, shift)}

    def postprocess(self, model_outputs: dict[str, Any], min_coverage: float = MIN_COVERAGE,
                    on_low_coverage: str = "warn") -> dict[str, Any]:
        logits = model_outputs["logits"]
        if not bool(torch.isfinite(logits).all()):
            _fail("logits", "finite class scores", "NaN or infinite logits from the model (its weights or the "
                  "input's features are not finite-safe)")
        notes = []
        coverage = model_outputs["coverage"]
        if coverage < min_coverage:
            message = (f"only {coverage:.0%} of the model's electrodes are present "
                       f"({len(model_outputs['missing_channels'])} missing); below min_coverage={min_coverage:g}")
            if on_low_coverage == "raise":
                _fail("channel_names", f"at least {min_coverage:.0%} of the model's electrodes (min_coverage)",
                      f"{coverage:.0%}")
            notes.append(message)
        shift = model_outputs["feature_shift"]
        if shift is not None and max(shift.values()) > MAX_FEATURE_SHIFT:
            worst = max(shift, key=shift.get)
            notes.append(f"the input's features lie {shift[worst]:.1f} training standard deviations from the training "
                         f"data in the {worst} band (above {MAX_FEATURE_SHIFT:g}): the scores are unreliable")
        for note in notes:
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        probabilities = logits.softmax(dim=-1).numpy().astype(np.float64)
        bounds = model_outputs["bounds"]
        windows = np.array([stop - start for start, stop in bounds], dtype=np.float64)
        overall = (probabilities * windows[:, None]).sum(axis=0) / windows.sum()
        seconds = float(self.model.config.window_seconds)
        segments = []
        for (start, stop), row in zip(bounds, probabilities):
            ranked = self._ranked(row)
            segments.append({
                "start": start * seconds,
                "end": stop * seconds,
                "windows": stop - start,
                "label": ranked[0]["label"],
                "scores": ranked,
            })
        ranked = self._ranked(overall)
        return {
            "label": ranked[0]["label"],
            "score": ranked[0]["score"],
            "scores": ranked,
            "segments": segments,
            "missing_channels": model_outputs["missing_channels"],
            "coverage": coverage,
            "feature_shift": shift,
            "warnings": notes,
            "window_seconds": seconds,
        }

    @property
    def default_segment_windows(self) -> int:
        """Windows per segment unless ``segment_windows`` is given: ``config.sequence_windows``, the length of the
        training rows."""
        return self.model.config.sequence_windows

    def _ranked(self, probabilities: np.ndarray) -> list[dict[str, Any]]:
        labels = self.model.config.id2label
        order = np.argsort(-probabilities, kind="stable")
        return [{"label": labels[int(index)], "score": float(probabilities[index])} for index in order]


__all__ = ["EEGEmotionRecognitionPipeline", "TASK"]
