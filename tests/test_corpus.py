"""The corpus builder on real recordings (PhysioNet EDF, MNE's test FIF) and on files written by MNE's exporters in
other montages and rates. Expected values come from MNE's own reading of the files, from scipy, or from what the
test wrote, never from the builder's functions."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import datasets
import mne
import numpy as np
import pytest
from scipy.signal import resample_poly

from moodreader_hf.builders import build_corpus, load_corpus_metadata
from moodreader_hf.cli import main
from moodreader_hf.recordings import DEAP_CHANNEL_NAMES
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.validation import MoodReaderInputError

from .layout_writers import write_deap

REPO = Path(__file__).resolve().parents[1]
CONSOLE = REPO / ".venv" / "bin" / "moodreader"
RATE = 200.0
ROW_SECONDS = 10.0
TEN_TWENTY = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5", "P3", "Pz", "P4", "T6",
              "O1", "O2"]  # fmt: skip
ACTICAP_32 = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC5", "FC1", "FC2", "FC6", "T7", "C3", "Cz", "C4", "T8",
              "TP9", "CP5", "CP1", "CP2", "CP6", "TP10", "P7", "P3", "Pz", "P4", "P8", "PO9", "O1", "Oz", "O2",
              "PO10"]  # fmt: skip
CLINIC_TONES = {0.1: 200.0, 10.0: 20.0, 50.0: 30.0, 95.0: 20.0}
"""Frequency (Hz) -> amplitude (µV) of the sines in the 19-channel EDF: drift, alpha, mains, above the band."""
EEGLABIO = "eeglabio==0.1.4"
TEST_FIF_MEMBER = "eeglabio-0.1.4/eeglabio/tests/data/test_raw.fif"
TEST_FIF_SHA256 = "b1dbe0150bd036cc2446f352265cdaf7deb7fa8eafb16eec6c64e403f4176e52"


def _export(data_uv: np.ndarray, names: list[str], rate: float, path: Path, types: list[str] | None = None) -> Path:
    info = mne.create_info(names, rate, types or "eeg")
    raw = mne.io.RawArray(data_uv * 1e-6, info, verbose="error")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".fif":
        raw.save(path, verbose="error")
    else:
        mne.export.export_raw(path, raw, verbose="error")
    return path


def _clinic_edf(path: Path) -> Path:
    """19 electrodes with the old 10-20 names (T3...T6) plus ECG, 256 Hz, 40 s: white noise plus the
    :data:`CLINIC_TONES`, each channel with its own phases."""
    rng = np.random.default_rng(1)
    rate, seconds = 256.0, 40
    t = np.arange(int(rate * seconds)) / rate
    data = 5.0 * rng.standard_normal((20, t.size))
    for frequency, amplitude in CLINIC_TONES.items():
        data += amplitude * np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi, (20, 1)))
    return _export(data, [*TEN_TWENTY, "ECG"], rate, path)


def _lab_brainvision(path: Path) -> Path:
    """32 electrodes at 500 Hz, 60 s of 10 Hz + noise; Cz flat during 10-20 s, Pz clipped at ±40 µV during 20-30 s,
    a 2000 µV pulse on Oz at 35 s: rows 1, 2, 3 are bad, rows 0, 4, 5 good."""
    rng = np.random.default_rng(2)
    rate, seconds = 500.0, 60
    t = np.arange(int(rate * seconds)) / rate
    phases = rng.uniform(0, 2 * np.pi, (32, 1))
    data = 15.0 * np.sin(2 * np.pi * 10 * t + phases) + 5.0 * rng.standard_normal((32, t.size))
    cz, pz, oz = ACTICAP_32.index("Cz"), ACTICAP_32.index("Pz"), ACTICAP_32.index("Oz")
    data[cz, int(10 * rate) : int(20 * rate)] = 0.0
    data[pz] = 5.0 * rng.standard_normal(t.size)
    clipped = slice(int(20 * rate), int(30 * rate))
    data[pz, clipped] = np.clip(100.0 * np.sin(2 * np.pi * 10 * t[clipped]), -40.0, 40.0)
    data[oz, int(34.9 * rate) : int(35.1 * rate)] += 2000.0
    return _export(data, ACTICAP_32, rate, path)


def _mne_names(path: Path) -> list[str]:
    """The file's EEG channel names as MNE reads them, spelt as MNE's standard_1005 montage spells them."""
    raw = mne.io.read_raw(path, verbose="error")
    standard = {name.lower(): name for name in mne.channels.make_standard_montage("colin27_1005").ch_names}
    old = {"t3": "T7", "t4": "T8", "t5": "P7", "t6": "P8"}
    names = [name.replace(".", "").lower() for name in raw.ch_names]
    return sorted(old.get(name) or standard[name] for name in names if name in standard or name in old)


def _rows(folder: Path) -> list[dict]:
    return list(datasets.load_dataset(str(folder), split="train").with_format("numpy"))


def _same_rows(left: list[dict], right: list[dict]) -> None:
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert a.keys() == b.keys()
        for column in a:
            np.testing.assert_array_equal(np.asarray(a[column]), np.asarray(b[column]), err_msg=column)


@pytest.fixture(scope="module")
def sources(physionet_edf, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sources")
    (root / "S001").mkdir()
    (root / "S001" / physionet_edf.name).symlink_to(physionet_edf)
    _clinic_edf(root / "clinic" / "ward-07.edf")
    _lab_brainvision(root / "lab" / "sub-07" / "eeg" / "sub-07_task-rest_eeg.vhdr")
    (root / "broken").mkdir()
    (root / "broken" / "corrupt.edf").write_bytes(b"0       not an EDF header" + bytes(range(256)) * 8)
    (root / "broken" / "notes.txt").write_text("not a recording")
    return root


@pytest.fixture(scope="module")
def corpus(sources, tmp_path_factory) -> Path:
    return build_corpus([sources], tmp_path_factory.mktemp("corpus") / "corpus", notch=50, shard_size_mb=1.0,
                        progress=False)  # fmt: skip


def test_rows_channels_and_skipped_files(corpus, sources, physionet_edf):
    rows = _rows(corpus)
    by_source: dict[str, list[dict]] = {}
    for row in rows:
        by_source.setdefault(str(row["source"]), []).append(row)
    physionet, clinic = by_source["S001/S001R02.edf"], by_source["clinic/ward-07.edf"]
    lab = by_source["lab/sub-07/eeg/sub-07_task-rest_eeg.vhdr"]
    assert [row["start_seconds"] for row in physionet] == [0, 10, 20, 30, 40, 50]  # 61 s at 10 s a row
    assert [row["start_seconds"] for row in clinic] == [0, 10, 20, 30]
    assert [row["start_seconds"] for row in lab] == [0, 40, 50]  # rows 1-3: flat, clipped, out of range
    assert len(rows) == 13
    for group, path, channels in ((physionet, physionet_edf, 64), (clinic, sources / "clinic" / "ward-07.edf", 19),
                                  (lab, sources / "lab/sub-07/eeg/sub-07_task-rest_eeg.vhdr", 32)):  # fmt: skip
        for row in group:
            assert sorted(row["channel_names"]) == _mne_names(path) and len(row["channel_names"]) == channels
            assert row["signal"].shape == (channels, RATE * ROW_SECONDS) and row["signal"].dtype == np.float32
            assert row["sampling_rate"] == RATE
    assert {"AF7", "AFz", "AF8", "T9", "T10", "Iz"} <= set(physionet[0]["channel_names"])
    assert {"T7", "T8", "P7", "P8"} <= set(clinic[0]["channel_names"]) and "T3" not in clinic[0]["channel_names"]
    assert {row["subject"] for row in rows} == {"S001", "clinic", "07"}

    skipped = [json.loads(line) for line in (corpus / "skipped.jsonl").read_text().splitlines()]
    assert [record["source"] for record in skipped] == ["broken/corrupt.edf"]
    assert "unreadable" in skipped[0]["reason"]
    metadata = load_corpus_metadata(corpus)
    assert metadata["rows"] == 13 and metadata["skipped"] == 1 and metadata["files"] == 3
    assert metadata["hours"] == pytest.approx(13 * ROW_SECONDS / 3600)
    assert metadata["subjects"] == ["07", "S001", "clinic"]
    assert metadata["rows_dropped"] == {"flat": 1, "clipped": 1, "out of range": 1}
    assert metadata["channels"]["dropped"]["not in vocabulary"] == {"ECG": 1}
    assert metadata["rates"] == {"160 Hz": 1, "256 Hz": 1, "500 Hz": 1}
    assert len(metadata["montages"]) == 3 and metadata["dataset_id"] == sources.name
    assert metadata["simulated"] is False
    assert sum(shard["rows"] for shard in metadata["shards"]) == 13 and len(metadata["shards"]) > 1
    for shard in metadata["shards"]:
        assert (corpus / shard["path"]).stat().st_size <= 2**20
    card = (corpus / "README.md").read_text()
    assert "data/*.parquet" in card and "array2_d" in card and "not in vocabulary" in card


def _band_sd(signal_uv: np.ndarray, low: float, high: float) -> np.ndarray:
    """Per-channel standard deviation of ``(channels, samples)`` at :data:`RATE` within ``low``-``high`` Hz (ideal
    filter by FFT)."""
    spectrum = np.fft.rfft(signal_uv, axis=1)
    frequencies = np.fft.rfftfreq(signal_uv.shape[1], 1 / RATE)
    spectrum[:, (frequencies < low) | (frequencies > high)] = 0
    return np.fft.irfft(spectrum, n=signal_uv.shape[1], axis=1).std(axis=1)


def test_physionet_amplitudes_match_mne_reading(corpus, physionet_edf):
    rows = [row for row in _rows(corpus) if row["source"] == "S001/S001R02.edf"]
    signal_uv = np.concatenate([row["signal"] for row in rows], axis=1)  # rows 0-50 s: 60 contiguous seconds
    assert 5.0 < np.median(signal_uv.std(axis=1)) < 100.0
    raw = mne.io.read_raw_edf(physionet_edf, preload=True, verbose="error")
    reference = resample_poly(raw.get_data()[:, : 160 * 60] * 1e6, 5, 4, axis=1)  # 160 Hz -> 200 Hz
    index = {name.replace(".", "").lower(): i for i, name in enumerate(raw.ch_names)}
    reference = reference[[index[name.lower()] for name in rows[0]["channel_names"]]]
    ratio = _band_sd(signal_uv, 1.0, 70.0) / _band_sd(reference, 1.0, 70.0)  # inside both pass bands
    assert np.median(np.abs(ratio - 1)) < 0.01 and np.abs(ratio - 1).max() < 0.03


def test_band_pass_and_notch_by_spectrum(corpus, sources):
    rows = [row for row in _rows(corpus) if row["source"] == "clinic/ward-07.edf"][1:-1]  # no edge rows
    raw = mne.io.read_raw_edf(sources / "clinic" / "ward-07.edf", preload=True, verbose="error")
    written = resample_poly(raw.get_data()[:19] * 1e6, 25, 32, axis=1)  # 256 Hz -> 200 Hz, as the file holds it
    samples = int(RATE * ROW_SECONDS)
    frequencies = np.fft.rfftfreq(samples, 1 / RATE)
    for frequency, amplitude in CLINIC_TONES.items():
        bin_ = int(np.argmin(np.abs(frequencies - frequency)))
        for row in rows:
            start = int(row["start_seconds"] * RATE)
            before = np.abs(np.fft.rfft(written[:, start : start + samples], axis=1)[:, bin_])
            after = np.abs(np.fft.rfft(row["signal"], axis=1)[:, bin_])
            gain_db = 20 * np.log10(np.median(after) / np.median(before))
            if frequency == 10.0:
                assert abs(gain_db) < 1.0, (frequency, gain_db)
            else:
                assert gain_db < -15.0, (frequency, gain_db)
            if frequency != 95.0:  # 95 Hz is near the Nyquist frequency of the resampled reference
                assert np.median(before) == pytest.approx(amplitude * samples / 2, rel=0.1)


def test_streaming_yields_the_same_rows(corpus):
    streamed = list(datasets.load_dataset(str(corpus), split="train", streaming=True))
    loaded = _rows(corpus)
    assert len(streamed) == len(loaded)
    for stream_row, row in zip(streamed, loaded):
        np.testing.assert_array_equal(np.asarray(stream_row["signal"], dtype=np.float32), row["signal"])
        assert stream_row["channel_names"] == list(row["channel_names"])
        for column in ("subject", "source", "start_seconds", "sampling_rate"):
            assert stream_row[column] == row[column]


def test_two_processes_give_the_rows_of_one(corpus, sources, tmp_path):
    parallel = build_corpus([sources], tmp_path / "parallel", notch=50, shard_size_mb=1.0, num_proc=2,
                            progress=False)  # fmt: skip
    _same_rows(_rows(parallel), _rows(corpus))
    assert load_corpus_metadata(parallel)["shards"] == load_corpus_metadata(corpus)["shards"]


def test_a_finished_corpus_is_kept_for_the_same_build_and_rebuilt_for_another(corpus, sources, tmp_path):
    target = tmp_path / "again"
    build_corpus([sources], target, notch=50, shard_size_mb=1.0, progress=False)
    stamps = {path: path.stat().st_mtime_ns for path in target.rglob("*")}
    build_corpus([sources], target, notch=50, shard_size_mb=1.0, progress=False)
    assert {path: path.stat().st_mtime_ns for path in target.rglob("*")} == stamps
    (target / "notes.md").write_text("the user's own file")
    build_corpus([sources], target, shard_size_mb=100.0, progress=False)
    assert len(load_corpus_metadata(target)["shards"]) == 1 and (target / "notes.md").is_file()


def _test_fif(cache: Path) -> Path:
    """MNE's test recording (60 EEG channels named EEG 001..., with digitised positions) from the eeglabio sdist."""
    target = cache / "test_raw.fif"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == TEST_FIF_SHA256:
        return target
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                                 "--quiet", "-d", scratch, EEGLABIO], capture_output=True, text=True)  # fmt: skip
        archives = list(Path(scratch).glob("*.tar.gz"))
        if result.returncode != 0 or len(archives) != 1:
            pytest.skip(f"pip could not download the {EEGLABIO} sdist: {result.stderr.strip()[-300:]}")
        with tarfile.open(archives[0]) as archive:
            data = archive.extractfile(TEST_FIF_MEMBER).read()
        assert hashlib.sha256(data).hexdigest() == TEST_FIF_SHA256
        partial = Path(scratch) / "test_raw.fif"
        partial.write_bytes(data)
        partial.replace(target)
    return target


