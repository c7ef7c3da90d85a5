"""Inference Endpoints handler of a Mood Reader EEG emotion model.

It loads the repository's own ``eeg-emotion-recognition`` pipeline (``trust_remote_code=True``) and needs only torch,
transformers, numpy and scipy. Request bodies (JSON):

- the card's widget table: ``{"inputs": {"data": {"Fp1_delta": [...], ...}}}``, one column per electrode and band
  (``<electrode>_<band>``), one row per window, DE values before normalisation (numbers or numeric strings);
- signals: ``{"inputs": {"signals": ARRAY, "sampling_rate": 200, "channel_names": [...]}}``, ``(channels, samples)``
  in microvolts;
- DE: ``{"inputs": {"de_features": ARRAY, "channel_names": [...]}}``, ``(time, channels, bands)``;
- with either, ``"eye_features": ARRAY`` ``(time, eye_dims)`` for a model trained with eye movements;

where ARRAY is a nested list of numbers or ``{"base64": "...", "dtype": "float32" | "float64", "shape": [...]}``
(little-endian bytes). Optional ``"parameters"``: ``segment_windows`` (1 to the model's ``max_windows``),
``batch_segments`` (1 to :data:`MAX_BATCH_SEGMENTS`), ``on_missing`` (``"mask"`` or ``"raise"``).

Limits, checked before any work: at most :data:`MAX_VALUES` numbers per request; a sampling rate from twice the
model's highest band edge (100 Hz for the default bands: a slower recording holds nothing of the top band) to
:data:`MAX_SAMPLING_RATE`; at most :data:`MAX_VALUES` numbers *after resampling* to the model's rate and at most
:data:`MAX_WINDOWS` windows (so the work a request implies is bounded, not only its size); at most
:data:`MAX_CHANNELS` channels. Booleans are not numbers here.

The answer is the overall emotion scores, ``[{"label": ..., "score": ...}, ...]`` highest first. A malformed or
oversize request is answered with ``{"error": "<what was wrong and what is expected>"}``.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np
from transformers import pipeline

TASK = "eeg-emotion-recognition"
MAX_VALUES = 16_000_000
"""Most numbers one request may carry, and most (channels x samples) after resampling to the model's rate (about
21 minutes of 62 channels at 200 Hz)."""
MAX_WINDOWS = 600
"""Most DE windows one request may imply (10 minutes of 1 s windows): bounds the model's forward passes, the bulk of
the work (benchmarks/handler_limits.py measures a request at the limits)."""
MAX_CHANNELS = 1_024
MAX_SAMPLING_RATE = 50_000.0
"""Highest sampling rate in Hz; the lowest is twice the model's highest band edge."""
MAX_BATCH_SEGMENTS = 256
MAX_NAME_LENGTH = 64
MAX_TEXT_NUMBER = 64
"""Longest numeric string of the widget table."""
DTYPES = {"float32": "<f4", "float64": "<f8"}
PARAMETERS = ("segment_windows", "batch_segments", "on_missing")
ARRAY_DIMS = {"signals": 2, "de_features": 3, "eye_features": 2}
"""Dimensions of each array field: ``(channels, samples)``, ``(time, channels, bands)``, ``(time, eye_dims)``."""


