"""Build a ``datasets.DatasetDict`` of DE window sequences from any layout, and load it back.

A built dataset is a folder::

    <output_dir>/dataset_dict.json, train/     the save_to_disk layout: one split "train" holding every subject
    <output_dir>/README.md                     dataset card (YAML metadata + text; says when the data is simulated)
    <output_dir>/moodreader_dataset.json       the metadata :func:`load_built_dataset` checks

One row is ``sequence_windows`` consecutive DE windows of one trial: rows start every ``stride`` windows, and a
trial whose last windows fill no such row gets one more, its *tail row*, holding its last ``sequence_windows``
windows (:mod:`moodreader_hf.builders.windows`; metadata ``tail_rows: true``). There is a single split, ``"train"``,
with all subjects: training makes the leave-one-subject-out folds from the ``subject`` column, so no subject is ever
split between training and evaluation. Columns (declared ``Features``):

- ``subject``, ``session`` (strings as the dataset names them), ``trial`` (1-based), ``start`` (first window, 0-based);
- ``tail`` (bool): True for a trial's tail row, which training keeps for testing only (never trained, validated or
  normalised on); a dataset built before tail rows has no such column;
- ``de`` ``Array3D((sequence_windows, channels, bands), float32)``: DE in the montage's channel order;
- ``channel_mask`` ``List(int8, length=channels)``: 1 = the electrode was recorded, 0 = missing (its DE and signal
  are 0). Always written, so every built dataset has the same columns; all ones for the SEED family;
- ``eye`` ``Array2D((sequence_windows, eye_dims), float32)``: only for layouts with eye features (SEED-IV, SEED-V);
- ``signal`` ``Array2D((channels, sequence_windows * samples_per_window), float32)``: only with
  ``include_signal=True`` on a raw layout; microvolts, resampled to ``sampling_rate``;
- ``label`` ``ClassLabel(names=label_names(layout))``.

The data decide the montage, the rate and the classes: by default the montage is the layout's own electrodes (for
``events`` and ``bids``, every electrode some recording holds), the rate of a raw layout is its recordings' (the
lowest, for recordings of several rates) and the classes are the layout's (for ``events`` and ``bids``, the labels).
Bands default to SEED's five (``bands`` sets others, e.g. a slow band below 1 Hz); the metadata carry them, and the
feature extractor and the training contract follow the metadata.

For raw layouts (``seed-raw``, ``deap``, ``events``, ``bids``) the DE is computed here by
:class:`MoodReaderFeatureExtractor` (resampling, channel matching, DE, smoothing per trial), exactly as at
inference; for DE layouts the distributed DE is reordered to the montage. What is in no row is dropped and counted
(``coverage`` in the metadata and the card): samples after a trial's last whole window, windows between rows when
``stride > sequence_windows``, and trials shorter than one row. Trials stream one at a time, and rows go to Arrow
shards as they are produced (:mod:`moodreader_hf.builders.dataset_shards`), in a temporary folder that replaces
``output_dir`` only once complete: memory stays bounded by a few batches of rows, and an interrupted build leaves
the old dataset intact.
"""

from __future__ import annotations

import inspect
import itertools
import json
import math
import secrets
import shutil
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
from datasets import Array2D, Array3D, ClassLabel, Dataset, DatasetDict, Features, List, Value
from tqdm.auto import tqdm

from .. import __version__
from ..atomic import check_replaceable, mark_folder, new_stage, replace_folder
from ..feature_extraction_moodreader import SMOOTHINGS, MoodReaderFeatureExtractor
from ..features import band_table
from ..provenance import LAYOUT_FAMILIES, dataset_identity
from ..recordings.layouts import count_files, get_layout, iter_trials, label_names, layout_channel_names, survey
from ..recordings.trial import Trial
from ..validation import MoodReaderInputError, fail, reading
from .card import SIMULATION_MARKER, write_dataset_card
from .dataset_shards import ShardWriter
from .windows import check_sequence_options, covered_windows, iter_sequences, sequence_starts

