"""Registry of the published dataset layouts, so builders and the CLI pick a loader by name.

Names: ``"seed"`` (SEED DE features), ``"seed-raw"`` (SEED preprocessed signal), ``"seed-iv"``, ``"seed-v"``,
``"deap"``. Options (``feature``, ``with_eye``, ``target``, ``threshold``) are the keyword arguments of the layout's
loader; :func:`label_names` takes the same options, so ``target`` names DEAP's classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..configuration_moodreader import SEED_CHANNEL_NAMES
from ..validation import fail
from .deap import DEAP_CHANNEL_NAMES, DEAP_TRIALS, deap_files, deap_label_names, iter_deap
from .seed import SEED_LABEL_NAMES, iter_seed_features, iter_seed_raw, read_seed_labels, seed_session_files
from .seed_iv import SEED_IV_LABEL_NAMES, SEED_IV_TRIALS, iter_seed_iv, seed_iv_session_files
from .seed_v import SEED_V_LABEL_NAMES, SEED_V_TRIALS, iter_seed_v, seed_v_files
from .trial import Trial


@dataclass(frozen=True)
class Layout:
    """One published layout: its loader, the files it reads, its classes and its electrodes.

    Attributes:
        name: Registry name.
        description: One line for help texts.
        iterate: The loader, ``iterate(root, **options) -> Iterator[Trial]``.
        files: ``files(root)``: the data files the loader reads, in order (one file is read at a time).
        trials_per_file: ``trials_per_file(root)``: how many trials each file holds.
        label_names: ``label_names(**options)``: class names, indexed by ``Trial.label``.
        channel_names: Electrode names of the channel axis of the trials' ``de`` / ``signal``.
    """

    name: str
    description: str
    iterate: Callable[..., Iterator[Trial]]
    files: Callable[[Path], list[Path]]
    trials_per_file: Callable[[Path], int]
    label_names: Callable[..., tuple[str, ...]]
    channel_names: tuple[str, ...]


LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            name="seed",
            description="SEED ExtractedFeatures/: DE features (de_LDS or de_movingAve), 1 s windows, 3 classes",
            iterate=iter_seed_features,
            files=lambda root: [file.path for file in seed_session_files(root / "ExtractedFeatures")],
            trials_per_file=lambda root: len(read_seed_labels(root / "ExtractedFeatures" / "label.mat")),
            label_names=lambda **_: SEED_LABEL_NAMES,
            channel_names=SEED_CHANNEL_NAMES,
        ),
        Layout(
            name="seed-raw",
            description="SEED Preprocessed_EEG/: 62-channel signal at 200 Hz (DE computed by us), 3 classes",
            iterate=iter_seed_raw,
            files=lambda root: [file.path for file in seed_session_files(root / "Preprocessed_EEG")],
            trials_per_file=lambda root: len(read_seed_labels(root / "Preprocessed_EEG" / "label.mat")),
            label_names=lambda **_: SEED_LABEL_NAMES,
            channel_names=SEED_CHANNEL_NAMES,
        ),
        Layout(
            name="seed-iv",
            description="SEED-IV eeg_feature_smooth/ (+ eye_feature_smooth/): DE, 4 s windows, 4 classes",
            iterate=iter_seed_iv,
            files=lambda root: [file.path for file in seed_iv_session_files(root)],
            trials_per_file=lambda root: SEED_IV_TRIALS,
            label_names=lambda **_: SEED_IV_LABEL_NAMES,
            channel_names=SEED_CHANNEL_NAMES,
        ),
        Layout(
            name="seed-v",
            description="SEED-V EEG_DE_features/ (+ Eye_movement_features/): DE, 4 s windows, 5 classes",
            iterate=iter_seed_v,
            files=seed_v_files,
            trials_per_file=lambda root: SEED_V_TRIALS,
            label_names=lambda **_: SEED_V_LABEL_NAMES,
            channel_names=SEED_CHANNEL_NAMES,
        ),
        Layout(
            name="deap",
            description="DEAP data_preprocessed_python/: 32-channel signal at 128 Hz, thresholded ratings, 2 classes",
            iterate=iter_deap,
            files=deap_files,
            trials_per_file=lambda root: DEAP_TRIALS,
            label_names=lambda target="valence", **_: deap_label_names(target),
            channel_names=DEAP_CHANNEL_NAMES,
        ),
    )
}


def get_layout(name: str) -> Layout:
    """Return the registered layout called ``name``."""
    if name not in LAYOUTS:
        fail("layout", "name", f"one of {tuple(LAYOUTS)}", repr(name))
    return LAYOUTS[name]


def _checked(layout: Layout, options: dict[str, object]) -> dict[str, object]:
    accepted = [name for name in inspect.signature(layout.iterate).parameters if name != "root"]
    for option in options:
        if option not in accepted:
            fail(f"layout '{layout.name}'", option, f"an option among {accepted}", "an unknown option")
    return options


def iter_trials(layout: str, root: str | Path, **options: object) -> Iterator[Trial]:
    """Yield the trials of the dataset at ``root`` stored in the named layout, one file at a time."""
    chosen = get_layout(layout)
    return chosen.iterate(Path(root), **_checked(chosen, options))


def label_names(layout: str, **options: object) -> tuple[str, ...]:
    """Class names of the named layout (``Trial.label`` indexes them); DEAP's depend on ``target``."""
    chosen = get_layout(layout)
    return chosen.label_names(**_checked(chosen, options))


def layout_channel_names(layout: str) -> tuple[str, ...]:
    """Electrode names of the channel axis of the layout's trials (SEED montage, or DEAP's 32 channels)."""
    return get_layout(layout).channel_names


def count_files(layout: str, root: str | Path) -> int:
    """Number of data files the layout's loader will read at ``root`` (checks the folders exist)."""
    return len(get_layout(layout).files(Path(root)))


def count_trials(layout: str, root: str | Path) -> int:
    """Number of trials the layout's loader will yield at ``root``, for progress bars."""
    chosen = get_layout(layout)
    root = Path(root)
    return len(chosen.files(root)) * chosen.trials_per_file(root)
