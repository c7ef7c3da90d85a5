"""The evaluation report in three forms: ``report.json`` (everything, machine-readable), ``report.md`` (the
protocol, dataset, pre-training, tables of means with confidence intervals, per seed, per subject, per session,
the baselines with p-values, the folds) and ``confusion_matrix.png``; and what ties a model folder to its report
(:func:`write_evaluation_pointer`, :func:`attach_report`), so that publishing a model folder finds its numbers."""

from __future__ import annotations

import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, write_json, write_text
from ..provenance import metadata_identity
from .data import EEGTensors
from .folds import subject_order
from .protocols import PROTOCOLS
from .recipe import Recipe
from .runtime import package_versions

EVALUATION_POINTER = "evaluation.json"
"""The file in a fold's model folder that names the run's ``report.json`` (path relative to the model folder)."""
REPORT_FILES = ("report.json", "report.md", "confusion_matrix.png")
WINDOW_RULE = ("every window of a row is scored with its row's prediction; a window held by several rows (overlapping "
               "rows) takes the class of their mean probabilities, so each window counts once")


def _trailing_note(metadata: dict[str, Any]) -> str:
    """Which windows of the labelled trials are scored: with tail rows every trailing window is; windows between
    rows (``stride > sequence_windows``) and trials shorter than one row are not in the dataset either way."""
    stride, windows = int(metadata.get("stride") or 1), int(metadata.get("sequence_windows") or 1)
    gaps = (f"; the {stride - windows} windows between consecutive rows (stride {stride} > {windows} windows per "
            "row) are in no row and not scored" if stride > windows else "")
    short = "; trials shorter than one row are not in the built dataset"
    if metadata.get("tail_rows"):
        return ("trailing windows of each trial are held by one more row ending at its last window (its tail row: "
                f"tested only, never trained, validated or normalised on) and scored{gaps}{short}")
    return (f"windows after the last full row of a trial (fewer than the stride, {stride}, per trial) are not in the "
            f"built dataset and are not scored{gaps}{short}")


def build_report(
    *, recipe: Recipe, protocol: str, seeds: list[int], dataset_path: str | Path, tensors: EEGTensors,
    folds: list[dict[str, Any]], summary: dict[str, Any], num_classes: int, pretraining: dict[str, Any],
    runtime: dict[str, Any],
) -> dict[str, Any]:
    """The ``report.json`` content (without the confusion matrix, which :func:`write_report` adds)."""
    metadata = tensors.metadata
    counts = np.asarray(summary["confusion_matrix_counts"]).sum(axis=1)
    numbers = {key: value for key, value in summary.items() if key != "confusion_matrix_counts"}
    return {
        "protocol": protocol,
        "protocol_definition": PROTOCOLS[protocol].definition,
        "protocol_scope": PROTOCOLS[protocol].scope,
        "validation": recipe.finetune.validation,
        "keep": recipe.finetune.keep,
        "seeds": list(seeds),
        "metric_unit": "window",
        "window_rule": WINDOW_RULE,
        "dataset": {
            "path": str(dataset_path), "layout": metadata.get("layout"), "id": metadata_identity(metadata),
            "rows": len(tensors), "windows_per_row": int(tensors.de.shape[1]), "stride": metadata.get("stride"),
            "subjects": subject_order(tensors.subjects), "sessions": subject_order(tensors.sessions),
            "classes": tensors.label_names, "de_source": metadata.get("de_source"),
            "smoothing": metadata.get("smoothing"), "trailing_windows": _trailing_note(metadata),
        },
        "simulated": bool(metadata.get("simulated", False)),
        "folds": folds,
        **numbers,
        "chance_level": float(counts.max() / counts.sum()),
        "uniform_chance": 1.0 / num_classes,
        "pretrained": pretraining["folder"],
        "pretraining": pretraining,
        "recipe": recipe.to_dict(),
        "versions": {**package_versions(), "scikit-learn": version("scikit-learn")},
        "runtime": runtime,
    }


def _number(value: float | None) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _interval(interval: list[float] | None) -> str:
    return "–" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _p(test: dict[str, Any]) -> str:
    return "–" if test.get("p_value") is None else f"{test['p_value']:.3g}"


METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "balanced_accuracy": "balanced accuracy",
                "row_accuracy": "accuracy per row"}


def _selection(report: dict[str, Any]) -> str:
    """How a fold's weights were chosen, as the report's protocol section says it."""
    if report.get("keep") == "last":
        return "Each fold keeps its weights after the last epoch (finetune.keep: last); the validation scores"
    return "Early stopping"


