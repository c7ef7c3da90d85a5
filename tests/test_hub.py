"""Publishing: the repo folder loads without this package, the card carries the report's numbers, uploads go through
huggingface_hub (checked against a recording double of HfApi; nothing is sent anywhere)."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard

from moodreader_hf import MoodReaderForEmotionRecognition
from moodreader_hf import hub
from moodreader_hf.atomic import MARKER
from moodreader_hf.commands import publish
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.modeling_moodreader import AUTO_MAP
from moodreader_hf.validation import MoodReaderInputError

from .conftest import tiny_config

REPORT = {
    "protocol": "leave-one-subject-out",
    "dataset": "simulated-seed",
    "folds": [
        {"test_subject": "1", "train_subjects": ["2", "3"], "accuracy": 0.6125, "macro_f1": 0.5875, "n_test": 40},
        {"test_subject": "2", "train_subjects": ["1", "3"], "accuracy": 0.475, "macro_f1": 0.4421, "n_test": 40},
        {"test_subject": "3", "train_subjects": ["1", "2"], "accuracy": 0.8375, "macro_f1": 0.8312, "n_test": 40},
    ],
    "accuracy_mean": 0.6416666666666667,
    "accuracy_std": 0.14952,
    "macro_f1_mean": 0.6202666666666666,
    "macro_f1_std": 0.16136,
    "chance_level": 0.3333333333333333,
    "baseline": {"name": "logistic regression", "accuracy_mean": 0.51, "accuracy_std": 0.07},
    "simulated": True,
    "recipe": {"dataset": {"sequence_windows": 4}},
    "versions": {"torch": torch.__version__},
}


def save_tiny_model(folder: Path, report: dict | None = REPORT) -> Path:
    torch.manual_seed(3)
    config = tiny_config(max_windows=8, sequence_windows=5)
    rng = np.random.default_rng(3)
    MoodReaderForEmotionRecognition(config).save_pretrained(folder)
    MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist()
    ).save_pretrained(folder)
    if report is not None:
        (folder / "report.json").write_text(json.dumps(report))
    return folder


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("publish")
    model_dir = save_tiny_model(root / "model")
    return hub.build_model_repo(model_dir, root / "repo", repo_id="someone/moodreader-tiny")


@pytest.fixture(scope="module")
def edf(tmp_path_factory) -> Path:
    rng = np.random.default_rng(4)
    names = [name for name in SEED_CHANNEL_NAMES if name not in ("CB1", "CB2")]
    signals = 20.0 * rng.standard_normal((len(names), 160 * 13)) * 1e-6
    path = tmp_path_factory.mktemp("edf") / "recording.edf"
    raw = mne.io.RawArray(signals, mne.create_info(names, 160.0, "eeg"), verbose="error")
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    return path


def test_repo_folder_has_every_file_and_registration(published):
    assert sorted(os.listdir(published)) == sorted([*hub.MODEL_REPO_FILES, MARKER])
    config = json.loads((published / "config.json").read_text())
    assert config["auto_map"] == AUTO_MAP
    assert config["custom_pipelines"] == {
        "eeg-emotion-recognition": {"impl": "pipeline_moodreader.EEGEmotionRecognitionPipeline",
                                    "pt": ["AutoModelForSequenceClassification"]}
    }
    assert config["sequence_windows"] == 5
    extractor = json.loads((published / "preprocessor_config.json").read_text())
    assert extractor["auto_map"] == {"AutoFeatureExtractor": "feature_extraction_moodreader.MoodReaderFeatureExtractor"}
    package = Path(hub.__file__).parent
    for name in hub.REMOTE_CODE_FILES:
        assert (published / name).read_text() == (package / name).read_text()


def test_card_metadata_and_model_index_equal_the_report(published):
    card = ModelCard.load(published / "README.md")
    data = card.data
    assert data.library_name == "transformers"
    assert data.pipeline_tag == "tabular-classification"
    assert {"eeg", "emotion-recognition", "affective-computing", "simulated-data"} <= set(data.tags)
    assert data.datasets is None and data.license == "apache-2.0"  # simulated: no Hub dataset is named
    values = {(result.metric_type, result.metric_config): result.metric_value for result in data.eval_results}
    assert values == {("accuracy", None): REPORT["accuracy_mean"], ("accuracy_std", None): REPORT["accuracy_std"],
                      ("f1", "macro"): REPORT["macro_f1_mean"], ("f1_std", "macro"): REPORT["macro_f1_std"]}
    assert {result.dataset_split for result in data.eval_results} == {"leave-one-subject-out"}
    table = data.widget[0]["structuredData"]
    assert list(table) == [f"{c}_{b}" for c in SEED_CHANNEL_NAMES for b in ("delta", "theta", "alpha", "beta",
                                                                            "gamma")]
    assert {len(column) for column in table.values()} == {hub.WIDGET_WINDOWS}
    assert "These results come from simulated data" in card.text
    for fold in REPORT["folds"]:
        row = f"| {fold['test_subject']} | {fold['accuracy']:.4f} | {fold['macro_f1']:.4f} | {fold['n_test']} |"
        assert row in card.text
    assert "sensitive personal data" in card.text


def test_card_without_report_claims_no_results(tmp_path):
    model_dir = save_tiny_model(tmp_path / "model", report=None)
    repo = hub.build_model_repo(model_dir, tmp_path / "repo")
    card = ModelCard.load(repo / "README.md")
    assert card.data.eval_results is None
    assert "no evaluation report" in card.text and "simulated data" not in card.text


def test_published_folder_loads_without_the_package(published, edf, tmp_path):
    installed = hub.load_pipeline(published)(str(edf))
    script = tmp_path / "load.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.modules["moodreader_hf"] = None
        import json
        from transformers import (AutoConfig, AutoFeatureExtractor, AutoModel, AutoModelForSequenceClassification,
                                  pipeline)
        repo = {str(published)!r}
        names = [type(AutoConfig.from_pretrained(repo, trust_remote_code=True)).__name__,
                 type(AutoModel.from_pretrained(repo, trust_remote_code=True)).__name__,
                 type(AutoModelForSequenceClassification.from_pretrained(repo, trust_remote_code=True)).__name__,
                 type(AutoFeatureExtractor.from_pretrained(repo, trust_remote_code=True)).__name__]
        classifier = pipeline("eeg-emotion-recognition", model=repo, trust_remote_code=True)
        result = classifier({str(edf)!r})
        print(json.dumps({{"names": names, "module": type(classifier).__module__, "result": result}}))
    """))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["names"] == ["MoodReaderConfig", "MoodReaderModel", "MoodReaderForEmotionRecognition",
                               "MoodReaderFeatureExtractor"]
    assert answer["module"].startswith("transformers_modules.")
    assert answer["result"]["missing_channels"] == ["CB1", "CB2"]
    assert [s["windows"] for s in answer["result"]["segments"]] == [5, 5, 3]
    assert answer["result"]["label"] == installed["label"]
    np.testing.assert_allclose([e["score"] for e in answer["result"]["scores"]],
                               [e["score"] for e in installed["scores"]], rtol=1e-6)
    for remote, local in zip(answer["result"]["segments"], installed["segments"]):
        assert [e["label"] for e in remote["scores"]] == [e["label"] for e in local["scores"]]
        assert [e["score"] for e in remote["scores"]] == pytest.approx([e["score"] for e in local["scores"]], rel=1e-6)


