"""The Inference Endpoints handler of a published repo: the card's widget example, JSON arrays, refusals."""

from __future__ import annotations

import base64
import importlib.util
import json
import time

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard

from moodreader_hf import MoodReaderForEmotionRecognition, hub
from moodreader_hf.configuration_moodreader import BAND_NAMES, SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor

from .conftest import tiny_config


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("handler")
    torch.manual_seed(5)
    config = tiny_config(max_windows=8)
    rng = np.random.default_rng(5)
    MoodReaderForEmotionRecognition(config).save_pretrained(root / "model")
    MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist()
    ).save_pretrained(root / "model")
    return hub.build_model_repo(root / "model", root / "repo")


@pytest.fixture(scope="module")
def handler_module(repo):
    spec = importlib.util.spec_from_file_location("published_handler", repo / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def handler(handler_module, repo):
    return handler_module.EndpointHandler(str(repo))


@pytest.fixture(scope="module")
def reference(repo):
    return hub.load_pipeline(repo)


def overall(result) -> list[tuple[str, float]]:
    return [(entry["label"], entry["score"]) for entry in result]


def assert_same_scores(answer, expected):
    assert isinstance(answer, list), answer
    assert [a["label"] for a in answer] == [e["label"] for e in expected["scores"]]
    np.testing.assert_allclose([a["score"] for a in answer], [e["score"] for e in expected["scores"]], rtol=1e-6)


def test_answers_the_cards_own_widget_example(handler, reference, repo):
    table = ModelCard.load(repo / "README.md").data.widget[0]["structuredData"]
    de = np.array([[table[f"{c}_{b}"] for b in BAND_NAMES] for c in SEED_CHANNEL_NAMES]).transpose(2, 0, 1)
    expected = reference(de)
    assert_same_scores(handler({"inputs": {"data": table}}), expected)
    as_strings = {column: [str(value) for value in values] for column, values in table.items()}
    assert_same_scores(handler({"inputs": {"data": as_strings}}), expected)
    assert_same_scores(handler({"inputs": table}), expected)
    assert sum(entry["score"] for entry in handler({"inputs": {"data": table}})) == pytest.approx(1.0)


def test_base64_signals_and_nested_list_de(handler, reference):
    rng = np.random.default_rng(6)
    names = [name for name in SEED_CHANNEL_NAMES if name != "Oz"]
    signals = (20.0 * rng.standard_normal((len(names), 128 * 9))).astype(np.float32)
    payload = {"inputs": {"signals": {"base64": base64.b64encode(signals.tobytes()).decode(), "dtype": "float32",
                                      "shape": list(signals.shape)},
                          "sampling_rate": 128, "channel_names": names},
               "parameters": {"segment_windows": 3}}
    answer = handler(json.loads(json.dumps(payload)))
    assert_same_scores(answer, reference(signals.astype(np.float64), sampling_rate=128, channel_names=names,
                                         segment_windows=3))
    de = 2.0 + rng.normal(size=(6, 62, 5))
    assert_same_scores(handler({"inputs": {"de_features": de.tolist()}}), reference(de))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("just text", "expected a JSON object"),
        ({"inputs": [1, 2, 3]}, "field 'inputs'"),
        ({"inputs": {"data": {"Fp1_delta": [1.0], "Fp1_alpha": [1.0]}}}, "every band"),
        ({"inputs": {"data": {"Fp1_sigma": [1.0]}}}, "<electrode>_<band>"),
        ({"inputs": {"data": {f"Fp1_{b}": ["x"] for b in BAND_NAMES}}}, "numbers or numeric strings"),
        ({"inputs": {"signals": {"base64": "!!!", "dtype": "float32", "shape": [2, 2]}}}, "invalid data"),
        ({"inputs": {"signals": {"base64": "AAAA", "dtype": "int8", "shape": [4]}}}, "dtype"),
        ({"inputs": {"signals": {"base64": base64.b64encode(bytes(12)).decode(), "dtype": "float32",
                                 "shape": [2, 2]}}}, "expected 16 bytes"),
        ({"inputs": {"signals": [[1.0, 2.0], [3.0]]}}, "rectangular"),
        ({"inputs": {"signals": [[1.0] * 400] * 62}}, "sampling_rate"),
        ({"inputs": {"de_features": [[[1.0] * 5] * 61]}}, "channel_names"),
        ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"top_k": 2}}, "field 'parameters'"),
    ],
)
def test_refuses_malformed_payloads_with_a_message(handler, payload, message):
    answer = handler(payload)
    assert isinstance(answer, dict) and set(answer) == {"error"}
    assert message in answer["error"]