def protocol_lines(report: dict[str, Any]) -> list[str]:
    """The protocol section: definition, validation, seeds and how windows are scored."""
    seeds = ", ".join(str(seed) for seed in report["seeds"])
    used = sorted({fold.get("validation_by") for fold in report["folds"]} - {None})
    return ["## Protocol", "", f"**{report['protocol']}** ({report['protocol_scope']}). "
            f"{report['protocol_definition']}", "",
            f"{_selection(report)} and the baselines' C use the fold's validation rows (finetune.validation: "
            f"{report['validation']}; drawn by {', '.join(used)}), never a test row; each fold's record in "
            "report.json lists the units of its training, validation, normalisation and early-stopping rows and "
            "checks that no test unit is among them.", "",
            f"Seeds: {seeds} (initialisation and batch order; the folds are the same for every seed). "
            f"Metrics are per window: {report['window_rule']}. Accuracy per row is given beside them.", ""]


def dataset_lines(report: dict[str, Any]) -> list[str]:
    """The dataset section: identity, subjects, sessions, rows, classes, trailing windows."""
    dataset = report["dataset"]
    return ["## Dataset", "", f"`{dataset['path']}`: {dataset['id']} (layout `{dataset['layout']}`, DE "
            f"{dataset['de_source'] or 'unknown source'}, smoothing {dataset['smoothing']}); "
            f"{len(dataset['subjects'])} subjects ({', '.join(dataset['subjects'])}), sessions "
            f"{', '.join(dataset['sessions'])}; {dataset['rows']} rows of {dataset['windows_per_row']} windows "
            f"(stride {dataset['stride']}); classes {', '.join(dataset['classes'])}. Note: "
            f"{dataset['trailing_windows']}.", ""]


def results_lines(report: dict[str, Any]) -> list[str]:
    """The headline table (model mean ± std over subjects, 95 % intervals, baselines), chance, the per-seed table."""
    baselines = report["baselines"]
    lines = ["## Results", "", "| metric | model: mean ± std over subjects | 95 % CI over subjects | "
             "95 % CI over seeds | " + " | ".join(entry["name"] for entry in baselines.values()) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(baselines)]
    for metric, name in METRIC_NAMES.items():
        references = [f"{_number(entry.get(f'{metric}_mean'))} ± {_number(entry.get(f'{metric}_std'))}"
                      if f"{metric}_mean" in entry else "–" for entry in baselines.values()]
        lines.append(f"| {name} | **{report[f'{metric}_mean']:.3f} ± {report[f'{metric}_std']:.3f}** | "
                     f"{_interval(report[f'{metric}_ci95_subjects'])} | {_interval(report[f'{metric}_ci95_seeds'])} | "
                     + " | ".join(references) + " |")
    lines += ["", f"Chance level (most frequent class of the test windows): {report['chance_level']:.3f}; uniform "
              f"guess: {report['uniform_chance']:.3f}. With several seeds a subject's number is its mean over seeds; "
              "the interval over seeds is that of the per-seed means.", "", "### Per seed", "",
              "| seed | accuracy | macro-F1 | balanced accuracy | accuracy per row |", "|---:|---:|---:|---:|---:|"]
    for entry in report["per_seed"]:
        lines.append(f"| {entry['seed']} | " + " | ".join(
            f"{entry[f'{metric}_mean']:.3f} ± {entry[f'{metric}_std']:.3f}" for metric in METRIC_NAMES) + " |")
    return [*lines, ""]


def baseline_lines(report: dict[str, Any]) -> list[str]:
    """The baselines beside the model, with the paired Wilcoxon signed-rank p-values over subjects."""
    lines = ["### Baselines", "", "Same folds, same inputs (per-window DE" + (" + eye features" if report["recipe"][
             "finetune"]["use_eye"] else "") + "), C chosen per fold on the validation windows. p: two-sided paired "
             "Wilcoxon signed-rank test over subjects of the model's per-subject number against the baseline's.", "",
             "| baseline | accuracy | macro-F1 | p (accuracy) | p (macro-F1) | C per fold |",
             "|---|---:|---:|---:|---:|---|"]
    for entry in report["baselines"].values():
        chosen = ", ".join(f"{fold['c']:g}" for fold in entry["folds"])
        lines.append(f"| {entry['name']} | {entry['accuracy_mean']:.3f} ± {entry['accuracy_std']:.3f} | "
                     f"{entry['macro_f1_mean']:.3f} ± {entry['macro_f1_std']:.3f} | "
                     f"{_p(entry['wilcoxon']['accuracy'])} | {_p(entry['wilcoxon']['macro_f1'])} | {chosen} |")
    return [*lines, ""]


