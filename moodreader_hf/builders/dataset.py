"""Build a ``datasets.DatasetDict`` of DE window sequences from any published layout, and load it back.

A built dataset is a folder::

    <output_dir>/dataset_dict.json, train/     DatasetDict.save_to_disk: one split "train" holding every subject
    <output_dir>/README.md                     dataset card (YAML metadata + text; says when the data is simulated)
    <output_dir>/moodreader_dataset.json       the metadata :func:`load_built_dataset` checks

One row is ``sequence_windows`` consecutive DE windows of one trial. There is a single split, ``"train"``, with all
subjects: training makes the leave-one-subject-out folds from the ``subject`` column, so no subject is ever split
between training and evaluation. Columns (declared ``Features``):

- ``subject``, ``session`` (strings as the dataset names them), ``trial`` (1-based), ``start`` (first window, 0-based);
- ``de`` ``Array3D((sequence_windows, channels, bands), float32)``: DE in the montage's channel order;
- ``channel_mask`` ``List(int8, length=channels)``: 1 = the electrode was recorded, 0 = missing (its DE and signal
  are 0). Always written, so every built dataset has the same columns; all ones for the SEED family, 32 of 62 for
  DEAP;
- ``eye`` ``Array2D((sequence_windows, eye_dims), float32)``: only for layouts with eye features (SEED-IV, SEED-V);
- ``signal`` ``Array2D((channels, sequence_windows * samples_per_window), float32)``: only with
  ``include_signal=True`` on a raw layout; microvolts, resampled to ``sampling_rate``;
- ``label`` ``ClassLabel(names=label_names(layout))``.

For raw layouts (``seed-raw``, ``deap``) the DE is computed here by :class:`MoodReaderFeatureExtractor` (resampling,
channel matching, DE, smoothing per trial), exactly as at inference; for DE layouts the distributed DE is reordered
to the montage. Trials stream one at a time through ``Dataset.from_generator`` into a temporary folder that replaces
``output_dir`` only once complete, so memory stays bounded and an interrupted build leaves the old dataset intact.
"""

from __future__ import annotations

import inspect
import itertools
import json
import secrets
import shutil
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import numpy as np
from datasets import Array2D, Array3D, ClassLabel, Dataset, DatasetDict, Features, List, Value
from datasets.exceptions import DatasetGenerationError
from tqdm.auto import tqdm

from .. import __version__
from ..atomic import check_replaceable, mark_folder, new_stage, replace_folder
from ..configuration_moodreader import BAND_EDGES, BAND_NAMES, SEED_CHANNEL_NAMES
from ..feature_extraction_moodreader import SMOOTHINGS, MoodReaderFeatureExtractor
from ..provenance import LAYOUT_FAMILIES, dataset_identity
from ..recordings.layouts import count_files, get_layout, iter_trials, label_names, layout_channel_names
from ..recordings.trial import Trial
from ..validation import MoodReaderInputError, fail, reading
from .card import SIMULATION_MARKER, write_dataset_card
from .windows import check_sequence_options, iter_sequences, sequence_starts

METADATA_FILE = "moodreader_dataset.json"
DATASET_KIND = "dataset"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of a built dataset folder."""
PARQUET_KIND = "dataset-repo"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of an :func:`export_parquet` folder."""
SPLIT = "train"
FORMAT_VERSION = 1
WITHIN_ROW_VARIANCE_THRESHOLD = 0.05
"""Below this share of the DE's variance lying within rows, a build warns that smoothing made its rows constant."""
REQUIRED_COLUMNS = ("subject", "session", "trial", "start", "de", "channel_mask", "label")
REQUIRED_METADATA = (
    "format_version", "layout", "label_names", "channel_names", "band_names", "band_edges", "window_seconds",
    "sampling_rate", "sequence_windows", "stride", "smoothing", "simulated", "eye_dims", "include_signal",
)  # fmt: skip
_FEATURE_SMOOTHING = {"de_LDS": "lds", "de_movingAve": "moving_average"}
_BATCH_BYTES = 64 * 2**20


@dataclass
class _BuildState:
    """What the row generator learns while it streams (read after the build)."""

    skipped: list[str] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    trials: int = 0


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


