"""Publishing: the Hub repository folder of a trained model, its card, and the upload (of models and datasets).

The model repository holds what a user who never installed this package needs: ``model.safetensors``,
``config.json`` (``auto_map`` for every class, ``custom_pipelines`` for the ``eeg-emotion-recognition`` pipeline),
``preprocessor_config.json`` (``auto_map`` for ``AutoFeatureExtractor``), the four remote-code files, ``README.md``
rendered from the top-level ``model_card.md`` with the evaluation report's numbers, and the Inference Endpoints
``handler.py``. Folders are built under a temporary name and renamed when complete. A built dataset's repository
folder is :func:`moodreader_hf.builders.export_parquet`'s output; :func:`upload_folder` sends either.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData, get_token
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id
from safetensors import safe_open

from .atomic import atomic_folder, check_replaceable, upload_ignore_patterns
from .configuration_moodreader import MoodReaderConfig
from .feature_extraction_moodreader import MoodReaderFeatureExtractor, differential_entropy
from .modeling_moodreader import AUTO_MAP, MoodReaderForEmotionRecognition
from .pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline
from .training.protocols import PROTOCOLS
from .training.report import EVALUATION_POINTER
from .validation import MoodReaderInputError, fail, one_line, reading

REMOTE_CODE_FILES: tuple[str, ...] = (
    "configuration_moodreader.py",
    "modeling_moodreader.py",
    "feature_extraction_moodreader.py",
    "pipeline_moodreader.py",
)
"""The files that travel to the Hub as remote code."""
MODEL_REPO_FILES: tuple[str, ...] = (
    "config.json", "model.safetensors", "preprocessor_config.json", "README.md", "handler.py", *REMOTE_CODE_FILES,
)
"""Every file of a published model repository (plus ``electrode_importance.png`` when a topomap is embedded)."""
PIPELINE_TAG = "tabular-classification"
"""The Hub has no time-series classification task. A DE input is a table: one row per window, one column per
(electrode, band); ``tabular-classification`` is the task whose widget (``structuredData``) sends such a table."""
TAGS: tuple[str, ...] = ("eeg", "emotion-recognition", "affective-computing", "brain-computer-interface",
                         "differential-entropy", "seed", "moodreader")
METRICS: tuple[str, ...] = ("accuracy", "f1")
REPORT_KEYS: tuple[str, ...] = ("protocol", "dataset", "folds", "accuracy_mean", "accuracy_std", "macro_f1_mean",
                                "macro_f1_std", "chance_level", "simulated")
FOLD_KEYS: tuple[str, ...] = ("test_subject", "accuracy", "macro_f1", "n_test")
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "model_card.md"
"""The card template of a source checkout (the top-level ``model_card.md``)."""
HANDLER_TEMPLATE = Path(__file__).resolve().parent / "templates" / "handler.py"
TOPOMAP_NAME = "electrode_importance.png"
WIDGET_WINDOWS = 3
LOGIN_HELP = "set the HF_TOKEN environment variable or run `hf auth login` (a token with write access)"


CLASSIFIER_ARCHITECTURE = "MoodReaderForEmotionRecognition"
"""The class of a folder that can classify: a fine-tuned model with a trained classification head."""
WEIGHTS_FILES: tuple[str, ...] = ("model.safetensors", "model.safetensors.index.json")


@contextmanager
def quiet_loading() -> Iterator[None]:
    """No transformers progress bars or loading reports while loading (a command prints its own lines)."""
    from transformers.utils import logging as transformers_logging

    bars = transformers_logging.is_progress_bar_enabled()
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers_logging.set_verbosity(verbosity)
        if bars:
            transformers_logging.enable_progress_bar()


def is_local_reference(model: str | os.PathLike) -> bool:
    """Whether ``--model`` names a folder on this machine rather than a Hub repo id: it exists, or it cannot be a
    repo id (``./x``, ``/x``, ``~/x``, ``a/b/c``, a backslash...)."""
    text = os.fspath(model)
    if Path(text).exists():
        return True
    try:
        validate_repo_id(text)
    except HFValidationError:
        return True
    return text.startswith((".", "~")) or text.count("/") != 1


def _refuse_booleans(values: dict[str, Any], defaults: object, source: str) -> None:
    """A JSON ``true``/``false`` where the class has a number (``"sampling_rate": true`` would be 1 Hz)."""
    for key, value in values.items():
        default = getattr(defaults, key, None)
        if isinstance(value, bool) and isinstance(default, (int, float)) and not isinstance(default, bool):
            fail(source, key, f"a number (like the default {default!r})", repr(value))


def _read_json_object(path: Path, field: str, expected: str) -> dict[str, Any]:
    with reading(path, field, expected):
        values = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(values, dict):
        fail(str(path), field, f"{expected} (a JSON object)", type(values).__name__)
    return values


def check_model_folder(folder: str | os.PathLike) -> MoodReaderConfig:
    """Check a local model folder before anything loads it and return its configuration: ``config.json`` (a
    Mood Reader configuration whose ``architectures`` is the emotion classifier), readable safetensors weights and
    ``preprocessor_config.json``. A pre-training folder (``MoodReaderForMaskedEEGModeling``) is refused: its
    classification head was never trained."""
    given = os.fspath(folder)
    folder = Path(folder)
    if not folder.exists():
        fail(given, "model", "a model folder or a Hub repo id (owner/name)", "no such folder")
    if not folder.is_dir():
        fail(given, "model", "a model folder (save_pretrained output) or a Hub repo id", "a file")
    config_path = folder / "config.json"
    if not config_path.is_file():
        fail(str(folder), "config.json", "the model configuration save_pretrained writes", "no such file")
    values = _read_json_object(config_path, "config.json", "a JSON model configuration")
    if values.get("model_type") != MoodReaderConfig.model_type:
        fail(str(config_path), "model_type", repr(MoodReaderConfig.model_type), repr(values.get("model_type")))
    _refuse_booleans(values, MoodReaderConfig(), str(config_path))
    architectures = values.get("architectures") or []
    if CLASSIFIER_ARCHITECTURE not in architectures:
        what = (f"{architectures}: a pre-training folder, whose classification head was never trained (fine-tune "
                f"it first: moodreader finetune --pretrained {folder} ...)" if architectures else "none")
        fail(str(folder), "architectures", f"a fine-tuned {CLASSIFIER_ARCHITECTURE} with a trained classification "
             "head", what)
    try:
        config = MoodReaderConfig.from_dict(values)
    except (ValueError, TypeError, KeyError) as error:
        fail(str(config_path), "config.json", "valid MoodReaderConfig values", one_line(error))
    weights = [folder / name for name in WEIGHTS_FILES if (folder / name).is_file()]
    if not weights:
        found = [path.name for path in folder.iterdir() if path.suffix in (".bin", ".pt", ".pth", ".ckpt")]
        fail(str(folder), WEIGHTS_FILES[0], "the weights save_pretrained writes (safetensors)",
             "no such file" + (f" (found {found}: pickled weights are not read)" if found else ""))
    if weights[0].name == WEIGHTS_FILES[0]:
        with reading(weights[0], WEIGHTS_FILES[0], "a safetensors weights file"):
            with safe_open(str(weights[0]), framework="pt") as handle:
                list(handle.keys())
    extractor_path = folder / "preprocessor_config.json"
    if not extractor_path.is_file():
        fail(str(folder), "preprocessor_config.json", "the feature extractor saved next to the model (its DE recipe "
             "and normalisation statistics)", "no such file")
    extractor_values = _read_json_object(extractor_path, "preprocessor_config.json", "a JSON feature extractor")
    _refuse_booleans(extractor_values, MoodReaderFeatureExtractor(), str(extractor_path))
    return config


def load_classifier(model: str | os.PathLike, *, revision: str | None = None
                    ) -> tuple[MoodReaderForEmotionRecognition, MoodReaderFeatureExtractor]:
    """The emotion classifier and feature extractor of a model folder or Hub repo id, refused with one clear
    message if they cannot classify: an unreadable or foreign folder, a pre-training folder, weights that are
    missing, truncated, of other shapes than the configuration, or that leave part of the model untrained."""
    source = os.fspath(model)
    local = is_local_reference(source)
    if local:
        check_model_folder(source)
    where = "the folder" if local else f"the Hub repo (no folder {source!r} here either)"
    with quiet_loading(), reading(source, "model", f"a Mood Reader classifier in {where}"):
        classifier, info = MoodReaderForEmotionRecognition.from_pretrained(
            source, revision=revision, output_loading_info=True, ignore_mismatched_sizes=True)
        extractor = MoodReaderFeatureExtractor.from_pretrained(source, revision=revision)
    if CLASSIFIER_ARCHITECTURE not in (classifier.config.architectures or []):
        fail(source, "architectures", f"a fine-tuned {CLASSIFIER_ARCHITECTURE}", classifier.config.architectures)
    mismatched = sorted(info.get("mismatched_keys") or [])
    if mismatched:
        name, stored, wanted = mismatched[0]
        fail(source, "weights", f"tensors of the shapes config.json describes ({name}: {tuple(wanted)})",
             f"{tuple(stored)} ({len(mismatched)} tensors differ: the weights belong to another architecture)")
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        fail(source, "weights", "every weight of the classifier (a trained classification model)",
             f"{len(missing)} missing, e.g. {', '.join(missing[:3])} (they would be random)")
    return classifier.eval(), extractor


def check_classifier(model: str | os.PathLike, *, revision: str | None = None) -> None:
    """Refuse, before a command's work, a model that cannot classify (see :func:`load_classifier`)."""
    load_classifier(model, revision=revision)


