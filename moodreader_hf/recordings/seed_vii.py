"""SEED-VII (BCMI, SJTU): 20 subjects x 4 sessions x 20 videos, 62 electrodes, eye movements; 7 emotions.

Published layout::

    EEG_features/<subject>.mat     de_LDS_1..80, de_1..80 (and psd_1..80): (T, 5, 62) windows, bands, electrodes
    EYE_features/<subject>.mat     1..80: (T, 33) eye-movement features per window
    emotion_label_and_stimuli_order.xlsx   per session, a row of video indices (columns B-U) followed by a row of
                                           their emotions (Disgust, Fear, Sad, Neutral, Happy, Anger, Surprise)

Video ``v`` (1..80) is trial ``(v - 1) % 20 + 1`` of session ``(v - 1) // 20 + 1``. The authors' extraction code
(github.com/935963004/MAET) computes the features over non-overlapping 4 s windows at 200 Hz in the bands 1-4, 4-8,
8-14, 14-31 and 31-49 Hz, as ``log2(100 * mean power)``; ``de_LDS`` is ``de`` smoothed by a Kalman smoother. This is
the dataset's DE, not this package's (:mod:`moodreader_hf.features`); the electrodes are SEED's 62 in SEED's order.

The label file is read without a spreadsheet library (an ``.xlsx`` file is zipped XML): every row whose cells from
column B on are whole numbers is a row of video indices, and the row after it names their emotions. That structure
is read from public loaders of SEED-VII, not from the file itself (which could not be obtained here), and so is the
alignment of the eye features: the eye tracker's window count may exceed or fall short of the EEG's by one window at
a video's end, and both are then cut to the shorter (a larger difference is an error).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from ..configuration_moodreader import SEED_CHANNEL_NAMES
from ..validation import check_array, fail
from .matfile import load_mat, mat_shapes, require_shape
from .seed import subject_files
from .trial import Trial

SEED_VII_LABEL_NAMES: tuple[str, ...] = ("disgust", "fear", "sad", "neutral", "happy", "anger", "surprise")
SEED_VII_FEATURES: tuple[str, ...] = ("de_LDS", "de")
SEED_VII_VIDEOS = 80
SEED_VII_VIDEOS_PER_SESSION = 20
SEED_VII_EYE_DIMS = 33
SEED_VII_WINDOW_SECONDS = 4.0
SEED_VII_DE_SFREQ = 200.0
"""Rate in Hz of the signal the distributed DE was computed from."""
SEED_VII_LABEL_FILE = "emotion_label_and_stimuli_order.xlsx"
EYE_WINDOW_TOLERANCE = 1
"""Windows by which the eye features of a video may differ in number from its DE (both are cut to the shorter)."""

_FILE_NAME = re.compile(r"^(\d+)\.mat$")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CELL = re.compile(r"^([A-Z]+)(\d+)$")
_DE_DIMS = "(windows, bands, channels)"


def seed_vii_files(root: str | Path) -> list[Path]:
    """List ``EEG_features/<subject>.mat`` ordered by subject."""
    return subject_files(Path(root) / "EEG_features", ".mat", _FILE_NAME, "'<subject>.mat' (e.g. '1.mat')")


def _column(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _xml(archive: zipfile.ZipFile, member: str) -> ElementTree.Element:
    return ElementTree.fromstring(archive.read(member))


def _first_sheet(archive: zipfile.ZipFile) -> str:
    """The archive member of the workbook's first worksheet."""
    sheet = _xml(archive, "xl/workbook.xml").find(f"{_MAIN}sheets/{_MAIN}sheet")
    targets = {rel.get("Id"): rel.get("Target") for rel in _xml(archive, "xl/_rels/workbook.xml.rels").iter(
        _PACKAGE_RELATIONSHIP)}  # fmt: skip
    target = targets.get(sheet.get(_RELATIONSHIP)) if sheet is not None else None
    if target is None:
        raise KeyError("no worksheet")
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _cell_value(cell: ElementTree.Element, kind: str, value: ElementTree.Element | None, shared: list[str]
                ) -> str | float | None:
    if kind == "inlineStr":
        return "".join(cell.find(f"{_MAIN}is").itertext())
    if value is None or value.text is None:
        return None
    if kind == "s":
        return shared[int(value.text)]
    if kind in ("str", "e"):
        return value.text
    return float(value.text)


