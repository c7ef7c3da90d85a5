"""The eeg-emotion-recognition pipeline: every input kind, chunked segments, scores against a direct computation."""

from __future__ import annotations

import argparse
import json
import sys

import mne
import numpy as np
import pytest
import torch

from moodreader_hf import MoodReaderForEmotionRecognition
from moodreader_hf.commands import predict
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline
from moodreader_hf.validation import MoodReaderInputError

from .conftest import tiny_config

RATE = 250.0
SECONDS = 21
ABSENT = ("PO5", "PO6", "CB1", "CB2")


@pytest.fixture(scope="module")
def pipe() -> EEGEmotionRecognitionPipeline:
    torch.manual_seed(1)
    config = tiny_config(max_windows=8, sequence_windows=8)
    rng = np.random.default_rng(1)
    extractor = MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist()
    )
    model = MoodReaderForEmotionRecognition(config).eval()
    return EEGEmotionRecognitionPipeline(model=model, feature_extractor=extractor, task=TASK, device=-1)


@pytest.fixture(scope="module")
def recording() -> tuple[np.ndarray, list[str]]:
    """21 s of 58 electrodes (the montage without PO5, PO6, CB1, CB2) at 250 Hz, in µV, rows shuffled."""
    rng = np.random.default_rng(2)
    names = [name for name in SEED_CHANNEL_NAMES if name not in ABSENT]
    names = [names[index] for index in rng.permutation(len(names))]
    signals = 15.0 * rng.standard_normal((len(names), int(RATE * SECONDS)))
    signals += 30.0 * np.sin(2 * np.pi * 10.0 * np.arange(signals.shape[1]) / RATE) * rng.random((len(names), 1))
    return signals, names


def expected_result(pipe, features, segment: int) -> tuple[np.ndarray, list[np.ndarray], list[tuple[int, int]]]:
    """Independent computation: each segment through the model alone, then the window-weighted mean."""
    de, mask = features["de_features"], features["channel_mask"]
    bounds = [(start, min(start + segment, de.shape[1])) for start in range(0, de.shape[1], segment)]
    probabilities = []
    with torch.no_grad():
        for start, stop in bounds:
            logits = pipe.model(de_features=de[:, start:stop], channel_mask=mask).logits
            probabilities.append(logits.softmax(-1)[0].double().numpy())
    weights = np.array([stop - start for start, stop in bounds], dtype=float)
    overall = (np.stack(probabilities) * weights[:, None]).sum(0) / weights.sum()
    return overall, probabilities, bounds


def scores_by_label(entries) -> dict[str, float]:
    return {entry["label"]: entry["score"] for entry in entries}


def test_array_input_matches_segments_run_one_by_one(pipe, recording):
    signals, names = recording
    result = pipe(signals, sampling_rate=RATE, channel_names=names, batch_segments=2)
    features = pipe.feature_extractor(signals, sampling_rate=RATE, channel_names=names, on_missing="mask",
                                      smoothing_span=8)  # each segment smoothed on its own
    overall, per_segment, bounds = expected_result(pipe, features, segment=8)
    labels = pipe.model.config.id2label
    assert [(s["start"], s["end"], s["windows"]) for s in result["segments"]] == [
        (float(start), float(stop), stop - start) for start, stop in bounds
    ]
    assert [s["windows"] for s in result["segments"]] == [8, 8, 5]
    for segment, expected in zip(result["segments"], per_segment):
        got = scores_by_label(segment["scores"])
        np.testing.assert_allclose([got[labels[i]] for i in range(3)], expected, rtol=1e-5, atol=1e-6)
    got = scores_by_label(result["scores"])
    np.testing.assert_allclose([got[labels[i]] for i in range(3)], overall, rtol=1e-5, atol=1e-6)
    assert [entry["score"] for entry in result["scores"]] == sorted(got.values(), reverse=True)
    assert result["label"] == labels[int(np.argmax(overall))]
    assert sorted(result["missing_channels"]) == sorted(ABSENT)


def test_segment_length_and_batch_size_do_not_change_scores(pipe, recording):
    signals, names = recording
    one = pipe(signals, sampling_rate=RATE, channel_names=names, segment_windows=4, batch_segments=1)
    many = pipe(signals, sampling_rate=RATE, channel_names=names, segment_windows=4, batch_segments=16)
    assert len(one["segments"]) == 6
    assert one["segments"][-1]["start"] == 20.0 and one["segments"][-1]["end"] == 21.0
    np.testing.assert_allclose([e["score"] for e in one["scores"]], [e["score"] for e in many["scores"]], rtol=1e-5)


