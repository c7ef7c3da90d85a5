"""Recipes: one YAML file per checkpoint, read into typed dataclasses and checked before any work starts.

A recipe has the sections ``dataset``, ``model`` (fields of :class:`MoodReaderConfig`), ``pretrain`` and
``finetune``, plus ``name`` and ``seed``. Unknown keys and values of the wrong type are rejected with the key named.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ..configuration_moodreader import MoodReaderConfig
from ..validation import fail

_NOT_ARCHITECTURE = {"num_labels", "id2label", "label2id", "sequence_windows", "streams", "channel_names", "num_channels"}
"""Config fields a recipe's ``model`` section may not set: the labels come from the dataset and
``sequence_windows`` from the ``dataset`` section."""


@dataclass
class DatasetRecipe:
    """Which data to train on and how the dataset is built from the files.

    Args:
        layout: Builder layout of the files (``"seed"``, ``"seed-raw"``, ``"seed-v"``, ...).
        path: Folder of a built dataset (``DatasetDict.save_to_disk``); ``None`` when a command builds it.
        root: Folder of the raw download that ``layout`` reads, when the dataset is built from files.
        sequence_windows: DE windows per row (the model's time axis).
        stride: Windows between the starts of consecutive rows of a trial.
        smoothing: Smoothing of DE along time, per trial (one of
            :data:`~moodreader_hf.feature_extraction_moodreader.SMOOTHINGS`).
        moving_average_window: Windows of the moving average, with ``smoothing: moving_average``.
        method: How DE is computed from raw EEG: ``"stft"`` (the SEED recipe) or ``"filterbank"``.
        include_signal: Keep the raw signal ``(channels, samples)`` in each row.

    Fine-tuning compares these with the dataset's own metadata and refuses a disagreement before any work.
    """

    layout: str = "seed"
    path: str | None = None
    root: str | None = None
    sequence_windows: int = 10
    stride: int = 10
    smoothing: Literal["lds", "lds_rts", "moving_average", "causal_moving_average", "none"] = "lds"
    moving_average_window: int = 5
    method: Literal["stft", "filterbank"] = "stft"
    include_signal: bool = False


@dataclass
class PretrainRecipe:
    """Masked brain signal modelling (MBSM) pre-training of the raw-signal encoder on corpora (``moodreader
    build-corpus``) and built datasets with raw signal, streamed.

    Args:
        steps: Optimiser steps in all.
        batch_size: Rows per optimiser step over all processes (split across them).
        learning_rate: Peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: Linear warm-up steps before the cosine decay.
        checkpoint_every: Save the full training state (``accelerator.save_state``) every this many steps.
        keep_checkpoints: Most recent checkpoints kept on disk.
        shuffle_buffer: Rows of the shuffle buffer of each process's stream.
        log_every: Steps between entries of the log (loss, samples per second, hours of EEG seen).
        gradient_accumulation_steps: Batches whose gradients are summed per optimiser step.
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"``.
    """

    steps: int = 200
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 10
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    shuffle_buffer: int = 256
    log_every: int = 10
    gradient_accumulation_steps: int = 1
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"


@dataclass
class FinetuneRecipe:
    """Fine-tuning and evaluation.

    Args:
        protocol: ``"loso"`` (one fold per subject) or ``"within"`` (per subject, the last session is the test set).
        epochs: Most passes over the training rows per fold.
        batch_size: Rows per optimiser step over all processes (split across them).
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: Epochs without a better validation accuracy before stopping.
        validation_fraction: Fraction of the training subjects' trials held out for early stopping.
        use_signal: Feed the raw signal to the model (its raw-signal stream, fused with the DE stream):
            ``"auto"`` does when the dataset has a ``signal`` column (``build-dataset --include-signal``).
        use_eye: Feed eye-movement features (the dataset must have an ``eye`` column).
        gradient_accumulation_steps: Batches whose gradients are summed per optimiser step.
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"``.
        baseline_l2: L2 penalty of the logistic-regression baseline on standardised flattened DE.
        pretraining_overlap: What a test subject that the pre-training also saw does: ``"warn"`` (reported in
            the log and the report) or ``"error"`` (stop before training).
    """

    protocol: Literal["loso", "within"] = "loso"
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 5
    validation_fraction: float = 0.15
    use_signal: bool | Literal["auto"] = "auto"
    use_eye: bool = False
    gradient_accumulation_steps: int = 1
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    baseline_l2: float = 1e-2
    pretraining_overlap: Literal["warn", "error"] = "warn"


@dataclass
class Recipe:
    """A whole recipe: name, seed, dataset, architecture (``model``: fields of :class:`MoodReaderConfig`),
    pre-training and fine-tuning."""

    name: str
    seed: int = 0
    dataset: DatasetRecipe = field(default_factory=DatasetRecipe)
    model: dict[str, Any] = field(default_factory=dict)
    pretrain: PretrainRecipe = field(default_factory=PretrainRecipe)
    finetune: FinetuneRecipe = field(default_factory=FinetuneRecipe)

    def model_config(self, **labels: Any) -> MoodReaderConfig:
        """The architecture as a :class:`MoodReaderConfig`, with ``sequence_windows`` from the dataset section;
        ``labels`` adds ``num_labels``/``id2label``/..."""
        return MoodReaderConfig(**self.model, sequence_windows=self.dataset.sequence_windows, **labels)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as written into reports."""
        return dataclasses.asdict(self)


def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return "one of " + ", ".join(repr(value) for value in typing.get_args(kind))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(kind))
    if kind is type(None):
        return "null"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(kind, str(kind))


