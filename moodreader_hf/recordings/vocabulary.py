"""A recording's channels mapped to the electrode vocabulary: by an explicit rename map, by name, or by position.

Each channel is looked at once, in this order:

1. marked bad in the file -> dropped (``"marked bad"``);
2. named in the rename map -> kept as the map's electrode (``"rename"``), whatever its type;
3. not typed EEG by MNE -> dropped (``"not EEG"``);
4. an electrode name of :data:`~moodreader_hf.configuration_moodreader.ELECTRODE_VOCABULARY` (with its aliases,
   :func:`~moodreader_hf.configuration_moodreader.electrode_index`) -> kept (``"name"``);
5. otherwise, if the file gives its position -> a candidate for position matching; else dropped
   (``"not in vocabulary"``).

A second channel for an electrode already kept is dropped (``"duplicate"``). Candidates are matched to the MNE
``standard_1005`` electrodes not yet kept: the file's EEG positions are fitted to the standard head by a scale and an
offset (iterative closest points from several starts), then assigned one to one (Hungarian algorithm) to minimise
the total distance; a candidate farther than the tolerance from its electrode is dropped (``"no vocabulary position
within tolerance"``). Kept channels come in vocabulary order.
"""

from __future__ import annotations

import csv
import functools
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

from ..configuration_moodreader import ELECTRODE_VOCABULARY, electrode_index
from ..validation import fail

POSITION_TOLERANCE_MM = 15.0
"""Default largest distance in mm (on MNE's standard head, after the fit) between a channel's position and the
electrode it is matched to: about one 10-05 spacing (nearest neighbours of ``standard_1005`` are 15 mm apart)."""
DROP_REASONS: tuple[str, ...] = (
    "marked bad", "not EEG", "not in vocabulary", "duplicate", "no vocabulary position within tolerance",
)  # fmt: skip
_FIT_STARTS = tuple((scale, (0.0, 0.0, dz)) for scale in (0.85, 1.0, 1.15) for dz in (-0.04, -0.02, 0.0, 0.02, 0.04))
"""Starting (scale, offset in m) of the fit: heads 15 % smaller or larger, origins up to 4 cm below or above
(BrainVision's idealised sphere is centred 4 cm below MNE's head origin)."""
_FIT_MIN_POINTS = 4
"""Fewer positions than this do not determine a scale and an offset: they are compared unfitted."""
_FIT_SHARE = 0.8
"""Share of the positions, the best matched, that each round of the fit uses."""


@dataclass(frozen=True)
class ChannelMap:
    """Which channels of a recording are kept, as which electrode, and why the others are dropped.

    Attributes:
        picks: Indices into the recording's channel list of the kept channels, in vocabulary order.
        names: Canonical vocabulary spelling of each kept channel.
        originals: The file's name of each kept channel.
        how: How each kept channel was matched: ``"name"``, ``"position"`` or ``"rename"``.
        dropped: ``(file's channel name, reason)`` of every other channel, reasons from :data:`DROP_REASONS`.
    """

    picks: tuple[int, ...]
    names: tuple[str, ...]
    originals: tuple[str, ...]
    how: tuple[str, ...]
    dropped: tuple[tuple[str, str], ...]


def canonical_name(name: str) -> str | None:
    """The vocabulary spelling of the electrode ``name`` (``"FP1"``, ``"T3"``, ``"Fp1."`` -> ``"Fp1"``, ``"T7"``), or
    ``None`` when ``name`` is not an electrode of the vocabulary."""
    index = electrode_index(name)
    return None if index is None else ELECTRODE_VOCABULARY[index]


def _montage_name() -> str:
    # MNE 1.13 renamed standard_1005 to colin27_1005 (same positions) and deprecates the old name.
    return "colin27_1005" if "colin27_1005" in mne.channels.get_builtin_montages() else "standard_1005"


