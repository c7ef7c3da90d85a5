"""Bring your own recordings: a folder of recordings in any format MNE reads, and a label table of labelled spans.

The label table is a ``.csv`` or ``.tsv`` file with a header row and one row per labelled span:

- ``file``: the recording, a path relative to ROOT (EDF, BDF, FIF, BrainVision ``.vhdr``, EEGLAB ``.set``, CNT);
- ``onset``: start of the span in seconds from the recording's first sample;
- ``duration``: length of the span in seconds; the span is ``[onset, onset + duration)``;
- ``label``: the class name;
- ``subject`` (optional): without the column each recording is its own subject, and the dataset card says so;
- ``session`` (optional, default ``"1"``);
- ``trial`` (optional whole number; default: the span's rank within its subject and session, recordings in path
  order and spans by onset).

Epoch-style data (many short labelled trials, in one recording or one recording each) and continuous recordings
with a few long spans are the same kind of table. Refused with one line naming the table, its line and the field:
a missing or unknown column, a recording that does not exist, a span overlapping another of the same recording, a
span beyond the recording's end, an empty label or one outside the declared classes, a repeated (subject, session,
trial), a subject or session that is not a plain name.

Channels are mapped to the electrode vocabulary by name, by the positions the file gives, or by a rename map
(:func:`~moodreader_hf.recordings.vocabulary.map_raw_channels`); the dataset's montage is every electrode that some
recording holds, in vocabulary order, and each recording's rows mask the electrodes it lacks. The dataset's rate is
by default the lowest of the recordings' rates (whole Hz), so that no recording is resampled upwards. The same
survey (:class:`Survey`) serves BIDS datasets (:mod:`moodreader_hf.recordings.bids`).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import mne
import numpy as np

from ..configuration_moodreader import electrode_index
from ..validation import fail, reading
from .reader import READERS, open_raw
from .trial import Trial
from .vocabulary import ChannelMap, load_rename_map, map_raw_channels

REQUIRED_COLUMNS: tuple[str, ...] = ("file", "onset", "duration", "label")
OPTIONAL_COLUMNS: tuple[str, ...] = ("subject", "session", "trial")
DEFAULT_SESSION = "1"
_PLAIN_NAME = re.compile(r"^[^/\\]+$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_END_TOLERANCE_SAMPLES = 0.5
"""A span may end this many samples after the recording's last sample (rounding of onsets written in seconds)."""


@dataclass(frozen=True)
class Span:
    """One labelled span of one recording.

    Attributes:
        where: ``"<table>:<line>"``, for messages.
        file: The recording as the table names it (relative to ROOT).
        path: The recording's path.
        onset, duration: Seconds from the recording's first sample.
        label: Class name.
        subject, session: As the table (or the BIDS path) names them.
        trial: 1-based trial number, ``None`` until :func:`survey_spans` numbers the spans.
    """

    where: str
    file: str
    path: Path
    onset: float
    duration: float
    label: str
    subject: str
    session: str
    trial: int | None


@dataclass(frozen=True)
class SourceRecording:
    """A recording the spans come from, as its header says.

    Attributes:
        path: The file.
        sfreq: Its sampling rate in Hz.
        seconds: Its length in seconds.
        channels: Which of its channels are kept, as which vocabulary electrode.
        open: Opens it (without loading the samples) to read the spans.
    """

    path: Path
    sfreq: float
    seconds: float
    channels: ChannelMap
    open: Callable[[], mne.io.BaseRaw]


