"""Which dataset a recording comes from, so pre-training corpora and evaluated datasets can be compared.

A dataset is named by its family (``"SEED"`` for both SEED layouts, ``"DEAP"``, or a corpus's ``dataset_id``);
simulated data add their generator's seed, so two simulations never count as one dataset. Subjects are matched
within one identity.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

LAYOUT_FAMILIES: dict[str, str] = {
    "seed": "SEED", "seed-raw": "SEED", "seed-iv": "SEED-IV", "seed-v": "SEED-V", "seed-vii": "SEED-VII",
    "deap": "DEAP", "faced": "FACED", "faced-de": "FACED", "dreamer": "DREAMER", "amigos": "AMIGOS",
    "mahnob-hci": "MAHNOB-HCI",
}  # fmt: skip
"""Layout name -> the dataset its files come from (a dataset's feature and raw layouts hold the same subjects)."""
SIMULATION_MARKER = "SIMULATED.txt"
"""The file ``moodreader simulate`` writes into every folder of simulated data."""
_SEED_PATTERN = re.compile(r"\bseed=(\d+)")


def simulation_marker(root: str | Path) -> Path | None:
    """The ``SIMULATED.txt`` that ``moodreader simulate`` wrote in ``root`` or its parent, if any."""
    folder = Path(root).resolve()
    for candidate in (folder / SIMULATION_MARKER, folder.parent / SIMULATION_MARKER):
        if candidate.is_file():
            return candidate
    return None


def dataset_identity(family: str, root: str | Path | None = None) -> str:
    """``family``, or ``"<family> (simulated, seed N)"`` when ``root`` was written by the simulator."""
    marker = simulation_marker(root) if root is not None else None
    if marker is None:
        return family
    found = _SEED_PATTERN.search(marker.read_text(encoding="utf-8", errors="replace"))
    return f"{family} (simulated, seed {found.group(1) if found else 'unknown'})"


def metadata_identity(metadata: dict[str, Any]) -> str:
    """The identity recorded in a built dataset's or corpus's metadata (older builds: from their layout)."""
    if metadata.get("dataset_id"):
        return str(metadata["dataset_id"])
    family = LAYOUT_FAMILIES.get(str(metadata.get("layout")), str(metadata.get("layout")))
    return f"{family} (simulated)" if metadata.get("simulated") else family


def overlapping_subjects(
    pretraining_sources: list[dict[str, Any]], identity: str, subjects: list[str]
) -> list[str]:
    """The ``subjects`` of dataset ``identity`` that any pre-training source (``{"dataset_id", "subjects"}``) saw."""
    seen = {str(subject) for source in pretraining_sources if source.get("dataset_id") == identity
            for subject in source.get("subjects", [])}
    return sorted((subject for subject in subjects if str(subject) in seen), key=lambda name: (len(name), name))
