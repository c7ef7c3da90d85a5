"""MAHNOB-HCI tagging database (Soleymani et al., 2012), emotion elicitation experiment: 20 film clips per participant,
32 BioSemi EEG channels in BDF session files at 256 Hz, emotion tags in ``session.xml``.

Published layout (the ``Sessions`` folder of the download, one folder per session)::

    Sessions/<session id>/Part_<participant>_<N|S>_Trial<k>_emotion.bdf   47 channels: 32 EEG (10-20 names, µV),
                                                                          EXG1-8, GSR1-2, Erg1-2, Resp, Temp, Status
    Sessions/<session id>/session.xml    <session feltEmo=".." feltArsl=".." feltVlnc=".." isStim=".." ...>
                                           <subject id=".."/> ...

Only folders holding an ``*_emotion.bdf`` are trials (the implicit-tagging sessions and sessions the download lacks
data for are not); sessions with ``isStim="0"`` are skipped. The stimulus spans from the first to the last sample at
which the trigger bits (the lower 16) of the ``Status`` channel are non-zero; the 30 s before and after it are not
part of the trial. The EEG is referenced to BioSemi's CMS electrode and carries large offsets: the loader
re-references it to the average of the 32 electrodes (``reference="average"``, as the dataset's paper does; ``"none"``
keeps CMS) and removes each channel's mean over the trial.

Labels: ``target="emotion"`` reads the felt emotion tag ``feltEmo`` (0 neutral, 1 anger, 2 disgust, 3 fear, 4 joy,
5 sadness, 6 surprise, 11 amusement, 12 anxiety: :data:`MAHNOB_EMOTION_CODES`); ``"valence"`` / ``"arousal"``
threshold the 1-9 ratings ``feltVlnc`` / ``feltArsl`` (class 1 when strictly greater than ``threshold``).

What could not be verified here (no copy of the dataset): the folder and file names, the channel labels, the
``Status`` trigger convention and the ``session.xml`` attribute names are those read by TorchEEG's
``MAHNOBDataset`` and Idiap's ``bob.db.hci_tagging``, and the emotion codes those of the database's documentation
as quoted by its users, not of downloaded files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..validation import fail
from .reader import open_raw, raw_to_array
from .seed import require_folder
from .trial import Trial

MAHNOB_CHANNEL_NAMES: tuple[str, ...] = (
    "Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
    "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)  # fmt: skip
"""The 32 BioSemi EEG electrodes, in the order of the first 32 channels of the BDF files (read by name)."""
MAHNOB_EMOTION_CODES: dict[int, str] = {
    0: "neutral", 1: "anger", 2: "disgust", 3: "fear", 4: "joy", 5: "sadness", 6: "surprise", 11: "amusement",
    12: "anxiety",
}  # fmt: skip
"""``feltEmo`` code -> emotion (the database's coding; 4 is "joy, happiness")."""
MAHNOB_TARGETS: dict[str, str] = {"emotion": "feltEmo", "valence": "feltVlnc", "arousal": "feltArsl"}
"""Label option -> the ``session.xml`` attribute it reads."""
MAHNOB_REFERENCES: tuple[str, ...] = ("average", "none")
STATUS_CHANNEL = "Status"
TRIGGER_MASK = 0xFFFF

_BDF_NAME = re.compile(r"^Part_(\d+)_(?:[A-Za-z]+_)?Trial(\d+)_emotion\.bdf$")


def mahnob_files(root: str | Path) -> list[Path]:
    """The ``Sessions/<id>/*_emotion.bdf`` files, ordered by session id (one trial each)."""
    folder = require_folder(Path(root) / "Sessions")
    files = []
    sessions = [path for path in folder.iterdir() if path.is_dir()]
    for session in sorted(sessions, key=lambda path: (int(path.name), "") if path.name.isdigit() else (-1, path.name)):
        found = sorted(session.glob("*_emotion.bdf"))
        if len(found) > 1:
            fail(str(session), "files", "one '*_emotion.bdf' file per session folder", [path.name for path in found])
        files.extend(found)
    if not files:
        fail(str(folder), "files", "session folders holding 'Part_<p>_<N|S>_Trial<k>_emotion.bdf' and session.xml",
             "none")
    return files


def mahnob_label_names(target: str = "emotion") -> tuple[str, ...]:
    """Class names: the felt emotions of :data:`MAHNOB_EMOTION_CODES` (in code order), or ``("low_<target>",
    "high_<target>")`` for ``"valence"`` and ``"arousal"``."""
    if target not in MAHNOB_TARGETS:
        fail("MAHNOB-HCI", "target", f"one of {tuple(MAHNOB_TARGETS)}", repr(target))
    return tuple(MAHNOB_EMOTION_CODES.values()) if target == "emotion" else (f"low_{target}", f"high_{target}")


def _session(path: Path) -> ElementTree.Element:
    """The root ``<session>`` element of ``session.xml``."""
    if not path.is_file():
        fail(str(path), "file", "the session.xml beside the BDF file", "no such file")
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as error:
        fail(str(path), "file", "an XML file", f"{type(error).__name__}: {error}")
    if root.tag != "session":
        fail(str(path), "root element", "<session>", f"<{root.tag}>")
    return root


def _integer(session: ElementTree.Element, attribute: str, path: Path, expected: str) -> int:
    value = session.get(attribute)
    if value is None:
        fail(str(path), attribute, f"an attribute of <session>: {expected}", "no such attribute")
    try:
        number = float(value)
    except ValueError:
        fail(str(path), attribute, expected, repr(value))
    if not number.is_integer():
        fail(str(path), attribute, expected, repr(value))
    return int(number)


def _label(session: ElementTree.Element, path: Path, target: str, threshold: float) -> int:
    attribute = MAHNOB_TARGETS[target]
    if target == "emotion":
        codes = ", ".join(f"{code} {name}" for code, name in MAHNOB_EMOTION_CODES.items())
        code = _integer(session, attribute, path, f"an emotion code ({codes})")
        if code not in MAHNOB_EMOTION_CODES:
            fail(str(path), attribute, f"an emotion code ({codes})", code)
        return list(MAHNOB_EMOTION_CODES).index(code)
    rating = _integer(session, attribute, path, "a rating 1 to 9")
    if not 1 <= rating <= 9:
        fail(str(path), attribute, "a rating 1 to 9", rating)
    return int(rating > threshold)


def _subject(session: ElementTree.Element, path: Path) -> str:
    subject = session.find("subject")
    if subject is None or not subject.get("id"):
        fail(str(path), "subject", "a <subject id=...> element inside <session>", "none")
    return subject.get("id")


def _stimulus(raw, path: Path) -> slice:
    """The samples from the first to the last non-zero trigger of the ``Status`` channel."""
    if STATUS_CHANNEL not in raw.ch_names:
        fail(str(path), STATUS_CHANNEL, "BioSemi's Status channel (stimulus triggers)", f"channels {raw.ch_names[-8:]}")
    status = np.rint(raw.get_data(picks=[STATUS_CHANNEL])[0]).astype(np.int64) & TRIGGER_MASK
    marked = np.flatnonzero(status)
    if marked.size == 0:
        fail(str(path), STATUS_CHANNEL, "triggers at the start and end of the stimulus", "no trigger")
    return slice(int(marked[0]), int(marked[-1]) + 1)


def iter_mahnob(
    root: str | Path, target: str = "emotion", threshold: float = 5.0, reference: str = "average"
) -> Iterator[Trial]:
    """Yield MAHNOB-HCI emotion trials, one session (one BDF file) at a time.

    Args:
        root: The MAHNOB-HCI download folder, holding ``Sessions/``.
        target: ``"emotion"`` (``feltEmo``, 9 classes), ``"valence"`` (``feltVlnc``) or ``"arousal"`` (``feltArsl``).
        threshold: For ``"valence"`` / ``"arousal"``: ratings strictly greater than this (1-9 scale) are class 1.
        reference: ``"average"`` (common average of the 32 electrodes) or ``"none"`` (as recorded, CMS).

    Yields:
        :class:`Trial` with subject the ``<subject id>`` of ``session.xml``, session ``"1"``, trial ``k`` of the file
        name, ``signal`` ``(32, samples)`` float32 microvolts at the file's rate (256 Hz) over the stimulus, channels
        in :data:`MAHNOB_CHANNEL_NAMES` order, each channel's mean removed; no DE.
    """
    mahnob_label_names(target)
    if reference not in MAHNOB_REFERENCES:
        fail("MAHNOB-HCI", "reference", f"one of {MAHNOB_REFERENCES}", repr(reference))
    for path in mahnob_files(root):
        name = _BDF_NAME.match(path.name)
        if name is None:
            fail(str(path), "file name", "'Part_<p>_<N|S>_Trial<k>_emotion.bdf' (e.g. 'Part_1_N_Trial1_emotion.bdf')",
                 repr(path.name))
        xml_path = path.parent / "session.xml"
        session = _session(xml_path)
        if session.get("isStim") == "0":
            continue
        label = _label(session, xml_path, target, threshold)
        raw = open_raw(path)
        recording = raw_to_array(raw, channel_names=MAHNOB_CHANNEL_NAMES, sfreq=float(raw.info["sfreq"]),
                                 on_missing="raise", source=str(path))
        signal = recording.data[:, _stimulus(raw, path)].astype(np.float64)
        if reference == "average":
            signal -= signal.mean(axis=0)
        signal -= signal.mean(axis=1, keepdims=True)
        yield Trial(
            subject=_subject(session, xml_path),
            session="1",
            trial=int(name.group(2)),
            label=label,
            signal=np.ascontiguousarray(signal, dtype=np.float32),
            sfreq=recording.sfreq,
            window_seconds=1.0,
            source=str(path),
        )