@dataclass(frozen=True)
class Survey:
    """What a folder of recordings with labels holds, read from the labels and the recordings' headers before a
    build (no samples are read).

    Attributes:
        layout: ``"events"`` or ``"bids"``.
        dataset_id: The dataset's identity (for the overlap of pre-training and evaluation subjects).
        label_names: The classes, indexed by ``Trial.label``.
        channel_names: Every electrode some recording holds, in vocabulary order: the dataset's default montage.
        sampling_rate: The lowest of the recordings' rates in whole Hz: the dataset's default rate.
        rates: The distinct rates of the recordings, in Hz.
        recordings: The recordings, in path order.
        spans: The labelled spans, by recording then onset, numbered.
        notes: What the dataset card should say about how the labels and channels were read.
    """

    layout: str
    dataset_id: str
    label_names: tuple[str, ...]
    channel_names: tuple[str, ...]
    sampling_rate: int
    rates: tuple[float, ...]
    recordings: tuple[SourceRecording, ...]
    spans: tuple[Span, ...]
    notes: tuple[str, ...]

    def trials(self) -> Iterator[Trial]:
        """Yield one :class:`Trial` per span, one recording at a time: its signal ``(kept channels, samples)`` in µV
        at the recording's own rate, ``channel_names`` the kept channels' vocabulary names."""
        classes = {name: index for index, name in enumerate(self.label_names)}
        by_path: dict[Path, list[Span]] = {}
        for span in self.spans:
            by_path.setdefault(span.path, []).append(span)
        for recording in self.recordings:
            raw = recording.open()
            picks = list(recording.channels.picks)
            for span in by_path[recording.path]:
                start = int(round(span.onset * recording.sfreq))
                stop = min(start + int(round(span.duration * recording.sfreq)), raw.n_times)
                with reading(recording.path, "samples", "a recording whose samples can be read"):
                    signal = raw.get_data(picks=picks, start=start, stop=stop) * 1e6
                if not np.isfinite(signal).all():
                    fail(span.where, "file", f"finite samples in {span.file} from {span.onset:g} s",
                         "NaN or infinite values")
                yield Trial(
                    subject=span.subject,
                    session=span.session,
                    trial=int(span.trial),
                    label=classes[span.label],
                    signal=signal.astype(np.float32),
                    sfreq=recording.sfreq,
                    source=str(recording.path),
                    channel_names=recording.channels.names,
                )


def recording_files(root: str | Path) -> list[Path]:
    """Every recording under ``root`` (by the extensions of :data:`~moodreader_hf.recordings.reader.READERS`), in
    path order."""
    root = Path(root)
    if not root.is_dir():
        fail(str(root), "root", "a folder of recordings", "a file" if root.exists() else "no such folder")
    return sorted(path for path in root.rglob("*") if path.is_file()
                  and any(path.name.lower().endswith(extension) for extension in READERS))  # fmt: skip


def _number(text: str, where: str, field: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        fail(where, field, f"a {'positive' if positive else 'non-negative'} number of seconds", repr(text))
    return value


def _plain(text: str, where: str, field: str) -> str:
    value = text.strip()
    if not _PLAIN_NAME.match(value) or value in (".", ".."):
        fail(where, field, "a non-empty name without '/' or '\\'", repr(text))
    return value


def _subject_of(file: str) -> str:
    """A subject name for a recording of a table without a ``subject`` column: its path without the extension."""
    stem = next((file[: -len(ext)] for ext in READERS if file.lower().endswith(ext)), file)
    return _SAFE.sub("_", stem).strip("_") or "recording"


def read_label_table(path: str | Path, root: str | Path | None = None) -> tuple[list[Span], tuple[str, ...]]:
    """Read a label table (see the module docstring) into its spans, checking every row, and the notes the card
    should carry. With ``root``, each ``file`` must be an existing recording under it; without, files are not
    looked at (enough for the class names)."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".tsv"):
        fail(str(path), "labels", "a .csv or .tsv label table", repr(path.suffix or path.name))
    if not path.is_file():
        fail(str(path), "labels", "a .csv or .tsv label table", "a folder" if path.is_dir() else "no such file")
    with reading(path, "labels", "a UTF-8 text table"):
        text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(text.splitlines(), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    header = [cell.strip().lower() for cell in next(reader, [])]
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in known]
    if missing or unknown or len(set(header)) != len(header):
        problem = (f"missing {missing}" if missing else f"unknown {unknown}" if unknown else "a repeated column")
        fail(f"{path}:1", "columns", f"the columns {', '.join(REQUIRED_COLUMNS)} and optionally "
             f"{', '.join(OPTIONAL_COLUMNS)}", f"{header} ({problem})")
    column = {name: header.index(name) for name in header}
    spans: list[Span] = []
    for cells in reader:
        where = f"{path}:{reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            fail(where, "row", f"{len(header)} cells ({', '.join(header)})", f"{len(cells)} cells")
        value = {name: cells[index].strip() for name, index in column.items()}
        file = value["file"]
        if not file or Path(file).is_absolute():
            fail(where, "file", "a recording's path relative to ROOT", repr(file))
        recording = Path(root) / file if root is not None else Path(file)
        if root is not None and not recording.is_file():
            fail(where, "file", f"a recording under {root}", f"{file!r} (no such file)")
        if not any(file.lower().endswith(extension) for extension in READERS):
            fail(where, "file", f"a recording with one of the extensions {tuple(READERS)}", repr(file))
        if not value["label"]:
            fail(where, "label", "a class name", "an empty label")
        trial = None
        if "trial" in value:
            if not value["trial"].isdigit() or int(value["trial"]) < 1:
                fail(where, "trial", "a whole number from 1", repr(value["trial"]))
            trial = int(value["trial"])
        spans.append(Span(
            where=where, file=file, path=recording,
            onset=_number(value["onset"], where, "onset", positive=False),
            duration=_number(value["duration"], where, "duration", positive=True),
            label=value["label"],
            subject=_plain(value["subject"], where, "subject") if "subject" in value else _subject_of(file),
            session=_plain(value["session"], where, "session") if "session" in value else DEFAULT_SESSION,
            trial=trial,
        ))  # fmt: skip
    if not spans:
        fail(str(path), "rows", "at least one labelled span", "none")
    notes = () if "subject" in header else (
        f"The label table has no `subject` column: each recording is its own subject ({len({s.file for s in spans})} "
        "recordings), so leave-one-subject-out leaves out one recording at a time. Add a `subject` column if "
        "several recordings come from one person.",)  # fmt: skip
    return spans, notes


def natural_key(name: str) -> list:
    """Sort key of names with numbers in numeric order (``"2"`` before ``"10"``)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part]


