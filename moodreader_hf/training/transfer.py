"""Fine-tuning from a pre-trained folder: which weights come from pre-training, which start fresh, and which test
subjects the pre-training already saw.

A pre-trained folder (``run_pretraining``'s ``model/``) records in ``pretraining.json`` the weights MBSM trained
(``trained_weights``, name prefixes) and its sources. Only those weights are copied into the classifier; everything
else (the poolers, the fusion layers, the heads, a stream the pre-training did not train) starts fresh, and the
report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..modeling_moodreader import MoodReaderForEmotionRecognition
from ..provenance import overlapping_subjects
from ..validation import MoodReaderInputError, fail
from .pretrain import PROVENANCE_FILE

WEIGHTS_FILE = "model.safetensors"


@dataclass
class Transfer:
    """What fine-tuning took from a pre-trained folder.

    Attributes:
        folder: The pre-trained folder, or ``None`` (trained from scratch).
        record: Its ``pretraining.json``.
        loaded: Names of the classifier's tensors copied from it.
        fresh: Names of the classifier's tensors that start from their initial values.
        note: One sentence for the log and the report (e.g. why nothing was loaded).
    """

    folder: str | None
    record: dict[str, Any] = field(default_factory=dict)
    loaded: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    note: str = ""

    def modules(self, names: list[str]) -> list[str]:
        """Module prefixes (``moodreader.signal_encoder``) of ``names``, for a short listing."""
        return sorted({".".join(name.split(".")[:2]) for name in names})

    def summary(self) -> dict[str, Any]:
        """The ``pretraining`` section of report.json (the overlap is added by the caller)."""
        return {
            "folder": self.folder,
            "sources": self.record.get("sources", []),
            "objective": self.record.get("objective"),
            "steps": self.record.get("steps"),
            "hours_seen": self.record.get("hours_seen"),
            "loaded_modules": self.modules(self.loaded),
            "fresh_modules": self.modules(self.fresh),
            "loaded_tensors": len(self.loaded),
            "fresh_tensors": len(self.fresh),
            "note": self.note,
        }


def read_pretraining_record(folder: str | Path) -> dict[str, Any]:
    """The ``pretraining.json`` of a pre-trained folder; a folder without one is refused."""
    folder = Path(folder)
    if not folder.is_dir():
        fail(str(folder), "--pretrained", "a pre-trained model folder (run_pretraining's model/)", "no such folder")
    path = folder / PROVENANCE_FILE
    if not path.is_file():
        fail(str(folder), PROVENANCE_FILE, "a folder written by MBSM pre-training (it records which weights were "
             "trained)", "no such file")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        fail(str(path), "(file)", "JSON", str(error))


def _pretrained_state(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = folder / WEIGHTS_FILE
    if not path.is_file():
        fail(str(folder), WEIGHTS_FILE, "the pre-trained weights", "no such file")
    try:
        return load_file(path)
    except (SafetensorError, OSError) as error:
        fail(str(path), "(file)", "a safetensors file", f"{type(error).__name__}: {error}")


def transfer_pretrained(model: MoodReaderForEmotionRecognition, folder: str | Path | None, *,
                        explicit_signal: bool) -> Transfer:
    """Copy the trained encoder weights of ``folder`` into ``model`` (in place) and say what was copied.

    ``explicit_signal``: the recipe asked for the raw-signal stream (not ``"auto"``); a folder that then holds no
    trained weight for any stream of the model is an error. Otherwise, when nothing fits (a DE-only dataset and a
    raw-signal pre-training), the transfer says that no pre-trained encoder was used.
    """
    names = list(model.state_dict())
    if folder is None:
        return Transfer(None, fresh=names, note="trained from scratch (no pre-trained folder)")
    folder = Path(folder)
    record = read_pretraining_record(folder)
    prefixes = tuple(record.get("trained_weights", []))
    state = _pretrained_state(folder)
    wanted = {name: state[name] for name in names if name.startswith(prefixes) and name in state}
    own = model.state_dict()
    for name, value in wanted.items():
        if value.shape != own[name].shape:
            fail(str(folder / WEIGHTS_FILE), name, f"shape {tuple(own[name].shape)} (the recipe's architecture)",
                 f"{tuple(value.shape)}: pre-train with the same model section")
    streams = sorted(record.get("streams", []))
    if not wanted:
        if explicit_signal:
            fail(str(folder), "trained_weights", f"trained weights for the model's streams {model.config.streams}",
                 f"weights for {streams} only")
        return Transfer(str(folder), record, [], names, note=f"no pre-trained encoder was used: the pre-training "
                        f"trained the {streams} stream(s), the model uses {model.config.streams} (for the raw-signal "
                        "stream build the dataset with --include-signal)")
    try:
        model.load_state_dict(wanted, strict=False)
    except RuntimeError as error:  # pragma: no cover - shapes were checked above
        raise MoodReaderInputError(f"{folder}: {error}") from error
    fresh = [name for name in names if name not in wanted]
    return Transfer(str(folder), record, sorted(wanted), fresh,
                    note=f"the {streams} encoder comes from pre-training; every other weight starts fresh")


def overlap_section(transfer: Transfer, identity: str, subjects: list[str], test_subjects: list[str],
                    policy: str) -> dict[str, Any]:
    """The subjects of the evaluated dataset (``identity``) that the pre-training saw, and the policy applied."""
    seen = overlapping_subjects(transfer.record.get("sources", []), identity, subjects)
    tested = [subject for subject in seen if subject in set(test_subjects)]
    return {"dataset_id": identity, "subjects_seen_in_pretraining": seen, "test_subjects_seen_in_pretraining": tested,
            "policy": policy}
