"""FACED, DREAMER, AMIGOS, MAHNOB-HCI and SEED-VII: datasets built from tiny files written in each published layout
(tests/public_layout_writers.py), and one-line errors for malformed files.

Expected values come from what the writers planted, transformed by the recipe each loader documents (channel order,
mean removal, average reference, label coding), computed here with numpy, never by the loaders.
"""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest
import scipy.io
import yaml

from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.recordings import count_files, count_trials, iter_trials, label_names
from moodreader_hf.training.contract import check_recipe_against_dataset, dataset_feature_config
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .public_layout_writers import (
    BIOSEMI_32,
    EMOTIV,
    FACED_CATEGORY_OF_CLIP,
    FACED_ELECTRODES,
    SEED_VII_EMOTIONS,
    seed_vii_label_rows,
    write_amigos,
    write_dreamer,
    write_faced,
    write_mahnob_session,
    write_seed_vii,
    write_xlsx,
)
from .training_helpers import REPO

FACED_NINE = ("anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness")
MAHNOB_NINE = ("neutral", "anger", "disgust", "fear", "joy", "sadness", "surprise", "amusement", "anxiety")
MAHNOB_CODE = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 11: 7, 12: 8}


def _build(layout, root, out, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_dataset(layout, root, out, smoothing="none", progress=False, **options)
    dataset, metadata = load_built_dataset(out)
    return dataset["train"], dataset["train"].with_format("numpy")[:], metadata


def _rows_of(windows: int, size: int) -> int:
    """Rows of a trial of ``windows`` windows in rows of ``size`` every ``size`` windows: the full rows, plus a tail
    row holding the last ``size`` windows when some are left over (none for a trial shorter than a row)."""
    return 0 if windows < size else -(-windows // size)


def _refused(match, function, *args, **kwargs):
    """Run ``function`` (a loader call or an iterator) and return its one-line error matching ``match``."""
    with pytest.raises(MoodReaderInputError, match=match) as caught:
        result = function(*args, **kwargs)
        if result is not None:
            list(result)
    assert "\n" not in str(caught.value)
    return str(caught.value)


# FACED


def test_faced_signal_in_another_montage(tmp_path):
    written = write_faced(tmp_path / "faced", subjects=(0, 7))
    dataset, rows, metadata = _build("faced", tmp_path / "faced", tmp_path / "out", sequence_windows=3, stride=3,
                                     include_signal=True, sampling_rate=250, montage=SEED_CHANNEL_NAMES,
                                     layout_options={"target": "valence"})
    assert dataset.features["label"].names == ["negative", "neutral", "positive"]
    assert metadata["channel_names"] == list(SEED_CHANNEL_NAMES) and metadata["sampling_rate"] == 250
    assert len(rows["label"]) == 2 * 28 and sorted(set(rows["subject"])) == ["sub000", "sub007"]
    seed_index = [[name.upper() for name in SEED_CHANNEL_NAMES].index(name.upper()) for name in FACED_ELECTRODES[:30]]
    present = np.zeros(62, dtype=np.int8)
    present[seed_index] = 1
    for row in range(len(rows["label"])):
        clip = int(rows["trial"][row])
        valence = 0 if FACED_CATEGORY_OF_CLIP[clip - 1] < 4 else 1 if FACED_CATEGORY_OF_CLIP[clip - 1] == 4 else 2
        assert rows["label"][row] == valence and rows["session"][row] == "1"
        np.testing.assert_array_equal(rows["channel_mask"][row], present)
        planted = written[rows["subject"][row]]["signal"][clip - 1]
        np.testing.assert_allclose(rows["signal"][row][seed_index], planted[:30, :750], rtol=1e-5, atol=1e-4)
        assert not rows["signal"][row][present == 0].any() and not rows["de"][row][:, present == 0].any()
    assert label_names("faced") == FACED_NINE
    assert count_files("faced", tmp_path / "faced") == 2 and count_trials("faced", tmp_path / "faced") == 56
    trials = list(iter_trials("faced", tmp_path / "faced"))
    assert [trial.label for trial in trials[:28]] == FACED_CATEGORY_OF_CLIP


@pytest.mark.parametrize("name", ["sub{:03d}.pkl.pkl", "sub{:03d}.pkl"])
def test_faced_de_equals_released_arrays(tmp_path, name):
    written = write_faced(tmp_path / "faced", subjects=(3,), de_name=name)
    montage = tuple(reversed(FACED_ELECTRODES[:30]))
    dataset, rows, metadata = _build("faced-de", tmp_path / "faced", tmp_path / "out", sequence_windows=3, stride=3,
                                     montage=montage)
    assert dataset.features["label"].names == list(FACED_NINE)
    assert metadata["de_source"] == "distributed" and metadata["window_seconds"] == 1.0
    assert len(rows["label"]) == 28
    card = (tmp_path / "out" / "README.md").read_text()
    assert "license: cc-by-4.0" in card and "license_name" not in card
    assert "Scientific Data 10, 740 (2023)" in card and "not checked against a downloaded copy" in card
    for row in range(28):
        clip = int(rows["trial"][row])
        expected = written["sub003"]["de"][clip - 1, :30].transpose(1, 0, 2)[:, ::-1]  # (windows, channels, bands)
        np.testing.assert_allclose(rows["de"][row], expected, rtol=1e-6)
        assert rows["label"][row] == FACED_CATEGORY_OF_CLIP[clip - 1]


def test_faced_bad_files(tmp_path):
    write_faced(tmp_path, subjects=(0,))
    path = tmp_path / "Processed_data" / "sub000.pkl"
    with path.open("wb") as stream:
        pickle.dump(np.zeros((27, 32, 250)), stream)
    _refused(r"sub000\.pkl: field 'array': expected shape \(28, 32, any\) \(clips, channels, samples at 250 Hz\), "
             r"got shape \(27, 32, 250\)", iter_trials, "faced", tmp_path)
    with path.open("wb") as stream:
        pickle.dump({"data": np.zeros((28, 32, 250))}, stream)
    _refused(r"sub000\.pkl: field 'file': expected a pickled numpy array .*got dict", iter_trials, "faced", tmp_path)
    (tmp_path / "EEG_Features" / "DE" / "sub000.pkl").write_bytes(b"")
    _refused(r"sub000\.pkl: field 'file name': expected one DE file per subject", iter_trials, "faced-de", tmp_path)
    (tmp_path / "Processed_data" / "subject1.pkl").write_bytes(b"")
    _refused(r"subject1\.pkl: field 'file name': expected 'subNNN\.pkl'", iter_trials, "faced", tmp_path)
    _refused(r"FACED: field 'target': expected one of \('emotion', 'valence'\), got 'arousal'", label_names,
             "faced", target="arousal")


# DREAMER


def test_dreamer_thresholds_ratings_and_removes_offset(tmp_path):
    written = write_dreamer(tmp_path / "dreamer", subjects=3)
    dataset, rows, metadata = _build("dreamer", tmp_path / "dreamer", tmp_path / "out", sequence_windows=2, stride=2,
                                     include_signal=True, sampling_rate=128, montage=EMOTIV,
                                     layout_options={"target": "valence", "threshold": 3.0})
    assert dataset.features["label"].names == ["low_valence", "high_valence"]
    assert metadata["channel_names"] == list(EMOTIV) and metadata["sampling_rate"] == 128
    expected_rows = sum(_rows_of(len(clip) // 128, 2) for subject in written["stimuli"] for clip in subject)
    assert len(rows["label"]) == expected_rows and sorted(set(rows["subject"])) == ["1", "2", "3"]
    for row in range(len(rows["label"])):
        subject, clip, start = int(rows["subject"][row]), int(rows["trial"][row]), int(rows["start"][row])
        rating = written["valence"][subject - 1][clip - 1]
        assert rows["label"][row] == int(rating > 3.0)
        samples = written["stimuli"][subject - 1][clip - 1]
        centred = (samples - samples.mean(axis=0)).T
        np.testing.assert_allclose(rows["signal"][row], centred[:, start * 128 : (start + 2) * 128], atol=2e-3)
    card = (tmp_path / "out" / "README.md").read_text()
    assert "license: other" in card and "license_name: dreamer-eula" in card and "Katsigiannis" in card
    first = [row for row in range(len(rows["label"])) if rows["subject"][row] == "1" and rows["trial"][row] <= 3]
    assert {int(rows["trial"][row]): int(rows["label"][row]) for row in first} == {1: 0, 2: 0, 3: 1}


def test_dreamer_bad_files(tmp_path):
    _refused(r"DREAMER\.mat: field 'file': expected the DREAMER download's single MATLAB file, got no such file",
             iter_trials, "dreamer", tmp_path)
    write_dreamer(tmp_path, subjects=1, electrodes=tuple(reversed(EMOTIV)))
    _refused(r"DREAMER\.mat: field 'DREAMER\.EEG_Electrodes': expected the Emotiv order", iter_trials, "dreamer",
             tmp_path)
    content = scipy.io.loadmat(tmp_path / "DREAMER.mat")
    fields = [name for name in content["DREAMER"].dtype.names if name != "EEG_Electrodes"]
    subject = content["DREAMER"][0, 0]["Data"][0, 0]
    kept = [name for name in subject.dtype.names if name != "ScoreArousal"]
    data = np.empty((1, 1), dtype=[(name, object) for name in kept])
    for name in kept:
        data[0, 0][name] = subject[name]
    data[0, 0]["ScoreValence"] = np.full((18, 1), 6.0)
    scipy.io.savemat(tmp_path / "DREAMER.mat", {"DREAMER": {**{name: content["DREAMER"][0, 0][name] for name in
                                                              fields}, "Data": data}})  # fmt: skip
    _refused(r"DREAMER\.mat: field 'DREAMER\.Data\(1\)\.ScoreArousal': expected a field of the DREAMER struct, got "
             r"no such field", iter_trials, "dreamer", tmp_path, target="arousal")
    _refused(r"DREAMER\.mat: field 'DREAMER\.Data\(1\)\.ScoreValence': expected ratings 1, 2, 3, 4 or 5, got "
             r"\[6\.0\]", iter_trials, "dreamer", tmp_path)
    data[0, 0]["ScoreValence"] = np.full((18, 1), 2.0)
    stimuli = data[0, 0]["EEG"][0, 0]["stimuli"]
    stimuli[4, 0] = stimuli[4, 0][:, :13]
    scipy.io.savemat(tmp_path / "DREAMER.mat", {"DREAMER": {"Data": data}})
    _refused(r"DREAMER\.mat: field 'DREAMER\.Data\(1\)\.EEG\.stimuli\{5\}': expected shape \(any, 14\) \(samples, "
             r"channels\)", iter_trials, "dreamer", tmp_path)


# AMIGOS


def test_amigos_short_and_long_videos(tmp_path):
    written = write_amigos(tmp_path / "amigos", participants={1: True, 2: False})
    dataset, rows, _ = _build("amigos", tmp_path / "amigos", tmp_path / "out", sequence_windows=3, stride=3,
                                     include_signal=True, sampling_rate=128, montage=EMOTIV,
                                     layout_options={"target": "arousal", "videos": "all"})
    assert dataset.features["label"].names == ["low_arousal", "high_arousal"]
    trials = sorted(set(zip(rows["subject"], rows["session"], rows["trial"].tolist())))
    assert trials == [("P01", "1", t) for t in range(1, 17)] + [("P01", "2", t) for t in range(1, 5)] + [
        ("P02", "1", t) for t in range(1, 17)]
    for row in range(len(rows["label"])):
        video = int(rows["trial"][row]) + (16 if rows["session"][row] == "2" else 0)
        stored = written[rows["subject"][row]]
        assert rows["label"][row] == int(stored["labels"][video - 1][0, 0] > 5.0)
        start = int(rows["start"][row])
        np.testing.assert_allclose(rows["signal"][row],
                                   stored["joined_data"][video - 1][start * 128 : (start + 3) * 128, :14].T,
                                   rtol=1e-5, atol=1e-4)
    short = list(iter_trials("amigos", tmp_path / "amigos"))
    assert len(short) == 32 and short[0].label == 0  # valence exactly 5 is low
    assert [trial.label for trial in iter_trials("amigos", tmp_path / "amigos", target="arousal")][:1] == [0]


def test_amigos_bad_files(tmp_path):
    written = write_amigos(tmp_path, participants={3: True})
    path = tmp_path / "data_preprocessed" / "Data_Preprocessed_P03.mat"
    joined = np.empty((1, 20), dtype=object)
    labels = np.empty((1, 20), dtype=object)
    for index in range(20):
        joined[0, index], labels[0, index] = written["P03"]["joined_data"][index], written["P03"]["labels"][index]
    labels[0, 2] = np.zeros((0, 0))
    scipy.io.savemat(path, {"joined_data": joined, "labels_selfassessment": labels})
    with pytest.warns(UserWarning, match=r"Data_Preprocessed_P03\.mat: video 3 skipped: its labels_selfassessment"):
        assert len(list(iter_trials("amigos", tmp_path))) == 15
    labels[0, 2] = np.array([[0.0] * 12])
    scipy.io.savemat(path, {"joined_data": joined, "labels_selfassessment": labels})
    _refused(r"P03\.mat: field 'labels_selfassessment\{3\}': expected valence \(column 2\) rated from 1 to 9, got "
             r"0\.0", iter_trials, "amigos", tmp_path)
    labels[0, 2] = written["P03"]["labels"][2]
    joined[0, 4] = joined[0, 4][:, :16]
    scipy.io.savemat(path, {"joined_data": joined, "labels_selfassessment": labels})
    _refused(r"P03\.mat: field 'joined_data\{5\}': expected shape \(any, 17\) \(samples, channels\), got shape "
             r"\(\d+, 16\)", iter_trials, "amigos", tmp_path, target="arousal")
    scipy.io.savemat(path, {"joined_data": joined})
    _refused(r"P03\.mat: field 'labels_selfassessment': expected \(1, 12\) ratings, got no such variable", iter_trials,
             "amigos", tmp_path)
    _refused(r"AMIGOS: field 'videos': expected one of \('short', 'long', 'all'\), got 'both'", iter_trials, "amigos",
             tmp_path, videos="both")


# MAHNOB-HCI


def _mahnob(root):
    rng = np.random.default_rng(0)
    sessions = {
        10: write_mahnob_session(root, 10, 1, 3, {"feltEmo": "4", "feltArsl": "6", "feltVlnc": "7", "isStim": "1"},
                                 rng),
        12: write_mahnob_session(root, 12, 2, 1, {"feltEmo": "11", "feltArsl": "3", "feltVlnc": "5", "isStim": "1"},
                                 rng),
    }
    write_mahnob_session(root, 14, 2, 2, {"feltEmo": "0", "feltArsl": "3", "feltVlnc": "2", "isStim": "0"}, rng)
    write_mahnob_session(root, 2, 1, 30, {}, rng, bdf=False)  # an implicit-tagging session: no emotion BDF
    return sessions


@pytest.mark.parametrize("reference", ["average", "none"])
def test_mahnob_bdf_sessions(tmp_path, reference):
    sessions = _mahnob(tmp_path / "mahnob")
    dataset, rows, metadata = _build("mahnob-hci", tmp_path / "mahnob", tmp_path / "out", sequence_windows=5, stride=5,
                                     include_signal=True, sampling_rate=256, montage=BIOSEMI_32,
                                     layout_options={"reference": reference})
    assert dataset.features["label"].names == list(MAHNOB_NINE) and metadata["channel_names"] == list(BIOSEMI_32)
    assert rows["subject"].tolist() == ["1", "2"] and rows["trial"].tolist() == [3, 1]
    assert rows["label"].tolist() == [MAHNOB_CODE[4], MAHNOB_CODE[11]]
    for row, session in enumerate((10, 12)):
        stimulus = sessions[session]["eeg"][:, sessions[session]["start"] : sessions[session]["stop"]]
        if reference == "average":
            stimulus = stimulus - stimulus.mean(axis=0)
        expected = stimulus - stimulus.mean(axis=1, keepdims=True)
        np.testing.assert_allclose(rows["signal"][row], expected, atol=0.02)
    assert count_files("mahnob-hci", tmp_path / "mahnob") == 3  # the isStim="0" session is a file, not a trial
    valence = [trial.label for trial in iter_trials("mahnob-hci", tmp_path / "mahnob", target="valence")]
    assert valence == [1, 0]  # 7 > 5; 5 is not
    assert label_names("mahnob-hci", target="arousal") == ("low_arousal", "high_arousal")


def test_mahnob_bad_sessions(tmp_path):
    rng = np.random.default_rng(1)
    write_mahnob_session(tmp_path, 4, 1, 2, {"feltEmo": "9", "feltArsl": "6", "feltVlnc": "7", "isStim": "1"}, rng)
    xml = tmp_path / "Sessions" / "4" / "session.xml"
    _refused(r"4/session\.xml: field 'feltEmo': expected an emotion code \(0 neutral, .*12 anxiety\), got 9",
             iter_trials, "mahnob-hci", tmp_path)
    xml.write_text(xml.read_text().replace('feltEmo="9" ', ""))
    _refused(r"session\.xml: field 'feltEmo': expected an attribute of <session>", iter_trials, "mahnob-hci", tmp_path)
    _refused(r"session\.xml: field 'feltVlnc': expected a rating 1 to 9, got 'seven'", iter_trials, "mahnob-hci",
             _with(xml, 'feltVlnc="7"', 'feltVlnc="seven"', tmp_path), target="valence")
    xml.unlink()
    _refused(r"4/session\.xml: field 'file': expected the session\.xml beside the BDF file, got no such file",
             iter_trials, "mahnob-hci", tmp_path)
    for path in (tmp_path / "Sessions" / "4").iterdir():
        path.unlink()
    _refused(r"Sessions: field 'files': expected session folders holding", iter_trials, "mahnob-hci", tmp_path)


def _with(path, old, new, root):
    path.write_text(path.read_text().replace(old, new))
    return root


def test_mahnob_bad_bdf(tmp_path):
    rng = np.random.default_rng(2)
    attributes = {"feltEmo": "1", "feltArsl": "6", "feltVlnc": "7", "isStim": "1"}
    write_mahnob_session(tmp_path, 5, 3, 1, attributes, rng)
    bdf = next((tmp_path / "Sessions" / "5").glob("*.bdf"))
    content = bytearray(bdf.read_bytes())
    label_offset = 256 + 14 * 16  # the 15th channel label: Oz
    content[label_offset : label_offset + 16] = b"Ozz".ljust(16)
    bdf.write_bytes(bytes(content))
    _refused(r"Trial1_emotion\.bdf: field 'channels': expected all 32 montage electrodes .*1 missing: Oz",
             iter_trials, "mahnob-hci", tmp_path)
    bdf.write_bytes(bdf.read_bytes()[:5000])
    _refused(r"Trial1_emotion\.bdf: field 'file'", iter_trials, "mahnob-hci", tmp_path)
    bdf.rename(bdf.with_name("Participant1_Trial1_emotion.bdf"))
    _refused(r"Participant1_Trial1_emotion\.bdf: field 'file name': expected 'Part_<p>_<N\|S>_Trial<k>_emotion\.bdf'",
             iter_trials, "mahnob-hci", tmp_path)


def test_mahnob_without_triggers(tmp_path):
    rng = np.random.default_rng(3)
    write_mahnob_session(tmp_path, 6, 3, 2, {"feltEmo": "1", "isStim": "1"}, rng, triggers=False)
    _refused(r"Trial2_emotion\.bdf: field 'Status': expected triggers at the start and end of the stimulus, got no "
             r"trigger", iter_trials, "mahnob-hci", tmp_path)


# SEED-VII


def test_seed_vii_de_eye_and_labels(tmp_path):
    written = write_seed_vii(tmp_path / "s7", subjects=("1", "2"))
    dataset, rows, metadata = _build("seed-vii", tmp_path / "s7", tmp_path / "out", sequence_windows=2, stride=2,
                                     montage=SEED_CHANNEL_NAMES)
    assert dataset.features["label"].names == [name.lower() for name in SEED_VII_EMOTIONS]
    assert metadata["window_seconds"] == 4.0 and metadata["eye_dims"] == 33 and metadata["de_source"] == "distributed"
    windows = [written[subject][f"de_LDS_{video}"].shape[0] for subject in ("1", "2") for video in range(1, 81)]
    assert len(rows["label"]) == sum(_rows_of(count, 2) for count in windows)
    for row in range(len(rows["label"])):
        session, trial, start = int(rows["session"][row]), int(rows["trial"][row]), int(rows["start"][row])
        video = (session - 1) * 20 + trial
        stored = written[rows["subject"][row]]
        assert rows["label"][row] == SEED_VII_EMOTIONS.index(written["emotions"][video - 1])
        expected = stored[f"de_LDS_{video}"][start : start + 2].transpose(0, 2, 1)  # (windows, channels, bands)
        np.testing.assert_allclose(rows["de"][row], expected, rtol=1e-6)
        np.testing.assert_allclose(rows["eye"][row], stored[f"eye_{video}"][start : start + 2], rtol=1e-6)
    unsmoothed = list(iter_trials("seed-vii", tmp_path / "s7", feature="de", with_eye=False))
    assert len(unsmoothed) == 160 and unsmoothed[0].eye is None
    np.testing.assert_allclose(unsmoothed[1].de, written["1"]["de_2"].transpose(0, 2, 1), rtol=1e-6)
    eye_longer = list(iter_trials("seed-vii", tmp_path / "s7"))[1]
    assert eye_longer.eye.shape[0] == eye_longer.de.shape[0] == written["1"]["de_LDS_2"].shape[0]


def test_seed_vii_bad_files(tmp_path):
    written = write_seed_vii(tmp_path, subjects=("3",))
    emotions = list(written["emotions"])
    labels = tmp_path / "emotion_label_and_stimuli_order.xlsx"
    write_xlsx(labels, seed_vii_label_rows(emotions[:41] + ["Joy"] + emotions[42:]))
    _refused(r"emotion_label_and_stimuli_order\.xlsx: field 'cell C6': expected the emotion of video 42: one of "
             r"\('Disgust', .*'Surprise'\), got 'Joy'", iter_trials, "seed-vii", tmp_path)
    write_xlsx(labels, seed_vii_label_rows(emotions)[:6])
    _refused(r"xlsx: field 'video indices': expected rows of the video indices 1\.\.80.*missing \[61, 62", iter_trials,
             "seed-vii", tmp_path)
    labels.write_bytes(b"not a zip")
    _refused(r"xlsx: field 'file': expected an Excel workbook \(\.xlsx\)", iter_trials, "seed-vii", tmp_path)
    write_xlsx(labels, seed_vii_label_rows(emotions))
    eeg = {key: value for key, value in written["3"].items() if not key.startswith("eye_")}
    eye = {key[4:]: value for key, value in written["3"].items() if key.startswith("eye_")}
    eye["7"] = np.zeros((eeg["de_LDS_7"].shape[0] + 2, 33))
    scipy.io.savemat(tmp_path / "EYE_features" / "3.mat", eye)
    _refused(r"EYE_features/3\.mat: field '7': expected \d windows \(as many as the DE of 3\.mat, give or take 1\)",
             iter_trials, "seed-vii", tmp_path)
    assert len(list(iter_trials("seed-vii", tmp_path, with_eye=False))) == 80
    eeg["de_LDS_5"] = eeg["de_LDS_5"].transpose(0, 2, 1)
    scipy.io.savemat(tmp_path / "EEG_features" / "3.mat", eeg)
    _refused(r"EEG_features/3\.mat: field 'de_LDS_5': expected shape \(any, 5, 62\) \(windows, bands, channels\), got "
             r"shape \(\d, 62, 5\)", iter_trials, "seed-vii", tmp_path, with_eye=False)
    del eeg["de_LDS_5"]
    scipy.io.savemat(tmp_path / "EEG_features" / "3.mat", eeg)
    _refused(r"3\.mat: field 'de_LDS_5': expected an array of shape \(any, 5, 62\).*got no such key", iter_trials,
             "seed-vii", tmp_path, with_eye=False)
    _refused(r"iter_seed_vii: field 'feature': expected one of \('de_LDS', 'de'\), got 'de_movingAve'", iter_trials,
             "seed-vii", tmp_path, feature="de_movingAve")


# Recipes


def _tiny_recipe(name, path):
    """The shipped recipe ``name`` with a tiny model and one short epoch (its dataset section untouched)."""
    recipe = yaml.safe_load((REPO / "modeling" / f"{name}.yaml").read_text())
    recipe["model"].update(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                           decoder_hidden_size=8, hidden_dropout_prob=0.0, classifier_dropout_prob=0.0)
    recipe["finetune"].update(epochs=1, batch_size=16, patience=1)
    path.write_text(yaml.safe_dump(recipe))
    return load_recipe(path)


@pytest.mark.parametrize(("name", "layout", "writer", "classes"), [
    ("moodreader-faced", "faced", lambda root: write_faced(root, subjects=(0, 1, 2), seconds=10), 9),
    ("moodreader-dreamer", "dreamer", lambda root: write_dreamer(root, subjects=3, seconds=10), 2),
])  # fmt: skip
def test_shipped_recipe_fits_its_layout_and_fine_tunes(tmp_path, name, layout, writer, classes):
    writer(tmp_path / "raw")
    recipe = _tiny_recipe(name, tmp_path / "recipe.yaml")
    assert recipe.dataset.layout == layout
    assert recipe.finetune.protocol == {"faced": "kfold-subject", "dreamer": "loso"}[layout]
    recipe.finetune.protocol = "loso"  # three subjects here
    section = recipe.dataset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_dataset(layout, tmp_path / "raw", tmp_path / "data", sequence_windows=section.sequence_windows,
                      stride=section.stride, smoothing=section.smoothing, method=section.method, progress=False)
    _, metadata = load_built_dataset(tmp_path / "data")
    check_recipe_against_dataset(recipe, metadata, "recipe", uses_signal=False)
    assert recipe.model_config(num_labels=classes, **dataset_feature_config(recipe, metadata)).sampling_rate == (
        metadata["sampling_rate"])
    report = run_finetuning(recipe, tmp_path / "data", tmp_path / "run", progress=False)
    assert len(report["folds"]) == 3
    config = json.loads(next((tmp_path / "run" / "folds").glob("*/model/config.json")).read_text())
    assert len(config["id2label"]) == classes and config["channel_names"] == metadata["channel_names"]