def class_names(labels: Sequence[str], classes: Sequence[str] | None, spans: Sequence[Span] = ()) -> tuple[str, ...]:
    """The classes: ``classes`` in their order when given (a label outside them is refused, naming its row), else
    the distinct ``labels`` in natural order."""
    if classes is None:
        return tuple(sorted(set(labels), key=natural_key))
    names = tuple(str(name).strip() for name in classes)
    if not names or not all(names) or len(set(names)) != len(names):
        fail("labels", "classes", "distinct non-empty class names", list(classes))
    for span in spans:
        if span.label not in names:
            fail(span.where, "label", f"one of the classes {list(names)}", repr(span.label))
    return names


def events_label_names(labels: str | Path, classes: Sequence[str] | None = None, **_: object) -> tuple[str, ...]:
    """The classes of a label table (its files are not looked at; the loader's other options do not matter)."""
    spans, _ = read_label_table(labels)
    return class_names([span.label for span in spans], classes, spans)


def _numbered(spans: list[Span], order: Mapping[Path, int]) -> list[Span]:
    """``spans`` by recording (in ``order``) then onset, each numbered within its subject and session unless the
    table numbers them; a repeated (subject, session, trial) is refused."""
    spans = sorted(spans, key=lambda span: (order[span.path], span.onset))
    counts: dict[tuple[str, str], int] = {}
    seen: dict[tuple[str, str, int], Span] = {}
    numbered = []
    for span in spans:
        group = (span.subject, span.session)
        counts[group] = counts.get(group, 0) + 1
        span = span if span.trial is not None else replace(span, trial=counts[group])
        key = (*group, span.trial)
        if key in seen:
            fail(span.where, "trial", f"a (subject, session, trial) of its own ({seen[key].where} has {key})",
                 f"trial {span.trial} again")
        seen[key] = span
        numbered.append(span)
    return numbered


def _check_overlaps(spans: list[Span]) -> None:
    previous: dict[Path, Span] = {}
    for span in spans:
        before = previous.get(span.path)
        if before is not None and span.onset < before.onset + before.duration - 1e-9:
            fail(span.where, "onset", f"a span of {span.file} starting at or after the end "
                 f"({before.onset + before.duration:g} s) of the span at {before.where}", f"{span.onset:g} s "
                 "(the spans overlap)")
        previous[span.path] = span


def _channel_notes(recordings: Sequence[SourceRecording]) -> list[str]:
    dropped: dict[tuple[str, str], int] = {}
    matched: dict[tuple[str, str, str], int] = {}
    for recording in recordings:
        for name, reason in recording.channels.dropped:
            dropped[(name, reason)] = dropped.get((name, reason), 0) + 1
        for original, name, how in zip(recording.channels.originals, recording.channels.names,
                                       recording.channels.how):
            if how != "name":
                matched[(original, name, how)] = matched.get((original, name, how), 0) + 1
    notes = []
    if matched:
        notes.append("Channels matched to electrodes by position or by the rename map: " + ", ".join(
            f"{original} -> {name} ({how}, {count} recording{'s' * (count > 1)})"
            for (original, name, how), count in sorted(matched.items())) + ".")
    if dropped:
        notes.append("Channels left out: " + ", ".join(
            f"{name} ({reason}, {count} recording{'s' * (count > 1)})"
            for (name, reason), count in sorted(dropped.items())) + ".")
    return notes