def test_refuses_oversize_payloads(handler, handler_module, monkeypatch):
    monkeypatch.setattr(handler_module, "MAX_VALUES", 1000)
    big = np.zeros((62, 200), dtype=np.float32)
    encoded = {"base64": base64.b64encode(big.tobytes()).decode(), "dtype": "float32", "shape": [62, 200]}
    for payload in ({"inputs": {"signals": encoded, "sampling_rate": 200}},
                    {"inputs": {"signals": big.tolist(), "sampling_rate": 200}},
                    {"inputs": {"data": {f"{c}_{b}": [1.0] * 4 for c in SEED_CHANNEL_NAMES for b in BAND_NAMES}}}):
        answer = handler(payload)
        assert "at most 1000 values" in answer["error"]
    lying = {"base64": base64.b64encode(bytes(64)).decode(), "dtype": "float32", "shape": [2, 1]}
    assert "longer" in handler({"inputs": {"signals": lying}})["error"]


def _b64(array: np.ndarray, dtype: str = "float32") -> dict:
    return {"base64": base64.b64encode(array.astype(dtype).tobytes()).decode(), "dtype": dtype,
            "shape": list(array.shape)}


SIGNALS = (20.0 * np.random.default_rng(9).standard_normal((62, 400))).tolist()
HOSTILE = [
    # wrong types where a value was expected
    ({"inputs": {"signals": {"base64": "AAAA", "dtype": ["float32"], "shape": [1, 1]}}}, "dtype"),
    ({"inputs": {"signals": {"base64": "AAAA", "dtype": {"a": 1}, "shape": [1, 1]}}}, "dtype"),
    ({"inputs": {"signals": {"base64": "AAAAAAAA", "dtype": "float32", "shape": [True, True]}}}, "shape"),
    ({"inputs": {"signals": {"base64": "AAAA", "dtype": "float32", "shape": [1.0, 1]}}}, "shape"),
    ({"inputs": {"signals": {"base64": 12, "dtype": "float32", "shape": [1, 1]}}}, "base64"),
    ({"inputs": {"signals": SIGNALS, "sampling_rate": True}}, "sampling_rate"),
    ({"inputs": {"signals": SIGNALS, "sampling_rate": "200"}}, "sampling_rate"),
    ({"inputs": {"signals": [[True, False] * 200] * 62, "sampling_rate": 200}}, "bool"),
    ({"inputs": {"signals": [["1.5"] * 400] * 62, "sampling_rate": 200}}, "str"),
    ({"inputs": {"signals": [[None] * 400] * 62, "sampling_rate": 200}}, "NoneType"),
    ({"inputs": {"signals": [[10**400] * 400] * 62, "sampling_rate": 200}}, "float"),
    ({"inputs": {"signals": [[float("nan")] * 400] * 62, "sampling_rate": 200}}, "finite"),
    ({"inputs": {"signals": [[1e300] * 400] * 62, "sampling_rate": 200}}, "float32"),
    ({"inputs": {"de_features": [[[float("inf")] * 5] * 62]}}, "finite"),
    ({"inputs": {"data": {f"{c}_{b}": [True] for c in SEED_CHANNEL_NAMES for b in BAND_NAMES}}}, "numbers"),
    ({"inputs": {"data": {f"{c}_{b}": ["nan"] for c in SEED_CHANNEL_NAMES for b in BAND_NAMES}}}, "finite"),
    ({"inputs": {"data": {f"{c}_{b}": ["1" * 5000] for c in SEED_CHANNEL_NAMES for b in BAND_NAMES}}}, "numeric"),
    ({"inputs": {"data": {f"{c}_{b}": [10**400] for c in SEED_CHANNEL_NAMES for b in BAND_NAMES}}}, "numbers"),
    # shapes and nesting
    ({"inputs": {"signals": [1.0, 2.0, 3.0], "sampling_rate": 200}}, "2 levels"),
    ({"inputs": {"signals": [[[[[[1.0]]]]]], "sampling_rate": 200}}, "levels"),
    ({"inputs": {"de_features": [[1.0] * 5] * 62}}, "3 levels"),
    ({"inputs": {"signals": [[]], "sampling_rate": 200}}, "non-empty"),
    ({"inputs": {"signals": {"base64": "AAAA", "dtype": "float32", "shape": [1]}}}, "shape"),
    # parameters
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"segment_windows": 0}}, "segment_windows"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"segment_windows": True}}, "segment_windows"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"segment_windows": 10**9}}, "segment_windows"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"batch_segments": "8"}}, "batch_segments"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": {"on_missing": ["mask"]}}, "on_missing"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62]}, "parameters": [1]}, "parameters"),
    # names
    ({"inputs": {"de_features": [[[1.0] * 5] * 2], "channel_names": ["Fp1", 7]}}, "channel_names"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 2], "channel_names": ["Fp1", "x" * 10_000]}}, "channel_names"),
    ({"inputs": {"signals": SIGNALS, "sampling_rate": 200, ("tuple",): 1}}, "inputs"),
    ({"inputs": {"de_features": [[[1.0] * 5] * 62], "eye_features": [[True]]}}, "eye_features"),
]