METADATA_FILE = "moodreader_dataset.json"
DATASET_KIND = "dataset"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of a built dataset folder."""
PARQUET_KIND = "dataset-repo"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of an :func:`export_parquet` folder."""
SPLIT = "train"
FORMAT_VERSION = 1
WITHIN_ROW_VARIANCE_THRESHOLD = 0.05
"""Below this share of the DE's variance lying within rows, a build warns that smoothing made its rows constant."""
DE_SAMPLING_RATE = 200
"""Rate in Hz recorded for DE layouts whose trials do not say at which rate their DE was computed (the SEED family's
signals are distributed at 200 Hz)."""
REQUIRED_COLUMNS = ("subject", "session", "trial", "start", "de", "channel_mask", "label")
REQUIRED_METADATA = (
    "format_version", "layout", "label_names", "channel_names", "band_names", "band_edges", "window_seconds",
    "sampling_rate", "sequence_windows", "stride", "smoothing", "simulated", "eye_dims", "include_signal",
)  # fmt: skip
_FEATURE_SMOOTHING = {"de_LDS": "lds", "de_movingAve": "moving_average"}
_BATCH_BYTES = 64 * 2**20
_VARIANCE_BATCH_ROWS = 1024


class _WithinRowVariance:
    """Sums of the DE over rows, per channel and band, for :func:`within_row_variance_share`, fed
    ``batch_rows`` rows at a time."""

    def __init__(self, batch_rows: int = _VARIANCE_BATCH_ROWS):
        self.batch_rows = batch_rows
        self.pending: list[np.ndarray] = []
        self.count = 0
        self.total = self.within = self.squares = None

    def add_batch(self, de: np.ndarray) -> None:
        """Add ``(rows, windows, channels, bands)`` DE."""
        de = np.asarray(de, dtype=np.float64)
        row_means = de.mean(axis=1, keepdims=True)
        batch_within = ((de - row_means) ** 2).sum(axis=(0, 1))
        self.within = batch_within if self.within is None else self.within + batch_within
        self.total = de.sum(axis=(0, 1)) if self.total is None else self.total + de.sum(axis=(0, 1))
        self.squares = (de**2).sum(axis=(0, 1)) if self.squares is None else self.squares + (de**2).sum(axis=(0, 1))
        self.count += de.shape[0] * de.shape[1]

    def add_row(self, de: np.ndarray) -> None:
        """Add one row ``(windows, channels, bands)``; rows are summed in batches of ``batch_rows``."""
        self.pending.append(de)
        if len(self.pending) == self.batch_rows:
            self.add_batch(np.stack(self.pending))
            self.pending = []

    def share(self) -> float:
        if self.pending:
            self.add_batch(np.stack(self.pending))
            self.pending = []
        variance = self.squares / self.count - (self.total / self.count) ** 2
        recorded = variance > 1e-12
        return float((self.within[recorded] / self.count / variance[recorded]).mean()) if recorded.any() else 0.0


@dataclass
class _BuildState:
    """What the row generator learns while it streams (read after the build).

    ``seconds`` of the trials' signal (DE layouts: of their windows): ``labelled`` in all, ``in_rows`` (in a
    regular or a tail row), ``window_tails`` (after the last whole window of a trial), ``between_rows`` (windows of
    a trial in no row: between rows when the stride exceeds a row), ``short_trials`` (the windows of trials shorter
    than a row); the last four add up to ``labelled``."""

    skipped: list[str] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    trials: int = 0
    present: np.ndarray | None = None
    variance: _WithinRowVariance = field(default_factory=_WithinRowVariance)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("labelled", "in_rows", "window_tails", "between_rows", "short_trials"), 0.0))  # fmt: skip

    def coverage(self) -> dict[str, float]:
        """``seconds`` rounded to milliseconds, with the share of the labelled signal that is in rows."""
        result = {key: round(value, 3) for key, value in self.seconds.items()}
        labelled = self.seconds["labelled"]
        result["share_in_rows"] = round(self.seconds["in_rows"] / labelled, 6) if labelled else 0.0
        return result


