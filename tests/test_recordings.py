"""Reading recordings: files written by MNE's own exporters from a known array, and one real PhysioNet EDF."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from scipy.signal import welch

from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.recordings import raw_to_array, read_recording
from moodreader_hf.validation import MoodReaderInputError

SFREQ = 200.0


def _known_raw(drop: tuple[str, ...] = (), sfreq: float = SFREQ, seconds: float = 2.0, seed: int = 0):
    """A Raw whose channels are SEED's in shuffled order, T7 named ``T3``, plus one EOG channel.

    Returns the Raw and the expected ``(62, samples)`` microvolt array in SEED order (zero rows for ``drop``).
    """
    rng = np.random.default_rng(seed)
    names = [name for name in SEED_CHANNEL_NAMES if name not in drop]
    order = rng.permutation(len(names))
    file_names = ["T3" if names[i] == "T7" else names[i] for i in order]
    samples = int(seconds * sfreq)
    microvolts = rng.normal(scale=20.0, size=(len(names), samples))
    expected = np.zeros((62, samples))
    for row, i in enumerate(order):
        expected[SEED_CHANNEL_NAMES.index(names[i])] = microvolts[row]
    info = mne.create_info(file_names + ["HEOG"], sfreq, ["eeg"] * len(file_names) + ["eog"])
    eog = rng.normal(scale=100.0, size=(1, samples))
    return mne.io.RawArray(np.vstack([microvolts, eog]) * 1e-6, info, verbose="error"), expected


def _export(raw: mne.io.BaseRaw, path) -> None:
    if path.suffix == ".fif":
        raw.save(path, verbose="error")
    else:
        mne.export.export_raw(path, raw, verbose="error")


FORMATS = {
    # file name -> absolute tolerance in microvolts given the written data's range (EDF stores 16-bit integers)
    "rec.edf": lambda expected: np.ptp(expected) / 65535.0 * 1.01,
    "rec.vhdr": lambda expected: 1e-4,
    "rec_raw.fif": lambda expected: 1e-4,
    "rec.set": lambda expected: 1e-4,
}


@pytest.mark.parametrize("name", FORMATS)
def test_exported_files_return_the_array_in_montage_order(tmp_path, name):
    raw, expected = _known_raw()
    _export(raw, tmp_path / name)
    recording = read_recording(tmp_path / name)
    assert recording.data.dtype == np.float32 and recording.data.shape == expected.shape
    assert recording.channel_names == SEED_CHANNEL_NAMES and recording.sfreq == SFREQ
    assert recording.present.all() and recording.missing == []
    np.testing.assert_allclose(recording.data, expected, rtol=1e-5, atol=FORMATS[name](expected))
    assert recording.source == str(tmp_path / name)


def test_missing_electrodes_raise_or_mask(tmp_path):
    raw, expected = _known_raw(drop=("CB1", "PO5"))
    path = tmp_path / "rec.edf"
    _export(raw, path)
    with pytest.raises(MoodReaderInputError, match=r"rec\.edf: field 'channels'.*2 missing: PO5, CB1"):
        read_recording(path)
    recording = read_recording(path, on_missing="mask")
    assert recording.missing == ["PO5", "CB1"]
    absent = [SEED_CHANNEL_NAMES.index("PO5"), SEED_CHANNEL_NAMES.index("CB1")]
    assert np.flatnonzero(~recording.present).tolist() == sorted(absent)
    assert not recording.data[absent].any()
    np.testing.assert_allclose(recording.data, expected, atol=np.ptp(expected) / 65535.0 * 1.01)


def test_resampling_keeps_a_sine(tmp_path):
    sfreq, seconds = 500.0, 4.0
    times = np.arange(int(sfreq * seconds)) / sfreq
    info = mne.create_info(["Oz", "Pz"], sfreq, "eeg")
    microvolts = np.vstack([30 * np.sin(2 * np.pi * 10 * times), 5 * np.cos(2 * np.pi * 3 * times)])
    raw = mne.io.RawArray(1e-6 * microvolts, info, verbose="error")
    path = tmp_path / "sine_raw.fif"
    raw.save(path, verbose="error")
    recording = read_recording(path, channel_names=("Pz", "Oz"), sfreq=SFREQ)
    out_times = np.arange(int(SFREQ * seconds)) / SFREQ
    assert recording.data.shape == (2, out_times.size)
    inner = slice(50, -50)
    np.testing.assert_allclose(recording.data[1, inner], 30 * np.sin(2 * np.pi * 10 * out_times[inner]), atol=0.05)
    np.testing.assert_allclose(recording.data[0, inner], 5 * np.cos(2 * np.pi * 3 * out_times[inner]), atol=0.05)


def test_eeg_types_and_bad_channels(tmp_path):
    raw, expected = _known_raw()
    raw.set_channel_types({"Cz": "misc"}, verbose="error")
    with pytest.raises(MoodReaderInputError, match=r"missing: Cz"):
        raw_to_array(raw)
    assert raw_to_array(raw, picks_eeg=False).present.all()
    raw.set_channel_types({"Cz": "eeg"}, verbose="error")
    raw.info["bads"] = ["T3"]
    path = tmp_path / "bads_raw.fif"
    raw.save(path, verbose="error")
    with pytest.raises(MoodReaderInputError, match=r"bads_raw\.fif.*missing: T7 \(marked bad: T7\)"):
        read_recording(path)
    recording = read_recording(path, on_missing="mask")
    assert recording.missing == ["T7"] and raw.info["bads"] == ["T3"]


def test_bad_files(tmp_path):
    with pytest.raises(MoodReaderInputError, match=r"rec\.xyz: field 'file extension'.*\.edf"):
        read_recording(tmp_path / "rec.xyz")
    garbage = tmp_path / "broken.edf"
    garbage.write_bytes(b"0" * 300)
    with pytest.raises(MoodReaderInputError, match=r"broken\.edf: field 'file'.*read_raw_edf"):
        read_recording(garbage)
    with pytest.raises(MoodReaderInputError, match=r"absent\.vhdr: field 'file'.*no such file"):
        read_recording(tmp_path / "absent.vhdr")
    raw, _ = _known_raw()
    with pytest.raises(MoodReaderInputError, match=r"field 'on_missing'"):
        raw_to_array(raw, on_missing="ignore")
    with pytest.raises(MoodReaderInputError, match=r"field 'channels'.*at least one electrode"):
        raw_to_array(raw, channel_names=("Xx1", "Xx2"), on_missing="mask")
    data = raw.get_data()
    data[5, 10] = np.nan
    with pytest.raises(MoodReaderInputError, match=rf"finite samples.*{raw.ch_names[5]}"):
        raw_to_array(mne.io.RawArray(data, raw.info, verbose="error"))


def test_real_physionet_recording(physionet_edf):
    with pytest.raises(MoodReaderInputError, match=r"S001R02\.edf.*4 missing: PO5, PO6, CB1, CB2"):
        read_recording(physionet_edf)
    recording = read_recording(physionet_edf, on_missing="mask")
    assert recording.missing == ["PO5", "PO6", "CB1", "CB2"] and recording.present.sum() == 58
    assert recording.data.shape == (62, 61 * 200)

    native = read_recording(physionet_edf, on_missing="mask", sfreq=160.0)
    reference = mne.io.read_raw_edf(physionet_edf, verbose="error")
    for electrode, edf_name in (("Oz", "Oz.."), ("Fp1", "Fp1."), ("FC5", "Fc5."), ("T7", "T7..")):
        expected = reference.get_data(picks=[edf_name])[0] * 1e6
        np.testing.assert_allclose(native.data[SEED_CHANNEL_NAMES.index(electrode)], expected, rtol=1e-6, atol=1e-3)

    occipital = [SEED_CHANNEL_NAMES.index(name) for name in ("O1", "Oz", "O2")]
    freqs, power = welch(recording.data[occipital], fs=200.0, nperseg=800)
    band = (freqs >= 2) & (freqs <= 30)
    peak = freqs[band][np.argmax(power[:, band].mean(axis=0))]
    assert 8.5 <= peak <= 11.5