class _TrialConverter:
    """Turns a :class:`Trial` into montage-ordered DE (and signal) with the feature extractor of the build."""

    def __init__(self, layout: str, extractor: MoodReaderFeatureExtractor, include_signal: bool):
        self.names = list(layout_channel_names(layout))
        self.extractor = extractor
        self.include_signal = include_signal

    def __call__(self, trial: Trial) -> dict[str, np.ndarray | None]:
        try:
            if trial.signal is not None:
                inputs = self.extractor(
                    trial.signal,
                    sampling_rate=trial.sfreq,
                    channel_names=self.names,
                    on_missing="mask",
                    return_signals=self.include_signal,
                    return_tensors="np",
                )
            else:
                inputs = self.extractor(
                    de_features=trial.de, channel_names=self.names, on_missing="mask", return_tensors="np"
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


def _rows(
    trials: Iterator[Trial],
    convert: _TrialConverter,
    state: _BuildState,
    bar: tqdm,
    *,
    sequence_windows: int,
    stride: int,
    samples_per_window: int,
    with_eye: bool,
) -> Iterator[dict[str, object]]:
    """Stream the rows of every trial, updating the file progress bar when a new source file starts."""
    current_source = None
    for trial in trials:
        if trial.source != current_source:
            if current_source is not None:
                bar.update()
            current_source = trial.source
        converted = convert(trial)
        de = converted["de"]
        state.trials += 1
        if not sequence_starts(de.shape[0], sequence_windows, stride):
            state.skipped.append(f"{trial.source} trial {trial.trial} ({de.shape[0]} windows)")
            continue
        state.subjects.add(trial.subject)
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
                "de": sequence.de,
                "channel_mask": converted["channel_mask"],
                "label": trial.label,
            }
            if with_eye:
                row["eye"] = sequence.eye
            if sequence.signal is not None:
                row["signal"] = sequence.signal
            yield row
    if current_source is not None:
        bar.update()


def _generate(rows: Iterator[dict[str, object]]) -> Iterator[dict[str, object]]:
    yield from rows