class RecordingApi:
    """Stands in for HfApi: records calls, keeps the file list and card of the uploaded folder, sends nothing."""

    calls: list = []

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, **kwargs):
        RecordingApi.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        RecordingApi.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, *, folder_path, ignore_patterns=(), **kwargs):
        files = sorted(name for name in (str(path.relative_to(folder_path)) for path in Path(folder_path).rglob("*")
                                         if path.is_file())
                       if not any(fnmatch.fnmatch(name, pattern) for pattern in ignore_patterns or ()))
        readme = (Path(folder_path) / "README.md").read_text()
        RecordingApi.calls.append(("upload_folder", files, kwargs, readme))
        return "recorded-commit"


def publish_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    publish.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["publish", *argv])


def test_upload_sends_the_repo_folder_with_the_commit_message(tmp_path, monkeypatch, capsys):
    model_dir = save_tiny_model(tmp_path / "model")
    RecordingApi.calls = []
    monkeypatch.setattr(hub, "HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", "hf_recorded_not_real")
    args = publish_args(str(model_dir), "--repo-id", "someone/moodreader-tiny", "--commit-message", "Release v1",
                        "--revision", "v1")
    assert publish.run(args) == 0
    (create, repo_id, create_kwargs), branch, upload = RecordingApi.calls
    assert (create, repo_id, create_kwargs["exist_ok"], create_kwargs["token"]) == (
        "create_repo", "someone/moodreader-tiny", True, "hf_recorded_not_real")
    assert branch[0] == "create_branch" and branch[2]["branch"] == "v1"
    _, files, kwargs, readme = upload
    assert files == sorted(hub.MODEL_REPO_FILES)
    assert kwargs["commit_message"] == "Release v1" and kwargs["revision"] == "v1"
    assert kwargs["repo_id"] == "someone/moodreader-tiny" and kwargs.get("repo_type", "model") == "model"
    assert 'model="someone/moodreader-tiny"' in readme
    assert "recorded-commit" in capsys.readouterr().out