def dataset_features(
    label_names_: Sequence[str],
    *,
    channels: int,
    bands: int,
    sequence_windows: int,
    eye_dims: int = 0,
    signal_samples: int = 0,
) -> Features:
    """The declared columns of a built dataset (``eye`` only when ``eye_dims``, ``signal`` only when
    ``signal_samples`` is the number of samples of one row's signal)."""
    columns = {
        "subject": Value("string"),
        "session": Value("string"),
        "trial": Value("int32"),
        "start": Value("int32"),
        "tail": Value("bool"),
        "de": Array3D(shape=(sequence_windows, channels, bands), dtype="float32"),
        "channel_mask": List(Value("int8"), length=channels),
    }
    if eye_dims:
        columns["eye"] = Array2D(shape=(sequence_windows, eye_dims), dtype="float32")
    if signal_samples:
        columns["signal"] = Array2D(shape=(channels, signal_samples), dtype="float32")
    columns["label"] = ClassLabel(names=list(label_names_))
    return Features(columns)


def _loader_options(layout: str, feature: str, options: Mapping[str, object] | None) -> dict[str, object]:
    chosen = dict(options or {})
    if "feature" in inspect.signature(get_layout(layout).iterate).parameters:
        chosen.setdefault("feature", feature)
    return chosen


def _is_simulated(root: Path) -> bool:
    folder = root.resolve()
    return (folder / SIMULATION_MARKER).is_file() or (folder.parent / SIMULATION_MARKER).is_file()


def _json_options(options: Mapping[str, object]) -> dict[str, object]:
    """The loader's options as JSON values (paths as strings), for the metadata."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in options.items()}


class _TrialConverter:
    """Turns a :class:`Trial` into montage-ordered DE (and signal) with the feature extractor of the build."""

    def __init__(self, layout: str, extractor: MoodReaderFeatureExtractor, include_signal: bool):
        self.names = list(layout_channel_names(layout))
        self.extractor = extractor
        self.include_signal = include_signal

    def __call__(self, trial: Trial) -> dict[str, np.ndarray | None]:
        names = list(trial.channel_names) if trial.channel_names is not None else self.names
        try:
            if trial.signal is not None:
                inputs = self.extractor(
                    trial.signal,
                    sampling_rate=trial.sfreq,
                    channel_names=names,
                    on_missing="mask",
                    return_signals=self.include_signal,
                    return_tensors="np",
                )
            else:
                inputs = self.extractor(
                    de_features=trial.de, channel_names=names, on_missing="mask", return_tensors="np"
                )
        except ValueError as error:
            if isinstance(error, MoodReaderInputError):
                raise
            raise MoodReaderInputError(f"{trial.source}: trial {trial.trial}: {error}") from error
        return {
            "de": inputs["de_features"][0],
            "channel_mask": inputs["channel_mask"][0].astype(np.int8),
            "signal": inputs["eeg_signals"][0] if "eeg_signals" in inputs else None,
        }


def _count_seconds(state: _BuildState, trial: Trial, windows: int, *, sequence_windows: int, stride: int,
                   window_seconds: float) -> None:
    """Add a trial's seconds to ``state.seconds``: in rows (regular or tail), or dropped (and why)."""
    seconds = trial.signal.shape[1] / trial.sfreq if trial.signal is not None else windows * window_seconds
    covered = covered_windows(windows, sequence_windows, stride)
    state.seconds["labelled"] += seconds
    state.seconds["window_tails"] += max(seconds - windows * window_seconds, 0.0)
    if covered:
        state.seconds["in_rows"] += covered * window_seconds
        state.seconds["between_rows"] += (windows - covered) * window_seconds
    else:
        state.seconds["short_trials"] += min(seconds, windows * window_seconds)