def read_xlsx_rows(path: Path) -> list[tuple[int, dict[int, str | float]]]:
    """The cells of an ``.xlsx`` file's first worksheet: ``[(row number, {column index (A = 0): value})]`` in sheet
    order; text cells give ``str``, numeric cells ``float``, empty cells are absent."""
    try:
        with zipfile.ZipFile(path) as archive:
            shared = []
            if "xl/sharedStrings.xml" in archive.namelist():
                shared = ["".join(item.itertext()) for item in _xml(archive, "xl/sharedStrings.xml").iter(f"{_MAIN}si")]
            sheet = _xml(archive, _first_sheet(archive))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as error:
        fail(str(path), "file", "an Excel workbook (.xlsx)", f"{type(error).__name__}: {error}")
    rows = []
    for row in sheet.iter(f"{_MAIN}row"):
        cells: dict[int, str | float] = {}
        for cell in row.iter(f"{_MAIN}c"):
            reference = _CELL.match(cell.get("r", ""))
            kind, value = cell.get("t", "n"), cell.find(f"{_MAIN}v")
            if reference is None:
                fail(str(path), "cell", "a cell reference such as 'B2'", repr(cell.get("r")))
            try:
                text = _cell_value(cell, kind, value, shared)
            except (ValueError, IndexError, AttributeError) as error:
                fail(str(path), f"cell {reference.group(0)}", f"a cell of type {kind!r}", f"{type(error).__name__}: "
                     f"{error}")
            if text is not None and text != "":
                cells[_column(reference.group(1))] = text
        rows.append((int(row.get("r", len(rows) + 1)), cells))
    return rows


