"""Differential entropy (DE) features: the public face of the DE math.

Implemented once in the Hub-bound :mod:`moodreader_hf.feature_extraction_moodreader` (inference on the Hub needs the
same math) and re-exported here.
"""

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

__all__ = [
    "CHANNEL_ALIASES",
    "DE_METHODS",
    "SMOOTHINGS",
    "MoodReaderFeatureExtractor",
    "differential_entropy",
    "lds_smooth",
    "match_channels",
    "moving_average",
    "normalization_statistics",
]