def _rows(
    trials: Iterator[Trial],
    convert: _TrialConverter,
    state: _BuildState,
    bar: tqdm,
    *,
    sequence_windows: int,
    stride: int,
    samples_per_window: int,
    window_seconds: float,
    with_eye: bool,
) -> Iterator[dict[str, object]]:
    """Stream the rows of every trial, updating the file progress bar when a new source file starts."""
    current_source = None
    for trial in trials:
        if trial.source != current_source:
            if current_source is not None:
                bar.update()
            current_source = trial.source
        state.trials += 1
        if trial.signal is not None and trial.signal.shape[1] < trial.sfreq * window_seconds:
            _count_seconds(state, trial, 0, sequence_windows=sequence_windows, stride=stride,
                           window_seconds=window_seconds)
            state.skipped.append(f"{trial.source} trial {trial.trial} (shorter than one window)")
            continue
        converted = convert(trial)
        de = converted["de"]
        _count_seconds(state, trial, de.shape[0], sequence_windows=sequence_windows, stride=stride,
                       window_seconds=window_seconds)
        if not sequence_starts(de.shape[0], sequence_windows, stride):
            state.skipped.append(f"{trial.source} trial {trial.trial} ({de.shape[0]} windows)")
            continue
        state.subjects.add(trial.subject)
        mask = converted["channel_mask"].astype(bool)
        state.present = mask if state.present is None else state.present | mask
        for sequence in iter_sequences(
            de,
            sequence_windows=sequence_windows,
            stride=stride,
            eye=trial.eye if with_eye else None,
            signal=converted["signal"],
            samples_per_window=samples_per_window,
        ):
            row = {
                "subject": trial.subject,
                "session": trial.session,
                "trial": trial.trial,
                "start": sequence.start,
                "tail": sequence.tail,
                "de": sequence.de,
                "channel_mask": converted["channel_mask"],
                "label": trial.label,
            }
            if with_eye:
                row["eye"] = sequence.eye
            if sequence.signal is not None:
                row["signal"] = sequence.signal
            state.variance.add_row(sequence.de)
            yield row
    if current_source is not None:
        bar.update()


def _check_output_dir(output_dir: Path, kind: str = DATASET_KIND, field: str = "output_dir") -> None:
    """Refuse to replace a folder that is neither new, empty nor a ``kind`` folder this package wrote (by its
    manifest, :data:`~moodreader_hf.atomic.MARKER`: a folder holding anything else is a user's, never deleted)."""
    check_replaceable(output_dir, kind, field=field)


def _build_rate(sampling_rate: float | None, survey_rate: int | None, first: Trial, raw: bool) -> int:
    """The dataset's rate in Hz: the one asked for, else the recordings' (the survey's, or the first trial's), else
    for DE layouts the rate the trials name or :data:`DE_SAMPLING_RATE`."""
    if sampling_rate is not None:
        valid = isinstance(sampling_rate, (int, float)) and not isinstance(sampling_rate, bool)
        if not (valid and math.isfinite(sampling_rate) and sampling_rate >= 1 and float(sampling_rate).is_integer()):
            fail("build_dataset", "sampling_rate", "a whole number of Hz", repr(sampling_rate))
        return int(sampling_rate)
    if survey_rate is not None:
        return survey_rate
    if first.sfreq is not None:
        return int(math.floor(first.sfreq))
    if raw:
        fail(first.source, "sfreq", "the sampling rate of the trial's signal", "None")
    return DE_SAMPLING_RATE