class PayloadError(ValueError):
    """A request that is not one of the accepted bodies."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decode_base64(value: dict[str, Any], field: str, ndim: int) -> np.ndarray:
    if set(value) != {"base64", "dtype", "shape"}:
        raise PayloadError(f"field '{field}': expected keys base64, dtype, shape; got {sorted(map(str, value))}.")
    dtype = value["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise PayloadError(f"field '{field}.dtype': expected one of {sorted(DTYPES)}, got {dtype!r:.80}.")
    shape = value["shape"]
    if not (isinstance(shape, list) and len(shape) == ndim
            and all(isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in shape)):
        raise PayloadError(f"field '{field}.shape': expected a list of {ndim} positive whole sizes, got {shape!r:.80}.")
    count = math.prod(shape)
    if count > MAX_VALUES:
        raise PayloadError(f"field '{field}': expected at most {MAX_VALUES} values, got shape {shape}.")
    text = value["base64"]
    itemsize = np.dtype(DTYPES[dtype]).itemsize
    if not isinstance(text, str) or len(text) > 4 * math.ceil(count * itemsize / 3):
        raise PayloadError(f"field '{field}.base64': expected {count * itemsize} bytes as base64, got a longer or "
                           "non-string value.")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PayloadError(f"field '{field}.base64': expected base64 text, got invalid data ({error}).") from None
    if len(raw) != count * itemsize:
        raise PayloadError(f"field '{field}.base64': expected {count * itemsize} bytes for shape {shape} "
                           f"{dtype}, got {len(raw)}.")
    return np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(shape).astype(np.float64)


def _nested_shape(value: Any, ndim: int, field: str) -> tuple[int, ...]:
    """The shape of a nested list, following the first element at each level, refused beyond ``ndim`` levels (before
    numpy is asked to look at it)."""
    shape = []
    while isinstance(value, list):
        if len(shape) == ndim:
            raise PayloadError(f"field '{field}': expected {ndim} levels of nested lists, got more.")
        shape.append(len(value))
        if not value:
            raise PayloadError(f"field '{field}': expected non-empty lists, got an empty one.")
        value = value[0]
    if len(shape) != ndim:
        raise PayloadError(f"field '{field}': expected {ndim} levels of nested lists, got {len(shape)}.")
    return tuple(shape)


def _array(value: Any, field: str) -> np.ndarray:
    ndim = ARRAY_DIMS[field]
    if isinstance(value, dict):
        array = _decode_base64(value, field, ndim)
    elif isinstance(value, list):
        if math.prod(_nested_shape(value, ndim, field)) > MAX_VALUES:
            raise PayloadError(f"field '{field}': expected at most {MAX_VALUES} values, got more.")
        try:
            cells = np.asarray(value, dtype=object)
        except (TypeError, ValueError) as error:
            raise PayloadError(f"field '{field}': expected a rectangular nested list of numbers ({error}).") from None
        if cells.ndim != ndim or cells.size > MAX_VALUES:
            raise PayloadError(f"field '{field}': expected a rectangular nested list of {ndim} levels of numbers, "
                               f"got ragged lists or {cells.size} values.")
        kinds = set(map(type, cells.ravel().tolist()))
        if not kinds <= {int, float}:
            names = sorted(kind.__name__ for kind in kinds - {int, float})
            raise PayloadError(f"field '{field}': expected numbers, got values of type {', '.join(names)}.")
        try:
            array = cells.astype(np.float64)
        except (TypeError, ValueError, OverflowError) as error:
            raise PayloadError(f"field '{field}': expected numbers a float can hold ({error}).") from None
    else:
        raise PayloadError(f"field '{field}': expected a nested list or a base64 object, got {type(value).__name__}.")
    if not np.isfinite(array).all() or np.abs(array).max() > np.finfo(np.float32).max:
        raise PayloadError(f"field '{field}': expected finite values within the float32 range, got NaN, infinite "
                           "or larger values.")
    return array


def _cell(value: Any, column: str) -> float:
    if _is_number(value) and (isinstance(value, float) or abs(value) < 2**1000):
        if math.isfinite(value):
            return float(value)
    elif isinstance(value, str) and len(value) <= MAX_TEXT_NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return number
    raise PayloadError(f"field 'data.{column}': expected finite numbers or numeric strings, got {value!r:.40}.")


def _table(columns: dict[str, Any], channel_names: list[str], band_names: list[str]) -> dict[str, Any]:
    """The widget table ``{"<electrode>_<band>": [value per window]}`` as DE ``(time, channels, bands)``."""
    if len(columns) > MAX_CHANNELS * len(band_names):
        raise PayloadError(f"field 'data': expected at most {MAX_CHANNELS * len(band_names)} columns, got "
                           f"{len(columns)}.")
    known_bands = {band.lower(): index for index, band in enumerate(band_names)}
    by_channel: dict[str, dict[int, Any]] = {}
    for column, values in columns.items():
        channel, _, band = str(column).rpartition("_")
        if not channel or len(channel) > MAX_NAME_LENGTH or band.lower() not in known_bands:
            raise PayloadError(f"field 'data': expected columns named <electrode>_<band> with bands {band_names}, "
                               f"got {column!r:.80}.")
        if not isinstance(values, list):
            raise PayloadError(f"field 'data.{column}': expected a list of values (one per window), got "
                               f"{type(values).__name__}.")
        by_channel.setdefault(channel, {})[known_bands[band.lower()]] = values
    incomplete = [channel for channel, bands in by_channel.items() if len(bands) != len(band_names)]
    if not by_channel or incomplete:
        raise PayloadError(f"field 'data': expected every band {band_names} for each electrode, got incomplete "
                           f"electrodes {incomplete[:10] or 'none at all'}.")
    lengths = {len(values) for bands in by_channel.values() for values in bands.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise PayloadError(f"field 'data': expected columns of one non-zero length (windows), got lengths "
                           f"{sorted(lengths)[:10]}.")
    windows = lengths.pop()
    if windows > MAX_WINDOWS or windows * len(by_channel) * len(band_names) > MAX_VALUES:
        raise PayloadError(f"field 'data': expected at most {MAX_VALUES} values and {MAX_WINDOWS} windows, got "
                           f"{windows} windows of {len(by_channel)} electrodes.")
    de = np.array([[[_cell(value, f"{channel}_{band_names[band]}") for value in bands[band]]
                    for band in range(len(band_names))] for channel, bands in by_channel.items()], dtype=np.float64)
    return {"de_features": de.transpose(2, 0, 1), "channel_names": list(by_channel)}


class EndpointHandler:
    """``EndpointHandler(path)(request)``: overall emotion scores of one EEG request."""

    def __init__(self, path: str = ""):
        self.pipeline = pipeline(TASK, model=path or ".", trust_remote_code=True)
        config = self.pipeline.model.config
        extractor = self.pipeline.feature_extractor
        self.channel_names = list(config.channel_names)
        self.band_names = list(config.band_names)
        self.max_windows = int(config.max_windows)
        self.rate = float(extractor.sampling_rate)
        self.window_samples = int(extractor.samples_per_window)
        self.min_rate = 2.0 * max(float(high) for _, high in extractor.band_edges)

    def _parameters(self, parameters: Any) -> dict[str, Any]:
        if parameters is None:
            return {}
        if not isinstance(parameters, dict) or set(parameters) - set(PARAMETERS):
            raise PayloadError(f"field 'parameters': expected an object with keys among {list(PARAMETERS)}, got "
                               f"{parameters!r:.200}.")
        bounds = {"segment_windows": self.max_windows, "batch_segments": MAX_BATCH_SEGMENTS}
        for key, highest in bounds.items():
            if key in parameters:
                value = parameters[key]
                if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= highest):
                    raise PayloadError(f"field 'parameters.{key}': expected a whole number from 1 to {highest}, got "
                                       f"{value!r:.40}.")
        if "on_missing" in parameters and parameters["on_missing"] not in ("mask", "raise"):
            raise PayloadError(f"field 'parameters.on_missing': expected 'mask' or 'raise', got "
                               f"{parameters['on_missing']!r:.40}.")
        return dict(parameters)

    def _check_work(self, request: dict[str, Any]) -> None:
        """Bound what the request implies once resampled to the model's rate, before any work."""
        if "signals" in request:
            channels, samples = request["signals"].shape
            rate = request.get("sampling_rate")
            if rate is None:
                raise PayloadError("field 'sampling_rate': expected the rate of the signals in Hz, got none.")
            resampled = math.ceil(samples * self.rate / rate)
            used = min(channels, len(self.channel_names))
            if resampled * used > MAX_VALUES or resampled // self.window_samples > MAX_WINDOWS:
                raise PayloadError(f"field 'signals': expected at most {MAX_VALUES} values and {MAX_WINDOWS} windows "
                                   f"after resampling to {self.rate:g} Hz, got {used} x {resampled} samples.")
            if resampled < self.window_samples:
                raise PayloadError(f"field 'signals': expected at least one window ({self.window_samples} samples at "
                                   f"{self.rate:g} Hz), got {resampled}.")
        else:
            windows, channels = request["de_features"].shape[:2]
            if windows > MAX_WINDOWS:
                raise PayloadError(f"field 'de_features': expected at most {MAX_WINDOWS} windows, got {windows}.")
        if channels > MAX_CHANNELS:
            raise PayloadError(f"field 'inputs': expected at most {MAX_CHANNELS} channels, got {channels}.")

    def parse(self, data: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pipeline input (a dict with ``signals`` or ``de_features``) and its parameters."""
        if not isinstance(data, dict):
            raise PayloadError(f"body: expected a JSON object with 'inputs', got {type(data).__name__}.")
        data = dict(data)
        parameters = self._parameters(data.pop("parameters", None))
        inputs = data.pop("inputs", data)
        if not isinstance(inputs, dict):
            raise PayloadError(f"field 'inputs': expected an object (widget table, signals or de_features), got "
                               f"{type(inputs).__name__}.")
        if isinstance(inputs.get("data"), dict):
            request = _table(inputs["data"], self.channel_names, self.band_names)
        elif "signals" in inputs or "de_features" in inputs:
            allowed = {"signals", "de_features", "sampling_rate", "channel_names", "eye_features"}
            unknown = sorted(str(key) for key in set(inputs) - allowed)
            if unknown or ("signals" in inputs) == ("de_features" in inputs):
                raise PayloadError(f"field 'inputs': expected 'signals' or 'de_features' (one of them) with optional "
                                   f"'sampling_rate', 'channel_names' and 'eye_features', got keys "
                                   f"{sorted(map(str, inputs))[:10]}.")
            key = "signals" if "signals" in inputs else "de_features"
            request = {key: _array(inputs[key], key)}
            if "eye_features" in inputs:
                request["eye_features"] = _array(inputs["eye_features"], "eye_features")
            if "sampling_rate" in inputs:
                rate = inputs["sampling_rate"]
                if not (_is_number(rate) and math.isfinite(rate) and self.min_rate <= rate <= MAX_SAMPLING_RATE):
                    raise PayloadError(f"field 'sampling_rate': expected a rate from {self.min_rate:g} Hz (twice the "
                                       f"highest band edge) to {MAX_SAMPLING_RATE:g} Hz, got {rate!r:.40}.")
                request["sampling_rate"] = float(rate)
            if "channel_names" in inputs:
                names = inputs["channel_names"]
                if not (isinstance(names, list) and len(names) <= MAX_CHANNELS
                        and all(isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH for name in names)):
                    raise PayloadError(f"field 'channel_names': expected a list of at most {MAX_CHANNELS} names "
                                       f"(strings of 1 to {MAX_NAME_LENGTH} characters), got {names!r:.200}.")
                request["channel_names"] = names
        else:
            request = _table(inputs, self.channel_names, self.band_names)
        self._check_work(request)
        return request, parameters

    def __call__(self, data: dict[str, Any]) -> list[dict[str, Any]] | dict[str, str]:
        try:
            request, parameters = self.parse(data)
            result = self.pipeline(request, **parameters)
        except (ValueError, MemoryError) as error:
            return {"error": str(error) or type(error).__name__}
        scores = [{"label": entry["label"], "score": entry["score"]} for entry in result["scores"]]
        if not all(math.isfinite(entry["score"]) for entry in scores):
            return {"error": "inputs: the model's scores are not finite numbers (values far outside EEG in microvolts "
                             "or DE in natural log units?)."}
        return scores
