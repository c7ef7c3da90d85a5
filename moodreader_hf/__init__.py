"""moodreader-hf: cross-subject EEG emotion recognition on the Hugging Face stack.

Importing the package registers :class:`MoodReaderConfig` and the model classes with the transformers Auto classes
(``AutoConfig``, ``AutoModel``, ``AutoModelForSequenceClassification``, ``AutoModelForPreTraining``) and the feature
extractor with ``AutoFeatureExtractor``, so saved folders load without ``trust_remote_code``; it also registers the
``"eeg-emotion-recognition"`` pipeline.
"""

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForPreTraining,
    AutoModelForSequenceClassification,
)
from transformers.pipelines import PIPELINE_REGISTRY

from .configuration_moodreader import MoodReaderConfig
from .feature_extraction_moodreader import MoodReaderFeatureExtractor
from .modeling_moodreader import (
    MoodReaderForEmotionRecognition,
    MoodReaderForMaskedEEGModeling,
    MoodReaderModel,
    MoodReaderPreTrainedModel,
)
from .pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline

__version__ = "0.1.0"

AutoConfig.register(MoodReaderConfig.model_type, MoodReaderConfig, exist_ok=True)
AutoModel.register(MoodReaderConfig, MoodReaderModel, exist_ok=True)
AutoModelForSequenceClassification.register(MoodReaderConfig, MoodReaderForEmotionRecognition, exist_ok=True)
AutoModelForPreTraining.register(MoodReaderConfig, MoodReaderForMaskedEEGModeling, exist_ok=True)
AutoFeatureExtractor.register(MoodReaderConfig, MoodReaderFeatureExtractor, exist_ok=True)
# The pipeline's model is recorded as an Auto class: transformers resolves the recorded name with
# getattr(transformers, name) when it reloads a custom pipeline, so only that works for a user without this package.
if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
    PIPELINE_REGISTRY.register_pipeline(
        TASK, pipeline_class=EEGEmotionRecognitionPipeline, pt_model=AutoModelForSequenceClassification
    )

__all__ = [
    "MoodReaderConfig",
    "MoodReaderFeatureExtractor",
    "MoodReaderPreTrainedModel",
    "MoodReaderModel",
    "MoodReaderForMaskedEEGModeling",
    "MoodReaderForEmotionRecognition",
    "EEGEmotionRecognitionPipeline",
    "__version__",
]