def build_dataset(
    layout: str,
    root: str | Path,
    output_dir: str | Path,
    *,
    sequence_windows: int = 10,
    stride: int = 10,
    include_signal: bool = False,
    smoothing: str = "lds",
    feature: str = "de_LDS",
    method: str = "stft",
    window_seconds: float = 1.0,
    sampling_rate: int | None = None,
    moving_average_window: int = 5,
    montage: Sequence[str] | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
    layout_options: Mapping[str, object] | None = None,
    simulated: bool = False,
    progress: bool = True,
) -> Path:
    """Build the dataset of the recordings at ``root`` into ``output_dir`` and return ``output_dir``.

    Args:
        layout: A layout of :mod:`moodreader_hf.recordings.layouts` (``seed``, ``seed-raw``, ``seed-iv``,
            ``seed-v``, ``deap``, ``events``, ``bids``, ...).
        root: The dataset's download folder (or a folder written by ``moodreader simulate``, or your recordings).
        output_dir: Where the built dataset goes; replaced atomically if it holds an older build.
        sequence_windows: DE windows per row.
        stride: Windows between the starts of consecutive rows of a trial (``stride = sequence_windows``: no overlap).
            A trial's last windows, when no such row reaches them, are held by its tail row (``tail`` column,
            test-only); windows between rows (``stride > sequence_windows``) are dropped and a trial shorter than one
            row is skipped; both are counted (``coverage`` in the metadata, and a warning for skipped trials).
        include_signal: Also store the raw signal of each row (raw layouts only).
        smoothing: Raw layouts: ``"lds"``, ``"moving_average"`` or ``"none"``, applied per trial to the computed DE.
        feature: DE layouts with a choice (SEED, SEED-IV): ``"de_LDS"`` or ``"de_movingAve"``.
        method: Raw layouts: DE method, ``"stft"`` (SEED recipe) or ``"filterbank"``.
        window_seconds: Raw layouts: DE window length in seconds (DE layouts use the dataset's). A trial's samples
            after its last whole window are dropped (counted in ``coverage``).
        sampling_rate: Raw layouts: rate in Hz the signal is resampled to before the DE (and for ``signal``).
            Default: the recordings' own rate (the lowest, when they differ); DE layouts record the rate their DE
            was computed at.
        moving_average_window: Windows of the moving average when ``smoothing="moving_average"``.
        montage: Electrode names of the channel axis; a recording's channels are matched to it by name, and
            electrodes it lacks are zero with ``channel_mask`` 0. Default: the layout's electrodes (``events`` and
            ``bids``: every electrode some recording holds).
        bands: ``name -> (low, high)`` in Hz of the DE bands, in order (default SEED's delta 1-4, theta 4-8,
            alpha 8-14, beta 14-31, gamma 31-50). Raw layouts compute them: a band needs at least one frequency bin
            of the window (``1 / window_seconds`` Hz apart with ``method="stft"``), so a 0.1-1 Hz band needs 10 s
            windows. DE layouts only declare the bands of the distributed DE (as many as its files hold).
        layout_options: Further options of the layout's loader (e.g. DEAP's ``target``, SEED-V's ``with_eye``,
            ``events``' ``labels`` and ``classes``, ``bids``' ``task``, ``label_column`` and ``label_map``).
        simulated: Mark the dataset as simulated. A ``root`` written by the simulator (with ``SIMULATED.txt``) is
            marked simulated whatever this says.
        progress: Show a progress bar over the files read.
    """
    check_sequence_options(sequence_windows, stride)
    if smoothing not in SMOOTHINGS:
        fail("build_dataset", "smoothing", f"one of {SMOOTHINGS}", repr(smoothing))
    band_names, band_edges = band_table(bands if bands is not None else get_layout(layout).bands, "build_dataset")
    root, output_dir = Path(root), Path(output_dir)
    _check_output_dir(output_dir)
    options = _loader_options(layout, feature, layout_options)
    plan = survey(layout, root, **options)
    if plan is not None:
        names, trials = plan.label_names, plan.trials()
    else:
        names = label_names(layout, **{k: v for k, v in options.items() if k != "feature"})
        trials = iter_trials(layout, root, **options)
    first = next(trials, None)
    if first is None:
        fail(str(root), "trials", f"at least one trial in the '{layout}' layout", "none")
    files = len(plan.recordings) if plan is not None else count_files(layout, root)
    raw = first.signal is not None
    if include_signal and not raw:
        fail("build_dataset", "include_signal", f"False for the '{layout}' layout (it holds DE, not signals)", True)
    montage = tuple(montage) if montage is not None else (plan.channel_names if plan else layout_channel_names(layout))
    rate = _build_rate(sampling_rate, plan.sampling_rate if plan else None, first, raw)
    try:
        extractor = MoodReaderFeatureExtractor(
            sampling_rate=rate,
            channel_names=list(montage),
            band_edges=band_edges,
            window_seconds=window_seconds if raw else first.window_seconds,
            method=method,
            smoothing=smoothing if raw else "none",
            moving_average_window=moving_average_window,
        )
    except MoodReaderInputError:
        raise
    except ValueError as error:
        raise MoodReaderInputError(f"build_dataset: {error}") from error
    samples_per_window = extractor.samples_per_window if include_signal else 0
    eye_dims = int(first.eye.shape[1]) if first.eye is not None else 0
    features = dataset_features(
        names,
        channels=len(montage),
        bands=len(band_edges),
        sequence_windows=sequence_windows,
        eye_dims=eye_dims,
        signal_samples=sequence_windows * samples_per_window,
    )
    row_bytes = 4 * sequence_windows * (len(montage) * (len(band_edges) + samples_per_window) + eye_dims)
    stage = new_stage(output_dir, "tmp", hidden=False)
    writer = ShardWriter(stage / SPLIT, features, row_bytes=row_bytes, split=SPLIT,
                         batch_rows=max(1, min(1000, _BATCH_BYTES // row_bytes)))
    state = _BuildState()
    try:
        with tqdm(total=files, desc=f"Building {layout} dataset", unit="file", disable=not progress) as bar:
            rows = _rows(
                itertools.chain([first], trials),
                _TrialConverter(layout, extractor, include_signal),
                state,
                bar,
                sequence_windows=sequence_windows,
                stride=stride,
                samples_per_window=samples_per_window,
                window_seconds=float(extractor.window_seconds),
                with_eye=bool(eye_dims),
            )
            for row in rows:
                writer.write(row)
        if state.present is None:
            fail(str(root), "trials", f"at least one trial of {sequence_windows} windows (--sequence-windows) to "
                 "make a row", f"{state.trials} trials, all shorter"
                 + (f" (first: {state.skipped[0]})" if state.skipped else ""))
        num_rows, num_bytes = writer.close(fingerprint=secrets.token_hex(4))
        (stage / "dataset_dict.json").write_text(json.dumps({"splits": [SPLIT]}))
        within_row_share = state.variance.share()
        metadata = {
            "format_version": FORMAT_VERSION,
            "layout": layout,
            "dataset_id": plan.dataset_id if plan else dataset_identity(LAYOUT_FAMILIES.get(layout, layout), root),
            "layout_options": _json_options(options),
            "label_names": list(names),
            "channel_names": list(montage),
            "band_names": list(band_names),
            "band_edges": [list(edge) for edge in band_edges],
            "window_seconds": float(extractor.window_seconds),
            "sampling_rate": rate,
            "sequence_windows": sequence_windows,
            "stride": stride,
            "tail_rows": True,
            "de_source": "computed" if raw else "distributed",
            "method": method if raw else None,
            "smoothing": smoothing if raw else _FEATURE_SMOOTHING.get(str(options.get("feature")), "as distributed"),
            "moving_average_window": moving_average_window if raw and smoothing == "moving_average" else None,
            "eye_dims": eye_dims,
            "include_signal": include_signal,
            "samples_per_window": samples_per_window or None,
            "missing_channels": [name for name, present in zip(montage, state.present) if not present],
            "simulated": bool(simulated) or _is_simulated(root),
            "num_rows": num_rows,
            "within_row_variance_share": within_row_share,
            "within_row_variance_threshold": WITHIN_ROW_VARIANCE_THRESHOLD,
            "num_bytes": num_bytes,
            "subjects": sorted(state.subjects, key=lambda name: (len(name), name)),
            "num_trials": state.trials,
            "skipped_trials": len(state.skipped),
            "coverage": state.coverage(),
            "notes": list(plan.notes) if plan else [],
            "split": f"one split '{SPLIT}' with every subject; evaluate leave-one-subject-out on the 'subject' column",
            "moodreader_version": __version__,
        }
        (stage / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        write_dataset_card(stage / "README.md", metadata, features)
        mark_folder(stage, DATASET_KIND)
        replace_folder(stage, output_dir)
    finally:
        writer.abort()
        shutil.rmtree(stage, ignore_errors=True)
    if within_row_share < WITHIN_ROW_VARIANCE_THRESHOLD:
        warnings.warn(
            f"{output_dir}: only {within_row_share:.2e} of the DE's variance lies within rows (threshold "
            f"{WITHIN_ROW_VARIANCE_THRESHOLD:g}): {metadata['smoothing']} smoothing has made the rows nearly constant, "
            "so attention across windows learns nothing from them; prefer moving_average or none.",
            stacklevel=2,
        )
    if state.skipped:
        warnings.warn(
            f"{len(state.skipped)} of {state.trials} trials were shorter than one sequence of {sequence_windows} "
            f"windows and were skipped (first: {state.skipped[0]}).",
            stacklevel=2,
        )
    return output_dir


def within_row_variance_share(dataset: Dataset, batch_rows: int = _VARIANCE_BATCH_ROWS) -> float:
    """Share of the DE's variance (per channel and band, then averaged) that lies within rows, over time, rather
    than between rows: near 0 when smoothing has made every row constant. Read in batches of ``batch_rows`` (a
    build computes the same sums while it writes)."""
    variance = _WithinRowVariance(batch_rows)
    for start in range(0, len(dataset), batch_rows):
        variance.add_batch(dataset.with_format("numpy")[start : start + batch_rows]["de"])
    return variance.share()


def _is_count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _is_positive(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value > 0


def _is_names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)


_METADATA_TYPES = {
    "layout": ("a layout name", lambda value: isinstance(value, str)),
    "label_names": ("a list of class names", _is_names),
    "channel_names": ("a list of electrode names", _is_names),
    "band_names": ("a list of band names", _is_names),
    "band_edges": ("a list of [low, high] pairs in Hz", lambda value: isinstance(value, list) and bool(value) and all(
        isinstance(edge, list) and len(edge) == 2 and all(_is_positive(item) for item in edge) for edge in value)),
    "window_seconds": ("a positive number of seconds", _is_positive),
    "sampling_rate": ("a positive rate in Hz", _is_positive),
    "sequence_windows": ("a positive whole number", lambda value: _is_count(value, 1)),
    "stride": ("a positive whole number", lambda value: _is_count(value, 1)),
    "smoothing": ("a smoothing name", lambda value: isinstance(value, str)),
    "simulated": ("true or false", lambda value: isinstance(value, bool)),
    "eye_dims": ("a whole number of eye features", lambda value: _is_count(value, 0)),
    "include_signal": ("true or false", lambda value: isinstance(value, bool)),
}
"""What each required metadata field must be (a hand-edited or foreign file is refused, naming the field)."""


def _check_metadata_types(metadata: dict[str, object], source: str) -> None:
    for key, (expected, valid) in _METADATA_TYPES.items():
        if not valid(metadata[key]):
            fail(source, key, expected, repr(metadata[key])[:80])
    if len(metadata["band_names"]) != len(metadata["band_edges"]):
        fail(source, "band_names", f"one name per band edge ({len(metadata['band_edges'])})",
             f"{len(metadata['band_names'])} names")


def load_built_dataset(path: str | Path) -> tuple[DatasetDict, dict[str, object]]:
    """Load a dataset written by :func:`build_dataset` (or :func:`export_parquet`'s source) and its metadata.

    Raises:
        MoodReaderInputError: the folder, its ``moodreader_dataset.json``, a metadata field, the split or a column
            is missing, or the ``de`` column's shape disagrees with the metadata.
    """
    folder = Path(path)
    if not folder.is_dir():
        fail(str(folder), "folder", "a dataset folder written by build_dataset",
             "a file" if folder.exists() else "no such folder")
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        fail(str(folder), METADATA_FILE, "the metadata file of a dataset built by moodreader", "no such file")
    try:
        metadata = json.loads(metadata_path.read_text())
    except (OSError, ValueError) as error:
        fail(str(metadata_path), "file", "a JSON object", f"unreadable JSON ({error})")
    if not isinstance(metadata, dict):
        fail(str(metadata_path), "file", "a JSON object", type(metadata).__name__)
    for key in REQUIRED_METADATA:
        if key not in metadata:
            fail(str(metadata_path), key, "a metadata field written by build_dataset", "no such field")
    if metadata["format_version"] != FORMAT_VERSION:
        fail(str(metadata_path), "format_version", str(FORMAT_VERSION), metadata["format_version"])
    _check_metadata_types(metadata, str(metadata_path))
    with reading(folder, "dataset", "a DatasetDict saved with save_to_disk"):
        loaded = datasets.load_from_disk(str(folder))
    if not isinstance(loaded, DatasetDict) or SPLIT not in loaded:
        fail(str(folder), "split", f"a DatasetDict with split '{SPLIT}'", type(loaded).__name__)
    columns = loaded[SPLIT].features
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            fail(str(folder), column, "a column of a dataset built by moodreader", "no such column")
    expected = (metadata["sequence_windows"], len(metadata["channel_names"]), len(metadata["band_names"]))
    if tuple(columns["de"].shape) != expected:
        fail(str(folder), "de", f"shape {expected} (sequence_windows, channels, bands)", tuple(columns["de"].shape))
    if metadata["eye_dims"] and "eye" not in columns:
        fail(str(folder), "eye", f"a column of {metadata['eye_dims']} eye features per window", "no such column")
    return loaded, metadata


def export_parquet(dataset_dir: str | Path, out_dir: str | Path, *, max_rows_per_file: int = 5000) -> Path:
    """Write a built dataset as Parquet files ``out_dir/data/train-XXXXX-of-YYYYY.parquet`` with its card and
    metadata; the declared features (``Array3D``, ``ClassLabel``) travel in the files' schema, so
    ``load_dataset("parquet", data_files=...)`` restores them. Written to a temporary folder, then renamed."""
    out_dir = Path(out_dir)
    _check_output_dir(out_dir, PARQUET_KIND, "out_dir")
    loaded, metadata = load_built_dataset(dataset_dir)
    dataset = loaded[SPLIT]
    shards = max(1, -(-len(dataset) // max_rows_per_file))
    stage = new_stage(out_dir, "tmp", hidden=False)
    try:
        (stage / "data").mkdir()
        for index in tqdm(range(shards), desc="Writing Parquet", unit="file", disable=shards == 1):
            shard = dataset.shard(num_shards=shards, index=index, contiguous=True)
            shard.to_parquet(str(stage / "data" / f"{SPLIT}-{index:05d}-of-{shards:05d}.parquet"))
        (stage / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        write_dataset_card(stage / "README.md", metadata, dataset.features, parquet=True)
        mark_folder(stage, PARQUET_KIND)
        replace_folder(stage, out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out_dir