def load_pipeline(model: str | os.PathLike, *, revision: str | None = None) -> EEGEmotionRecognitionPipeline:
    """The emotion pipeline of a model folder or Hub repo id, built from this package's installed classes.

    The folder needs ``config.json`` (a fine-tuned classifier), the weights and ``preprocessor_config.json`` (a
    training output or a published repo); see :func:`load_classifier` for what is refused.
    """
    classifier, extractor = load_classifier(model, revision=revision)
    return EEGEmotionRecognitionPipeline(model=classifier, feature_extractor=extractor, task=TASK, device=-1)


def load_report(path: str | os.PathLike) -> dict[str, Any]:
    """Read an evaluation ``report.json`` (written by training) after checking the keys the card uses."""
    source = os.fspath(path)
    try:
        report = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        fail(source, "report", "a readable JSON evaluation report", f"{type(error).__name__}: {error}")
    if not isinstance(report, dict):
        fail(source, "report", "a JSON object", type(report).__name__)
    missing = [key for key in REPORT_KEYS if key not in report]
    if missing:
        fail(source, "report", f"the keys {list(REPORT_KEYS)}", f"missing {missing}")
    if not isinstance(report["folds"], list) or not report["folds"]:
        fail(source, "folds", "a non-empty list of per-fold results", repr(report["folds"])[:80])
    for index, fold in enumerate(report["folds"]):
        absent = [key for key in FOLD_KEYS if not isinstance(fold, dict) or key not in fold]
        if absent:
            fail(source, f"folds[{index}]", f"the keys {list(FOLD_KEYS)}", f"missing {absent}")
    for key in ("accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "chance_level"):
        value = report[key]
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
            fail(source, key, "a finite number", repr(value))
    return report


def find_model_report(model_dir: str | os.PathLike) -> tuple[Path | None, dict[str, Any]]:
    """The evaluation report of a model folder and what the folder is to it: ``model_dir/report.json`` (a model
    published with its evaluation, e.g. the demo's, whose report may say ``model_role``), else the report that
    ``model_dir/evaluation.json`` points to (a fold's model: ``{"role": "fold", "fold": ...}``); ``(None, {})``
    when the folder has neither."""
    folder = Path(model_dir)
    if (folder / "report.json").is_file():
        return folder / "report.json", {}
    pointer = folder / EVALUATION_POINTER
    if not pointer.is_file():
        return None, {}
    with reading(pointer, EVALUATION_POINTER, "a JSON pointer to the evaluation report"):
        record = json.loads(pointer.read_text(encoding="utf-8"))
    if not isinstance(record, dict) or not isinstance(record.get("report"), str):
        fail(str(pointer), "report", "the path of the evaluation report.json", repr(record)[:80])
    target = (folder / record["report"]).resolve()
    if not target.is_file():
        fail(str(pointer), "report", "an existing report.json (the run folder the model came from)", str(target))
    return target, record


def widget_columns(channel_names: Sequence[str], band_names: Sequence[str]) -> list[str]:
    """Column names of the tabular widget: ``"<electrode>_<band>"``, electrode-major (``Fp1_delta``, ...)."""
    return [f"{channel}_{band}" for channel in channel_names for band in band_names]


def widget_example(config: MoodReaderConfig, extractor: MoodReaderFeatureExtractor, *, windows: int = WIDGET_WINDOWS,
                   seed: int = 0) -> dict[str, list[float]]:
    """A ``structuredData`` table of DE values (natural log units, before normalisation): rows are windows.

    With normalisation statistics, each value is the training mean plus half a training standard deviation of seeded
    Gaussian noise; without them, the DE of seeded 20 µV white noise. Values are rounded to 4 decimals.
    """
    rng = np.random.default_rng(seed)
    shape = (windows, config.num_channels, config.num_bands)
    if extractor.de_mean is not None:
        de = np.asarray(extractor.de_mean) + 0.5 * np.asarray(extractor.de_std) * rng.standard_normal(shape)
    else:
        noise = 20.0 * rng.standard_normal((config.num_channels, windows * extractor.samples_per_window))
        de = differential_entropy(noise, extractor.sampling_rate, extractor.window_seconds, extractor.band_edges,
                                  extractor.method)
    table = np.round(de.reshape(windows, -1), 4)
    return {column: table[:, index].tolist()
            for index, column in enumerate(widget_columns(config.channel_names, config.band_names))}


def _dataset_name(report: dict[str, Any] | None, dataset_id: str | None) -> tuple[str | None, str | None]:
    """``(Hub dataset id, display name)`` from ``--dataset-id`` and the report's ``dataset`` entry."""
    if report is None:
        return dataset_id, dataset_id
    dataset = report["dataset"]
    if isinstance(dataset, dict):
        name = str(dataset.get("name") or dataset.get("id") or dataset.get("layout") or "unnamed dataset")
    else:
        name = str(dataset)
    return dataset_id or name, name


def eval_results(report: dict[str, Any], dataset_type: str, dataset_name: str) -> list[EvalResult]:
    """The ``model-index`` entries of a report: the headline accuracy and macro-F1 (per window for reports that
    score windows), mean and standard deviation over subjects; the protocol is the ``dataset.config`` and split,
    its settings the ``dataset.args``."""
    marked = report["simulated"] and "simulated" not in dataset_name
    label = f"{dataset_name} (simulated)" if marked else dataset_name
    protocol = str(report["protocol"])
    arguments = {"protocol": protocol, "unit": report.get("metric_unit", "row")}
    if "seeds" in report:
        arguments.update(seeds=" ".join(str(seed) for seed in report["seeds"]), validation=report.get("validation"))
    common = dict(task_type=PIPELINE_TAG, task_name="EEG emotion recognition", dataset_type=dataset_type,
                  dataset_name=label, dataset_config=protocol, dataset_split=protocol, dataset_args=arguments)
    held_out = f"per {arguments['unit']}, over subjects, {protocol}"
    return [
        EvalResult(metric_type="accuracy", metric_value=float(report["accuracy_mean"]),
                   metric_name=f"Accuracy (mean {held_out})", **common),
        EvalResult(metric_type="accuracy_std", metric_value=float(report["accuracy_std"]),
                   metric_name=f"Accuracy (standard deviation {held_out})", **common),
        EvalResult(metric_type="f1", metric_value=float(report["macro_f1_mean"]), metric_config="macro",
                   metric_name=f"Macro-F1 (mean {held_out})", **common),
        EvalResult(metric_type="f1_std", metric_value=float(report["macro_f1_std"]), metric_config="macro",
                   metric_name=f"Macro-F1 (standard deviation {held_out})", **common),
    ]


def evaluation_view(report: dict[str, Any], role: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the card's evaluation section prints, from a report of this package (per-window metrics, seeds,
    baselines with p-values, per-subject table) or from an older one (per-row accuracy per LOSO fold)."""
    role = {**(report.get("model_role") or {}), **(role or {})}
    if "subjects" in report:
        subjects = [{"subject": entry["subject"], "accuracy": entry["accuracy"], "macro_f1": entry["macro_f1"],
                     "count": entry["windows"]} for entry in report["subjects"]]
        baselines = [{"name": entry["name"], "accuracy_mean": entry["accuracy_mean"],
                      "accuracy_std": entry["accuracy_std"], "p_value": entry["wilcoxon"]["accuracy"]["p_value"]}
                     for entry in report.get("baselines", {}).values()]
        headline = [{"name": name, "mean": report[f"{key}_mean"], "std": report[f"{key}_std"],
                     "ci_subjects": report.get(f"{key}_ci95_subjects"), "ci_seeds": report.get(f"{key}_ci95_seeds")}
                    for key, name in (("accuracy", "accuracy"), ("macro_f1", "macro-F1"),
                                      ("balanced_accuracy", "balanced accuracy"), ("row_accuracy", "accuracy per row"))
                    if f"{key}_mean" in report]
        return {"unit": "window", "definition": report.get("protocol_definition"), "seeds": report.get("seeds", []),
                "per_seed": report.get("per_seed", []), "headline": headline, "baselines": baselines,
                "subjects": subjects, "role": role}
    baseline = report.get("baseline")
    baselines = ([{"name": baseline.get("name", "logistic regression on flattened DE"),
                   "accuracy_mean": baseline["accuracy_mean"], "accuracy_std": baseline.get("accuracy_std"),
                   "p_value": None}] if isinstance(baseline, dict) and "accuracy_mean" in baseline else [])
    headline = [{"name": "accuracy", "mean": report["accuracy_mean"], "std": report["accuracy_std"],
                 "ci_subjects": None, "ci_seeds": None},
                {"name": "macro-F1", "mean": report["macro_f1_mean"], "std": report["macro_f1_std"],
                 "ci_subjects": None, "ci_seeds": None}]
    folds = sorted(report["folds"], key=lambda fold: str(fold["test_subject"]))
    subjects = [{"subject": fold["test_subject"], "accuracy": fold["accuracy"], "macro_f1": fold["macro_f1"],
                 "count": fold["n_test"]} for fold in folds]
    return {"unit": "row", "definition": None, "seeds": [], "per_seed": [], "headline": headline,
            "baselines": baselines, "subjects": subjects, "role": role}


def render_model_card(
    config: MoodReaderConfig,
    extractor: MoodReaderFeatureExtractor,
    report: dict[str, Any] | None,
    *,
    template: str | os.PathLike = DEFAULT_TEMPLATE,
    repo_id: str | None = None,
    license: str = "apache-2.0",
    dataset_id: str | None = None,
    topomap: str | None = None,
    role: dict[str, Any] | None = None,
) -> ModelCard:
    """The README of the model repository: ``template`` (Jinja, YAML header ``{{ card_data }}``) filled with the
    config, the extractor's recipe and the report (``role``: what the model folder is to the report, e.g. one fold's
    model). Every number comes from those; ``report=None`` renders a card that says the model has no evaluation
    report (and no ``model-index``)."""
    template = Path(template)
    if not template.is_file():
        fail(str(template), "template", "the model card template (model_card.md at the top of a source checkout; "
             "pass --template)", "no such file")
    dataset_type, dataset_name = _dataset_name(report, dataset_id)
    simulated = bool(report["simulated"]) if report is not None else False
    tags = list(TAGS) + (["simulated-data"] if simulated else [])
    hub_datasets = [dataset_id] if dataset_id else ([dataset_type] if dataset_type and not simulated else None)
    card_data = ModelCardData(
        model_name=repo_id.split("/")[-1] if repo_id else "moodreader",
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        license=license,
        tags=tags,
        datasets=hub_datasets,
        metrics=list(METRICS),
        widget=[{"structuredData": widget_example(config, extractor)}],
        eval_results=eval_results(report, dataset_type, dataset_name) if report is not None else None,
    )
    evaluation = evaluation_view(report, role) if report is not None else None
    try:
        return ModelCard.from_template(
            card_data,
            template_path=str(template),
            repo_id=repo_id or "path/to/this/folder",
            title=repo_id.split("/")[-1] if repo_id else "moodreader",
            task=TASK,
            report=report,
            evaluation=evaluation,
            protocols=[{"name": entry.name, "scope": entry.scope, "definition": entry.definition}
                       for entry in PROTOCOLS.values()],
            simulated=simulated,
            dataset_name=dataset_name,
            labels=[config.id2label[index] for index in sorted(config.id2label)],
            channel_names=list(config.channel_names),
            bands=[{"name": name, "low": low, "high": high} for name, (low, high) in zip(config.band_names,
                                                                                         config.band_edges)],
            config=config,
            extractor=extractor,
            segment_windows=config.sequence_windows,
            widget_rows=WIDGET_WINDOWS,
            widget_column_count=config.num_channels * config.num_bands,
            topomap=topomap,
        )
    except jinja2.TemplateError as error:
        fail(str(template), "template", "a Jinja model card template", f"{type(error).__name__}: {one_line(error)}")
    except (UnicodeError, ValueError) as error:
        fail(str(template), "template", "a UTF-8 model card template with a YAML header", one_line(error))


MODEL_REPO_KIND = "model-repo"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of a repository folder written by :func:`build_model_repo`."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_output_folder(target: str | os.PathLike, overwrite: bool, kind: str = MODEL_REPO_KIND) -> Path:
    """Refuse, before any work, a ``target`` whose replacement would delete what this package did not write: only
    a new or empty folder, or with ``overwrite`` a ``kind`` folder moodreader wrote (its manifest,
    :data:`~moodreader_hf.atomic.MARKER`, lists every file; nothing else may be in it), is accepted."""
    return check_replaceable(target, kind, field="--local-dir", overwrite=overwrite,
                             hint=", or --overwrite to replace the folder moodreader wrote there")


def _check_extractor(config: MoodReaderConfig, extractor: MoodReaderFeatureExtractor, source: str) -> None:
    for field in ("channel_names", "band_edges", "sampling_rate", "window_seconds"):
        ours, theirs = getattr(extractor, field), getattr(config, field)
        if ours != theirs:
            fail(source, f"preprocessor_config.json {field}", f"the model config's value {theirs!r}", repr(ours))


def check_png(path: str | os.PathLike) -> Path:
    """An existing PNG file (by its signature, not its name)."""
    path = Path(path)
    if not path.is_file():
        fail(str(path), "topomap", "an existing PNG file", "no such file")
    with reading(path, "topomap", "a readable PNG file"), open(path, "rb") as handle:
        signature = handle.read(len(PNG_SIGNATURE))
    if signature != PNG_SIGNATURE:
        fail(str(path), "topomap", "a PNG image", "a file without the PNG signature")
    return path


def build_model_repo(
    model_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    report: str | os.PathLike | None = None,
    template: str | os.PathLike = DEFAULT_TEMPLATE,
    repo_id: str | None = None,
    license: str = "apache-2.0",
    dataset_id: str | None = None,
    topomap: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the Hub repository folder of a trained emotion model.

    Args:
        model_dir: A ``save_pretrained`` folder of :class:`MoodReaderForEmotionRecognition` with its
            ``preprocessor_config.json`` (and usually ``report.json``).
        output_dir: The repository folder to create (replaced only with ``overwrite``).
        report: ``report.json`` of the evaluation; default: ``model_dir/report.json``, else the report that
            ``model_dir/evaluation.json`` points to (a fold's model), if present.
        template: The card template.
        repo_id: The Hub id the card's usage examples name.
        license: The card's licence identifier.
        dataset_id: Hub id of the training dataset for the card's ``datasets`` (default: the report's dataset name,
            unless the data was simulated: then no Hub dataset is named).
        topomap: A PNG of electrode importance to embed in the card (copied as ``electrode_importance.png``).
        overwrite: Replace an existing non-empty ``output_dir``.

    Returns:
        ``output_dir``.
    """
    model_dir = Path(model_dir)
    output_dir = Path(output_dir)
    check_output_folder(output_dir, overwrite)
    if not Path(template).is_file():
        fail(str(template), "template", "the model card template (model_card.md at the top of a source checkout; "
             "pass --template)", "no such file")
    report_path, role = (Path(report), {}) if report is not None else find_model_report(model_dir)
    loaded_report = load_report(report_path) if report_path is not None else None
    if topomap is not None:
        check_png(topomap)
    pipe = load_pipeline(model_dir)
    config, extractor = pipe.model.config, pipe.feature_extractor
    _check_extractor(config, extractor, str(model_dir))
    MoodReaderFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
    card = render_model_card(config, extractor, loaded_report, template=template, repo_id=repo_id, license=license,
                             dataset_id=dataset_id, topomap=TOPOMAP_NAME if topomap is not None else None,
                             role=role)
    with atomic_folder(output_dir, MODEL_REPO_KIND, overwrite=overwrite, field="--local-dir") as staging:
        pipe.save_pretrained(staging)
        shutil.copyfile(HANDLER_TEMPLATE, staging / "handler.py")
        card.save(staging / "README.md")
        if topomap is not None:
            shutil.copyfile(topomap, staging / TOPOMAP_NAME)
        check_model_repo(staging)
    return output_dir


