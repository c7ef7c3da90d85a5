"""What a corpus is built from, and the rows of each piece.

A *recording* is one unit of work: a file found under a SOURCE folder (any extension of
:data:`~moodreader_hf.recordings.reader.READERS`), or one trial of a labelled layout's raw recordings
(``seed-raw``, ``deap``; labels ignored). Each has its subject and its ``source``: its path relative to its SOURCE
(``#trial-<n>`` appended for a layout's trials). :func:`process` turns one into a :class:`RecordingRows`; it runs in
worker processes, so everything it takes and returns is picklable.

Subjects of files: in a BIDS tree the ``<label>`` of a ``sub-<label>`` folder or file-name prefix; otherwise the
``subject_pattern`` regular expression searched in the relative path (its group ``subject``, else its first group,
else the whole match); otherwise the file's parent folder (the SOURCE folder's name for files at its top).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from ..recordings.layouts import get_layout, iter_trials, layout_channel_names
from ..recordings.reader import READERS
from ..recordings.vocabulary import ChannelMap, map_channels, map_raw_channels
from .corpus_rows import RowOptions, cut_rows

_BIDS_SUBJECT = re.compile(r"(?:^|[/_])sub-([A-Za-z0-9]+)")


@dataclass(frozen=True)
class RecordingFile:
    """A recording file: ``path`` (absolute), ``source`` (relative to its SOURCE, POSIX), ``subject`` (``None``
    when ``subject_pattern`` does not match its path)."""

    path: str
    source: str
    subject: str | None


@dataclass(frozen=True)
class LayoutTrial:
    """One trial of a labelled layout: ``signal`` ``(channels, samples)`` µV at ``sfreq`` Hz, its channel names,
    ``source`` (relative file path + ``#trial-<n>``), ``subject`` and ``file`` (the absolute path it came from)."""

    signal: np.ndarray
    sfreq: float
    channel_names: tuple[str, ...]
    source: str
    subject: str
    file: str


@dataclass(frozen=True)
class ProcessOptions:
    """Everything :func:`process` needs besides the recording: row options, the rename map, the position
    tolerance (mm)."""

    rows: RowOptions
    rename: Mapping[str, str]
    tolerance_mm: float


@dataclass
class RecordingRows:
    """The rows of one recording and what was counted making them.

    Attributes:
        source, subject, file: As the recording's.
        signals: ``(rows, channels, samples_per_row)`` float32 µV; ``starts``: ``(rows,)`` seconds.
        channel_names: Canonical electrode name of each row of ``signals``.
        sfreq: The recording's own rate in Hz (``None`` when it could not be read).
        channels: How its channels were mapped (``None`` when it could not be read).
        rows_dropped: Rows dropped per reason.
        skipped: Why the recording gave nothing, or ``None``.
    """

    source: str
    subject: str | None
    file: str
    signals: np.ndarray
    starts: np.ndarray
    channel_names: tuple[str, ...] = ()
    sfreq: float | None = None
    channels: ChannelMap | None = None
    rows_dropped: dict[str, int] | None = None
    skipped: str | None = None


def is_recording(path: Path) -> bool:
    """Whether ``path``'s extension is one MNE reads here (BrainVision: the ``.vhdr`` header)."""
    name = path.name.lower()
    return any(name.endswith(extension) for extension in READERS)


def subject_of(relative: PurePosixPath, top_name: str, pattern: re.Pattern[str] | None) -> str | None:
    """The subject of the file at ``relative`` (see the module docstring); ``top_name`` names files at the top."""
    text = relative.as_posix()
    bids = _BIDS_SUBJECT.search(text)
    if bids is not None:
        return bids.group(1)
    if pattern is not None:
        found = pattern.search(text)
        if found is None:
            return None
        if "subject" in pattern.groupindex:
            return found.group("subject")
        return found.group(1) if pattern.groups else found.group(0)
    return relative.parent.name or top_name


def _walk(root: Path) -> Iterator[Path]:
    """Every file under ``root``, following symbolic links to folders (each real folder once), hidden files and
    folders left out."""
    seen = set()
    for folder, folders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        folders[:] = [name for name in folders if not name.startswith(".")]
        yield from (Path(folder) / name for name in names if not name.startswith("."))


def find_recordings(sources: Sequence[Path], pattern: re.Pattern[str] | None) -> list[RecordingFile]:
    """Every recording under ``sources`` (folders walked recursively, see :func:`_walk`; a SOURCE may be a file),
    in SOURCE order, then by relative path."""
    found = []
    for root in sources:
        base = root.parent if root.is_file() else root
        paths = [root] if root.is_file() else [path for path in _walk(root) if path.is_file() and is_recording(path)]
        for path in sorted(paths, key=lambda path: path.relative_to(base).as_posix()):
            relative = PurePosixPath(path.relative_to(base).as_posix())
            subject = subject_of(relative, base.name, pattern)
            found.append(RecordingFile(str(path.absolute()), relative.as_posix(), subject))
    return found


def layout_files(layout: str, sources: Sequence[Path]) -> list[Path]:
    """The data files the layout's loader reads in each SOURCE, in order."""
    return [path for root in sources for path in get_layout(layout).files(root)]


def iter_layout_trials(layout: str, sources: Sequence[Path]) -> Iterator[LayoutTrial]:
    """The trials of each SOURCE read as ``layout``, one file at a time."""
    names = tuple(layout_channel_names(layout))
    for root in sources:
        for trial in iter_trials(layout, root):
            relative = Path(trial.source).resolve().relative_to(root.resolve()).as_posix()
            yield LayoutTrial(
                signal=trial.signal, sfreq=float(trial.sfreq), channel_names=names, subject=str(trial.subject),
                source=f"{relative}#trial-{trial.trial}", file=str(Path(trial.source).absolute()),
            )  # fmt: skip


def _rows(
    unit: RecordingFile | LayoutTrial, data: np.ndarray, sfreq: float, mapping: ChannelMap, options: ProcessOptions
) -> RecordingRows:
    file = unit.path if isinstance(unit, RecordingFile) else unit.file
    empty = np.zeros((0, len(mapping.picks), options.rows.samples_per_row), np.float32)
    result = RecordingRows(unit.source, unit.subject, file, empty, np.zeros(0), mapping.names, sfreq, mapping)
    if not mapping.picks:
        names = [name for name, _ in mapping.dropped]
        result.skipped = (f"no electrode of the vocabulary (10-05 system or CB1/CB2) among its {len(names)} channels "
                          f"({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})")  # fmt: skip
        return result
    seconds = data.shape[1] / sfreq
    if seconds < options.rows.row_seconds:
        result.skipped = f"{seconds:.1f} s of signal, shorter than one row ({options.rows.row_seconds:g} s)"
        return result
    rows = cut_rows(data, sfreq, options.rows)
    result.signals, result.starts, result.rows_dropped = rows.signals, rows.starts, rows.dropped
    return result


def _failed(unit: RecordingFile, what: str, error: Exception) -> RecordingRows:
    message = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    return RecordingRows(unit.source, unit.subject, unit.path, np.zeros((0, 0, 0), np.float32), np.zeros(0),
                         skipped=f"{what} ({message})")


def _process_file(unit: RecordingFile, options: ProcessOptions) -> RecordingRows:
    path = Path(unit.path)
    reader = next(reader for extension, reader in READERS.items() if path.name.lower().endswith(extension))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = reader(path, preload=False, verbose="error")
            mapping = map_raw_channels(raw, rename=options.rename, tolerance_mm=options.tolerance_mm)
            data = raw.get_data(picks=list(mapping.picks)) * 1e6 if mapping.picks else np.zeros((0, raw.n_times))
    except Exception as error:  # noqa: BLE001 - a file MNE cannot read is skipped, never the build
        return _failed(unit, "unreadable", error)
    try:
        return _rows(unit, data, float(raw.info["sfreq"]), mapping, options)
    except Exception as error:  # noqa: BLE001 - e.g. a rate the filters cannot handle: skip the file
        return _failed(unit, "could not be filtered and cut", error)


def process(unit: RecordingFile | LayoutTrial, options: ProcessOptions) -> RecordingRows:
    """Read (files), map the channels to the vocabulary and cut the rows of one recording. Whatever goes wrong
    with a file (unreadable, no electrode, too short, a subject pattern that does not match, a failing filter)
    makes it ``skipped`` with the reason, never an exception."""
    if isinstance(unit, LayoutTrial):
        mapping = map_channels(unit.channel_names, ["eeg"] * len(unit.channel_names), rename=options.rename)
        return _rows(unit, unit.signal[list(mapping.picks)], unit.sfreq, mapping, options)
    if unit.subject is None:
        return RecordingRows(unit.source, None, unit.path, np.zeros((0, 0, 0), np.float32), np.zeros(0),
                             skipped="the subject pattern does not match its path")  # fmt: skip
    return _process_file(unit, options)