def test_upload_without_token_fails_before_any_work(tmp_path, monkeypatch):
    model_dir = save_tiny_model(tmp_path / "model")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(hub, "get_token", lambda: None)
    monkeypatch.setattr(hub, "build_model_repo", lambda *a, **k: pytest.fail("built the folder without a token"))
    monkeypatch.setattr(publish, "build_model_repo", lambda *a, **k: pytest.fail("built the folder without a token"))
    args = publish_args(str(model_dir), "--repo-id", "someone/x", "--local-dir", str(tmp_path / "repo"))
    with pytest.raises(MoodReaderInputError, match="hf auth login"):
        publish.run(args)
    assert not (tmp_path / "repo").exists()


def test_refuses_to_replace_an_unrelated_folder(tmp_path):
    model_dir = save_tiny_model(tmp_path / "model")
    target = tmp_path / "notes"
    target.mkdir()
    (target / "thesis.tex").write_text("keep me")
    with pytest.raises(MoodReaderInputError, match="--local-dir.*moodreader did not write"):
        hub.build_model_repo(model_dir, target, overwrite=True)
    assert (target / "thesis.tex").read_text() == "keep me"


def test_report_without_a_key_is_named(tmp_path):
    model_dir = save_tiny_model(tmp_path / "model", report={k: v for k, v in REPORT.items() if k != "accuracy_std"})
    with pytest.raises(MoodReaderInputError, match="accuracy_std"):
        hub.build_model_repo(model_dir, tmp_path / "repo")
    assert not (tmp_path / "repo").exists()


def test_publish_dataset_uploads_parquet_and_card(tmp_path, monkeypatch):
    from moodreader_hf.builders import build_dataset
    from moodreader_hf.commands import publish_dataset
    from moodreader_hf.simulation import simulate_seed

    root = simulate_seed(tmp_path / "sim", n_subjects=1, n_sessions=1, trial_seconds=6, progress=False)
    dataset = build_dataset("seed", root, tmp_path / "dataset", sequence_windows=3, stride=3, simulated=True,
                            progress=False)
    RecordingApi.calls = []
    monkeypatch.setattr(hub, "HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", "hf_recorded_not_real")
    parser = argparse.ArgumentParser()
    publish_dataset.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["publish-dataset", str(dataset), "--repo-id", "someone/simulated-seed",
                              "--commit-message", "Add simulated SEED"])
    assert publish_dataset.run(args) == 0
    (_, repo_id, create_kwargs), (_, files, kwargs, readme) = RecordingApi.calls
    assert repo_id == "someone/simulated-seed" and create_kwargs["repo_type"] == "dataset"
    assert kwargs["repo_type"] == "dataset" and kwargs["commit_message"] == "Add simulated SEED"
    assert "README.md" in files and "moodreader_dataset.json" in files
    assert [name for name in files if name.startswith("data/")] == ["data/train-00000-of-00001.parquet"]
    assert "data/train-*" in readme and "simulated" in readme.lower()

    monkeypatch.setattr(hub, "get_token", lambda: None)
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setattr(publish_dataset, "export_parquet", lambda *a, **k: pytest.fail("exported without a token"))
    with pytest.raises(MoodReaderInputError, match="hf auth login"):
        publish_dataset.run(args)


@pytest.mark.parametrize(
    ("simulated", "dataset_id", "expected"),
    [(True, None, None), (False, None, ["simulated-seed"]), (True, "you/my-eeg", ["you/my-eeg"])],
)
def test_card_names_a_hub_dataset_only_for_real_data_or_when_given(simulated, dataset_id, expected):
    config = tiny_config()
    extractor = MoodReaderFeatureExtractor.from_model_config(config)
    card = hub.render_model_card(config, extractor, {**REPORT, "simulated": simulated}, dataset_id=dataset_id)
    assert card.data.datasets == expected
