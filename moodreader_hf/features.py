"""Differential entropy (DE) features: the public face of the DE math, and the band table of a build.

The math is implemented once in the Hub-bound :mod:`moodreader_hf.feature_extraction_moodreader` (inference on the
Hub needs the same math) and re-exported here. :func:`band_table` and :func:`parse_bands` turn a build's or a
recipe's bands (``name -> (low, high)`` in Hz) into the names and edges a dataset's metadata carries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from .configuration_moodreader import BAND_EDGES, BAND_NAMES
from .feature_extraction_moodreader import (
    CHANNEL_ALIASES,
    DE_METHODS,
    SMOOTHINGS,
    MoodReaderFeatureExtractor,
    differential_entropy,
    lds_smooth,
    match_channels,
    moving_average,
    normalization_statistics,
)
from .validation import fail

DEFAULT_BANDS: dict[str, tuple[float, float]] = dict(zip(BAND_NAMES, BAND_EDGES))
"""SEED's five bands, ``name -> (low, high)`` in Hz: delta 1-4, theta 4-8, alpha 8-14, beta 14-31, gamma 31-50."""
_BAND = re.compile(r"^\s*([A-Za-z][\w ]*?)\s*:\s*(\d*\.?\d+)\s*-\s*(\d*\.?\d+)\s*$")


def band_table(
    bands: Mapping[str, Sequence[float]] | None, source: str = "bands"
) -> tuple[tuple[str, ...], tuple[tuple[float, float], ...]]:
    """Names and ``(low, high)`` edges in Hz (each band ``[low, high)``) of ``bands``, in its order, after checking
    them: distinct non-empty names, finite edges with ``0 <= low < high``. ``None`` gives :data:`DEFAULT_BANDS`.
    Whether a band fits the sampling rate and the DE window is checked where both are known (the feature
    extractor)."""
    if bands is None:
        return tuple(DEFAULT_BANDS), tuple(DEFAULT_BANDS.values())
    if not isinstance(bands, Mapping) or not bands:
        fail(source, "bands", "a non-empty mapping of band names to [low, high] in Hz", repr(bands)[:120])
    names, edges = [], []
    for name, edge in bands.items():
        if not isinstance(name, str) or not name.strip():
            fail(source, "bands", "band names that are non-empty strings", repr(name))
        valid = (isinstance(edge, Sequence) and not isinstance(edge, str) and len(edge) == 2
                 and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in edge))
        if not valid or not 0 <= edge[0] < edge[1]:
            fail(source, f"bands.{name}", "[low, high] in Hz with 0 <= low < high", repr(edge))
        names.append(name.strip())
        edges.append((float(edge[0]), float(edge[1])))
    if len({name.lower() for name in names}) != len(names):
        fail(source, "bands", "distinct band names", names)
    return tuple(names), tuple(edges)


def parse_bands(text: str, source: str = "--bands") -> dict[str, tuple[float, float]]:
    """``"slow:0.1-1,delta:1-4"`` -> ``{"slow": (0.1, 1.0), "delta": (1.0, 4.0)}`` (edges in Hz), checked by
    :func:`band_table`."""
    bands: dict[str, tuple[float, float]] = {}
    for item in text.split(","):
        found = _BAND.match(item)
        if found is None:
            fail(source, "bands", "comma-separated NAME:LOW-HIGH items in Hz (e.g. slow:0.1-1,delta:1-4)", repr(item))
        name = found.group(1)
        if name in bands:
            fail(source, "bands", "distinct band names", f"{name!r} twice")
        bands[name] = (float(found.group(2)), float(found.group(3)))
    band_table(bands, source)
    return bands


__all__ = [
    "CHANNEL_ALIASES",
    "DEFAULT_BANDS",
    "DE_METHODS",
    "SMOOTHINGS",
    "MoodReaderFeatureExtractor",
    "band_table",
    "differential_entropy",
    "lds_smooth",
    "match_channels",
    "moving_average",
    "normalization_statistics",
    "parse_bands",
]
