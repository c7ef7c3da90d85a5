"""Helpers of the training tests: a tiny SEED ``ExtractedFeatures`` download with a planted class effect, built
with the real builder, and recipes derived from the packaged tiny recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import yaml

from moodreader_hf.builders import build_dataset

REPO = Path(__file__).resolve().parents[1]
TINY_RECIPE = REPO / "modeling" / "moodreader-tiny.yaml"
SEED_LABELS = (1, 0, -1, -1, 0, 1)


def write_seed_download(root: Path, *, subjects: int = 3, sessions: int = 2, windows: int = 16,
                        seed: int = 0) -> Path:
    """SEED ``ExtractedFeatures/<subject>_<date>.mat`` files (``de_LDS<k>`` of shape ``(62, windows, 5)``) whose
    DE depends on the trial's label, plus subject and trial offsets; six trials per session."""
    rng = np.random.default_rng(seed)
    folder = root / "ExtractedFeatures"
    folder.mkdir(parents=True, exist_ok=True)
    effects = rng.normal(scale=0.8, size=(3, 62, 5))
    for subject in range(1, subjects + 1):
        offset = rng.normal(scale=0.5, size=(62, 1, 5))
        for session in range(1, sessions + 1):
            arrays = {}
            for trial, label in enumerate(SEED_LABELS, start=1):
                trial_offset = rng.normal(scale=0.5, size=(62, 1, 5))
                de = 10 + offset + trial_offset + effects[label + 1][:, None, :] + rng.normal(scale=0.5,
                                                                                             size=(62, windows, 5))
                arrays[f"de_LDS{trial}"] = de
                arrays[f"de_movingAve{trial}"] = de
            scipy.io.savemat(folder / f"{subject}_2013010{session}.mat", arrays)
    scipy.io.savemat(folder / "label.mat", {"label": np.array([SEED_LABELS], dtype=np.int16)})
    return root


def build_tiny_dataset(folder: Path, **options) -> Path:
    """Write the download into ``folder/raw`` and build it into ``folder/dataset`` (rows of 4 windows)."""
    root = write_seed_download(folder / "raw", **options)
    return build_dataset("seed", root, folder / "dataset", sequence_windows=4, stride=4, progress=False)


def write_recipe(path: Path, **sections) -> Path:
    """The packaged tiny recipe with ``sections`` (``{"finetune": {"epochs": 1}}``-style) merged in, its dataset
    section set to what :func:`build_tiny_dataset` builds (SEED's de_LDS, rows of 4 windows)."""
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="seed", sequence_windows=4, stride=4, smoothing="lds", include_signal=False)
    for name, values in sections.items():
        if isinstance(values, dict):
            recipe.setdefault(name, {}).update(values)
        else:
            recipe[name] = values
    path.write_text(yaml.safe_dump(recipe))
    return path