@pytest.fixture(scope="module")
def mne_test_fif(request, tmp_path_factory) -> Path:
    cache = getattr(request.config, "cache", None)
    return _test_fif(cache.mkdir("eeglabio_test_fif") if cache else tmp_path_factory.mktemp("eeglabio"))


def _standard_head_positions() -> dict[str, np.ndarray]:
    montage = mne.channels.make_standard_montage("colin27_1005")
    info = mne.create_info(montage.ch_names, 100.0, "eeg")
    info.set_montage(montage)
    return {channel["ch_name"]: channel["loc"][:3] for channel in info["chs"]}


def test_mne_test_fif_channels_map_by_position(mne_test_fif, tmp_path):
    (tmp_path / "mne").mkdir()
    os.symlink(mne_test_fif, tmp_path / "mne" / "test_raw.fif")
    corpus = build_corpus([tmp_path / "mne"], tmp_path / "corpus", progress=False)
    rows = _rows(corpus)
    assert len(rows) == 2  # 24 s of recording
    names = list(rows[0]["channel_names"])
    assert len(names) == len(set(names)) == 60  # every EEG channel, one to one
    metadata = load_corpus_metadata(corpus)
    assert metadata["channels"]["matched"] == {"position": 60}
    assert sum(metadata["channels"]["dropped"]["not EEG"].values()) == 376 - 60  # MEG, stimulus, EOG
    raw = mne.io.read_raw_fif(mne_test_fif, verbose="error").pick("eeg")
    recorded = raw.get_montage().get_positions()["ch_pos"]
    mapping = dict(item.split(" -> ") for item in metadata["channels"]["renamed"])
    standard = _standard_head_positions()
    file_xyz = np.array([recorded[channel] for channel in mapping])
    standard_xyz = np.array([standard[name] for name in mapping.values()])
    lateral = np.abs(file_xyz[:, 0]) > 0.02
    assert (np.sign(file_xyz[lateral, 0]) == np.sign(standard_xyz[lateral, 0])).all()  # left stays left
    for axis in (0, 1, 2):
        assert np.corrcoef(file_xyz[:, axis], standard_xyz[:, axis])[0, 1] > 0.9
    assert np.median(np.linalg.norm(file_xyz - standard_xyz, axis=1)) < 0.015