def test_edf_path_raw_and_array_give_the_same_scores(pipe, recording, tmp_path):
    signals, names = recording
    info = mne.create_info(names, RATE, "eeg")
    path = tmp_path / "recording.edf"
    mne.export.export_raw(path, mne.io.RawArray(signals * 1e-6, info, verbose="error"), fmt="edf", verbose="error")
    raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
    from_path = pipe(str(path))
    from_raw = pipe(raw)
    from_array = pipe(raw.get_data(units="uV"), sampling_rate=raw.info["sfreq"], channel_names=raw.ch_names)
    assert from_path == from_raw
    np.testing.assert_allclose([e["score"] for e in from_path["scores"]], [e["score"] for e in from_array["scores"]],
                               rtol=1e-6)
    assert sorted(from_path["missing_channels"]) == sorted(ABSENT)


def test_de_input_and_dict_input(pipe):
    rng = np.random.default_rng(3)
    features = 2.0 + rng.normal(size=(12, 62, 5))
    result = pipe(features)
    expected, _, _ = expected_result(pipe, pipe.feature_extractor(de_features=features), segment=8)
    got = scores_by_label(result["scores"])
    np.testing.assert_allclose([got[pipe.model.config.id2label[i]] for i in range(3)], expected, rtol=1e-5)
    as_dict = pipe({"de_features": features.tolist(), "channel_names": list(SEED_CHANNEL_NAMES)})
    assert as_dict["scores"] == result["scores"]
    assert result["missing_channels"] == []


@pytest.mark.parametrize(
    ("inputs", "parameters", "message"),
    [
        (np.zeros((62, 400)), {}, "field 'sampling_rate'"),
        (np.zeros(10), {}, "an array of shape (10,)"),
        (np.ones((62, 400)), {"sampling_rate": 200, "segment_windows": 99}, "max_windows=8"),
        ({"signals": [[1.0]], "de_features": [[[1.0]]]}, {}, "one of 'signals', 'de_features' or 'recording'"),
        ("no/such/file.edf", {}, "no such file"),
    ],
)
def test_bad_inputs_name_the_field(pipe, inputs, parameters, message):
    with pytest.raises(ValueError) as error:
        pipe(inputs, **parameters)
    assert message in str(error.value)


def test_recording_path_without_mne_says_how_to_install(pipe, tmp_path, monkeypatch):
    path = tmp_path / "recording.edf"
    path.write_bytes(b"0")
    monkeypatch.setitem(sys.modules, "mne", None)
    with pytest.raises(ValueError, match="pip install mne"):
        pipe(str(path))


def test_predict_command_prints_the_timeline_and_json(pipe, recording, tmp_path, capsys):
    pipe.model.save_pretrained(tmp_path / "model")
    pipe.feature_extractor.save_pretrained(tmp_path / "model")
    signals, names = recording
    path = tmp_path / "recording.edf"
    raw = mne.io.RawArray(signals * 1e-6, mne.create_info(names, RATE, "eeg"), verbose="error")
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    parser = argparse.ArgumentParser()
    predict.register(parser.add_subparsers(dest="command"))
    assert predict.run(parser.parse_args(["predict", str(path), "--model", str(tmp_path / "model"), "--json"])) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = pipe(str(path))
    assert [s["label"] for s in printed["segments"]] == [s["label"] for s in expected["segments"]]
    np.testing.assert_allclose([e["score"] for e in printed["scores"]], [e["score"] for e in expected["scores"]],
                               rtol=1e-6)
    assert predict.run(parser.parse_args(["predict", str(path), "--model", str(tmp_path / "model")])) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("training data): PO5, PO6, CB1, CB2")
    assert len(lines) == 2 + len(printed["segments"]) + 1
    assert lines[-1] == f"Overall: {printed['label']} ({printed['score']:.3f})"
    with pytest.raises(MoodReaderInputError, match="no such file"):
        predict.run(parser.parse_args(["predict", str(tmp_path / "missing.edf"), "--model", str(tmp_path / "model")]))
