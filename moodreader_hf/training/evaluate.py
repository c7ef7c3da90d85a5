"""Evaluate a saved fine-tuned model folder on a built dataset, normalising with the folder's feature extractor and
feeding every modality the model was trained with (DE, the raw signal, eye features); scored per window (as the
fine-tuning report does, :mod:`.window_scores`) and per row."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..atomic import write_json
from ..validation import fail
from .data import fitted_channel_mask, load_tensors, normalize, normalize_eye
from .folds import natural_key
from .metrics import accuracy, confusion_matrix, macro_f1, scores
from .window_scores import window_predictions


def evaluate_model(
    model_dir: str | Path, dataset_path: str | Path, *, subjects: Sequence[str] | None = None,
    batch_size: int = 256, output: str | Path | None = None,
) -> dict[str, Any]:
    """Per-window accuracy, macro-F1, balanced accuracy and confusion matrix (and per-row accuracy and macro-F1, and
    per-subject numbers) of the model in ``model_dir`` on the rows of ``subjects`` (default: all) of the dataset at
    ``dataset_path``; written to ``output`` as JSON when given. ``n`` counts rows, ``n_windows`` windows."""
    from ..hub import load_classifier

    model, extractor = load_classifier(model_dir)
    model.eval()
    config = model.config
    uses_signal = "signal" in config.streams
    need = ["de", "label"] + (["eye"] if config.eye_feature_size else []) + (["signal"] if uses_signal else [])
    tensors = load_tensors(dataset_path, channel_names=config.channel_names, need=need)
    chosen = np.isin(tensors.subjects, list(subjects)) if subjects else np.ones(len(tensors), dtype=bool)
    if not chosen.any():
        fail(str(dataset_path), "subject", f"rows of subjects {list(subjects or [])}",
             f"subjects {sorted(set(tensors.subjects.tolist()))}")
    rows = torch.as_tensor(np.flatnonzero(chosen))
    channel_mask = fitted_channel_mask(tensors.channel_mask, config.channel_names, extractor.unfitted_channels)
    de = tensors.de[rows]
    if extractor.de_mean is not None:
        de = normalize(de, channel_mask[rows], extractor.de_mean, extractor.de_std)
    eye = tensors.eye[rows] if config.eye_feature_size else None
    if eye is not None and extractor.eye_mean is not None:
        eye = normalize_eye(eye, extractor.eye_mean, extractor.eye_std)
    logits = []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            part = slice(start, start + batch_size)
            logits.append(model(de_features=de[part], eye_features=None if eye is None else eye[part],
                                eeg_signals=tensors.signal[rows[part]] if uses_signal else None,
                                channel_mask=channel_mask[rows[part]]).logits.float())
    row_logits = torch.cat(logits).numpy()
    predicted = row_logits.argmax(axis=1)
    labels = tensors.labels[rows].numpy()
    index = rows.numpy()
    windows = window_predictions(tensors.subjects[index], tensors.sessions[index], tensors.trials[index],
                                 tensors.starts[index], labels, row_logits, int(tensors.de.shape[1]),
                                 source=str(dataset_path))
    num_classes = config.num_labels
    per_subject = {name: {**scores(windows.labels[windows.subjects == name], windows.predictions[
        windows.subjects == name], num_classes), "windows": int((windows.subjects == name).sum())}
        for name in sorted(set(windows.subjects.tolist()), key=natural_key)}
    result = {
        "model": str(model_dir), "dataset": str(dataset_path),
        "subjects": sorted(set(tensors.subjects[chosen].tolist()), key=natural_key),
        "n": int(len(labels)), "n_windows": int(len(windows)), "unit": "window",
        **scores(windows.labels, windows.predictions, num_classes),
        "row_accuracy": accuracy(labels, predicted), "row_macro_f1": macro_f1(labels, predicted, num_classes),
        "per_subject": per_subject,
        "confusion_matrix": confusion_matrix(windows.labels, windows.predictions, num_classes).tolist(),
        "labels": [config.id2label[index] for index in range(num_classes)],
    }
    if output is not None:
        write_json(Path(output), result)
    return result