def test_positions_names_rename_and_every_drop_reason(tmp_path):
    standard = _standard_head_positions()
    truth = ["Fp1", "Fp2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2", "F7", "F8"]
    names = [f"EEG {i:03d}" for i in range(1, 13)] + ["Pz", "PZ", "EEG 013", "EEG 014", "EEG 015", "EEG 016",
                                                      "STI 014", "EOG 061"]  # fmt: skip
    types = ["eeg"] * 18 + ["stim", "eog"]
    rng = np.random.default_rng(4)
    raw = mne.io.RawArray(10e-6 * rng.standard_normal((20, 250 * 30)), mne.create_info(names, 250.0, types),
                          verbose="error")  # fmt: skip
    head = np.array([0.0, 0.005, -0.01])
    for index, channel in enumerate(raw.info["chs"]):
        channel["loc"][:] = np.nan
        if index < 12:
            channel["loc"][:3] = standard[truth[index]] * 0.92 + head  # a smaller head, shifted
        elif names[index] == "EEG 013":
            channel["loc"][:3] = standard["Cz"] * 0.92 + head
        elif names[index] == "EEG 015":
            channel["loc"][:3] = np.array([0.0, 0.07, -0.08])  # the chin: no electrode of the 10-05 system
    raw.info["bads"] = ["EEG 013"]
    path = tmp_path / "src" / "lab" / "rec_raw.fif"
    path.parent.mkdir(parents=True)
    raw.save(path, verbose="error")
    rename = tmp_path / "rename.tsv"
    rename.write_text("channel\telectrode\nEEG 016\tOz\n")
    corpus = build_corpus([tmp_path / "src"], tmp_path / "corpus", rename=rename, progress=False)
    row = _rows(corpus)[0]
    assert sorted(row["channel_names"]) == sorted([*truth, "Pz", "Oz"])
    channels = load_corpus_metadata(corpus)["channels"]
    assert channels["renamed"] == {**{f"EEG {i + 1:03d} -> {name}": 1 for i, name in enumerate(truth)},
                                   "EEG 016 -> Oz": 1}  # fmt: skip
    assert channels["matched"] == {"position": 12, "name": 1, "rename": 1}
    assert channels["dropped"] == {
        "duplicate": {"PZ": 1}, "marked bad": {"EEG 013": 1}, "not in vocabulary": {"EEG 014": 1},
        "no vocabulary position within tolerance": {"EEG 015": 1}, "not EEG": {"STI 014": 1, "EOG 061": 1},
    }  # fmt: skip


