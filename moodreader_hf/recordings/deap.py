"""DEAP (Queen Mary University of London): 32 subjects x 40 one-minute music videos, rated valence / arousal 1-9.

Published layout::

    data_preprocessed_python/sXX.dat   pickle (latin1): data (40, 40, 8064), labels (40, 4)

``data`` is (trials, channels, samples) at 128 Hz, the first 3 s a pre-trial baseline; the first 32 channels are
EEG in the Geneva order of :data:`DEAP_CHANNEL_NAMES` (the other 8 are peripheral). ``labels`` holds valence,
arousal, dominance and liking ratings. A trial is labelled 1 (``high_<target>``) when its rating is strictly greater
than the threshold, else 0 (``low_<target>``).

.. warning::
    The ``.dat`` files are Python pickles, and unpickling runs code chosen by whoever wrote the file. Read them only
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

DEAP_CHANNEL_NAMES: tuple[str, ...] = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip
"""The 32 EEG channels of DEAP's preprocessed data, in the order of its channel axis (Geneva order).
:func:`iter_deap` yields signals in this order; map them to a montage with ``match_channels``."""
DEAP_TARGETS: tuple[str, ...] = ("valence", "arousal", "dominance", "liking")
DEAP_SFREQ = 128.0
DEAP_TRIALS = 40
DEAP_BASELINE_SAMPLES = 384
"""The 3 s pre-trial baseline at 128 Hz that starts every trial and is dropped (the published files hold 8064
samples per trial; any length beyond the baseline is accepted)."""

_FILE_NAME = re.compile(r"^s(\d+)\.dat$")


def deap_files(root: str | Path) -> list[Path]:
    """List ``data_preprocessed_python/sXX.dat`` ordered by subject."""
    return subject_files(Path(root) / "data_preprocessed_python", ".dat", _FILE_NAME, "'sXX.dat' (e.g. 's01.dat')")


def deap_label_names(target: str = "valence") -> tuple[str, str]:
    """``("low_<target>", "high_<target>")``: the class names of a thresholded DEAP rating."""
    if target not in DEAP_TARGETS:
        fail("DEAP", "target", f"one of {DEAP_TARGETS}", repr(target))
    return (f"low_{target}", f"high_{target}")


def _load(path: Path) -> dict:
    try:
        with path.open("rb") as stream:
            content = pickle.load(stream, encoding="latin1")
    except Exception as error:  # noqa: BLE001 - any unpickling failure means the file is not a DEAP pickle
        fail(str(path), "file", "a pickled dict (DEAP data_preprocessed_python)", f"{type(error).__name__}: {error}")
    if not isinstance(content, dict):
        fail(str(path), "file", "a pickled dict with keys 'data' and 'labels'", type(content).__name__)
    for key in ("data", "labels"):
        if key not in content:
            fail(str(path), key, "a key of the pickled dict", f"no such key (keys: {sorted(content)})")
    return content


def iter_deap(root: str | Path, target: str = "valence", threshold: float = 5.0) -> Iterator[Trial]:
    """Yield DEAP trials, one subject file (40 trials) at a time.

    Only read files from a trusted download: the ``.dat`` files are pickles, and unpickling executes code.

    Args:
        root: The DEAP download folder, holding ``data_preprocessed_python/``.
        target: The rating to classify: ``"valence"``, ``"arousal"``, ``"dominance"`` or ``"liking"``.
        threshold: Ratings strictly greater than this (on DEAP's 1-9 scale) are class 1 (high), others class 0.

    Yields:
        :class:`Trial` with subject ``"sXX"`` as in the file name, session ``"1"``, ``signal`` ``(32, 7680)`` float32
        microvolts at 128 Hz with the 3 s baseline dropped, channels in :data:`DEAP_CHANNEL_NAMES` order; no DE.
    """
    deap_label_names(target)
    column = DEAP_TARGETS.index(target)
    for path in deap_files(root):
        content = _load(path)
        data = np.asarray(content["data"])
        shape = tuple(np.shape(data))
        if len(shape) != 3 or shape[:2] != (DEAP_TRIALS, 40) or shape[2] <= DEAP_BASELINE_SAMPLES:
            fail(str(path), "data", "shape (40, 40, 8064) (trials, channels, samples at 128 Hz)", f"shape {shape}")
        ratings = check_array(
            content["labels"], source=str(path), field="labels", shape=(DEAP_TRIALS, 4), dims="(trials, ratings)"
        )
        for index in range(DEAP_TRIALS):
            signal = check_array(
                data[index, :32, DEAP_BASELINE_SAMPLES:],
                source=str(path),
                field=f"data[{index}]",
                dims="(channels, samples)",
            )
            yield Trial(
                subject=path.stem,
                session="1",
                trial=index + 1,
                label=int(ratings[index, column] > threshold),
                signal=np.ascontiguousarray(signal),
                sfreq=DEAP_SFREQ,
                window_seconds=1.0,
                source=str(path),
            )
