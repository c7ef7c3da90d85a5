"""Registration with transformers, done when transformers' Auto classes load rather than when this package does.

``import moodreader_hf`` must make saved folders load through ``AutoConfig``, ``AutoModel``, ... and the
``"eeg-emotion-recognition"`` pipeline, but it must not import torch and transformers itself: the ``moodreader``
command answers ``--help`` without them. So :func:`register_on_transformers_import` registers at once when
transformers' Auto classes (or pipelines) are already imported, and otherwise puts a finder on ``sys.meta_path``
that registers right after ``transformers.models.auto`` (the Auto classes) and ``transformers.pipelines`` (the
pipeline registry) finish importing, whichever way the user's code reaches them.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType

AUTO_MODULE = "transformers.models.auto"
PIPELINES_MODULE = "transformers.pipelines"

_done: set[str] = set()


def register_auto_classes() -> None:
    """Register the configuration, the three models and the feature extractor with the Auto classes (once)."""
    if "auto" in _done:
        return
    _done.add("auto")
    from transformers import (
        AutoConfig,
        AutoFeatureExtractor,
        AutoModel,
        AutoModelForPreTraining,
        AutoModelForSequenceClassification,
    )

    from .configuration_moodreader import MoodReaderConfig
    from .feature_extraction_moodreader import MoodReaderFeatureExtractor
    from .modeling_moodreader import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling, MoodReaderModel

    AutoConfig.register(MoodReaderConfig.model_type, MoodReaderConfig, exist_ok=True)
    AutoModel.register(MoodReaderConfig, MoodReaderModel, exist_ok=True)
    AutoModelForSequenceClassification.register(MoodReaderConfig, MoodReaderForEmotionRecognition, exist_ok=True)
    AutoModelForPreTraining.register(MoodReaderConfig, MoodReaderForMaskedEEGModeling, exist_ok=True)
    AutoFeatureExtractor.register(MoodReaderConfig, MoodReaderFeatureExtractor, exist_ok=True)


def register_pipeline() -> None:
    """Register the ``"eeg-emotion-recognition"`` pipeline (once).

    Its model is recorded as an Auto class: transformers resolves the recorded name with ``getattr(transformers,
    name)`` when it reloads a custom pipeline, so only that works for a user without this package.
    """
    if "pipeline" in _done:
        return
    _done.add("pipeline")
    register_auto_classes()
    from transformers import AutoModelForSequenceClassification
    from transformers.pipelines import PIPELINE_REGISTRY

    from .pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline

    if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
        PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=EEGEmotionRecognitionPipeline, pt_model=AutoModelForSequenceClassification
        )


def register_all() -> None:
    """Both registrations now (importing torch and transformers)."""
    register_auto_classes()
    register_pipeline()


def register_on_transformers_import() -> None:
    """Register now what transformers has already imported; register the rest as soon as it is imported."""
    pending = {AUTO_MODULE: register_auto_classes, PIPELINES_MODULE: register_pipeline}
    for name in list(pending):
        if _imported(name):
            pending.pop(name)()
    if pending and not any(isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(pending))


def _imported(name: str) -> bool:
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it wraps the loaders of transformers' and this package's modules to count nested
    imports, and when the outermost of them has finished it calls the callbacks whose module is imported by then.

    Waiting for the outermost import matters: transformers imports its Auto classes half-way through its own
    modules (``modeling_utils`` reaches them through its quantizers), and registering then would import this
    package's models while the transformers module they need is still half-initialised.
    """

    WATCHED = ("transformers", "moodreader_hf")

    def __init__(self, callbacks: dict[str, Callable[[], None]]):
        self.callbacks = callbacks
        self.depth = 0

    def find_spec(self, fullname, path, target=None):
        if fullname.partition(".")[0] not in self.WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _CountingLoader(spec.loader, self)
                return spec
        return None

    def finished_outermost(self, name: str) -> None:
        """``name`` has just been executed (its import is not marked finished yet) and no watched import is open."""
        for name in [watched for watched in self.callbacks if watched == name or _imported(watched)]:
            callback = self.callbacks.pop(name)
            if not self.callbacks and self in sys.meta_path:
                sys.meta_path.remove(self)
            callback()


class _CountingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, finder: _AfterImport):
        self.loader, self.finder = loader, finder

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.finder.depth += 1
        try:
            self.loader.exec_module(module)
        finally:
            self.finder.depth -= 1
        if self.finder.depth == 0:
            self.finder.finished_outermost(module.__name__)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)