def _cell_name(column: int, row: int) -> str:
    letters = ""
    column += 1
    while column:
        column, remainder = divmod(column - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return f"{letters}{row}"


def read_seed_vii_labels(path: Path) -> dict[int, int]:
    """``{video 1..80: class index into SEED_VII_LABEL_NAMES}`` from ``emotion_label_and_stimuli_order.xlsx``."""
    if not path.is_file():
        fail(str(path), "file", "the label file of the SEED-VII download", "no such file")
    rows = read_xlsx_rows(path)
    names = {name: index for index, name in enumerate(SEED_VII_LABEL_NAMES)}
    labels: dict[int, int] = {}
    for position, (number, cells) in enumerate(rows[:-1]):
        videos = {column: value for column, value in cells.items() if column >= 1}
        if not videos or not all(isinstance(value, float) and value.is_integer() for value in videos.values()):
            continue
        emotions_row, emotions = rows[position + 1]
        for column, video in videos.items():
            emotion = emotions.get(column)
            cell = _cell_name(column, emotions_row)
            if not isinstance(emotion, str) or emotion.strip().lower() not in names:
                fail(str(path), f"cell {cell}", f"the emotion of video {int(video)}: one of "
                     f"{tuple(name.capitalize() for name in SEED_VII_LABEL_NAMES)}", repr(emotion))
            if int(video) in labels:
                fail(str(path), f"cell {_cell_name(column, number)}", "each video index once", f"video {int(video)} "
                     "again")
            labels[int(video)] = names[emotion.strip().lower()]
    missing = sorted(set(range(1, SEED_VII_VIDEOS + 1)) - set(labels))
    if missing or len(labels) != SEED_VII_VIDEOS:
        found = sorted(labels)
        fail(str(path), "video indices", f"rows of the video indices 1..{SEED_VII_VIDEOS}, each followed by a row of "
             "their emotions", f"indices {found[:3]}...{found[-3:]}, missing {missing[:10]}" if found else "none")
    return labels


def _read_eye(root: Path, de_path: Path, windows: list[int]) -> Iterator[np.ndarray]:
    """Eye features ``(windows, 33)`` of each video, cut with its DE to the shorter of the two."""
    path = root / "EYE_features" / de_path.name
    if not path.is_file():
        fail(str(path), "file", f"the eye features of {de_path}", "no such file")
    keys = [str(video) for video in range(1, SEED_VII_VIDEOS + 1)]
    shapes = mat_shapes(path)
    for key, count in zip(keys, windows):
        got = require_shape(path, shapes, key, (None, SEED_VII_EYE_DIMS), "(windows, eye_dims)")
        if abs(got[0] - count) > EYE_WINDOW_TOLERANCE:
            fail(str(path), key, f"{count} windows (as many as the DE of {de_path.name}, give or take "
                 f"{EYE_WINDOW_TOLERANCE}), shape ({count}, {SEED_VII_EYE_DIMS})", f"shape {got}")
    arrays = load_mat(path, keys)
    for key in keys:
        yield check_array(arrays[key], source=str(path), field=key, shape=(None, SEED_VII_EYE_DIMS),
                          dims="(windows, eye_dims)")


def iter_seed_vii(root: str | Path, feature: str = "de_LDS", with_eye: bool = True) -> Iterator[Trial]:
    """Yield SEED-VII trials, one subject file (80 videos, 4 sessions) at a time.

    Args:
        root: The SEED-VII download folder, holding ``EEG_features/``, ``emotion_label_and_stimuli_order.xlsx``
            (and ``EYE_features/``).
        feature: ``"de_LDS"`` (Kalman-smoothed) or ``"de"`` (unsmoothed) distributed DE.
        with_eye: Also read the eye-movement features of the same subject.

    Yields:
        :class:`Trial` with ``de`` ``(windows, 62, 5)`` float32 over 4 s windows in SEED's electrode order, ``eye``
        ``(windows, 33)`` float32 (or ``None``), the class index into :data:`SEED_VII_LABEL_NAMES`, and ``sfreq``
        200 Hz, the rate of the signal the DE was computed from (there is no ``signal``).
    """
    if feature not in SEED_VII_FEATURES:
        fail("iter_seed_vii", "feature", f"one of {SEED_VII_FEATURES}", repr(feature))
    root = Path(root)
    files = seed_vii_files(root)
    labels = read_seed_vii_labels(root / SEED_VII_LABEL_FILE)
    channels = len(SEED_CHANNEL_NAMES)
    keys = [f"{feature}_{video}" for video in range(1, SEED_VII_VIDEOS + 1)]
    for path in files:
        shapes = mat_shapes(path)
        windows = [require_shape(path, shapes, key, (None, 5, channels), _DE_DIMS)[0] for key in keys]
        eyes: list[np.ndarray | None] = list(_read_eye(root, path, windows)) if with_eye else [None] * len(keys)
        arrays = load_mat(path, keys)
        for video, (key, eye) in enumerate(zip(keys, eyes), start=1):
            de = check_array(arrays[key], source=str(path), field=key, shape=(None, 5, channels), dims=_DE_DIMS)
            steps = de.shape[0] if eye is None else min(de.shape[0], eye.shape[0])
            yield Trial(
                subject=path.stem,
                session=str((video - 1) // SEED_VII_VIDEOS_PER_SESSION + 1),
                trial=(video - 1) % SEED_VII_VIDEOS_PER_SESSION + 1,
                label=labels[video],
                de=np.ascontiguousarray(de[:steps].transpose(0, 2, 1)),
                eye=None if eye is None else np.ascontiguousarray(eye[:steps]),
                sfreq=SEED_VII_DE_SFREQ,
                window_seconds=SEED_VII_WINDOW_SECONDS,
                source=str(path),
            )