def test_seed_raw_layout_feeds_a_simulated_corpus(tmp_path):
    root = simulate_seed(tmp_path / "sim", n_subjects=2, n_sessions=1, trial_seconds=25, progress=False)
    corpus = build_corpus([root], tmp_path / "corpus", layout="seed-raw", progress=False)
    metadata = load_corpus_metadata(corpus)
    assert metadata["dataset_id"].startswith("SEED") and metadata["simulated"] is True
    assert metadata["subjects"] == ["1", "2"] and metadata["layout"] == "seed-raw"
    assert "Simulated data: this is not real EEG" in (corpus / "README.md").read_text()
    rows = _rows(corpus)
    assert metadata["rows"] == len(rows) and metadata["files"] == 2
    assert len(rows) + sum(metadata["rows_dropped"].values()) == 2 * 15 * 2  # 15 clips of 21-25 s: 2 rows each
    assert rows[0]["source"].startswith("Preprocessed_EEG/") and "#trial-1" in rows[0]["source"]
    assert len(rows[0]["channel_names"]) == 62 and {"CB1", "CB2"} <= set(rows[0]["channel_names"])


def test_deap_layout_feeds_a_corpus(tmp_path):
    written = write_deap(tmp_path / "deap", subjects=(1,), samples=384 + 128 * 10)  # 10 s after the baseline
    corpus = build_corpus([tmp_path / "deap"], tmp_path / "corpus", layout="deap", progress=False)
    metadata = load_corpus_metadata(corpus)
    assert metadata["dataset_id"] == "DEAP" and metadata["subjects"] == ["s01"] and metadata["rows"] == 40
    rows = _rows(corpus)
    assert [row["source"] for row in rows] == [f"data_preprocessed_python/s01.dat#trial-{n}" for n in range(1, 41)]
    names = rows[0]["channel_names"].tolist()
    assert sorted(names) == sorted(DEAP_CHANNEL_NAMES)
    recorded = written["s01"]["data"][0, [DEAP_CHANNEL_NAMES.index(name) for name in names], 384:]
    recorded = resample_poly(recorded.astype(np.float64), 25, 16, axis=1)  # 128 Hz -> 200 Hz
    ratio = _band_sd(rows[0]["signal"], 1.0, 60.0) / _band_sd(recorded, 1.0, 60.0)
    assert np.abs(ratio - 1).max() < 0.05


