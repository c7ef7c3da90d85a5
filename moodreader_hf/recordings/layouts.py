"""Registry of the published dataset layouts, so builders and the CLI pick a loader by name.

Names: ``"seed"`` (SEED DE features), ``"seed-raw"`` (SEED preprocessed signal), ``"seed-iv"``, ``"seed-v"``,
``"deap"``, ``"faced"`` (FACED processed signal), ``"faced-de"`` (FACED's released DE), ``"dreamer"``, ``"amigos"``,
``"mahnob-hci"``, ``"seed-vii"``; ``"events"`` (your recordings and a label table) and ``"bids"`` (a BIDS dataset),
whose electrodes, classes and rate depend on the files and are read by :func:`survey`. Options (``feature``,
``with_eye``, ``target``, ``threshold``, ``labels``, ``task``, ...) are the keyword arguments of the layout's loader;
:func:`label_names` takes the same options, so ``target`` names DEAP's classes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..configuration_moodreader import SEED_CHANNEL_NAMES
from ..validation import fail
from .amigos import AMIGOS_CHANNEL_NAMES, AMIGOS_TRIALS, amigos_files, amigos_label_names, iter_amigos
from .bids import bids_label_names, iter_bids, survey_bids
from .deap import DEAP_CHANNEL_NAMES, DEAP_TRIALS, deap_files, deap_label_names, iter_deap
from .dreamer import (
    DREAMER_CHANNEL_NAMES,
    DREAMER_CLIPS,
    DREAMER_SUBJECTS,
    dreamer_files,
    dreamer_label_names,
    iter_dreamer,
)
from .events import Survey, events_label_names, iter_events, recording_files, survey_events
from .faced import (
    FACED_CHANNEL_NAMES,
    FACED_CLIPS,
    faced_de_files,
    faced_files,
    faced_label_names,
    iter_faced,
    iter_faced_de,
)
from .mahnob import MAHNOB_CHANNEL_NAMES, iter_mahnob, mahnob_files, mahnob_label_names
from .seed import SEED_LABEL_NAMES, iter_seed_features, iter_seed_raw, read_seed_labels, seed_session_files
from .seed_iv import SEED_IV_LABEL_NAMES, SEED_IV_TRIALS, iter_seed_iv, seed_iv_session_files
from .seed_v import SEED_V_LABEL_NAMES, SEED_V_TRIALS, iter_seed_v, seed_v_files
from .seed_vii import SEED_VII_LABEL_NAMES, SEED_VII_VIDEOS, iter_seed_vii, seed_vii_files
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
        channel_names: Electrode names of the channel axis of the trials' ``de`` / ``signal`` (empty when the files
            decide them).
        survey: For layouts whose electrodes, classes and rate depend on the files: ``survey(root, **options)``
            reads them (and checks the labels) before a build; ``None`` for the published layouts.
        bands: Distributed-DE layouts whose bands are not SEED's five: ``name -> (low, high)`` Hz of the files' DE.
    """

    name: str
    description: str
    iterate: Callable[..., Iterator[Trial]]
    files: Callable[[Path], list[Path]]
    trials_per_file: Callable[[Path], int]
    label_names: Callable[..., tuple[str, ...]]
    channel_names: tuple[str, ...]
    survey: Callable[..., Survey] | None = None
    bands: dict[str, tuple[float, float]] | None = None


