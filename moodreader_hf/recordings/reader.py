"""Reading any recording MNE reads into a ``(channels, samples)`` microvolt array in the model's montage and rate.

Channels are matched to the montage by name with :func:`~moodreader_hf.feature_extraction_moodreader.match_channels`
(case-insensitive; ``T3``/``T7``, ``T4``/``T8``, ``T5``/``P7``, ``T6``/``P8`` aliases; PhysioNet's dotted names such as
``"Fp1."``). Electrodes the recording lacks, or that it marks as bad, are missing: the caller chooses to fail
(``on_missing="raise"``) or to zero them and flag them in ``present`` (``on_missing="mask"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from ..configuration_moodreader import SEED_CHANNEL_NAMES
from ..feature_extraction_moodreader import match_channels
from ..validation import MoodReaderInputError, fail, one_line

READERS: dict[str, Callable[..., mne.io.BaseRaw]] = {
    ".edf": mne.io.read_raw_edf,
    ".bdf": mne.io.read_raw_bdf,
    ".fif": mne.io.read_raw_fif,
    ".fif.gz": mne.io.read_raw_fif,
    ".vhdr": mne.io.read_raw_brainvision,
    ".set": mne.io.read_raw_eeglab,
    ".cnt": mne.io.read_raw_cnt,
}
"""File extension -> MNE reader: EDF, BDF, FIF, BrainVision (header file), EEGLAB, Neuroscan CNT."""
ON_MISSING: tuple[str, ...] = ("raise", "mask")
MAX_SAMPLING_RATE = 50_000.0
"""Highest sampling rate (Hz) of a recording the package reads; the lowest is twice the model's highest band edge
(:func:`check_sampling_rate`)."""
DATA_LOSS_WARNINGS: tuple[str, ...] = ("does not match the file size", "truncat", "not fully", "incomplete")
"""Fragments of MNE reader warnings that mean part of the recording is missing: refused, not read partially."""
NOT_RECORDINGS: dict[str, str] = {
    ".mat": "a MATLAB file is not a recording MNE reads: a SEED-family download is read by `moodreader "
            "build-dataset <layout>`; export other recordings as EDF, BDF, FIF, BrainVision or EEGLAB",
    ".npz": "a numpy archive is not a recording (SEED-V's .npz are read by `moodreader build-dataset seed-v`)",
    ".dat": "a .dat file is not a recording MNE reads (DEAP's are read by `moodreader build-dataset deap`)",
}
"""Extensions users try that are not recordings, with what to do instead."""


@dataclass
class Recording:
    """A recording in the model's montage.

    Attributes:
        data: ``(channels, samples)`` float32 microvolts at ``sfreq``, rows in ``channel_names`` order; rows of
            missing electrodes are zero.
        sfreq: Sampling rate of ``data`` in Hz.
        channel_names: The montage: electrode name of each row of ``data``.
        present: ``(channels,)`` bool, ``False`` for missing electrodes.
        missing: Names of the missing electrodes, in montage order.
        source: The file the recording was read from (or a description of the Raw).
    """

    data: np.ndarray
    sfreq: float
    channel_names: tuple[str, ...]
    present: np.ndarray
    missing: list[str]
    source: str


def _reader_for(path: Path) -> Callable[..., mne.io.BaseRaw]:
    name = path.name.lower()
    for extension, reader in READERS.items():
        if name.endswith(extension):
            return reader
    extension = path.suffix.lower()
    hint = f" ({NOT_RECORDINGS[extension]})" if extension in NOT_RECORDINGS else ""
    fail(str(path), "file extension", f"one of {tuple(READERS)}", repr("".join(path.suffixes) or path.name) + hint)


def open_raw(path: str | Path, *, preload: bool = True) -> mne.io.BaseRaw:
    """Open a recording with the MNE reader of its extension (:data:`READERS`); every failure is one
    :class:`MoodReaderInputError` naming the file, and so is a file MNE would read only partly (a header promising
    more data than the file holds: MNE warns and reads what is there)."""
    path = Path(path)
    reader = _reader_for(path)
    if not path.is_file():
        fail(str(path), "file", "an existing recording file", "a folder" if path.is_dir() else "no such file")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            raw = reader(path, preload=preload, verbose="warning")
        except Exception as error:  # noqa: BLE001 - any reader failure means the file is not a readable recording
            fail(str(path), "file", f"a recording readable by {reader.__name__}",
                 f"{type(error).__name__}: {one_line(error)}"[:500])
    for warning in caught:
        text = one_line(warning.message)
        if any(fragment in text.lower() for fragment in DATA_LOSS_WARNINGS):
            fail(str(path), "file", "a complete recording", f"a truncated or incomplete one ({text[:300]})")
    return raw


def check_sampling_rate(sfreq: object, band_edges: Sequence[Sequence[float]], source: str,
                        field: str = "sampling_rate") -> float:
    """A sampling rate (Hz) the model can use: a number (not a boolean), at least twice the highest band edge (a
    slower recording holds nothing of its top band, and resampling it up would invent it) and at most
    :data:`MAX_SAMPLING_RATE`."""
    lowest = 2.0 * max(float(high) for _, high in band_edges)
    valid = isinstance(sfreq, (int, float, np.integer, np.floating)) and not isinstance(sfreq, (bool, np.bool_))
    if not (valid and np.isfinite(sfreq) and lowest <= float(sfreq) <= MAX_SAMPLING_RATE):
        fail(source, field, f"a sampling rate from {lowest:g} Hz (twice the highest band edge) to "
             f"{MAX_SAMPLING_RATE:g} Hz", repr(sfreq))
    return float(sfreq)


def check_recording(path: str | Path, *, band_edges: Sequence[Sequence[float]], window_seconds: float) -> Path:
    """Refuse, before a model reads it, a recording that cannot be read whole, holds no EEG channel, has a sampling
    rate the model cannot use (:func:`check_sampling_rate`) or is shorter than one window."""
    raw = open_raw(path, preload=False)
    source = str(path)
    if not len(mne.pick_types(raw.info, eeg=True, exclude="bads")):
        fail(source, "channels", "EEG channels not marked bad", f"channel types {sorted(set(raw.get_channel_types()))}")
    sfreq = check_sampling_rate(float(raw.info["sfreq"]), band_edges, source)
    seconds = raw.n_times / sfreq
    if seconds < window_seconds:
        fail(source, "duration", f"at least one window of {window_seconds:g} s", f"{seconds:.3g} s")
    return Path(path)


def read_recording(
    path: str | Path,
    *,
    channel_names: Sequence[str] = SEED_CHANNEL_NAMES,
    sfreq: float = 200.0,
    on_missing: str = "raise",
    picks_eeg: bool = True,
) -> Recording:
    """Read an EEG file with MNE (chosen by extension) into the montage ``channel_names`` at ``sfreq`` Hz.

    Args:
        path: An ``.edf``, ``.bdf``, ``.fif`` (``.fif.gz``), ``.vhdr`` (BrainVision), ``.set`` (EEGLAB) or ``.cnt``
            (Neuroscan) file.
        channel_names: Montage: the electrodes to return, in order.
        sfreq: Output sampling rate in Hz (polyphase resampling with MNE when the file's rate differs).
        on_missing: ``"raise"``: a montage electrode absent from the file is an error naming it; ``"mask"``: its row
            is zero and ``present`` is ``False``.
        picks_eeg: Match names only among the channels MNE types as EEG (EOG, ECG, stimulus channels are ignored).

    Raises:
        MoodReaderInputError: unknown extension, unreadable or truncated file, missing electrodes (with
            ``"raise"``), no montage electrode at all, non-finite samples. The message names the file.
    """
    path = Path(path)
    raw = open_raw(path)
    return raw_to_array(
        raw, channel_names=channel_names, sfreq=sfreq, on_missing=on_missing, picks_eeg=picks_eeg, source=str(path)
    )


def raw_to_array(
    raw: mne.io.BaseRaw,
    *,
    channel_names: Sequence[str] = SEED_CHANNEL_NAMES,
    sfreq: float = 200.0,
    on_missing: str = "raise",
    picks_eeg: bool = True,
    source: str | None = None,
) -> Recording:
    """Turn an open MNE Raw into a :class:`Recording` (see :func:`read_recording`); ``raw`` is not modified.

    Values are the Raw's, in SI units, times 1e6: volts become microvolts. Channels listed in ``raw.info["bads"]``
    count as missing.
    """
    source = source or (str(raw.filenames[0]) if raw.filenames and raw.filenames[0] else "MNE Raw")
    if on_missing not in ON_MISSING:
        fail(source, "on_missing", f"one of {ON_MISSING}", repr(on_missing))
    if not (np.isfinite(sfreq) and sfreq > 0):
        fail(source, "sfreq", "a positive sampling rate in Hz", repr(sfreq))
    montage = tuple(str(name) for name in channel_names)
    bads = list(raw.info["bads"])
    kinds = raw.get_channel_types()
    candidates = np.array(
        [i for i, name in enumerate(raw.ch_names) if name not in bads and (kinds[i] == "eeg" or not picks_eeg)],
        dtype=np.int64,
    )
    names = [raw.ch_names[index] for index in candidates]
    try:
        indices, missing = match_channels(names, montage)
    except ValueError as error:
        raise MoodReaderInputError(f"{source}: {error}") from error
    present = indices >= 0
    if not present.any():
        fail(source, "channels", f"at least one electrode of the montage {montage[:6]}...", f"channels {names[:10]}")
    if missing and on_missing == "raise":
        bad = [name for name, index in zip(missing, match_channels(bads, missing)[0]) if index >= 0]
        fail(
            source,
            "channels",
            f"all {len(montage)} montage electrodes (pass on_missing='mask' to zero missing ones)",
            f"{len(missing)} missing: {', '.join(missing)}" + (f" (marked bad: {', '.join(bad)})" if bad else ""),
        )
    picks = candidates[indices[present]]
    data = raw.get_data(picks=picks) * 1e6
    not_finite = ~np.isfinite(data).all(axis=1)
    if not_finite.any():
        bad_names = [raw.ch_names[index] for index in picks[not_finite]]
        fail(source, "channels", "finite samples", f"NaN or infinite values in {bad_names}")
    raw_sfreq = float(raw.info["sfreq"])
    if raw_sfreq != sfreq:
        data = mne.filter.resample(data, up=sfreq, down=raw_sfreq, method="polyphase", verbose="error")
    out = np.zeros((len(montage), data.shape[1]), dtype=np.float32)
    out[present] = data
    return Recording(
        data=out, sfreq=float(sfreq), channel_names=montage, present=present, missing=missing, source=source
    )
