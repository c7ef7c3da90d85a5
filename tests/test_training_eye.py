"""Eye-movement features end to end: a simulated SEED-V download, leave-one-subject-out fine-tuning with eye
features normalised on the training subjects only, and inference through the pipeline with eye features."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from moodreader_hf import hub
from moodreader_hf.explain import dataset_inputs, electrode_importance
import torch

from moodreader_hf import MoodReaderFeatureExtractor, MoodReaderForEmotionRecognition
from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.evaluate import evaluate_model
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe

from .training_helpers import REPO, write_recipe


@pytest.fixture(scope="module")
def eye_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed_v")
    root = simulate_seed(folder / "raw", n_subjects=3, trial_seconds=16.0, layout="seed-v", seed=3, progress=False)
    dataset = build_dataset("seed-v", root, folder / "dataset", sequence_windows=2, stride=2, progress=False)
    recipe_path = write_recipe(
        folder / "recipe.yaml",
        dataset={"layout": "seed-v", "sequence_windows": 2, "stride": 2},
        model={"window_seconds": 4.0, "max_windows": 4, "eye_feature_size": 33},
        finetune={"epochs": 1, "use_eye": True},
    )
    report = run_finetuning(load_recipe(recipe_path), dataset, folder / "run", protocol="loso", progress=False)
    return folder, dataset, report


def test_eye_statistics_come_from_training_subjects_only(eye_run):
    folder, dataset, report = eye_run
    rows = load_built_dataset(dataset)[0]["train"].with_format("numpy")[:]
    subjects, eye = rows["subject"].astype(str), rows["eye"].astype(np.float64)
    regular = ~rows["tail"].astype(bool)  # a trial's tail row (its last windows, overlapping) is scored, never fitted
    for fold in report["folds"]:
        extractor = MoodReaderFeatureExtractor.from_pretrained(folder / "run" / fold["model"])
        pool = np.isin(subjects, fold["train_subjects"] + fold["validation_subjects"]) & regular
        training = eye[pool].reshape(-1, 33)
        assert fold["test_subject"] not in fold["train_subjects"] + fold["validation_subjects"]
        np.testing.assert_allclose(extractor.eye_mean, training.mean(axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(extractor.eye_std, np.maximum(training.std(axis=0), 1e-3), rtol=1e-5, atol=1e-6)
        assert not np.allclose(extractor.eye_mean, eye.reshape(-1, 33).mean(axis=0), rtol=1e-5)


def test_evaluation_and_pipeline_normalise_eye_features_as_training_did(eye_run):
    folder, dataset, report = eye_run
    fold = report["folds"][0]
    model_dir = folder / "run" / fold["model"]
    assert evaluate_model(model_dir, dataset, subjects=[fold["test_subject"]])["accuracy"] == pytest.approx(
        fold["accuracy"])

    model = MoodReaderForEmotionRecognition.from_pretrained(model_dir).eval()
    extractor = MoodReaderFeatureExtractor.from_pretrained(model_dir)
    row = load_built_dataset(dataset)[0]["train"].with_format("numpy")[0]
    pipe = EEGEmotionRecognitionPipeline(model=model, feature_extractor=extractor, task=TASK, device=-1)
    result = pipe({"de_features": row["de"], "eye_features": row["eye"]})
    eye = (row["eye"] - np.array(extractor.eye_mean)) / np.array(extractor.eye_std)
    de = (row["de"] - np.array(extractor.de_mean)) / np.array(extractor.de_std)
    with torch.no_grad():
        expected = model(de_features=torch.tensor(de, dtype=torch.float32)[None],
                         eye_features=torch.tensor(eye, dtype=torch.float32)[None]).logits.softmax(-1)[0]
    scores = {entry["label"]: entry["score"] for entry in result["scores"]}
    for index, probability in enumerate(expected.tolist()):
        assert scores[model.config.id2label[index]] == pytest.approx(probability, rel=1e-5)
    with pytest.raises(ValueError, match="field 'eye_features': expected eye-movement features \\(time, 33\\)"):
        pipe({"de_features": row["de"]})
    repo = hub.build_model_repo(model_dir, folder / "repo")
    spec = importlib.util.spec_from_file_location("eye_handler", repo / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answer = module.EndpointHandler(str(repo))({"inputs": {"de_features": row["de"].tolist(),
                                                           "eye_features": row["eye"].tolist()}})
    assert {entry["label"]: pytest.approx(entry["score"], rel=1e-5) for entry in answer} == scores
    assert "eye_features" in module.EndpointHandler(str(repo))({"inputs": {"de_features": row["de"].tolist()}})[
        "error"]
    inputs = dataset_inputs(dataset, extractor, max_rows=6, eye=True)
    np.testing.assert_allclose(inputs["eye_features"][0], eye, rtol=1e-5, atol=1e-5)
    importance = electrode_importance(model, **inputs, method="gradient")
    assert np.isfinite(importance.values[importance.samples > 0][:, importance.present]).all()
    assert (REPO / "modeling" / "moodreader-seed-v.yaml").is_file()


def direct_scores(model_dir, row) -> dict[str, float]:
    """Class probabilities of one dataset row by a direct model call, normalised by hand with the saved statistics."""
    model = MoodReaderForEmotionRecognition.from_pretrained(model_dir).eval()
    extractor = MoodReaderFeatureExtractor.from_pretrained(model_dir)
    de = (row["de"] - np.array(extractor.de_mean)) / np.array(extractor.de_std)
    eye = (row["eye"] - np.array(extractor.eye_mean)) / np.array(extractor.eye_std)
    with torch.no_grad():
        probabilities = model(de_features=torch.tensor(de, dtype=torch.float32)[None],
                              eye_features=torch.tensor(eye, dtype=torch.float32)[None]).logits.softmax(-1)[0]
    return {model.config.id2label[index]: value for index, value in enumerate(probabilities.tolist())}


def test_predict_and_explain_take_de_and_eye_feature_files(eye_run, tmp_path):
    folder, dataset, report = eye_run
    model_dir = folder / "run" / report["folds"][0]["model"]
    row = load_built_dataset(dataset)[0]["train"].with_format("numpy")[0]
    np.savez(tmp_path / "de.npz", de_features=row["de"])
    np.save(tmp_path / "eye.npy", row["eye"])
    done = subprocess.run([sys.executable, "-m", "moodreader_hf.cli", "predict", str(tmp_path / "de.npz"), "--model",
                           str(model_dir), "--eye-features", str(tmp_path / "eye.npy"), "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert {entry["label"]: entry["score"] for entry in result["scores"]} == pytest.approx(
        direct_scores(model_dir, row), rel=1e-5)
    done = subprocess.run([sys.executable, "-m", "moodreader_hf.cli", "predict", str(tmp_path / "de.npz"), "--model",
                           str(model_dir)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 2 and "eye_features" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "moodreader_hf.cli", "explain", str(tmp_path / "de.npz"), "--model",
                           str(model_dir), "--eye-features", str(tmp_path / "eye.npy"), "--method", "gradient",
                           "--output", str(tmp_path / "map.png"), "--json", str(tmp_path / "map.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    values = np.array(json.loads((tmp_path / "map.json").read_text())["values"], dtype=float)
    assert (tmp_path / "map.png").stat().st_size > 10_000 and np.isfinite(values[~np.isnan(values)]).all()
    assert np.count_nonzero(~np.isnan(values)) > 0


def test_the_space_of_an_eye_model_asks_for_what_it_needs(eye_run, tmp_path):
    """A SEED-V model needs eye features and, trained on SEED-V's distributed DE, refuses raw recordings: its Space
    says so for an upload without eye features and for a recording with them, and scores an .npz of DE (with the eye
    features inside or beside it) as a direct model call does."""
    pytest.importorskip("gradio", reason="gradio is the optional [space] extra")
    import mne

    from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
    from moodreader_hf.space import build_space

    folder, dataset, report = eye_run
    model_dir = folder / "run" / report["folds"][0]["model"]
    space = build_space(model_dir, tmp_path / "space", copy_model=True, example_seconds=8.0)
    row = load_built_dataset(dataset)[0]["train"].with_format("numpy")[0]
    archive = tmp_path / "features.npz"
    np.savez(archive, de_features=row["de"], eye_features=row["eye"])
    np.savez(tmp_path / "de_only.npz", de_features=row["de"])
    eye_file = tmp_path / "eye.csv"
    np.savetxt(eye_file, row["eye"], delimiter=",")
    raw = mne.io.RawArray(2e-5 * np.random.default_rng(0).standard_normal((62, 200 * 16)),
                          mne.create_info(list(SEED_CHANNEL_NAMES), 200.0, "eeg"), verbose="error")
    recording = tmp_path / "recording.edf"
    mne.export.export_raw(recording, raw, verbose="error")
    eye = tmp_path / "eye.npy"
    np.save(eye, np.random.default_rng(1).standard_normal((4, 33)))
    sys.path.insert(0, str(space))
    try:
        spec = importlib.util.spec_from_file_location("eye_space_app", space / "app.py")
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
        status, scores, _, _ = app.analyse([str(recording)])
        assert scores is None and "one .npy or .csv file of eye-movement features (windows, 33)" in status["value"]
        status, scores, _, _ = app.analyse([str(recording), str(eye)])
        assert scores is None and "computed as" in status["value"] and "got raw signals" in status["value"]
        status, scores, timeline, image = app.analyse([str(archive)])
        assert status["visible"] is False and image.ndim == 3 and timeline is not None
        assert scores == pytest.approx(direct_scores(model_dir, row), rel=1e-5)
        status, scores, _, _ = app.analyse([str(tmp_path / "de_only.npz"), str(eye_file)])
        assert scores == pytest.approx(direct_scores(model_dir, row), rel=1e-5)
    finally:
        sys.path.remove(str(space))
        for name in [name for name in sys.modules if name.startswith("moodreader_explain")]:
            del sys.modules[name]
