"""moodreader-hf: cross-subject EEG emotion recognition on the Hugging Face stack.

Importing the package registers :class:`MoodReaderConfig` and the model classes with the transformers Auto classes
(``AutoConfig``, ``AutoModel``, ``AutoModelForSequenceClassification``, ``AutoModelForPreTraining``) and the feature
extractor with ``AutoFeatureExtractor``, so saved folders load without ``trust_remote_code``.
"""

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
)

from .configuration_moodreader import MoodReaderConfig
from .feature_extraction_moodreader import MoodReaderFeatureExtractor
from .modeling_moodreader import (
    MoodReaderForEmotionRecognition,
    MoodReaderForMaskedEEGModeling,
    MoodReaderModel,
    MoodReaderPreTrainedModel,
)

__version__ = "0.1.0"

AutoConfig.register(MoodReaderConfig.model_type, MoodReaderConfig, exist_ok=True)
AutoModel.register(MoodReaderConfig, MoodReaderModel, exist_ok=True)
AutoModelForSequenceClassification.register(MoodReaderConfig, MoodReaderForEmotionRecognition, exist_ok=True)
AutoModelForPreTraining.register(MoodReaderConfig, MoodReaderForMaskedEEGModeling, exist_ok=True)
AutoFeatureExtractor.register(MoodReaderConfig, MoodReaderFeatureExtractor, exist_ok=True)

__all__ = [
    "MoodReaderConfig",
    "MoodReaderFeatureExtractor",
    "MoodReaderPreTrainedModel",
    "MoodReaderModel",
    "MoodReaderForMaskedEEGModeling",
    "MoodReaderForEmotionRecognition",
    "__version__",
]
