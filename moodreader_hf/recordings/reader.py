"""Reading any recording MNE reads into a ``(channels, samples)`` microvolt array in the model's montage and rate.

Channels are matched to the montage by name with :func:`~moodreader_hf.feature_extraction_moodreader.match_channels`
(case-insensitive; ``T3``/``T7``, ``T4``/``T8``, ``T5``/``P7``, ``T6``/``P8`` aliases; PhysioNet's dotted names such as
``"Fp1."``). Electrodes the recording lacks, or that it marks as bad, are missing: the caller chooses to fail
(``on_missing="raise"``) or to zero them and flag them in ``present`` (``on_missing="mask"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import mne
import numpy as np

from ..configuration_moodreader import SEED_CHANNEL_NAMES
from ..feature_extraction_moodreader import match_channels
from ..validation import MoodReaderInputError, fail

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
    fail(str(path), "file extension", f"one of {tuple(READERS)}", repr("".join(path.suffixes) or path.name))


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
        MoodReaderInputError: unknown extension, unreadable file, missing electrodes (with ``"raise"``), no montage
            electrode at all, non-finite samples. The message names the file.
    """
    path = Path(path)
    reader = _reader_for(path)
    if not path.is_file():
        fail(str(path), "file", "an existing recording file", "no such file")
    try:
        raw = reader(path, preload=True, verbose="error")
    except Exception as error:  # noqa: BLE001 - any reader failure means the file is not a readable recording
        fail(str(path), "file", f"a recording readable by {reader.__name__}", f"{type(error).__name__}: {error}")
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
