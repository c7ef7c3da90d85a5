"""FACED (Tsinghua University): 123 subjects x 28 film clips, 32 channels at 250 Hz; 9 emotion categories.

Published layout (Synapse ``syn50614194``, CC BY 4.0), one file per subject ``NNN`` = 000 ... 122::

    Processed_data/subNNN.pkl         pickled array (28, 32, 7500): clips, channels, samples at 250 Hz (30 s)
    EEG_Features/DE/subNNN.pkl.pkl    pickled array (28, 32, 30, 5): clips, channels, 1 s windows, bands

The clip axis is indexed by video number 1..28 (not by the order of presentation): three videos each of anger,
disgust, fear, sadness, then four neutral videos, then three each of amusement, inspiration, joy and tenderness
(:data:`FACED_CLIP_EMOTIONS`); the 3-class grouping makes videos 1-12 negative, 13-16 neutral and 17-28 positive.
The first 30 channels are the EEG electrodes of :data:`FACED_CHANNEL_NAMES`; the last two are the mastoid references
(A1, A2) and are dropped. The DE files are released with a doubled extension (``subNNN.pkl.pkl``); ``subNNN.pkl`` is
read as well.

What could not be verified here (no copy of the dataset): the file layout, shapes, clip order and channel order are
those of TorchEEG's ``FACEDDataset`` / ``FACEDFeatureDataset`` and of the dataset paper (Chen et al., Scientific
Data 10, 740, 2023), not of a downloaded file (the order of the two unused mastoid channels is unknown); the
processed signal is assumed to be in microvolts (it was preprocessed in EEGLAB, which works in microvolts); the band
edges and any smoothing of the released DE were not checked (five bands, delta to gamma, are assumed in the usual
order).

.. warning::
    The ``.pkl`` files are Python pickles, and unpickling runs code chosen by whoever wrote the file. Read them only
    from a download you trust (the dataset's own distribution).
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..validation import check_array, fail
from .seed import subject_files
from .trial import Trial

FACED_CHANNEL_NAMES: tuple[str, ...] = (
    "Fp1", "Fp2", "Fz", "F3", "F4", "F7", "F8", "FC1", "FC2", "FC5", "FC6", "Cz", "C3", "C4", "T7", "T8",
    "CP1", "CP2", "CP5", "CP6", "Pz", "P3", "P4", "P7", "P8", "PO3", "PO4", "Oz", "O1", "O2",
)  # fmt: skip
"""The 30 EEG electrodes, in the order of the first 30 rows of FACED's channel axis."""
FACED_EMOTIONS: tuple[str, ...] = (
    "anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness",
)  # fmt: skip
FACED_VALENCES: tuple[str, ...] = ("negative", "neutral", "positive")
FACED_CLIP_EMOTIONS: tuple[int, ...] = (
    0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8,
)  # fmt: skip
"""Emotion category (index into :data:`FACED_EMOTIONS`) of clips 1..28."""
FACED_TARGETS: tuple[str, ...] = ("emotion", "valence")
FACED_CLIPS = 28
FACED_CHANNELS = 32
FACED_SFREQ = 250.0
FACED_DE_WINDOW_SECONDS = 1.0
FACED_BANDS = 5

_RAW_NAME = re.compile(r"^sub(\d+)\.pkl$")
_DE_NAME = re.compile(r"^sub(\d+)\.pkl(?:\.pkl)?$")


def faced_label_names(target: str = "emotion") -> tuple[str, ...]:
    """Class names: the 9 emotion categories (``target="emotion"``) or negative / neutral / positive
    (``target="valence"``)."""
    if target not in FACED_TARGETS:
        fail("FACED", "target", f"one of {FACED_TARGETS}", repr(target))
    return FACED_EMOTIONS if target == "emotion" else FACED_VALENCES


def faced_clip_label(clip: int, target: str = "emotion") -> int:
    """Class index of clip ``clip`` (1..28) for ``target``."""
    emotion = FACED_CLIP_EMOTIONS[clip - 1]
    if target == "emotion":
        return emotion
    return 0 if emotion < 4 else 1 if emotion == 4 else 2


def faced_files(root: str | Path) -> list[Path]:
    """List ``Processed_data/subNNN.pkl`` ordered by subject."""
    return subject_files(Path(root) / "Processed_data", ".pkl", _RAW_NAME, "'subNNN.pkl' (e.g. 'sub000.pkl')")