def _per_label_table(root: Path) -> int:
    fail(f"layout at {root}", "trials_per_file", "a layout with a fixed number of trials per file",
         "a layout whose labels decide it (recordings.layouts.survey counts its spans)")


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
        Layout(
            name="faced",
            description="FACED Processed_data/: 30-channel signal at 250 Hz (DE computed by us), 9 emotions or 3 "
            "valence classes (target)",
            iterate=iter_faced,
            files=faced_files,
            trials_per_file=lambda root: FACED_CLIPS,
            label_names=lambda target="emotion", **_: faced_label_names(target),
            channel_names=FACED_CHANNEL_NAMES,
        ),
        Layout(
            name="faced-de",
            description="FACED EEG_Features/DE/: the released DE, 1 s windows, 9 emotions or 3 valence classes",
            iterate=iter_faced_de,
            files=faced_de_files,
            trials_per_file=lambda root: FACED_CLIPS,
            label_names=lambda target="emotion", **_: faced_label_names(target),
            channel_names=FACED_CHANNEL_NAMES,
        ),
        Layout(
            name="dreamer",
            description="DREAMER.mat: 14-channel Emotiv signal at 128 Hz, thresholded 1-5 ratings, 2 classes",
            iterate=iter_dreamer,
            files=dreamer_files,
            trials_per_file=lambda root: DREAMER_SUBJECTS * DREAMER_CLIPS,
            label_names=lambda target="valence", **_: dreamer_label_names(target),
            channel_names=DREAMER_CHANNEL_NAMES,
        ),
        Layout(
            name="amigos",
            description="AMIGOS data_preprocessed/: 14-channel Emotiv signal at 128 Hz, short (or long) videos, "
            "thresholded 1-9 ratings, 2 classes",
            iterate=iter_amigos,
            files=amigos_files,
            trials_per_file=lambda root: AMIGOS_TRIALS,
            label_names=lambda target="valence", **_: amigos_label_names(target),
            channel_names=AMIGOS_CHANNEL_NAMES,
        ),
        Layout(
            name="mahnob-hci",
            description="MAHNOB-HCI Sessions/: 32-channel BDF at 256 Hz over the stimulus, felt emotion (9 "
            "classes) or thresholded valence / arousal from session.xml",
            iterate=iter_mahnob,
            files=mahnob_files,
            trials_per_file=lambda root: 1,
            label_names=lambda target="emotion", **_: mahnob_label_names(target),
            channel_names=MAHNOB_CHANNEL_NAMES,
        ),
        Layout(
            name="seed-vii",
            description="SEED-VII EEG_features/ (+ EYE_features/): DE, 4 s windows, 7 classes",
            iterate=iter_seed_vii,
            files=seed_vii_files,
            trials_per_file=lambda root: SEED_VII_VIDEOS,
            label_names=lambda **_: SEED_VII_LABEL_NAMES,
            channel_names=SEED_CHANNEL_NAMES,
            bands={"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 14.0), "beta": (14.0, 31.0),
                   "gamma": (31.0, 49.0)},  # the authors' extraction code (935963004/MAET): gamma ends at 49 Hz
        ),
        Layout(
            name="events",
            description="your recordings (any format MNE reads) and a label table (--labels: file, onset, duration, "
            "label[, subject, session, trial]); montage, rate and classes from the files",
            iterate=iter_events,
            files=recording_files,
            trials_per_file=_per_label_table,
            label_names=events_label_names,
            channel_names=(),
            survey=survey_events,
        ),
        Layout(
            name="bids",
            description="a BIDS EEG dataset (--task; labels from events.tsv, read with mne-bids); montage, rate and "
            "classes from the files",
            iterate=iter_bids,
            files=recording_files,
            trials_per_file=_per_label_table,
            label_names=bids_label_names,
            channel_names=(),
            survey=survey_bids,
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


def survey(layout: str, root: str | Path, **options: object) -> Survey | None:
    """What the files at ``root`` hold (electrodes, classes, rate, labelled spans) for a layout whose files decide
    them (``events``, ``bids``), checked before any samples are read; ``None`` for the published layouts."""
    chosen = get_layout(layout)
    if chosen.survey is None:
        return None
    parameters = inspect.signature(chosen.iterate).parameters.values()
    for parameter in parameters:
        if parameter.name != "root" and parameter.default is inspect.Parameter.empty and parameter.name not in options:
            fail(f"layout '{chosen.name}'", parameter.name, "a value for this option of the layout", "none")
    return chosen.survey(Path(root), **_checked(chosen, options))


def count_files(layout: str, root: str | Path) -> int:
    """Number of data files the layout's loader will read at ``root`` (checks the folders exist)."""
    return len(get_layout(layout).files(Path(root)))


def count_trials(layout: str, root: str | Path) -> int:
    """Number of trials the layout's loader will yield at ``root``, for progress bars."""
    chosen = get_layout(layout)
    root = Path(root)
    return len(chosen.files(root)) * chosen.trials_per_file(root)