@pytest.mark.parametrize(("payload", "message"), HOSTILE, ids=[f"hostile-{i}" for i in range(len(HOSTILE))])
def test_every_bad_payload_is_an_error_answer(handler, payload, message):
    answer = handler(payload)
    assert isinstance(answer, dict) and set(answer) == {"error"}, answer
    assert message in answer["error"], answer["error"]


@pytest.mark.parametrize("rate", [0.01, 0.05, 1, 50, 99.9, 50_001, 1e12, float("nan"), float("inf"), -200])
def test_sampling_rates_outside_the_documented_range_are_refused_before_any_work(handler, rate):
    values = [[1.0] * 1000] * 62
    started = time.process_time()
    answer = handler({"inputs": {"signals": values, "sampling_rate": rate}})
    assert "sampling_rate" in answer["error"] and "100 Hz" in answer["error"]
    assert time.process_time() - started < 2.0


def test_work_is_bounded_after_resampling_not_only_by_the_values_given(handler, handler_module):
    # 62 x 1000 values at 100 Hz resample to 62 x 2000 at 200 Hz: refused when the bound is below that.
    signals = _b64(np.ones((62, 1000)))
    limit = handler_module.MAX_VALUES
    try:
        handler_module.MAX_VALUES = 100_000
        answer = handler({"inputs": {"signals": signals, "sampling_rate": 100}})
        assert "after resampling" in answer["error"] and "62 x 2000" in answer["error"]
    finally:
        handler_module.MAX_VALUES = limit
    windows = handler_module.MAX_WINDOWS
    try:
        handler_module.MAX_WINDOWS = 4
        answer = handler({"inputs": {"signals": signals, "sampling_rate": 100}})
        assert "windows" in answer["error"]
        answer = handler({"inputs": {"de_features": np.ones((5, 62, 5)).tolist()}})
        assert "at most 4 windows" in answer["error"]
    finally:
        handler_module.MAX_WINDOWS = windows


def test_a_request_at_the_limits_is_answered(handler, handler_module):
    rate = 2 * 50.0
    samples = int(handler_module.MAX_VALUES / 62 * rate / 200) // 20  # a twentieth of the limit keeps CI fast
    signals = (20.0 * np.random.default_rng(3).standard_normal((62, samples))).astype(np.float32)
    answer = handler({"inputs": {"signals": _b64(signals), "sampling_rate": rate}})
    assert isinstance(answer, list) and len(answer) == 3, answer