def _matches(value: Any, kind: Any) -> bool:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return value in typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def _section(cls: type, values: Any, source: str, prefix: str) -> Any:
    if not isinstance(values, dict):
        fail(source, prefix, "a mapping of keys to values", type(values).__name__)
    hints = typing.get_type_hints(cls)
    known = [item.name for item in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            fail(source, f"{prefix}.{key}", f"one of the keys {known}", "an unknown key")
    for key, value in values.items():
        if not _matches(value, hints[key]):
            fail(source, f"{prefix}.{key}", _type_name(hints[key]), f"{value!r} ({type(value).__name__})")
    return cls(**{key: float(value) if hints[key] is float else value for key, value in values.items()})


def _model_section(values: Any, source: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        fail(source, "model", "a mapping of MoodReaderConfig fields", type(values).__name__)
    defaults = MoodReaderConfig()
    known = sorted(set(MoodReaderConfig.__annotations__) - _NOT_ARCHITECTURE)
    for key, value in values.items():
        if key not in known:
            fail(source, f"model.{key}", f"a MoodReaderConfig field, one of {known}", "an unknown key")
        default = getattr(defaults, key)
        kind = list if isinstance(default, (list, tuple)) else type(default)
        if not _matches(value, float if kind is float else kind):
            fail(source, f"model.{key}", _type_name(float if kind is float else kind),
                 f"{value!r} ({type(value).__name__})")
    try:  # sequence_windows comes from the dataset section and is checked with it
        MoodReaderConfig(**values, sequence_windows=1)
    except ValueError as error:
        fail(source, "model", "valid MoodReaderConfig values", str(error).rstrip("."))
    return dict(values)


def recipe_from_dict(values: Any, source: str = "recipe") -> Recipe:
    """Check ``values`` (a parsed YAML mapping) and build the :class:`Recipe`; ``source`` names it in errors."""
    if not isinstance(values, dict):
        fail(source, "(top level)", "a mapping with keys name, seed, dataset, model, pretrain, finetune",
             type(values).__name__)
    sections = {"dataset": DatasetRecipe, "pretrain": PretrainRecipe, "finetune": FinetuneRecipe}
    known = [item.name for item in dataclasses.fields(Recipe)]
    for key in values:
        if key not in known:
            fail(source, key, f"one of the keys {known}", "an unknown key")
    if not isinstance(values.get("name"), str):
        fail(source, "name", "a string", repr(values.get("name")))
    seed = values.get("seed", 0)
    if not _matches(seed, int):
        fail(source, "seed", "an integer", repr(seed))
    built = {name: _section(cls, values.get(name, {}), source, name) for name, cls in sections.items()}
    recipe = Recipe(name=values["name"], seed=seed, model=_model_section(values.get("model", {}), source), **built)
    _check_values(recipe, source)
    return recipe


def _check_values(recipe: Recipe, source: str) -> None:
    from ..recordings.layouts import LAYOUTS

    if recipe.dataset.layout not in LAYOUTS:
        fail(source, "dataset.layout", f"one of the layouts {sorted(LAYOUTS)}", repr(recipe.dataset.layout))
    for section in (recipe.dataset, recipe.pretrain, recipe.finetune):
        for item in dataclasses.fields(section):
            value = getattr(section, item.name)
            if isinstance(value, float) and not math.isfinite(value):
                prefix = {DatasetRecipe: "dataset", PretrainRecipe: "pretrain", FinetuneRecipe: "finetune"}
                fail(source, f"{prefix[type(section)]}.{item.name}", "a finite number", repr(value))
    positive = {
        "dataset.sequence_windows": recipe.dataset.sequence_windows, "dataset.stride": recipe.dataset.stride,
        "dataset.moving_average_window": recipe.dataset.moving_average_window,
        "pretrain.steps": recipe.pretrain.steps, "pretrain.batch_size": recipe.pretrain.batch_size,
        "pretrain.checkpoint_every": recipe.pretrain.checkpoint_every,
        "pretrain.keep_checkpoints": recipe.pretrain.keep_checkpoints,
        "pretrain.shuffle_buffer": recipe.pretrain.shuffle_buffer, "pretrain.log_every": recipe.pretrain.log_every,
        "pretrain.gradient_accumulation_steps": recipe.pretrain.gradient_accumulation_steps,
        "finetune.epochs": recipe.finetune.epochs, "finetune.batch_size": recipe.finetune.batch_size,
        "finetune.patience": recipe.finetune.patience,
        "finetune.gradient_accumulation_steps": recipe.finetune.gradient_accumulation_steps,
        "pretrain.learning_rate": recipe.pretrain.learning_rate,
        "finetune.learning_rate": recipe.finetune.learning_rate,
        "finetune.baseline_l2": recipe.finetune.baseline_l2,
    }  # fmt: skip
    for key, value in positive.items():
        if value <= 0:
            fail(source, key, "a positive value", repr(value))
    for key, value in (("pretrain.weight_decay", recipe.pretrain.weight_decay),
                       ("pretrain.warmup_steps", recipe.pretrain.warmup_steps),
                       ("finetune.weight_decay", recipe.finetune.weight_decay)):
        if value < 0:
            fail(source, key, "a non-negative value", repr(value))
    if not 0 < recipe.finetune.validation_fraction < 1:
        fail(source, "finetune.validation_fraction", "a fraction in (0, 1)", repr(recipe.finetune.validation_fraction))
    max_windows = recipe.model.get("max_windows", MoodReaderConfig.max_windows)
    if recipe.dataset.sequence_windows > max_windows:
        fail(source, "dataset.sequence_windows", f"at most model.max_windows={max_windows}",
             repr(recipe.dataset.sequence_windows))


def load_recipe(path: str | Path) -> Recipe:
    """Read and check the YAML recipe at ``path``."""
    path = Path(path)
    if not path.is_file():
        fail(str(path), "(file)", "an existing YAML recipe file", "no such file")
    try:
        values = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        fail(str(path), "(file)", "valid YAML", str(error).replace("\n", " "))
    return recipe_from_dict(values, str(path))