def subject_lines(report: dict[str, Any]) -> list[str]:
    """Per subject: windows, the model's metrics, the baselines' accuracy."""
    kinds = list(report["baselines"])
    lines = ["### Per subject", "", "| subject | test windows | accuracy | macro-F1 | balanced accuracy | accuracy per "
             "row | " + " | ".join(f"{report['baselines'][kind]['name']}" for kind in kinds) + " |",
             "|---|---:|---:|---:|---:|---:|" + "---:|" * len(kinds)]
    for entry in report["subjects"]:
        lines.append(f"| {entry['subject']} | {entry['windows']} | " + " | ".join(
            f"{entry[metric]:.3f}" for metric in METRIC_NAMES) + " | " + " | ".join(
            f"{entry['baselines'][kind]['accuracy']:.3f}" for kind in kinds) + " |")
    return [*lines, ""]


def session_lines(report: dict[str, Any]) -> list[str]:
    """Per session: mean ± std over the subjects tested in it, then the mean over sessions."""
    kinds = list(report["baselines"])
    lines = ["### Per session", "", "| session | subjects | accuracy | macro-F1 | " + " | ".join(
        report["baselines"][kind]["name"] for kind in kinds) + " |", "|---|---:|---:|---:|" + "---:|" * len(kinds)]
    for entry in report["sessions"]:
        lines.append(f"| {entry['session']} | {len(entry['subjects'])} | {entry['accuracy_mean']:.3f} ± "
                     f"{entry['accuracy_std']:.3f} | {entry['macro_f1_mean']:.3f} ± {entry['macro_f1_std']:.3f} | "
                     + " | ".join(f"{entry['baselines'][kind]['accuracy_mean']:.3f}" for kind in kinds) + " |")
    sessions = report["sessions"]
    if len(sessions) > 1:
        means = [np.mean([entry["accuracy_mean"] for entry in sessions]),
                 np.mean([entry["macro_f1_mean"] for entry in sessions]),
                 *[np.mean([entry["baselines"][kind]["accuracy_mean"] for entry in sessions]) for kind in kinds]]
        lines.append("| **mean over sessions** | | " + " | ".join(f"{value:.3f}" for value in means) + " |")
    return [*lines, ""]


def fold_lines(report: dict[str, Any]) -> list[str]:
    """One line per fold and seed: who was tested, trained and validated on, and the isolation check."""
    lines = ["### Folds", "", "| fold | seed | test | training pool (subjects) | validation | test rows / windows | "
             "accuracy | "
             "best epoch | isolation |", "|---|---:|---|---|---|---:|---:|---:|---|"]
    for fold in report["folds"]:
        isolation = fold["isolation"]
        lines.append(f"| {fold['name']} | {fold['seed']} | {', '.join(fold['test_subjects'])} | "
                     f"{len(fold['train_subjects'])} | by {fold['validation_by']}: {fold['n_validation']} rows | "
                     f"{fold['n_test']} / {fold['n_test_windows']} | {fold['accuracy']:.3f} | {fold['best_epoch']} | "
                     f"{len(isolation['test'])} test {isolation['unit']}{'s' * (len(isolation['test']) != 1)}, none "
                     "in training, validation or normalisation |")
    return [*lines, ""]


def pretraining_lines(pretraining: dict[str, Any]) -> list[str]:
    """The report's pre-training section: the folder and its sources, what was loaded, and the subject overlap."""
    if not pretraining.get("folder"):
        return ["## Pre-training", "", "None: every weight was trained from scratch on the training subjects.", ""]
    lines = ["## Pre-training", "", f"Folder: `{pretraining['folder']}` ({pretraining.get('steps')} steps, "
             f"{pretraining.get('hours_seen') or 0:.2f} h of EEG seen). {pretraining.get('note', '')}.", "",
             "| source | dataset | subjects | hours | rows |", "|---|---|---:|---:|---:|"]
    for source in pretraining.get("sources", []):
        lines.append(f"| `{source['path']}` ({source['kind']}) | {source['dataset_id']} | {len(source['subjects'])} "
                     f"| {source['hours']:.2f} | {source['rows']} |")
    lines += ["", f"Loaded from pre-training: {', '.join(pretraining.get('loaded_modules') or []) or 'nothing'}; "
              f"fresh: {', '.join(pretraining.get('fresh_modules') or [])}.", ""]
    if pretraining.get("signal_encoder") == "frozen":
        lines += ["The pre-trained raw-signal encoder was frozen (`finetune.freeze_signal_encoder`): fine-tuning "
                  "trained everything else on its output.", ""]
    overlap = pretraining.get("overlap") or {}
    seen = overlap.get("test_subjects_seen_in_pretraining") or []
    if seen:
        lines += [f"**Overlap: the pre-training saw test subjects {', '.join(seen)} of {overlap['dataset_id']}** "
                  f"(policy: {overlap['policy']}); their folds are not a clean cross-subject estimate.", ""]
    else:
        lines += [f"No test subject of {overlap.get('dataset_id')} was seen in pre-training.", ""]
    return lines


