"""BIDS EEG datasets: recordings found and read with ``mne-bids``, labelled spans from each recording's ``events.tsv``.

Layout read (BIDS, EEG modality)::

    dataset_description.json
    sub-<label>/[ses-<label>/]eeg/sub-<label>[_ses-<label>]_task-<task>[_run-<index>]_eeg.<edf|bdf|vhdr|set>
    .../..._events.tsv                      onset, duration (seconds from the first sample), trial_type, value, ...
    .../..._channels.tsv, _electrodes.tsv   channel types, bad channels and positions (read by mne-bids)

Every event whose label column (``trial_type`` unless ``label_column`` says otherwise) holds a value is a labelled
span; with a label map only the events whose value it names are, as the class it maps them to. Events whose value
is ``n/a`` or empty, or outside the map, are not spans (the dataset card counts them). Subject and session are the
BIDS entities (session ``"1"`` when the dataset has none); trials are numbered within subject and session,
recordings in path order and events by onset. An event without a duration (``n/a`` or 0) takes ``duration`` when
given, else it is refused. The spans then go through the same checks and reading as a label table
(:func:`moodreader_hf.recordings.events.survey_spans`).

Channel types, bad channels and electrode positions are what mne-bids reads from the sidecars; channels are mapped to
the electrode vocabulary by name or by those positions. Needs the optional extra ``pip install "moodreader-hf[bids]"``.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..validation import fail, one_line, reading
from .events import DEFAULT_SESSION, Span, Survey, survey_spans
from .reader import DATA_LOSS_WARNINGS
from .trial import Trial

RECORDING_EXTENSIONS: tuple[str, ...] = (".edf", ".bdf", ".vhdr", ".set", ".fif")
MISSING_VALUES: tuple[str, ...] = ("", "n/a")
"""Cells of an ``events.tsv`` that hold no value (BIDS writes ``n/a``)."""


def _mne_bids():
    try:
        import mne_bids
    except ImportError:
        fail("bids", "mne-bids", "the mne-bids package (pip install 'moodreader-hf[bids]')", "not installed")
    return mne_bids


def _read_raw(bids_path) -> object:
    """The recording of ``bids_path`` via ``mne_bids.read_raw_bids`` (samples not loaded); a reader failure or a
    warning that part of the file is missing is one error naming the file."""
    source = str(bids_path.fpath)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = _mne_bids().read_raw_bids(bids_path, verbose="error")
        except Exception as error:  # noqa: BLE001 - any reader failure means the recording cannot be read
            fail(source, "file", "a BIDS recording mne-bids can read", f"{type(error).__name__}: "
                 f"{one_line(error)}"[:500])
    for warning in caught:
        text = one_line(warning.message)
        if any(fragment in text.lower() for fragment in DATA_LOSS_WARNINGS):
            fail(source, "file", "a complete recording", f"a truncated or incomplete one ({text[:300]})")
    return raw


def _events(path: Path, label_column: str, label_map: Mapping[str, str] | None, duration: float | None,
            recording: Path, subject: str, session: str) -> tuple[list[Span], int]:
    """The labelled spans of one ``events.tsv`` and the number of its events that are not spans."""
    if not path.is_file():
        fail(str(path), "file", f"the events.tsv of {recording.name}", "no such file")
    with reading(path, "file", "a UTF-8 tab-separated events table"):
        text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(text.splitlines(), delimiter="\t")
    header = [cell.strip() for cell in next(reader, [])]
    for column in ("onset", "duration", label_column):
        if column not in header:
            fail(f"{path}:1", column, "a column of the events table" + (" (--label-column)" if column == label_column
                                                                       else ""), f"columns {header}")
    spans, ignored = [], 0
    for cells in reader:
        where = f"{path}:{reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            fail(where, "row", f"{len(header)} tab-separated cells", f"{len(cells)} cells")
        value = dict(zip(header, (cell.strip() for cell in cells)))
        label = value[label_column]
        if label in MISSING_VALUES or (label_map is not None and label not in label_map):
            ignored += 1
            continue
        try:
            onset = float(value["onset"])
        except ValueError:
            onset = math.nan
        if not math.isfinite(onset) or onset < 0:
            fail(where, "onset", "a non-negative number of seconds", repr(value["onset"]))
        try:
            length = 0.0 if value["duration"] in MISSING_VALUES else float(value["duration"])
        except ValueError:
            length = math.nan
        if length == 0 and duration is not None:
            length = duration
        if not math.isfinite(length) or length <= 0:
            fail(where, "duration", "a positive number of seconds (or --event-duration for events without one)",
                 repr(value["duration"]))
        spans.append(Span(where=where, file=recording.name, path=recording, onset=onset, duration=length,
                          label=label_map[label] if label_map is not None else label, subject=subject,
                          session=session, trial=None))
    return spans, ignored


def _dataset_id(root: Path) -> str:
    try:
        name = json.loads((root / "dataset_description.json").read_text(encoding="utf-8")).get("Name")
    except (OSError, ValueError, AttributeError):
        name = None
    named = isinstance(name, str) and name.strip() and name.strip() != "[Unspecified]"  # mne-bids' placeholder
    return f"BIDS: {name.strip()}" if named else f"BIDS: {root.resolve().name}"


def survey_bids(
    root: str | Path,
    task: str,
    label_column: str = "trial_type",
    label_map: Mapping[str, str] | None = None,
    duration: float | None = None,
    rename: str | Path | None = None,
) -> Survey:
    """The :class:`~moodreader_hf.recordings.events.Survey` of the EEG recordings of ``task`` in the BIDS dataset
    at ``root``.

    Args:
        root: The BIDS dataset (holding ``dataset_description.json``).
        task: The BIDS task label (``task-<label>`` in the file names).
        label_column: The ``events.tsv`` column holding the labels.
        label_map: Event value -> class name; only events it names are spans, and the classes are its names in
            order of first appearance. Default: every value is its own class (natural order).
        duration: Seconds of the span of an event whose duration is ``n/a`` or 0.
        rename: A channel rename map for channels named outside the 10-05 system.
    """
    mne_bids = _mne_bids()
    root = Path(root)
    if not (root / "dataset_description.json").is_file():
        fail(str(root), "dataset_description.json", "a BIDS dataset folder", "no such file")
    if label_map is not None and (not isinstance(label_map, Mapping) or not label_map
                                  or not all(str(name).strip() for name in label_map.values())):
        fail("bids", "label_map", "a non-empty mapping of event values to class names", repr(label_map))
    paths = mne_bids.find_matching_paths(root, tasks=task, datatypes="eeg", suffixes="eeg",
                                         extensions=list(RECORDING_EXTENSIONS), ignore_nosub=True)
    if not paths:
        tasks = mne_bids.get_entity_vals(root, "task")
        fail(str(root), "task", f"EEG recordings of task {task!r} (sub-*/[ses-*/]eeg/*_task-{task}_eeg.*)",
             f"none (tasks found: {tasks})")
    spans, openers, ignored = [], {}, 0
    for bids_path in paths:
        recording = Path(bids_path.fpath)
        events = Path(bids_path.copy().update(suffix="events", extension=".tsv").fpath)
        found, skipped = _events(events, label_column, label_map, duration, recording, bids_path.subject,
                                 bids_path.session or DEFAULT_SESSION)
        spans += found
        ignored += skipped
        if found:
            openers[recording] = lambda bids_path=bids_path: _read_raw(bids_path)
    if not spans:
        fail(str(root), "events", f"at least one event with a {label_column!r} value"
             + (" named by the label map" if label_map is not None else ""), f"none in {len(paths)} events.tsv files")
    classes = list(dict.fromkeys(label_map.values())) if label_map is not None else None
    notes = [f"Labels: the `{label_column}` column of each recording's events.tsv"
             + (f", mapped to classes by {dict(label_map)}" if label_map is not None else "")
             + f"; {ignored} events without a label{' or outside the map' if label_map is not None else ''} were not "
             "used." + (f" Events without a duration were given {duration:g} s." if duration is not None else "")]
    return survey_spans("bids", spans, openers, classes=classes, notes=notes, rename=rename,
                        dataset_id=_dataset_id(root))


def bids_label_names(task: str, label_column: str = "trial_type", label_map: Mapping[str, str] | None = None,
                     **_: object) -> tuple[str, ...]:
    """The classes of a BIDS build with a label map (its names in order); without one they are read from the
    events files, by :func:`survey_bids`."""
    if label_map is None:
        fail("layout 'bids'", "label_map", "a label map to name the classes without reading the dataset (or "
             "recordings.layouts.survey('bids', root, ...) to read them from its events.tsv files)", "none")
    return tuple(dict.fromkeys(label_map.values()))


def iter_bids(root: str | Path, task: str, label_column: str = "trial_type", label_map: Mapping[str, str] | None = None,
              duration: float | None = None, rename: str | Path | None = None) -> Iterator[Trial]:
    """Yield one :class:`Trial` per labelled event (see :func:`survey_bids`), one recording at a time."""
    return survey_bids(root, task, label_column, label_map, duration, rename).trials()
