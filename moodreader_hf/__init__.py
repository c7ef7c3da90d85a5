"""moodreader-hf: cross-subject EEG emotion recognition on the Hugging Face stack.

Importing the package registers :class:`MoodReaderConfig` and the model classes with the transformers Auto classes
(``AutoConfig``, ``AutoModel``, ``AutoModelForSequenceClassification``, ``AutoModelForPreTraining``) and the feature
extractor with ``AutoFeatureExtractor``, so saved folders load without ``trust_remote_code``; it also registers the
``"eeg-emotion-recognition"`` pipeline. Both happen when transformers' Auto classes and pipelines are imported (at
once if they already are), so ``import moodreader_hf`` itself imports neither torch nor transformers; the classes
below load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .registration import register_on_transformers_import

if TYPE_CHECKING:
    from .configuration_moodreader import MoodReaderConfig
    from .feature_extraction_moodreader import MoodReaderFeatureExtractor
    from .modeling_moodreader import (
        MoodReaderForEmotionRecognition,
        MoodReaderForMaskedEEGModeling,
        MoodReaderModel,
        MoodReaderPreTrainedModel,
    )
    from .pipeline_moodreader import EEGEmotionRecognitionPipeline

__version__ = "0.1.0"

_EXPORTS = {
    "MoodReaderConfig": "configuration_moodreader",
    "MoodReaderFeatureExtractor": "feature_extraction_moodreader",
    "MoodReaderPreTrainedModel": "modeling_moodreader",
    "MoodReaderModel": "modeling_moodreader",
    "MoodReaderForMaskedEEGModeling": "modeling_moodreader",
    "MoodReaderForEmotionRecognition": "modeling_moodreader",
    "EEGEmotionRecognitionPipeline": "pipeline_moodreader",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


register_on_transformers_import()