def check_model_repo(folder: Path) -> None:
    """Fail if the folder lacks a file or a registration that loading with ``trust_remote_code`` needs."""
    missing = [name for name in MODEL_REPO_FILES if not (folder / name).is_file()]
    if missing:
        fail(str(folder), "files", f"{list(MODEL_REPO_FILES)}", f"missing {missing}")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if config.get("auto_map") != AUTO_MAP or TASK not in config.get("custom_pipelines", {}):
        fail(str(folder / "config.json"), "auto_map/custom_pipelines", f"{AUTO_MAP} and {TASK!r}",
             f"{config.get('auto_map')} and {sorted(config.get('custom_pipelines', {}))}")
    extractor = json.loads((folder / "preprocessor_config.json").read_text(encoding="utf-8"))
    if "AutoFeatureExtractor" not in extractor.get("auto_map", {}):
        fail(str(folder / "preprocessor_config.json"), "auto_map", "an AutoFeatureExtractor entry",
             extractor.get("auto_map"))


def resolve_token(token: str | None = None) -> str:
    """The Hub token to upload with: ``token``, else ``HF_TOKEN`` or the saved login; fails saying how to log in."""
    token = token or get_token()
    if not token:
        raise MoodReaderInputError(f"no Hugging Face token: {LOGIN_HELP}, then run the command again.")
    return token