def markdown_report(report: dict[str, Any]) -> str:
    """``report.md``: a text a researcher can paste, every number from ``report``."""
    simulated = " (simulated data, not real EEG)" if report.get("simulated") else ""
    lines = [f"# {report['recipe']['name']}: {report['protocol']} evaluation{simulated}", ""]
    if report.get("simulated"):
        lines += ["> **Simulated data.** These numbers come from recordings generated by the moodreader-hf simulator, "
                  "not from real EEG: they show that the code and the protocol work, nothing about emotions.", ""]
    lines += [*protocol_lines(report), *dataset_lines(report), *results_lines(report), *baseline_lines(report),
              *subject_lines(report), *session_lines(report), *fold_lines(report),
              "## Confusion matrix", "", "![Confusion matrix of the test windows](confusion_matrix.png)", "",
              *pretraining_lines(report.get("pretraining") or {}),
              "Software: " + ", ".join(f"{name} {version}" for name, version in report["versions"].items()) + "."]
    return "\n".join(lines) + "\n"


def plot_confusion_matrix(matrix: np.ndarray, label_names: list[str], path: Path, title: str) -> None:
    """Save the row-normalised confusion matrix (rows: true class) with counts as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=float), where=totals > 0)
    figure, axes = plt.subplots(figsize=(1.2 * len(label_names) + 2.5, 1.2 * len(label_names) + 2))
    image = axes.imshow(shares, vmin=0, vmax=1, cmap="Blues")
    axes.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
    axes.set_yticks(range(len(label_names)), label_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, f"{shares[row, column]:.2f}\n({count})", ha="center", va="center",
                  color="white" if shares[row, column] > 0.5 else "black", fontsize=8)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=120)
    plt.close(figure)


def write_report(output_dir: Path, report: dict[str, Any], matrix: np.ndarray, label_names: list[str]) -> None:
    """Write ``report.json``, ``report.md`` and ``confusion_matrix.png`` (test windows of all folds, summed over
    seeds) into ``output_dir``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    report = {**report, "confusion_matrix": {"labels": label_names, "counts": np.asarray(matrix).tolist(),
                                             "unit": "window", "seeds": len(report["seeds"])}}
    write_json(output_dir / "report.json", report)
    write_text(output_dir / "report.md", markdown_report(report))
    simulated = ", simulated data" if report.get("simulated") else ""
    seeds = f", {len(report['seeds'])} seeds" if len(report["seeds"]) > 1 else ""
    plot_confusion_matrix(np.asarray(matrix), label_names, output_dir / "confusion_matrix.png",
                          f"{report['protocol']}: test windows, all folds{seeds}{simulated}")


def write_evaluation_pointer(model_dir: Path, report_path: Path, *, fold: str, seed: int) -> None:
    """Write ``model_dir/evaluation.json``: the report that evaluated this fold's model, and which fold it is."""
    write_json(model_dir / EVALUATION_POINTER, {"report": Path(os.path.relpath(report_path, model_dir)).as_posix(),
                                                "role": "fold", "fold": fold, "seed": seed})


def attach_report(model_dir: Path, report_dir: Path, note: str) -> None:
    """Copy the report files of ``report_dir`` into ``model_dir`` (a model trained apart from the evaluated folds,
    such as the demo's model of all subjects), the JSON with ``model_role: {"role": "all-subjects", "note"}``
    saying how the model relates to the numbers."""
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    write_json(model_dir / "report.json", {**report, "model_role": {"role": "all-subjects", "note": note}})
    for name in REPORT_FILES[1:]:
        shutil.copyfile(report_dir / name, model_dir / name)