def faced_de_files(root: str | Path) -> list[Path]:
    """List ``EEG_Features/DE/subNNN.pkl.pkl`` (or ``subNNN.pkl``) ordered by subject; a subject with both names is
    an error."""
    example = "'subNNN.pkl.pkl' (e.g. 'sub000.pkl.pkl')"
    files = subject_files(Path(root) / "EEG_Features" / "DE", ".pkl", _DE_NAME, example)
    seen: dict[int, Path] = {}
    for path in files:
        number = int(_DE_NAME.match(path.name).group(1))
        if number in seen:
            fail(str(path), "file name", f"one DE file per subject ({seen[number].name} holds the same subject)",
                 repr(path.name))
        seen[number] = path
    return files


def _subject(path: Path) -> str:
    return path.name.split(".")[0]


def _load_array(path: Path, shape: tuple[int | None, ...], dims: str) -> np.ndarray:
    """The pickled numeric array of ``path`` (trusted files only: code execution), checked against ``shape``."""
    try:
        with path.open("rb") as stream:
            content = pickle.load(stream, encoding="latin1")
    except Exception as error:  # noqa: BLE001 - any unpickling failure means the file is not a FACED pickle
        fail(str(path), "file", "a pickled numpy array (FACED)", f"{type(error).__name__}: {error}")
    if not isinstance(content, np.ndarray):
        fail(str(path), "file", f"a pickled numpy array of {dims}", type(content).__name__)
    return check_array(content, source=str(path), field="array", shape=shape, dims=dims)


def iter_faced(root: str | Path, target: str = "emotion") -> Iterator[Trial]:
    """Yield FACED trials with the processed signal, one subject file (28 clips) at a time.

    Only read files from a trusted download: the ``.pkl`` files are pickles, and unpickling executes code.

    Args:
        root: The FACED download folder, holding ``Processed_data/``.
        target: ``"emotion"`` (9 categories, :data:`FACED_EMOTIONS`) or ``"valence"`` (negative / neutral /
            positive).

    Yields:
        :class:`Trial` with subject ``"subNNN"`` as in the file name, session ``"1"``, trial = clip 1..28,
        ``signal`` ``(30, samples)`` float32 microvolts at 250 Hz in :data:`FACED_CHANNEL_NAMES` order; no DE.
    """
    faced_label_names(target)
    dims = "(clips, channels, samples at 250 Hz)"
    for path in faced_files(root):
        data = _load_array(path, (FACED_CLIPS, FACED_CHANNELS, None), dims)
        for index in range(FACED_CLIPS):
            yield _clip_trial(path, index, target, window_seconds=1.0,
                              signal=np.ascontiguousarray(data[index, : len(FACED_CHANNEL_NAMES)]))


def iter_faced_de(root: str | Path, target: str = "emotion") -> Iterator[Trial]:
    """Yield FACED trials with the released DE features, one subject file (28 clips) at a time.

    Only read files from a trusted download: the ``.pkl`` files are pickles, and unpickling executes code.

    Args:
        root: The FACED download folder, holding ``EEG_Features/DE/``.
        target: ``"emotion"`` (9 categories) or ``"valence"`` (negative / neutral / positive).

    Yields:
        :class:`Trial` with ``de`` ``(windows, 30, 5)`` float32 over 1 s windows, channels in
        :data:`FACED_CHANNEL_NAMES` order, and the clip's class index; ``sfreq`` is the 250 Hz of the signal the DE
        was computed from (there is no ``signal``).
    """
    faced_label_names(target)
    dims = "(clips, channels, windows, bands)"
    for path in faced_de_files(root):
        data = _load_array(path, (FACED_CLIPS, FACED_CHANNELS, None, FACED_BANDS), dims)
        for index in range(FACED_CLIPS):
            yield _clip_trial(path, index, target, window_seconds=FACED_DE_WINDOW_SECONDS,
                              de=np.ascontiguousarray(data[index, : len(FACED_CHANNEL_NAMES)].transpose(1, 0, 2)))


def _clip_trial(path: Path, index: int, target: str, **fields) -> Trial:
    """Clip ``index`` (0-based) of a subject file as a :class:`Trial`, with its ``signal`` or ``de`` in ``fields``."""
    return Trial(subject=_subject(path), session="1", trial=index + 1, label=faced_clip_label(index + 1, target),
                 sfreq=FACED_SFREQ, source=str(path), **fields)