def upload_folder(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    token: str,
    repo_type: str = "model",
    commit_message: str,
    revision: str | None = None,
    private: bool = False,
    space_sdk: str | None = None,
    api: HfApi | None = None,
) -> Any:
    """Create ``repo_id`` if needed (and branch ``revision``), then upload ``folder`` as one commit.

    Returns the ``CommitInfo`` of ``api.upload_folder``. ``api`` defaults to ``HfApi(token=token)``. A Space
    (``repo_type="space"``) is created with ``space_sdk`` (e.g. ``"gradio"``), which the Hub requires.
    """
    folder = Path(folder)
    if not folder.is_dir():
        fail(str(folder), "folder", "an existing repository folder", "no such folder")
    api = api or HfApi(token=token)
    api.create_repo(repo_id, token=token, repo_type=repo_type, private=private, exist_ok=True,
                    space_sdk=space_sdk)
    if revision is not None and revision != "main":
        api.create_branch(repo_id, branch=revision, token=token, repo_type=repo_type, exist_ok=True)
    return api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=commit_message,
                             revision=revision, token=token, repo_type=repo_type,
                             ignore_patterns=upload_ignore_patterns())


__all__ = [
    "CLASSIFIER_ARCHITECTURE",
    "MODEL_REPO_FILES",
    "MODEL_REPO_KIND",
    "PIPELINE_TAG",
    "REMOTE_CODE_FILES",
    "build_model_repo",
    "check_classifier",
    "check_model_folder",
    "check_output_folder",
    "check_png",
    "eval_results",
    "evaluation_view",
    "find_model_report",
    "is_local_reference",
    "load_classifier",
    "load_pipeline",
    "load_report",
    "quiet_loading",
    "render_model_card",
    "resolve_token",
    "upload_folder",
    "widget_columns",
    "widget_example",
]