def survey_spans(
    layout: str,
    spans: list[Span],
    openers: Mapping[Path, Callable[[], mne.io.BaseRaw]],
    *,
    classes: Sequence[str] | None,
    notes: Sequence[str],
    dataset_id: str,
    rename: str | Path | None = None,
) -> Survey:
    """Check ``spans`` against each other and against the headers of their recordings (opened by ``openers``,
    without their samples) and return the :class:`Survey` of the dataset."""
    names = class_names([span.label for span in spans], classes, spans)
    order = {path: index for index, path in enumerate(sorted(openers, key=lambda path: natural_key(str(path))))}
    spans = _numbered(spans, order)
    _check_overlaps(spans)
    mapping = load_rename_map(rename) if rename is not None else None
    last: dict[Path, Span] = {}
    for span in spans:
        if span.path not in last or span.onset + span.duration > last[span.path].onset + last[span.path].duration:
            last[span.path] = span
    recordings = []
    for path in sorted(last, key=order.__getitem__):
        raw = openers[path]()
        channels = map_raw_channels(raw, rename=mapping)
        if not channels.names:
            fail(str(path), "channels", "EEG channels named as electrodes of the 10-05 system, or with positions, "
                 "or renamed by a rename map", f"channels {raw.ch_names[:10]} ({len(raw.ch_names)} in all)")
        sfreq, samples = float(raw.info["sfreq"]), int(raw.n_times)
        span = last[path]
        if (span.onset + span.duration) * sfreq > samples + _END_TOLERANCE_SAMPLES:
            fail(span.where, "duration", f"a span ending by the end of {span.file} ({samples / sfreq:g} s)",
                 f"onset {span.onset:g} s + duration {span.duration:g} s = {span.onset + span.duration:g} s")
        recordings.append(SourceRecording(path, sfreq, samples / sfreq, channels, openers[path]))
    rates = tuple(sorted({recording.sfreq for recording in recordings}))
    montage = tuple(sorted({name for recording in recordings for name in recording.channels.names},
                           key=electrode_index))  # fmt: skip
    rate_note = ([f"Recordings at {', '.join(f'{rate:g}' for rate in rates)} Hz, each resampled to the dataset's "
                  "rate."] if len(rates) > 1 else [])
    return Survey(
        layout=layout,
        dataset_id=dataset_id,
        label_names=names,
        channel_names=montage,
        sampling_rate=int(math.floor(rates[0])),
        rates=rates,
        recordings=tuple(recordings),
        spans=tuple(spans),
        notes=(*notes, *rate_note, *_channel_notes(recordings)),
    )


def survey_events(root: str | Path, labels: str | Path, classes: Sequence[str] | None = None,
                  rename: str | Path | None = None) -> Survey:
    """The :class:`Survey` of the recordings under ``root`` labelled by the table ``labels``.

    Args:
        root: The folder the table's ``file`` paths are relative to.
        labels: The label table (``.csv`` or ``.tsv``).
        classes: The class names in order; a label outside them is refused. Default: the table's labels, in
            natural order.
        rename: A channel rename map (JSON, TSV or CSV, see
            :func:`~moodreader_hf.recordings.vocabulary.load_rename_map`) for channels named outside the 10-05
            system.
    """
    root = Path(root)
    if not root.is_dir():
        fail(str(root), "root", "the folder of the recordings", "a file" if root.exists() else "no such folder")
    spans, notes = read_label_table(labels, root)
    openers = {span.path: (lambda path=span.path: open_raw(path, preload=False)) for span in spans}
    return survey_spans("events", spans, openers, classes=classes, notes=notes, rename=rename,
                        dataset_id=f"{root.resolve().name} (own recordings)")


def iter_events(root: str | Path, labels: str | Path, classes: Sequence[str] | None = None,
                rename: str | Path | None = None) -> Iterator[Trial]:
    """Yield one :class:`Trial` per labelled span of the table ``labels`` (see :func:`survey_events`), one recording
    at a time; its ``signal`` holds the recording's kept channels at the recording's own rate."""
    return survey_events(root, labels, classes, rename).trials()