@functools.cache
def standard_positions() -> tuple[tuple[str, ...], np.ndarray]:
    """The vocabulary electrodes of MNE's ``standard_1005`` montage and their ``(electrodes, 3)`` positions in metres
    in MNE's head frame (x to the right ear, y to the nasion, z up)."""
    montage = mne.channels.make_standard_montage(_montage_name())
    names = [name for name in montage.ch_names if electrode_index(name) is not None]
    info = mne.create_info(names, 100.0, "eeg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info.set_montage(montage, verbose="error")
    positions = np.array([channel["loc"][:3] for channel in info["chs"]])
    return tuple(canonical_name(name) for name in names), positions


def load_rename_map(path: str | Path) -> dict[str, str]:
    """Read an explicit channel map: a JSON object ``{"file's name": "electrode"}`` or a two-column TSV / CSV
    (``.tsv``, ``.csv``; a first row whose second column is not an electrode is a header). Returns file's names
    (stripped, lower case) -> canonical electrode names.

    Raises:
        MoodReaderInputError: the file is missing or malformed, or a target is not an electrode of the vocabulary.
    """
    path = Path(path)
    if not path.is_file():
        fail(str(path), "rename", "a JSON, TSV or CSV file mapping channel names to electrodes", "no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            fail(str(path), "file", "a JSON object {channel: electrode}", f"unreadable JSON ({error})")
        if not isinstance(mapping, dict):
            fail(str(path), "file", "a JSON object {channel: electrode}", type(mapping).__name__)
        pairs = [(str(key), str(value)) for key, value in mapping.items()]
    elif suffix in (".tsv", ".csv"):
        with path.open(newline="", encoding="utf-8") as stream:
            rows = [row for row in csv.reader(stream, delimiter="\t" if suffix == ".tsv" else ",") if row]
        for number, row in enumerate(rows, start=1):
            if len(row) != 2:
                fail(f"{path}:{number}", "row", "two columns: channel name, electrode", f"{len(row)} columns")
        if rows and canonical_name(rows[0][1]) is None:
            rows = rows[1:]
        pairs = [(row[0], row[1]) for row in rows]
    else:
        fail(str(path), "rename", "a .json, .tsv or .csv file", repr(path.suffix))
    mapping = {}
    for channel, electrode in pairs:
        canonical = canonical_name(electrode)
        if canonical is None:
            fail(str(path), f"channel '{channel}'", "an electrode of the 10-05 system (or CB1/CB2)", repr(electrode))
        mapping[channel.strip().lower()] = canonical
    return mapping


def _icp(points: np.ndarray, standard: np.ndarray, scale: float, shift: np.ndarray,
         schedule: tuple[int, ...]) -> np.ndarray:  # fmt: skip
    """Iterative closest points from ``(scale, shift)``: assign one to one, refit the scale and offset by least
    squares on the ``trusted`` best-matched points, until the assignment settles, for each ``trusted`` of
    ``schedule`` in turn. Returns the moved points."""
    for trusted in schedule:
        previous = None
        for _ in range(50):
            distances = cdist(points * scale + shift, standard)
            rows, columns = linear_sum_assignment(distances)
            if previous is not None and np.array_equal(columns, previous):
                break
            previous = columns
            closest = np.argsort(distances[rows, columns])[:trusted]
            source, target = points[rows[closest]], standard[columns[closest]]
            centred = source - source.mean(axis=0)
            scale = float((centred * (target - target.mean(axis=0))).sum() / (centred**2).sum())
            shift = target.mean(axis=0) - scale * source.mean(axis=0)
    return points * scale + shift


def _fit_to_standard(points: np.ndarray, standard: np.ndarray, tolerance: float) -> np.ndarray:
    """``points`` moved onto the standard head by the scale and offset that best match them one to one.

    From each of :data:`_FIT_STARTS`, :func:`_icp` fits on the best-matched :data:`_FIT_SHARE` of the points (so a
    few positions far from any electrode, a nose reference or a chin electrode, do not pull the fit), and also on
    all of them first, then on that share. The fit kept has the smallest mean distance with every distance capped
    at ``tolerance`` (m)."""
    if len(points) < _FIT_MIN_POINTS:
        return points
    trimmed = max(_FIT_MIN_POINTS, int(np.ceil(_FIT_SHARE * len(points))))
    best_cost, best = np.inf, points
    for scale, offset in _FIT_STARTS:
        for schedule in ((trimmed,), (len(points), trimmed)):
            moved = _icp(points, standard, scale, np.asarray(offset), schedule)
            distances = cdist(moved, standard)
            cost = np.minimum(distances[linear_sum_assignment(distances)], tolerance).mean()
            if cost < best_cost:
                best_cost, best = cost, moved
    return best


def map_channels(
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    *,
    bads: Sequence[str] = (),
    positions: Mapping[str, np.ndarray] | None = None,
    rename: Mapping[str, str] | None = None,
    tolerance_mm: float = POSITION_TOLERANCE_MM,
) -> ChannelMap:
    """Map a recording's channels to the vocabulary (see the module docstring).

    Args:
        ch_names: The file's channel names.
        ch_types: MNE's type of each channel (``"eeg"``, ``"eog"``, ``"mag"``, ...).
        bads: Channels the file marks as bad.
        positions: Channel name -> ``(3,)`` position in metres (MNE's head frame) for channels that have one.
        rename: :func:`load_rename_map`'s map, applied first.
        tolerance_mm: Largest distance of a position match, in mm on the standard head.
    """
    rename, positions, bad = rename or {}, positions or {}, set(bads)
    kept: dict[str, tuple[int, str]] = {}
    dropped: list[tuple[int, str]] = []
    candidates: list[int] = []

    def keep(index: int, name: str, how: str) -> None:
        if name in kept:
            dropped.append((index, "duplicate"))
        else:
            kept[name] = (index, how)

    for index, (channel, kind) in enumerate(zip(ch_names, ch_types)):
        if channel in bad:
            dropped.append((index, "marked bad"))
        elif channel.strip().lower() in rename:
            keep(index, rename[channel.strip().lower()], "rename")
        elif kind != "eeg":
            dropped.append((index, "not EEG"))
        elif canonical_name(channel) is not None:
            keep(index, canonical_name(channel), "name")
        elif channel in positions:
            candidates.append(index)
        else:
            dropped.append((index, "not in vocabulary"))
    if candidates:
        standard_names, standard = standard_positions()
        located = [i for i, (name, kind) in enumerate(zip(ch_names, ch_types))
                   if name in positions and kind == "eeg" and name not in bad]  # fmt: skip
        fitted = _fit_to_standard(np.array([positions[ch_names[i]] for i in located]), standard, tolerance_mm / 1000)
        moved = dict(zip(located, fitted))
        free = [j for j, name in enumerate(standard_names) if name not in kept]
        distances = cdist(np.array([moved[i] for i in candidates]), standard[free]) * 1000.0
        rows, columns = linear_sum_assignment(distances)
        assigned = dict(zip(rows.tolist(), columns.tolist()))
        for row, index in enumerate(candidates):
            column = assigned.get(row)
            if column is None or distances[row, column] > tolerance_mm:
                dropped.append((index, "no vocabulary position within tolerance"))
            else:
                keep(index, standard_names[free[column]], "position")
    order = sorted(kept, key=electrode_index)
    return ChannelMap(
        picks=tuple(kept[name][0] for name in order),
        names=tuple(order),
        originals=tuple(ch_names[kept[name][0]] for name in order),
        how=tuple(kept[name][1] for name in order),
        dropped=tuple((ch_names[index], reason) for index, reason in sorted(dropped)),
    )


def raw_positions(raw: mne.io.BaseRaw) -> dict[str, np.ndarray]:
    """Channel name -> ``(3,)`` position in metres of every channel of ``raw`` whose location the file gives (FIF
    digitisation, BrainVision coordinates, EEGLAB locations: MNE keeps them in ``info["chs"][i]["loc"]``, in its head
    frame); channels without one (zero or NaN) are left out."""
    located = {}
    for channel in raw.info["chs"]:
        position = np.asarray(channel["loc"][:3], dtype=float)
        if np.isfinite(position).all() and np.any(position):
            located[channel["ch_name"]] = position
    return located


def map_raw_channels(
    raw: mne.io.BaseRaw, *, rename: Mapping[str, str] | None = None, tolerance_mm: float = POSITION_TOLERANCE_MM
) -> ChannelMap:
    """:func:`map_channels` for an MNE Raw (names, types, bad channels and positions read from its ``info``)."""
    return map_channels(
        raw.ch_names,
        raw.get_channel_types(),
        bads=raw.info["bads"],
        positions=raw_positions(raw),
        rename=rename,
        tolerance_mm=tolerance_mm,
    )
