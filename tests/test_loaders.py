"""Loaders of the published layouts, on tiny files written in exactly those layouts (tests/layout_writers.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.io
from .layout_writers import (
    SEED_CLIP_LABELS,
    SEED_IV_LABELS,
    SEED_SESSIONS,
    write_deap,
    write_mat_v73,
    write_seed_features,
    write_seed_iv,
    write_seed_label,
    write_seed_raw,
    write_seed_v,
    write_seed_v_npz,
)

from moodreader_hf.recordings import (
    DEAP_CHANNEL_NAMES,
    count_files,
    count_trials,
    iter_deap,
    iter_seed_features,
    iter_seed_iv,
    iter_seed_raw,
    iter_seed_v,
    iter_trials,
    label_names,
    layout_channel_names,
)
from moodreader_hf.validation import MoodReaderInputError

SEED_CLASS = {-1: 0, 0: 1, 1: 2}


def _session_of(subject: str, date: str) -> str:
    return str(sorted(SEED_SESSIONS[subject]).index(date) + 1)


@pytest.mark.parametrize("feature", ["de_LDS", "de_movingAve"])
def test_seed_features_match_files(tmp_path, feature):
    written = write_seed_features(tmp_path)
    trials = list(iter_seed_features(tmp_path, feature=feature))
    assert len(trials) == 6 * 15
    assert [(t.subject, t.session) for t in trials[::15]] == [("2", "1"), ("2", "2"), ("2", "3")] + [
        ("10", "1"),
        ("10", "2"),
        ("10", "3"),
    ]
    assert trials[15].source.endswith("2_20140413.mat")
    for trial in trials:
        date = next(d for d in SEED_SESSIONS[trial.subject] if _session_of(trial.subject, d) == trial.session)
        expected = written[f"{trial.subject}_{date}.mat"][f"{feature}{trial.trial}"]
        assert trial.de.dtype == np.float32 and trial.de.shape == (expected.shape[1], 62, 5)
        assert trial.de.flags.c_contiguous
        np.testing.assert_allclose(trial.de, expected.transpose(1, 0, 2), rtol=1e-6)
        assert trial.label == SEED_CLASS[SEED_CLIP_LABELS[trial.trial - 1]]
        assert trial.window_seconds == 1.0 and trial.signal is None and trial.eye is None
        assert trial.source.endswith(f"{trial.subject}_{date}.mat")


def test_seed_raw_discovers_prefix_per_subject(tmp_path):
    written = write_seed_raw(tmp_path, prefixes={"2": "djc", "10": "jl"}, trials=3)
    trials = list(iter_seed_raw(tmp_path))
    assert len(trials) == 6 * 3
    for trial in trials:
        date = next(d for d in SEED_SESSIONS[trial.subject] if _session_of(trial.subject, d) == trial.session)
        prefix = {"2": "djc", "10": "jl"}[trial.subject]
        expected = written[f"{trial.subject}_{date}.mat"][f"{prefix}_eeg{trial.trial}"]
        np.testing.assert_allclose(trial.signal, expected, rtol=1e-6)
        assert trial.signal.dtype == np.float32 and trial.signal.flags.c_contiguous
        assert trial.sfreq == 200.0 and trial.de is None
        assert trial.label == SEED_CLASS[SEED_CLIP_LABELS[trial.trial - 1]]


def test_seed_iv_with_eye(tmp_path):
    written = write_seed_iv(tmp_path)
    trials = list(iter_seed_iv(tmp_path, feature="de_movingAve"))
    assert len(trials) == 2 * 3 * 24
    assert [(t.subject, t.session) for t in trials[::24]] == [("1", "1"), ("1", "2"), ("1", "3")] + [
        ("2", "1"),
        ("2", "2"),
        ("2", "3"),
    ]
    for trial in trials:
        arrays = written[(trial.session, trial.source.rsplit("/", 1)[1])]
        np.testing.assert_allclose(trial.de, arrays[f"de_movingAve{trial.trial}"].transpose(1, 0, 2), rtol=1e-6)
        np.testing.assert_allclose(trial.eye, arrays[f"eye_{trial.trial}"].T, rtol=1e-6)
        assert trial.eye.shape == (trial.de.shape[0], 31)
        assert trial.label == SEED_IV_LABELS[trial.session][trial.trial - 1]
        assert trial.window_seconds == 4.0


def test_seed_iv_without_eye_folder(tmp_path):
    write_seed_iv(tmp_path, with_eye=False)
    assert all(trial.eye is None for trial in iter_seed_iv(tmp_path, with_eye=False))
    with pytest.raises(MoodReaderInputError, match=r"eye_feature_smooth.*1_20160518\.mat.*no such file"):
        next(iter_seed_iv(tmp_path, with_eye=True))


def test_seed_v_unpickles_dicts(tmp_path):
    written = write_seed_v(tmp_path)
    trials = list(iter_seed_v(tmp_path))
    assert len(trials) == 2 * 45
    for index, trial in enumerate(trials):
        stored = written[trial.subject]
        key = index % 45
        assert (trial.session, trial.trial) == (str(key // 15 + 1), key % 15 + 1)
        expected = stored["data"][key].reshape(-1, 62, 5)
        # electrode-major: value [w, e, b] sits at column e * 5 + b
        assert trial.de[0, 3, 2] == pytest.approx(stored["data"][key][0, 3 * 5 + 2], rel=1e-6)
        np.testing.assert_allclose(trial.de, expected, rtol=1e-6)
        np.testing.assert_allclose(trial.eye, stored["eye"][key], rtol=1e-6)
        assert trial.label == stored["trial_labels"][key] and trial.window_seconds == 4.0


def test_deap_drops_baseline_and_thresholds(tmp_path):
    written = write_deap(tmp_path)
    trials = list(iter_deap(tmp_path, target="arousal", threshold=5.0))
    assert len(trials) == 80 and len(DEAP_CHANNEL_NAMES) == 32
    for index, trial in enumerate(trials):
        content = written[trial.subject]
        assert trial.subject in ("s01", "s02") and trial.session == "1" and trial.trial == index % 40 + 1
        np.testing.assert_array_equal(trial.signal, content["data"][index % 40, :32, 384:])
        assert trial.sfreq == 128.0 and trial.signal.flags.c_contiguous
        assert trial.label == int(content["labels"][index % 40, 1] > 5.0)
    assert trials[0].label == 0  # a rating of exactly 5.0 is low
    assert label_names("deap", target="arousal") == ("low_arousal", "high_arousal")


def test_registry(tmp_path):
    write_seed_features(tmp_path, trials=4)
    assert count_files("seed", tmp_path) == 6 and count_trials("seed", tmp_path) == 24
    assert sum(1 for _ in iter_trials("seed", tmp_path, feature="de_movingAve")) == 24
    assert label_names("seed") == ("negative", "neutral", "positive")
    assert label_names("seed-iv") == ("neutral", "sad", "fear", "happy")
    assert label_names("seed-v") == ("disgust", "fear", "sad", "neutral", "happy")
    assert layout_channel_names("deap") == DEAP_CHANNEL_NAMES and len(layout_channel_names("seed-v")) == 62
    with pytest.raises(MoodReaderInputError, match="'seed-x'"):
        iter_trials("seed-x", tmp_path)
    with pytest.raises(MoodReaderInputError, match="layout 'seed'.*'target'"):
        iter_trials("seed", tmp_path, target="valence")


# ---- bad inputs: each message names the file, the key and what was expected ----


def test_seed_missing_label_file(tmp_path):
    write_seed_features(tmp_path, trials=2)
    (tmp_path / "ExtractedFeatures" / "label.mat").unlink()
    with pytest.raises(MoodReaderInputError, match=r"label\.mat: field 'label'.*\(1, 15\).*no such file"):
        next(iter_seed_features(tmp_path))


def test_seed_missing_folder(tmp_path):
    with pytest.raises(MoodReaderInputError, match=r"ExtractedFeatures: field 'folder'.*no such directory"):
        next(iter_seed_features(tmp_path))


def test_seed_wrong_key(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=2)
    path = tmp_path / "ExtractedFeatures" / "1_20131027.mat"
    arrays = scipy.io.loadmat(path)
    arrays["de_LDS_2"] = arrays.pop("de_LDS2")
    scipy.io.savemat(path, {k: v for k, v in arrays.items() if not k.startswith("__")})
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field 'de_LDS2'.*\(62, any, 5\).*no such key"):
        next(iter_seed_features(tmp_path))


def test_seed_wrong_shape(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=2)
    path = tmp_path / "ExtractedFeatures" / "1_20131027.mat"
    scipy.io.savemat(path, {"de_LDS1": np.zeros((62, 4, 5)), "de_LDS2": np.zeros((4, 62, 5))})
    message = r"1_20131027\.mat: field 'de_LDS2'.*shape \(62, any, 5\).*\(4, 62, 5\)"
    with pytest.raises(MoodReaderInputError, match=message):
        next(iter_seed_features(tmp_path))


def test_seed_label_count_mismatch(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=3)
    write_seed_label(tmp_path / "ExtractedFeatures", (1, 0))
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field 'de_LDS3'.*2 trials.*label\.mat"):
        next(iter_seed_features(tmp_path))
    write_seed_label(tmp_path / "ExtractedFeatures", (1, 0, -1, 1))
    with pytest.raises(MoodReaderInputError, match=r"field 'de_LDS4'.*label\.mat \(4 labels\).*no such key"):
        next(iter_seed_features(tmp_path))


def test_seed_bad_label_values_and_shape(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=2)
    folder = tmp_path / "ExtractedFeatures"
    scipy.io.savemat(folder / "label.mat", {"label": np.array([[1, 2]])})
    with pytest.raises(MoodReaderInputError, match=r"label\.mat: field 'label'.*-1, 0, 1"):
        next(iter_seed_features(tmp_path))
    scipy.io.savemat(folder / "label.mat", {"labels": np.array([[1, 0]])})
    with pytest.raises(MoodReaderInputError, match=r"label\.mat: field 'label'.*\(1, any\).*no such key"):
        next(iter_seed_features(tmp_path))


def test_seed_nan_and_unreadable(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=1)
    path = tmp_path / "ExtractedFeatures" / "1_20131027.mat"
    bad = np.zeros((62, 3, 5))
    bad[4, 1, 2] = np.nan
    scipy.io.savemat(path, {"de_LDS1": bad})
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field 'de_LDS1'.*finite.*1 NaN"):
        next(iter_seed_features(tmp_path))
    path.write_bytes(b"not a mat file at all" * 20)
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field 'file'.*MATLAB"):
        next(iter_seed_features(tmp_path))


def test_seed_bad_file_name(tmp_path):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=1)
    scipy.io.savemat(tmp_path / "ExtractedFeatures" / "subject1.mat", {"x": np.zeros(1)})
    with pytest.raises(MoodReaderInputError, match=r"subject1\.mat: field 'file name'.*<subject>_<yyyymmdd>"):
        next(iter_seed_features(tmp_path))


def test_seed_v73_without_h5py(tmp_path, monkeypatch):
    write_seed_features(tmp_path, sessions={"1": ("20131027",)}, trials=1)
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116) + bytes(8) + b"\x00\x02IM"
    (tmp_path / "ExtractedFeatures" / "1_20131027.mat").write_bytes(header.ljust(512, b"\x00"))
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field 'file format'.*v7\.3.*h5py"):
        next(iter_seed_features(tmp_path))


def test_seed_v73_with_h5py(tmp_path):
    pytest.importorskip("h5py", reason="MATLAB v7.3 files are read only when h5py is installed")
    folder = tmp_path / "Preprocessed_EEG"
    folder.mkdir()
    rng = np.random.default_rng(3)
    arrays = {"ab_eeg1": rng.normal(size=(62, 50)), "ab_eeg2": rng.normal(size=(62, 70))}
    write_mat_v73(folder / "4_20140101.mat", arrays)
    write_mat_v73(folder / "label.mat", {"label": np.array([[-1.0, 1.0]])})
    trials = list(iter_seed_raw(tmp_path))
    assert [(t.subject, t.session, t.trial, t.label) for t in trials] == [("4", "1", 1, 0), ("4", "1", 2, 2)]
    np.testing.assert_allclose(trials[1].signal, arrays["ab_eeg2"], rtol=1e-6)


def test_seed_raw_two_prefixes(tmp_path):
    write_seed_raw(tmp_path, sessions={"1": ("20131027",)}, trials=1)
    path = tmp_path / "Preprocessed_EEG" / "1_20131027.mat"
    scipy.io.savemat(path, {"djc_eeg1": np.zeros((62, 10)), "ww_eeg2": np.zeros((62, 10))})
    with pytest.raises(MoodReaderInputError, match=r"1_20131027\.mat: field '<initials>_eeg<n>'.*one prefix"):
        next(iter_seed_raw(tmp_path))


def test_seed_raw_wrong_channel_count(tmp_path):
    write_seed_raw(tmp_path, sessions={"1": ("20131027",)}, trials=1)
    scipy.io.savemat(tmp_path / "Preprocessed_EEG" / "1_20131027.mat", {"djc_eeg1": np.zeros((32, 10))})
    with pytest.raises(MoodReaderInputError, match=r"field 'djc_eeg1'.*\(62, any\) \(channels, samples\).*\(32, 10\)"):
        next(iter_seed_raw(tmp_path))


def test_seed_iv_eye_window_mismatch(tmp_path):
    write_seed_iv(tmp_path, subjects={"1": ("20160518", "20160601", "20160615")})
    path = tmp_path / "eye_feature_smooth" / "2" / "1_20160601.mat"
    arrays = {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}
    arrays["eye_5"] = np.zeros((31, arrays["eye_5"].shape[1] + 1))
    scipy.io.savemat(path, arrays)
    trials = iter_seed_iv(tmp_path)
    with pytest.raises(MoodReaderInputError, match=r"eye_feature_smooth/2/1_20160601\.mat: field 'eye_5'.*\(31, \d+\)"):
        for _ in trials:
            pass


def test_seed_iv_missing_session_folder(tmp_path):
    write_seed_iv(tmp_path, subjects={"1": ("20160518", "20160601", "20160615")})
    for path in (tmp_path / "eeg_feature_smooth" / "3").iterdir():
        path.unlink()
    (tmp_path / "eeg_feature_smooth" / "3").rmdir()
    with pytest.raises(MoodReaderInputError, match=r"eeg_feature_smooth/3: field 'folder'"):
        next(iter_seed_iv(tmp_path))


def test_seed_v_bad_inputs(tmp_path):
    written = write_seed_v(tmp_path, subjects=("3",), with_eye=False)["3"]
    path = tmp_path / "EEG_DE_features" / "3_123.npz"
    np.savez(path, data=pickle.dumps(written["data"]), labels=pickle.dumps(written["label"]))
    with pytest.raises(MoodReaderInputError, match=r"3_123\.npz: field 'label'.*pickled dict.*no such key"):
        next(iter_seed_v(tmp_path, with_eye=False))

    data = dict(written["data"])
    data[7] = np.zeros((data[7].shape[0], 62))
    write_seed_v_npz(path, data, written["label"])
    with pytest.raises(MoodReaderInputError, match=r"3_123\.npz: field 'data\[7\]'.*\(any, 310\)"):
        list(iter_seed_v(tmp_path, with_eye=False))

    label = dict(written["label"])
    label[9] = label[9].copy()
    label[9][0] = (label[9][1] + 1) % 5
    write_seed_v_npz(path, written["data"], label)
    with pytest.raises(MoodReaderInputError, match=r"3_123\.npz: field 'label\[9\]'.*one class"):
        list(iter_seed_v(tmp_path, with_eye=False))

    write_seed_v_npz(path, {key: value for key, value in written["data"].items() if key < 30}, written["label"])
    with pytest.raises(MoodReaderInputError, match=r"3_123\.npz: field 'data'.*keys 0\.\.44"):
        next(iter_seed_v(tmp_path, with_eye=False))

    write_seed_v_npz(path, written["data"], written["label"])
    with pytest.raises(MoodReaderInputError, match=r"Eye_movement_features/3_123\.npz.*no such file"):
        next(iter_seed_v(tmp_path, with_eye=True))


def test_deap_bad_inputs(tmp_path):
    write_deap(tmp_path, subjects=(5,))
    path = tmp_path / "data_preprocessed_python" / "s05.dat"
    with path.open("wb") as stream:
        pickle.dump({"data": np.zeros((40, 32, 8064)), "labels": np.zeros((40, 4))}, stream)
    with pytest.raises(MoodReaderInputError, match=r"s05\.dat: field 'data'.*\(40, 40, 8064\).*\(40, 32, 8064\)"):
        next(iter_deap(tmp_path))
    with path.open("wb") as stream:
        pickle.dump({"data": np.zeros((40, 40, 500)), "ratings": np.zeros((40, 4))}, stream)
    with pytest.raises(MoodReaderInputError, match=r"s05\.dat: field 'labels'.*no such key"):
        next(iter_deap(tmp_path))
    with pytest.raises(MoodReaderInputError, match=r"field 'target'.*'anger'"):
        next(iter_deap(tmp_path, target="anger"))