def test_killed_build_continues_to_the_uninterrupted_result(sources, physionet_edf, tmp_path):
    source = tmp_path / "many"
    for subject in ("S001", "S002", "S003", "S004", "S005", "S006"):
        (source / subject).mkdir(parents=True)
        (source / subject / physionet_edf.name).symlink_to(physionet_edf)
    (source / "clinic").symlink_to(sources / "clinic")
    options = ["--shard-size-mb", "0.6", "--notch", "60", "--quiet"]
    reference = build_corpus([source], tmp_path / "reference", notch=60, shard_size_mb=0.6, progress=False)
    output = tmp_path / "killed"
    command = [str(CONSOLE), "build-corpus", str(source), str(output), *options]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (output / "data" / "train-00000.parquet").exists():
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (output / "moodreader_corpus.json").exists(), "the build finished before it could be killed"
    with pytest.raises(MoodReaderInputError, match="unfinished build"):
        load_corpus_metadata(output)
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    expected = _rows(reference)
    assert {row["source"] for row in expected} >= {"S006/S001R02.edf", "clinic/ward-07.edf"}  # linked folder too
    _same_rows(_rows(output), expected)
    resumed, uninterrupted = load_corpus_metadata(output), load_corpus_metadata(reference)
    assert resumed["shards"] == uninterrupted["shards"]
    assert {key: value for key, value in resumed.items() if key != "sources"} == {
        key: value for key, value in uninterrupted.items() if key != "sources"}
    assert sorted(path.name for path in output.iterdir()) == ["README.md", "data", "moodreader_corpus.json",
                                                              "skipped.jsonl"]  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["{missing}", "{out}"], "no such file or folder"),
        (["{src}", "{out}", "--sampling-rate", "-5"], "argument --sampling-rate: expected a finite number above 0"),
        (["{src}", "{out}", "--band-pass", "0.5", "150"], "field 'band_pass'"),
        (["{src}", "{out}", "--window-seconds", "0.0033"], "whole number of samples"),
        (["{src}", "{out}", "--num-proc", "0"], "field 'num_proc'"),
        (["{src}", "{out}", "--subject-pattern", "("], "field 'subject_pattern'"),
        (["{src}", "{out}", "--rename", "{missing}"], "field 'rename'"),
        (["{src}", "{out}", "--rename", "{bad_rename}"], "an electrode of the 10-05 system"),
        (["{empty}", "{out}"], "field 'recordings'"),
    ],
)
def test_bad_options_fail_in_one_line_and_leave_no_output(arguments, message, sources, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    bad_rename = tmp_path / "rename.json"
    bad_rename.write_text(json.dumps({"EEG 001": "nowhere"}))
    paths = {"missing": tmp_path / "missing", "out": tmp_path / "out", "src": sources, "empty": tmp_path / "empty",
             "bad_rename": bad_rename}  # fmt: skip
    try:
        code = main(["build-corpus", *(argument.format(**paths) for argument in arguments), "--quiet"])
    except SystemExit as stop:  # an option's own type refuses it while parsing
        code = stop.code
    error = capsys.readouterr().err
    assert code == 2 and message in error and error.startswith("moodreader build-corpus: error:")
    assert len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_folder_of_other_files_is_refused_untouched(sources, tmp_path, capsys):
    output = tmp_path / "mine"
    output.mkdir()
    (output / "thesis.tex").write_text("precious")
    assert main(["build-corpus", str(sources), str(output), "--quiet"]) == 2
    assert "a folder with other files" in capsys.readouterr().err
    assert [path.name for path in output.iterdir()] == ["thesis.tex"]
    for arguments in ([str(sources), str(tmp_path / "out"), "--notch", "55"], [str(tmp_path / "out")]):
        with pytest.raises(SystemExit) as exit_info:  # refused by argparse
            main(["build-corpus", *arguments])
        assert exit_info.value.code == 2 and not (tmp_path / "out").exists()
    with pytest.raises(MoodReaderInputError, match="no such folder"):
        load_corpus_metadata(tmp_path / "nothing")


def test_publish_dataset_writes_the_corpus_as_a_hub_dataset_folder(corpus, tmp_path):
    folder = tmp_path / "repo"
    finished = subprocess.run([sys.executable, "-m", "moodreader_hf.cli", "publish-dataset", str(corpus),
                               "--local-dir", str(folder)], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    _same_rows(_rows(folder), _rows(corpus))
    assert (folder / "README.md").read_text() == (corpus / "README.md").read_text()
