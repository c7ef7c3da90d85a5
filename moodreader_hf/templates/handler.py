"""Inference Endpoints handler of a Mood Reader EEG emotion model.

It loads the repository's own ``eeg-emotion-recognition`` pipeline (``trust_remote_code=True``) and needs only torch,
transformers, numpy and scipy. Request bodies (JSON):

- the card's widget table: ``{"inputs": {"data": {"Fp1_delta": [...], ...}}}``, one column per electrode and band
  (``<electrode>_<band>``), one row per window, DE values before normalisation (numbers or numeric strings);
- signals: ``{"inputs": {"signals": ARRAY, "sampling_rate": 200, "channel_names": [...]}}``, ``(channels, samples)``
  in microvolts;
- DE: ``{"inputs": {"de_features": ARRAY, "channel_names": [...]}}``, ``(time, channels, bands)``;

where ARRAY is a nested list or ``{"base64": "...", "dtype": "float32" | "float64", "shape": [...]}`` (little-endian
bytes). Optional ``"parameters"``: ``segment_windows``, ``batch_segments``, ``on_missing``.

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
"""Most numbers one request may carry (about 21 minutes of 62 channels at 200 Hz)."""
DTYPES = {"float32": "<f4", "float64": "<f8"}
PARAMETERS = ("segment_windows", "batch_segments", "on_missing")


class PayloadError(ValueError):
    """A request that is not one of the accepted bodies."""


def _decode_base64(value: dict[str, Any], field: str) -> np.ndarray:
    if set(value) != {"base64", "dtype", "shape"}:
        raise PayloadError(f"field '{field}': expected keys base64, dtype, shape; got {sorted(value)}.")
    if value["dtype"] not in DTYPES:
        raise PayloadError(f"field '{field}.dtype': expected one of {sorted(DTYPES)}, got {value['dtype']!r}.")
    shape = value["shape"]
    if not (isinstance(shape, list) and shape and all(isinstance(size, int) and size > 0 for size in shape)):
        raise PayloadError(f"field '{field}.shape': expected a list of positive sizes, got {shape!r}.")
    count = math.prod(shape)
    if count > MAX_VALUES:
        raise PayloadError(f"field '{field}': expected at most {MAX_VALUES} values, got shape {shape}.")
    text = value["base64"]
    itemsize = np.dtype(DTYPES[value["dtype"]]).itemsize
    if not isinstance(text, str) or len(text) > 4 * math.ceil(count * itemsize / 3):
        raise PayloadError(f"field '{field}.base64': expected {count * itemsize} bytes as base64, got a longer or "
                           "non-string value.")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise PayloadError(f"field '{field}.base64': expected base64 text, got invalid data ({error}).") from None
    if len(raw) != count * itemsize:
        raise PayloadError(f"field '{field}.base64': expected {count * itemsize} bytes for shape {shape} "
                           f"{value['dtype']}, got {len(raw)}.")
    return np.frombuffer(raw, dtype=DTYPES[value["dtype"]]).reshape(shape).astype(np.float64)


def _nested_size(value: Any) -> int:
    """Number of values a nested list would hold, following the first element at each level."""
    size = 1
    while isinstance(value, list):
        if not value:
            return 0
        size *= len(value)
        value = value[0]
    return size


def _array(value: Any, field: str) -> np.ndarray:
    if isinstance(value, dict):
        return _decode_base64(value, field)
    if not isinstance(value, list):
        raise PayloadError(f"field '{field}': expected a nested list or a base64 object, got {type(value).__name__}.")
    if _nested_size(value) > MAX_VALUES:
        raise PayloadError(f"field '{field}': expected at most {MAX_VALUES} values, got more.")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise PayloadError(f"field '{field}': expected a rectangular nested list of numbers ({error}).") from None
    if array.size > MAX_VALUES:
        raise PayloadError(f"field '{field}': expected at most {MAX_VALUES} values, got {array.size}.")
    return array


def _table(columns: dict[str, Any], channel_names: list[str], band_names: list[str]) -> dict[str, Any]:
    """The widget table ``{"<electrode>_<band>": [value per window]}`` as DE ``(time, channels, bands)``."""
    known_bands = {band.lower(): index for index, band in enumerate(band_names)}
    by_channel: dict[str, dict[int, Any]] = {}
    for column, values in columns.items():
        channel, _, band = str(column).rpartition("_")
        if not channel or band.lower() not in known_bands:
            raise PayloadError(f"field 'data': expected columns named <electrode>_<band> with bands {band_names}, "
                               f"got {column!r}.")
        if not isinstance(values, list):
            raise PayloadError(f"field 'data.{column}': expected a list of values (one per window), got "
                               f"{type(values).__name__}.")
        by_channel.setdefault(channel, {})[known_bands[band.lower()]] = values
    incomplete = [channel for channel, bands in by_channel.items() if len(bands) != len(band_names)]
    if not by_channel or incomplete:
        raise PayloadError(f"field 'data': expected every band {band_names} for each electrode, got incomplete "
                           f"electrodes {incomplete or 'none at all'}.")
    lengths = {len(values) for bands in by_channel.values() for values in bands.values()}
    if len(lengths) != 1 or 0 in lengths:
        raise PayloadError(f"field 'data': expected columns of one non-zero length (windows), got lengths "
                           f"{sorted(lengths)}.")
    windows = lengths.pop()
    if windows * len(by_channel) * len(band_names) > MAX_VALUES:
        raise PayloadError(f"field 'data': expected at most {MAX_VALUES} values, got more.")
    try:
        de = np.array([[[float(value) for value in bands[band]] for band in range(len(band_names))]
                       for bands in by_channel.values()], dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise PayloadError(f"field 'data': expected numbers or numeric strings ({error}).") from None
    return {"de_features": de.transpose(2, 0, 1), "channel_names": list(by_channel)}


class EndpointHandler:
    """``EndpointHandler(path)(request)``: overall emotion scores of one EEG request."""

    def __init__(self, path: str = ""):
        self.pipeline = pipeline(TASK, model=path or ".", trust_remote_code=True)
        config = self.pipeline.model.config
        self.channel_names = list(config.channel_names)
        self.band_names = list(config.band_names)

    def parse(self, data: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pipeline input (a dict with ``signals`` or ``de_features``) and its parameters."""
        if not isinstance(data, dict):
            raise PayloadError(f"body: expected a JSON object with 'inputs', got {type(data).__name__}.")
        data = dict(data)
        parameters = data.pop("parameters", None) or {}
        inputs = data.pop("inputs", data)
        if not isinstance(parameters, dict) or set(parameters) - set(PARAMETERS):
            raise PayloadError(f"field 'parameters': expected an object with keys among {list(PARAMETERS)}, got "
                               f"{parameters!r:.200}.")
        if not isinstance(inputs, dict):
            raise PayloadError(f"field 'inputs': expected an object (widget table, signals or de_features), got "
                               f"{type(inputs).__name__}.")
        if isinstance(inputs.get("data"), dict):
            return _table(inputs["data"], self.channel_names, self.band_names), parameters
        if "signals" in inputs or "de_features" in inputs:
            unknown = sorted(set(inputs) - {"signals", "de_features", "sampling_rate", "channel_names"})
            if unknown or ("signals" in inputs) == ("de_features" in inputs):
                raise PayloadError(f"field 'inputs': expected 'signals' or 'de_features' (one of them) with optional "
                                   f"'sampling_rate' and 'channel_names', got keys {sorted(inputs)}.")
            key = "signals" if "signals" in inputs else "de_features"
            request = {key: _array(inputs[key], key)}
            if "sampling_rate" in inputs:
                rate = inputs["sampling_rate"]
                if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 < rate < 1e5):
                    raise PayloadError(f"field 'sampling_rate': expected a positive rate in Hz, got {rate!r}.")
                request["sampling_rate"] = float(rate)
            if "channel_names" in inputs:
                names = inputs["channel_names"]
                if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
                    raise PayloadError(f"field 'channel_names': expected a list of strings, got {names!r:.200}.")
                request["channel_names"] = names
            return request, parameters
        return _table(inputs, self.channel_names, self.band_names), parameters

    def __call__(self, data: dict[str, Any]) -> list[dict[str, Any]] | dict[str, str]:
        try:
            request, parameters = self.parse(data)
            result = self.pipeline(request, **parameters)
        except ValueError as error:
            return {"error": str(error)}
        return [{"label": entry["label"], "score": entry["score"]} for entry in result["scores"]]
