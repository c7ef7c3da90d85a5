"""The evaluation report in three forms: ``report.json``, a Markdown per-subject table, a confusion-matrix PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, write_json, write_text


def markdown_table(report: dict[str, Any]) -> str:
    """Per-subject accuracy and macro-F1 of the model and the baseline, then mean ± std and the chance level."""
    simulated = " (simulated data, not real EEG)" if report.get("simulated") else ""
    baseline = {fold["test_subject"]: fold for fold in report["baseline"]["folds"]}
    lines = [
        f"# {report['recipe']['name']}: {report['protocol']} evaluation{simulated}",
        "",
        "| test subject | n test | accuracy | macro-F1 | baseline accuracy |",
        "|---|---:|---:|---:|---:|",
    ]
    for fold in report["folds"]:
        reference = baseline.get(fold["test_subject"], {}).get("accuracy", float("nan"))
        lines.append(f"| {fold['test_subject']} | {fold['n_test']} | {fold['accuracy']:.3f} | "
                     f"{fold['macro_f1']:.3f} | {reference:.3f} |")
    lines += [
        f"| **mean ± std** | | **{report['accuracy_mean']:.3f} ± {report['accuracy_std']:.3f}** | "
        f"**{report['macro_f1_mean']:.3f} ± {report['macro_f1_std']:.3f}** | "
        f"{report['baseline']['accuracy_mean']:.3f} ± {report['baseline']['accuracy_std']:.3f} |",
        "",
        f"Chance level (most frequent class of the tested rows): {report['chance_level']:.3f}; "
        f"uniform guess: {report['uniform_chance']:.3f}. Baseline: {report['baseline']['name']}, same folds.",
        "",
        *pretraining_lines(report.get("pretraining") or {}),
    ]
    return "\n".join(lines)


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
    overlap = pretraining.get("overlap") or {}
    seen = overlap.get("test_subjects_seen_in_pretraining") or []
    if seen:
        lines += [f"**Overlap: the pre-training saw test subjects {', '.join(seen)} of {overlap['dataset_id']}** "
                  f"(policy: {overlap['policy']}); their folds are not a clean cross-subject estimate.", ""]
    else:
        lines += [f"No test subject of {overlap.get('dataset_id')} was seen in pre-training.", ""]
    return lines


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
    """Write ``report.json``, ``report.md`` and ``confusion_matrix.png`` (all folds' test rows) into
    ``output_dir``."""
    output_dir.mkdir(parents=True, exist_ok=True)
    report = {**report, "confusion_matrix": {"labels": label_names, "counts": matrix.tolist()}}
    write_json(output_dir / "report.json", report)
    write_text(output_dir / "report.md", markdown_table(report))
    simulated = ", simulated data" if report.get("simulated") else ""
    plot_confusion_matrix(matrix, label_names, output_dir / "confusion_matrix.png",
                          f"{report['protocol'].upper()} test rows, all folds{simulated}")
