"""Build a pre-training corpus: EEG recordings of any format, montage and rate -> Parquet shards of raw-signal rows.

A corpus is a folder::

    <output>/data/train-00000.parquet ...  rows; shards of at most ``shard_size_mb``, each renamed in once complete
    <output>/README.md                     dataset card: YAML ``configs`` and declared features, hours, subjects...
    <output>/moodreader_corpus.json        the metadata pre-training reads (:func:`load_corpus_metadata`)
    <output>/skipped.jsonl                 one line per recording that gave nothing, with the reason

``datasets.load_dataset(str(output), split="train")`` reads it, and so does ``streaming=True``. Columns (declared,
:func:`corpus_features`): ``signal`` ``Array2D((None, samples_per_row), float32)`` µV (channels vary per row),
``channel_names`` (canonical vocabulary names), ``subject``, ``source`` (path relative to its SOURCE),
``start_seconds``, ``sampling_rate``.

How a recording becomes rows: channels mapped to the electrode vocabulary
(:mod:`moodreader_hf.recordings.vocabulary`), then :mod:`~moodreader_hf.builders.corpus_rows` (µV, resampling,
notch, band-pass, non-overlapping rows, flat / clipped / out-of-range rows dropped). Recordings are processed in a
fixed order, ``num_proc`` at a time in worker processes (at most ``2 * num_proc`` in flight), and their rows are
written in that order: the shards do not depend on ``num_proc``, and memory holds one shard's row group plus the
recordings in flight, never the corpus.

Resumption (:mod:`~moodreader_hf.builders.corpus_shards`): a killed build is continued by running the same build
again, and ends with exactly the shards of an uninterrupted build. A finished corpus built with the same sources
and options is left as it is; with other ones it is rebuilt. An unfinished build with other sources or options, or
a folder this package did not write, is refused.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import shutil
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from datasets import Array2D, Features, List, Value
from tqdm.auto import tqdm

from .. import __version__
from ..atomic import write_json, write_text
from ..provenance import LAYOUT_FAMILIES, dataset_identity, simulation_marker
from ..recordings.layouts import count_trials
from ..recordings.reader import READERS
from ..recordings.vocabulary import POSITION_TOLERANCE_MM, canonical_name, load_rename_map
from ..validation import MoodReaderInputError, fail
from .corpus_card import write_corpus_card
from .corpus_rows import RowOptions
from .corpus_shards import (
    DATA_FOLDER, JOURNAL_FILE, PARTIAL_FOLDER, SHARD_NAME, Journal, ShardWriter, clear_uncommitted, row_bytes,
)  # fmt: skip
from .corpus_sources import (
    LayoutTrial, ProcessOptions, RecordingFile, RecordingRows, find_recordings, iter_layout_trials, layout_files,
    process,
)  # fmt: skip

METADATA_FILE = "moodreader_corpus.json"
SKIPPED_FILE = "skipped.jsonl"
FORMAT_VERSION = 1
RAW_LAYOUTS: tuple[str, ...] = ("seed-raw", "deap", "faced", "dreamer", "amigos", "mahnob-hci")
"""Labelled layouts whose raw recordings can feed a corpus (labels are ignored)."""
NOTCH_FREQUENCIES: tuple[float, ...] = (50.0, 60.0)
REQUIRED_METADATA: tuple[str, ...] = (
    "format_version", "kind", "dataset_id", "sampling_rate", "window_seconds", "sequence_windows",
    "samples_per_row", "band_pass", "notch", "max_amplitude_uv", "rows", "hours", "subjects", "files", "montages",
    "rates", "channels", "rows_dropped", "skipped", "sources", "shards", "simulated",
)  # fmt: skip
_SOURCE = "build_corpus"


def corpus_features(samples_per_row: int) -> Features:
    """The declared columns of a corpus whose rows hold ``samples_per_row`` samples per channel."""
    return Features({
        "signal": Array2D(shape=(None, samples_per_row), dtype="float32"),
        "channel_names": List(Value("string")),
        "subject": Value("string"),
        "source": Value("string"),
        "start_seconds": Value("float64"),
        "sampling_rate": Value("float64"),
    })  # fmt: skip


def _positive(field: str, value: object, *, whole: bool = False) -> None:
    if whole:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        fail(_SOURCE, field, "a positive whole number" if whole else "a positive number", repr(value))


def _check_options(rows: RowOptions, layout: str | None, tolerance_mm: float, shard_size_mb: float,
                   num_proc: int, dataset_id: str | None) -> None:  # fmt: skip
    if layout is not None and layout not in RAW_LAYOUTS:
        fail(_SOURCE, "layout", f"one of {RAW_LAYOUTS} (labelled layouts of raw recordings) or None", repr(layout))
    _positive("sampling_rate", rows.sampling_rate)
    _positive("window_seconds", rows.window_seconds)
    _positive("sequence_windows", rows.sequence_windows, whole=True)
    _positive("position_tolerance_mm", tolerance_mm)
    _positive("shard_size_mb", shard_size_mb)
    _positive("num_proc", num_proc, whole=True)
    samples = rows.sampling_rate * rows.window_seconds
    if abs(samples - round(samples)) > 1e-6:
        fail(_SOURCE, "window_seconds", f"a whole number of samples at {rows.sampling_rate:g} Hz",
             repr(rows.window_seconds))  # fmt: skip
    if rows.band_pass is not None:
        low, high = rows.band_pass
        if not 0 <= low < high < rows.sampling_rate / 2:
            fail(_SOURCE, "band_pass", f"(low, high) in Hz with 0 <= low < high < {rows.sampling_rate / 2:g} (the "
                 "Nyquist frequency of sampling_rate)", repr(rows.band_pass))  # fmt: skip
    if rows.notch is not None and rows.notch not in NOTCH_FREQUENCIES:
        fail(_SOURCE, "notch", "50 or 60 (Hz) or None", repr(rows.notch))
    if rows.max_amplitude_uv is not None:
        _positive("max_amplitude_uv", rows.max_amplitude_uv)
    if dataset_id is not None and not (isinstance(dataset_id, str) and dataset_id.strip()):
        fail(_SOURCE, "dataset_id", "a non-empty name", repr(dataset_id))


def _band(band_pass: Sequence[float] | None) -> tuple[float, float] | None:
    if band_pass is None:
        return None
    try:
        low, high = (float(edge) for edge in band_pass)
    except (TypeError, ValueError):
        fail(_SOURCE, "band_pass", "(low, high) in Hz, or None", repr(band_pass))
    return low, high


def _rename_map(rename: str | Path | Mapping[str, str] | None) -> dict[str, str]:
    if rename is None:
        return {}
    if isinstance(rename, (str, Path)):
        return load_rename_map(rename)
    mapping = {}
    for channel, electrode in rename.items():
        canonical = canonical_name(str(electrode))
        if canonical is None:
            fail(_SOURCE, f"rename['{channel}']", "an electrode of the 10-05 system (or CB1/CB2)", repr(electrode))
        mapping[str(channel).strip().lower()] = canonical
    return mapping


def _source_roots(sources: Sequence[str | Path], layout: str | None) -> list[Path]:
    roots = [Path(source) for source in sources]
    if not roots:
        fail(_SOURCE, "sources", "at least one folder or file of recordings", "none")
    for root in roots:
        if not root.exists():
            fail(str(root), "SOURCE", "an existing folder or recording file", "no such file or folder")
        if layout is not None and not root.is_dir():
            fail(str(root), "SOURCE", f"the download folder of the '{layout}' layout", "a file")
    return roots


def _fingerprint(description: dict[str, Any], inventory: list[Path]) -> str:
    """Digest of the options and of every input file's path, size and modification time."""
    stats = [(str(path.absolute()), path.stat().st_size, path.stat().st_mtime_ns) for path in inventory]
    text = json.dumps({"options": description, "inventory": stats}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _existing(output: Path) -> tuple[str, dict[str, Any] | None]:
    """What ``output`` holds: ``("new", None)``, ``("finished", metadata)`` or ``("unfinished", journal)``;
    anything else is refused."""
    if not output.exists():
        return "new", None
    if not output.is_dir():
        fail(str(output), "OUTPUT", "a folder for the corpus", "an existing file")
    metadata = _read_json(output / METADATA_FILE)
    if metadata is not None and metadata.get("kind") == "corpus":
        return "finished", metadata
    journal = _read_json(output / JOURNAL_FILE)
    if journal is not None and journal.get("kind") == "moodreader corpus build":
        return "unfinished", journal
    if any(output.iterdir()):
        fail(str(output), "OUTPUT", "a new or empty folder, or a corpus written by `moodreader build-corpus`",
             "a folder with other files (nothing was changed)")  # fmt: skip
    return "new", None


def _complete(output: Path) -> bool:
    try:
        load_corpus_metadata(output)
    except MoodReaderInputError:
        return False
    return True


def _remove_corpus(output: Path, metadata: dict[str, Any]) -> None:
    """Delete the files of a finished corpus this package wrote, and nothing else."""
    for shard in metadata.get("shards", []):
        name = Path(str(shard.get("path", ""))).name
        if SHARD_NAME.match(name):
            (output / DATA_FOLDER / name).unlink(missing_ok=True)
    clear_uncommitted(output, [])
    for name in (METADATA_FILE, "README.md", SKIPPED_FILE, JOURNAL_FILE):
        (output / name).unlink(missing_ok=True)


def _processed(units: Iterator[RecordingFile | LayoutTrial], options: ProcessOptions,
               num_proc: int) -> Iterator[RecordingRows]:  # fmt: skip
    """:func:`~moodreader_hf.builders.corpus_sources.process` of every unit, in order; with ``num_proc > 1`` in
    worker processes, at most ``2 * num_proc`` units in flight."""
    if num_proc == 1:
        yield from (process(unit, options) for unit in units)
        return
    with ProcessPoolExecutor(max_workers=num_proc) as pool:
        pending: deque = deque()
        try:
            for unit in units:
                pending.append(pool.submit(process, unit, options))
                if len(pending) >= 2 * num_proc:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _write_rows(
    output: Path,
    journal: Journal,
    units: Iterator[RecordingFile | LayoutTrial],
    total: int,
    options: ProcessOptions,
    limit_bytes: int,
    num_proc: int,
    progress: bool,
    unit: str,
) -> None:
    """Write the rows of every unit from the journal's position on, committing shards as they fill."""
    features = corpus_features(options.rows.samples_per_row)
    writer = ShardWriter(output, features, limit_bytes, next_index=len(journal.shards))
    start, start_row = journal.next_recording, journal.next_row
    written = sum(shard["seconds"] for shard in journal.shards)

    def commit(recording: int, row: int) -> None:
        nonlocal written
        shard = writer.commit()
        journal.shards.append(shard)
        written += shard["seconds"]
        journal.next_recording, journal.next_row = recording, row
        journal.save(output)

    with tqdm(total=total, initial=start, desc="Building corpus", unit=unit, disable=not progress) as bar:
        results = _processed(itertools.islice(units, start, None), options, num_proc)
        for number, result in enumerate(results, start=start):
            for row in range(start_row if number == start else 0, len(result.starts)):
                values = {"signal": result.signals[row], "channel_names": list(result.channel_names),
                          "subject": str(result.subject), "source": result.source,
                          "start_seconds": float(result.starts[row]), "sampling_rate": options.rows.sampling_rate}
                size = row_bytes(result.signals[row], result.channel_names, values["subject"], result.source)
                if not writer.fits(size):
                    commit(number, row)
                writer.add(values, size)
            journal.counts.add(result)
            bar.update()
            bar.set_postfix_str(f"{(written + writer.seconds) / 3600:.2f} h written")
    if writer.rows:
        commit(total, 0)
    journal.next_recording, journal.next_row = total, 0
    journal.save(output)


def _metadata(journal: Journal, settings: dict[str, Any], sources: list[Path]) -> dict[str, Any]:
    counts = journal.counts
    rows = sum(shard["rows"] for shard in journal.shards)
    return {
        "format_version": FORMAT_VERSION, "kind": "corpus", **settings,
        "rows": rows, "hours": sum(shard["seconds"] for shard in journal.shards) / 3600,
        "num_bytes": sum(shard["bytes"] for shard in journal.shards),
        "subjects": sorted(counts.subjects, key=lambda name: (len(name), name)),
        "files": counts.files, "recordings": counts.recordings,
        "montages": dict(counts.montages), "rates": dict(counts.rates),
        "channels": {
            "kept": dict(counts.kept), "matched": dict(counts.matched), "renamed": dict(counts.renamed),
            "dropped": {reason: dict(names) for reason, names in counts.dropped.items()},
        },
        "rows_dropped": dict(counts.rows_dropped), "skipped": len(counts.skipped),
        "sources": [str(source.absolute()) for source in sources],
        "shards": journal.shards, "fingerprint": journal.fingerprint, "moodreader_version": __version__,
    }  # fmt: skip


def _finish(output: Path, journal: Journal, settings: dict[str, Any], sources: list[Path]) -> None:
    """Write ``skipped.jsonl``, the card and, last, the metadata that marks the corpus finished."""
    metadata = _metadata(journal, settings, sources)
    write_text(output / SKIPPED_FILE, "".join(json.dumps(record) + "\n" for record in journal.counts.skipped))
    if metadata["rows"] == 0:
        fail(str(output), "rows", "at least one row of clean signal",
             f"none from {journal.counts.recordings} recordings (see {output / SKIPPED_FILE})")  # fmt: skip
    write_corpus_card(output / "README.md", metadata, corpus_features(int(metadata["samples_per_row"])))
    write_json(output / METADATA_FILE, metadata)
    (output / JOURNAL_FILE).unlink(missing_ok=True)
    shutil.rmtree(output / PARTIAL_FOLDER, ignore_errors=True)


def build_corpus(
    sources: Sequence[str | Path] | str | Path,
    output: str | Path,
    *,
    layout: str | None = None,
    subject_pattern: str | None = None,
    sampling_rate: float = 200.0,
    band_pass: tuple[float, float] | None = (0.5, 75.0),
    notch: float | None = None,
    window_seconds: float = 1.0,
    sequence_windows: int = 10,
    max_amplitude_uv: float | None = 500.0,
    rename: str | Path | Mapping[str, str] | None = None,
    position_tolerance_mm: float = POSITION_TOLERANCE_MM,
    shard_size_mb: float = 64.0,
    num_proc: int = 1,
    dataset_id: str | None = None,
    simulated: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or continue building) the corpus of every recording under ``sources`` in ``output``; return it.

    Args:
        sources: Folders, walked recursively for every extension of
            :data:`~moodreader_hf.recordings.reader.READERS`, or single recording files; with ``layout``, download
            folders of that layout.
        output: The corpus folder (see the module docstring).
        layout: ``"seed-raw"`` or ``"deap"``: read each source with
            :func:`~moodreader_hf.recordings.layouts.iter_trials` (one recording per trial, labels ignored).
        subject_pattern: Regular expression over a file's path relative to its SOURCE (group ``subject``, else the
            first group); BIDS ``sub-<label>`` comes first, the default is the file's parent folder. A file it does
            not match is skipped.
        sampling_rate: Hz of the rows.
        band_pass: ``(low, high)`` Hz, ``high`` below ``sampling_rate / 2``, or ``None``.
        notch: 50 or 60 (Hz; harmonics below the Nyquist frequency too), or ``None``.
        window_seconds: Seconds per window (a whole number of samples). sequence_windows: Windows per row.
        max_amplitude_uv: Rows with a sample beyond this (µV, after filtering) are dropped; ``None``: no limit.
        rename: Explicit channel map applied first: ``{file's name: electrode}`` or a JSON / TSV / CSV file
            (:func:`~moodreader_hf.recordings.vocabulary.load_rename_map`).
        position_tolerance_mm: Largest distance in mm of a match by position.
        shard_size_mb: Largest uncompressed size of a shard in MiB.
        num_proc: Recordings processed at once, in worker processes.
        dataset_id: Which dataset the recordings are, for provenance and leakage checks; default the layout's
            dataset (``"SEED"``, ``"DEAP"``), else the first SOURCE folder's name (simulated folders add their seed).
        simulated: Mark the corpus as simulated; automatic when a SOURCE was written by ``moodreader simulate``.
        progress: Show a progress bar over the recordings, with the hours of EEG written.

    Raises:
        MoodReaderInputError: a bad option, a missing SOURCE, no recording found, an OUTPUT that is not a corpus
            folder (or holds an unfinished build with other sources or options), or no row at all. Unreadable
            files do not raise: they are listed in ``skipped.jsonl``.
    """
    output = Path(output)
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    rows = RowOptions(
        sampling_rate=sampling_rate, window_seconds=window_seconds, sequence_windows=sequence_windows,
        band_pass=_band(band_pass), notch=None if notch is None else float(notch), max_amplitude_uv=max_amplitude_uv,
    )  # fmt: skip
    _check_options(rows, layout, position_tolerance_mm, shard_size_mb, num_proc, dataset_id)
    pattern = None
    if subject_pattern is not None:
        try:
            pattern = re.compile(subject_pattern)
        except re.error as error:
            fail(_SOURCE, "subject_pattern", "a regular expression", f"{subject_pattern!r} ({error})")
    options = ProcessOptions(rows, _rename_map(rename), float(position_tolerance_mm))
    roots = _source_roots(sources, layout)
    folders = [root if root.is_dir() else root.parent for root in roots]
    if layout is None:
        files = find_recordings(roots, pattern)
        if not files:
            fail(", ".join(map(str, roots)), "recordings", f"at least one file ending in {', '.join(READERS)}",
                 "none")  # fmt: skip
        inventory, total, unit = [Path(file.path) for file in files], len(files), "file"
    else:
        inventory, total, unit = layout_files(layout, roots), sum(count_trials(layout, root) for root in roots), "trial"
    family = LAYOUT_FAMILIES[layout] if layout is not None else folders[0].absolute().name
    settings = {
        "dataset_id": dataset_id or dataset_identity(family, folders[0]), "layout": layout,
        "sampling_rate": float(rows.sampling_rate), "window_seconds": float(rows.window_seconds),
        "sequence_windows": rows.sequence_windows, "samples_per_row": rows.samples_per_row,
        "band_pass": None if rows.band_pass is None else list(rows.band_pass), "notch": rows.notch,
        "max_amplitude_uv": rows.max_amplitude_uv, "position_tolerance_mm": float(position_tolerance_mm),
        "subject_pattern": subject_pattern, "shard_size_mb": float(shard_size_mb),
        "simulated": bool(simulated) or any(simulation_marker(folder) is not None for folder in folders),
    }  # fmt: skip
    description = {**settings, "rows": asdict(rows), "rename": options.rename, "version": FORMAT_VERSION,
                   "sources": [str(root.absolute()) for root in roots]}  # fmt: skip
    fingerprint = _fingerprint(description, inventory)
    state, found = _existing(output)
    if state == "finished" and found.get("fingerprint") == fingerprint and _complete(output):
        return output
    if state == "unfinished" and found.get("fingerprint") != fingerprint:
        fail(str(output), "OUTPUT", "an unfinished build of the same sources and options, to continue (rerun the "
             "command that started it, or remove the folder)", "one with other sources or options")  # fmt: skip
    if state == "finished":
        _remove_corpus(output, found)
    if state == "unfinished":
        journal = Journal.from_json(found)
        clear_uncommitted(output, journal.shards)
    else:
        (output / DATA_FOLDER).mkdir(parents=True, exist_ok=True)
        journal = Journal(fingerprint)
        journal.save(output)
    units = iter_layout_trials(layout, roots) if layout is not None else iter(files)
    _write_rows(output, journal, units, total, options, max(1, int(shard_size_mb * 2**20)), num_proc, progress, unit)
    _finish(output, journal, settings, roots)
    return output


def load_corpus_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata (``moodreader_corpus.json``) of the finished corpus folder ``path``, after checking it.

    Raises:
        MoodReaderInputError: no such folder, an unfinished build, a missing or malformed metadata file or field,
            or a listed shard missing.
    """
    folder = Path(path)
    if not folder.is_dir():
        fail(str(folder), "folder", "a corpus folder written by `moodreader build-corpus`", "no such folder")
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        unfinished = (folder / JOURNAL_FILE).is_file()
        fail(str(folder), METADATA_FILE, "the metadata of a corpus written by `moodreader build-corpus`",
             "an unfinished build (run the same build-corpus command again)" if unfinished else "no such file")
    metadata = _read_json(metadata_path)
    if metadata is None:
        fail(str(metadata_path), "file", "a JSON object", "unreadable JSON")
    for key in REQUIRED_METADATA:
        if key not in metadata:
            fail(str(metadata_path), key, "a field of the corpus metadata", "no such field")
    if metadata["kind"] != "corpus" or metadata["format_version"] != FORMAT_VERSION:
        fail(str(metadata_path), "kind/format_version", f"'corpus' / {FORMAT_VERSION}",
             f"{metadata['kind']!r} / {metadata['format_version']!r}")  # fmt: skip
    missing = [shard["path"] for shard in metadata["shards"] if not (folder / shard["path"]).is_file()]
    if missing:
        fail(str(folder), "shards", "every shard the metadata lists", f"missing {missing[:3]}")
    return metadata
