"""Evaluate a saved fine-tuned model folder on a built dataset, normalising with the folder's feature extractor and
feeding every modality the model was trained with (DE, the raw signal, eye features)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..validation import fail
from .data import load_tensors, normalize, normalize_eye
from .metrics import accuracy, confusion_matrix, macro_f1
from ..atomic import write_json


def evaluate_model(
    model_dir: str | Path, dataset_path: str | Path, *, subjects: Sequence[str] | None = None,
    batch_size: int = 256, output: str | Path | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 and confusion matrix of the model in ``model_dir`` on the rows of ``subjects`` (default:
    all) of the dataset at ``dataset_path``; written to ``output`` as JSON when given."""
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
    de = tensors.de[rows]
    if extractor.de_mean is not None:
        de = normalize(de, tensors.channel_mask[rows], extractor.de_mean, extractor.de_std)
    eye = tensors.eye[rows] if config.eye_feature_size else None
    if eye is not None and extractor.eye_mean is not None:
        eye = normalize_eye(eye, extractor.eye_mean, extractor.eye_std)
    predictions = []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            part = slice(start, start + batch_size)
            logits = model(de_features=de[part], eye_features=None if eye is None else eye[part],
                           eeg_signals=tensors.signal[rows[part]] if uses_signal else None,
                           channel_mask=tensors.channel_mask[rows[part]]).logits
            predictions.append(logits.argmax(dim=1))
    predicted = torch.cat(predictions).numpy()
    labels = tensors.labels[rows].numpy()
    result = {
        "model": str(model_dir), "dataset": str(dataset_path), "subjects": sorted(set(tensors.subjects[chosen])),
        "n": int(len(labels)), "accuracy": accuracy(labels, predicted),
        "macro_f1": macro_f1(labels, predicted, config.num_labels),
        "confusion_matrix": confusion_matrix(labels, predicted, config.num_labels).tolist(),
        "labels": [config.id2label[index] for index in range(config.num_labels)],
    }
    if output is not None:
        write_json(Path(output), result)
    return result