def _check_output_dir(output_dir: Path, kind: str = DATASET_KIND, field: str = "output_dir") -> None:
    """Refuse to replace a folder that is neither new, empty nor a ``kind`` folder this package wrote (by its
    manifest, :data:`~moodreader_hf.atomic.MARKER`: a folder holding anything else is a user's, never deleted)."""
    check_replaceable(output_dir, kind, field=field)


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
    sampling_rate: int = 200,
    moving_average_window: int = 5,
    montage: Sequence[str] = SEED_CHANNEL_NAMES,
    layout_options: Mapping[str, object] | None = None,
    simulated: bool = False,
    progress: bool = True,
) -> Path:
    """Build the dataset of the recordings at ``root`` into ``output_dir`` and return ``output_dir``.

    Args:
        layout: A layout of :mod:`moodreader_hf.recordings.layouts` (``seed``, ``seed-raw``, ``seed-iv``,
            ``seed-v``, ``deap``).
        root: The dataset's download folder (or a folder written by ``moodreader simulate``).
        output_dir: Where the built dataset goes; replaced atomically if it holds an older build.
        sequence_windows: DE windows per row.
        stride: Windows between the starts of consecutive rows of a trial (``stride = sequence_windows``: no overlap).
            Trailing windows that do not fill a row are dropped; a trial shorter than one row is skipped (counted
            in a warning and in the metadata).
        include_signal: Also store the raw signal of each row (raw layouts only).
        smoothing: Raw layouts: ``"lds"``, ``"moving_average"`` or ``"none"``, applied per trial to the computed DE.
        feature: DE layouts with a choice (SEED, SEED-IV): ``"de_LDS"`` or ``"de_movingAve"``.
        method: Raw layouts: DE method, ``"stft"`` (SEED recipe) or ``"filterbank"``.
        window_seconds: Raw layouts: DE window length in seconds (DE layouts use the dataset's).
        sampling_rate: Raw layouts: rate in Hz the signal is resampled to before the DE (and for ``signal``).
        moving_average_window: Windows of the moving average when ``smoothing="moving_average"``.
        montage: Electrode names of the channel axis; a recording's channels are matched to it by name, and
            electrodes it lacks are zero with ``channel_mask`` 0.
        layout_options: Further options of the layout's loader (e.g. DEAP's ``target``, SEED-V's ``with_eye``).
        simulated: Mark the dataset as simulated. A ``root`` written by the simulator (with ``SIMULATED.txt``) is
            marked simulated whatever this says.
        progress: Show a progress bar over the files read.
    """
    check_sequence_options(sequence_windows, stride)
    if smoothing not in SMOOTHINGS:
        fail("build_dataset", "smoothing", f"one of {SMOOTHINGS}", repr(smoothing))
    root, output_dir = Path(root), Path(output_dir)
    _check_output_dir(output_dir)
    options = _loader_options(layout, feature, layout_options)
    names = label_names(layout, **{k: v for k, v in options.items() if k != "feature"})
    trials = iter_trials(layout, root, **options)
    first = next(trials, None)
    if first is None:
        fail(str(root), "trials", f"at least one trial in the '{layout}' layout", "none")
    raw = first.signal is not None
    if include_signal and not raw:
        fail("build_dataset", "include_signal", f"False for the '{layout}' layout (it holds DE, not signals)", True)
    try:
        extractor = MoodReaderFeatureExtractor(
            sampling_rate=sampling_rate,
            channel_names=list(montage),
            band_edges=BAND_EDGES,
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
        bands=len(BAND_EDGES),
        sequence_windows=sequence_windows,
        eye_dims=eye_dims,
        signal_samples=sequence_windows * samples_per_window,
    )
    row_bytes = 4 * sequence_windows * (len(montage) * (len(BAND_EDGES) + samples_per_window) + eye_dims)
    token = secrets.token_hex(4)
    stage = new_stage(output_dir, "tmp", hidden=False)
    cache = new_stage(output_dir, "cache", hidden=False)
    state = _BuildState()
    bars_were_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        with tqdm(total=count_files(layout, root), desc=f"Building {layout} dataset", unit="file",
                  disable=not progress) as bar:  # fmt: skip
            rows = _rows(
                itertools.chain([first], trials),
                _TrialConverter(layout, extractor, include_signal),
                state,
                bar,
                sequence_windows=sequence_windows,
                stride=stride,
                samples_per_window=samples_per_window,
                with_eye=bool(eye_dims),
            )
            first_row = next(rows, None)
            if first_row is None:
                fail(str(root), "trials", f"at least one trial of {sequence_windows} windows (--sequence-windows) to "
                     "make a row", f"{state.trials} trials, all shorter"
                     + (f" (first: {state.skipped[0]})" if state.skipped else ""))
            rows = itertools.chain([first_row], rows)
            try:
                dataset = Dataset.from_generator(
                    _generate,
                    features=features,
                    cache_dir=str(cache),
                    gen_kwargs={"rows": rows},
                    fingerprint=token,
                    writer_batch_size=max(1, min(1000, _BATCH_BYTES // row_bytes)),
                )
            except DatasetGenerationError as error:
                if isinstance(error.__cause__, MoodReaderInputError):
                    raise error.__cause__ from None
                raise
        if len(dataset) == 0:
            fail(str(root), "trials", f"at least one trial of {sequence_windows} windows", "only shorter trials")
        within_row_share = within_row_variance_share(dataset)
        DatasetDict({SPLIT: dataset}).save_to_disk(str(stage))
        metadata = {
            "format_version": FORMAT_VERSION,
            "layout": layout,
            "dataset_id": dataset_identity(LAYOUT_FAMILIES.get(layout, layout), root),
            "layout_options": dict(options),
            "label_names": list(names),
            "channel_names": list(montage),
            "band_names": list(BAND_NAMES),
            "band_edges": [list(edge) for edge in BAND_EDGES],
            "window_seconds": float(extractor.window_seconds),
            "sampling_rate": sampling_rate,
            "sequence_windows": sequence_windows,
            "stride": stride,
            "de_source": "computed" if raw else "distributed",
            "method": method if raw else None,
            "smoothing": smoothing if raw else _FEATURE_SMOOTHING.get(str(options.get("feature")), "as distributed"),
            "moving_average_window": moving_average_window if raw and smoothing == "moving_average" else None,
            "eye_dims": eye_dims,
            "include_signal": include_signal,
            "samples_per_window": samples_per_window or None,
            "missing_channels": [name for name, present in zip(montage, dataset[0]["channel_mask"]) if not present],
            "simulated": bool(simulated) or _is_simulated(root),
            "num_rows": len(dataset),
            "within_row_variance_share": within_row_share,
            "within_row_variance_threshold": WITHIN_ROW_VARIANCE_THRESHOLD,
            "num_bytes": int(dataset.data.nbytes),
            "subjects": sorted(state.subjects, key=lambda name: (len(name), name)),
            "num_trials": state.trials,
            "skipped_trials": len(state.skipped),
            "split": f"one split '{SPLIT}' with every subject; evaluate leave-one-subject-out on the 'subject' column",
            "moodreader_version": __version__,
        }
        (stage / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
        write_dataset_card(stage / "README.md", metadata, features)
        del dataset
        mark_folder(stage, DATASET_KIND)
        replace_folder(stage, output_dir)
    finally:
        if bars_were_enabled:
            datasets.enable_progress_bars()
        shutil.rmtree(cache, ignore_errors=True)
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


def within_row_variance_share(dataset: Dataset, batch_rows: int = 1024) -> float:
    """Share of the DE's variance (per channel and band, then averaged) that lies within rows, over time, rather
    than between rows: near 0 when smoothing has made every row constant. Read in batches of ``batch_rows``."""
    count = 0
    total = within = squares = None
    for start in range(0, len(dataset), batch_rows):
        de = np.asarray(dataset.with_format("numpy")[start : start + batch_rows]["de"], dtype=np.float64)
        row_means = de.mean(axis=1, keepdims=True)
        batch_within = ((de - row_means) ** 2).sum(axis=(0, 1))
        within = batch_within if within is None else within + batch_within
        total = de.sum(axis=(0, 1)) if total is None else total + de.sum(axis=(0, 1))
        squares = (de**2).sum(axis=(0, 1)) if squares is None else squares + (de**2).sum(axis=(0, 1))
        count += de.shape[0] * de.shape[1]
    variance = squares / count - (total / count) ** 2
    recorded = variance > 1e-12
    return float((within[recorded] / count / variance[recorded]).mean()) if recorded.any() else 0.0


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
