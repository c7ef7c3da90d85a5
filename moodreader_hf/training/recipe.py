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
        bands: ``name: [low, high]`` in Hz of the DE bands, in order (``build-dataset --bands``); ``null``: the
            dataset's bands, whatever they are. Set, it must equal the dataset's.

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
    bands: dict | None = None


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
        protocol: A protocol of :data:`moodreader_hf.training.protocols.PROTOCOLS`: ``"loso"``,
            ``"loso-session"``, ``"cross-session"``, ``"within-trials"``, ``"seed-v-3fold"``, ``"kfold-subject"`` or
            ``"given-split"``.
        seeds: Seeds the protocol is repeated with (model initialisation and batch order; folds and validation
            splits come from the recipe's ``seed``); ``null``: the recipe's ``seed`` alone.
        validation: Early-stopping rows: ``"subjects"`` (whole training subjects held out), ``"trials"`` (whole
            trials of the training rows) or ``"auto"`` (subjects for cross-subject protocols when a fold's training
            pool has at least 3 subjects, trials otherwise).
        train_trials: ``within-trials``: training trials per session (the first ones); ``null``: the layout's
            (SEED 9, SEED-IV 16).
        kfold: ``kfold-subject``: number of folds.
        split_file: ``given-split``: CSV/TSV table of the dataset's own split (columns subject, split and
            optionally session, trial).
        epochs: Most passes over the training rows per fold.
        batch_size: Rows per optimiser step over all processes (split across them).
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: Epochs without a better validation accuracy before stopping.
        keep: The weights a fold keeps: ``"best"``, those of the epoch with the best validation per-window accuracy
            (stopping after ``patience`` epochs without improvement); ``"last"``, those after all ``epochs``, with no
            early stopping (the validation rows are still scored and still choose the baselines' C). ``"last"`` suits
            folds whose validation split is one or two subjects: on simulated data their accuracy chose epochs that
            were too early and cost 0.1-0.2 of LOSO accuracy.
        validation_fraction: Fraction of the training pool's subjects (or trials) held out for early stopping.
        use_signal: Feed the raw signal to the model (its raw-signal stream, fused with the DE stream):
            ``"auto"`` does when the dataset has a ``signal`` column (``build-dataset --include-signal``).
        use_eye: Feed eye-movement features (the dataset must have an ``eye`` column).
        freeze_signal_encoder: Keep the pre-trained raw-signal encoder (its embeddings and interlinked layers) as
            pre-training left it: its output for every row is computed once per run and reused by every fold,
            seed and epoch, and only the poolers, the DE stream, the fusion and the heads are trained (about 4x
            faster steps at the tiny recipe's size). Without a pre-trained raw-signal encoder it trains as usual.
        fold_workers: Processes that train folds side by side on a single-process CPU run (one thread each):
            ``"auto"`` one per available CPU, ``0`` or ``1`` every fold in the calling process. The environment
            variable ``MOODREADER_FOLD_WORKERS`` overrides it (``MOODREADER_NUM_THREADS`` sets the threads).
        gradient_accumulation_steps: Batches whose gradients are summed per optimiser step.
        mixed_precision: ``"no"``, ``"fp16"`` or ``"bf16"``.
        baseline_c: The grid of the baselines' penalty ``C`` (logistic regression and linear SVM on per-window
            DE), chosen per fold on the validation windows.
        pretraining_overlap: What a test subject that the pre-training also saw does: ``"warn"`` (reported in
            the log and the report) or ``"error"`` (stop before training).
    """

    protocol: Literal["loso", "loso-session", "cross-session", "within-trials", "seed-v-3fold", "kfold-subject",
                      "given-split"] = "loso"
    seeds: list[int] | None = None
    validation: Literal["auto", "subjects", "trials"] = "auto"
    train_trials: int | None = None
    kfold: int = 5
    split_file: str | None = None
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 5
    keep: Literal["best", "last"] = "best"
    validation_fraction: float = 0.15
    use_signal: bool | Literal["auto"] = "auto"
    use_eye: bool = False
    freeze_signal_encoder: bool = False
    fold_workers: int | Literal["auto"] = "auto"
    gradient_accumulation_steps: int = 1
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    baseline_c: list[float] = field(default_factory=lambda: [0.001, 0.01, 0.1, 1.0, 10.0])
    pretraining_overlap: Literal["warn", "error"] = "warn"


@dataclass
class Recipe:
    """A whole recipe: name, seed, dataset, architecture (``model``: fields of :class:`MoodReaderConfig`),
    pre-training and fine-tuning.

    ``compile`` (``model.compile`` in YAML, default false) runs pre-training and fine-tuning through
    ``torch.compile`` (``nn.Module.compile``: same module, same state dict); it pays on GPUs, while on CPU the
    compilation usually costs more than it saves in a short run.
    """

    name: str
    seed: int = 0
    dataset: DatasetRecipe = field(default_factory=DatasetRecipe)
    model: dict[str, Any] = field(default_factory=dict)
    pretrain: PretrainRecipe = field(default_factory=PretrainRecipe)
    finetune: FinetuneRecipe = field(default_factory=FinetuneRecipe)
    compile: bool = False

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
    if origin is list:
        return f"a list of {_type_name(typing.get_args(kind)[0]).split(' ', 1)[1]}s"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string",
            dict: "a mapping"}.get(kind, str(kind))


def _matches(value: Any, kind: Any) -> bool:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return value in typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(_matches(item, typing.get_args(kind)[0]) for item in value)
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
    known = [item.name for item in dataclasses.fields(Recipe) if item.name != "compile"]  # compile: in model
    for key in values:
        if key not in known:
            fail(source, key, f"one of the keys {known}", "an unknown key")
    if not isinstance(values.get("name"), str):
        fail(source, "name", "a string", repr(values.get("name")))
    seed = values.get("seed", 0)
    if not _matches(seed, int):
        fail(source, "seed", "an integer", repr(seed))
    built = {name: _section(cls, values.get(name, {}), source, name) for name, cls in sections.items()}
    model = values.get("model", {})
    compile_model = False
    if isinstance(model, dict) and "compile" in model:
        model = dict(model)
        compile_model = model.pop("compile")
        if not isinstance(compile_model, bool):
            fail(source, "model.compile", "true or false", f"{compile_model!r} ({type(compile_model).__name__})")
    recipe = Recipe(name=values["name"], seed=seed, model=_model_section(model, source), compile=compile_model,
                    **built)
    _check_values(recipe, source)
    return recipe


def _check_values(recipe: Recipe, source: str) -> None:
    from ..recordings.layouts import LAYOUTS

    if recipe.dataset.layout not in LAYOUTS:
        fail(source, "dataset.layout", f"one of the layouts {sorted(LAYOUTS)}", repr(recipe.dataset.layout))
    if recipe.dataset.bands is not None:
        from ..features import band_table

        band_table(recipe.dataset.bands, source)
        if {"band_edges", "band_names", "num_bands"} & set(recipe.model):
            fail(source, "dataset.bands", "bands set in one place (dataset.bands, or model.band_edges and "
                 "model.band_names)", "both")
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
        "finetune.train_trials": 1 if recipe.finetune.train_trials is None else recipe.finetune.train_trials,
    }  # fmt: skip
    for key, value in positive.items():
        if value <= 0:
            fail(source, key, "a positive value", repr(value))
    for key, value in (("pretrain.weight_decay", recipe.pretrain.weight_decay),
                       ("pretrain.warmup_steps", recipe.pretrain.warmup_steps),
                       ("finetune.weight_decay", recipe.finetune.weight_decay)):
        if value < 0:
            fail(source, key, "a non-negative value", repr(value))
    _check_finetune_lists(recipe.finetune, source)
    if recipe.finetune.kfold < 2:
        fail(source, "finetune.kfold", "at least 2 folds", repr(recipe.finetune.kfold))
    if not 0 < recipe.finetune.validation_fraction < 1:
        fail(source, "finetune.validation_fraction", "a fraction in (0, 1)", repr(recipe.finetune.validation_fraction))
    max_windows = recipe.model.get("max_windows", MoodReaderConfig.max_windows)
    if recipe.dataset.sequence_windows > max_windows:
        fail(source, "dataset.sequence_windows", f"at most model.max_windows={max_windows}",
             repr(recipe.dataset.sequence_windows))


def _check_finetune_lists(settings: FinetuneRecipe, source: str) -> None:
    if settings.seeds is not None:
        if not settings.seeds or any(seed < 0 for seed in settings.seeds) or len(set(settings.seeds)) < len(
                settings.seeds):
            fail(source, "finetune.seeds", "a non-empty list of distinct whole numbers from 0", repr(settings.seeds))
    if not settings.baseline_c or not all(math.isfinite(c) and c > 0 for c in settings.baseline_c):
        fail(source, "finetune.baseline_c", "a non-empty list of positive finite numbers", repr(settings.baseline_c))


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
