"""Eye-movement features end to end: a simulated SEED-V download, leave-one-subject-out fine-tuning with eye
features normalised on the training subjects only, and inference through the pipeline with eye features."""

from __future__ import annotations

import importlib.util
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
    for fold in report["folds"]:
        extractor = MoodReaderFeatureExtractor.from_pretrained(folder / "run" / fold["model"])
        training = eye[np.isin(subjects, fold["train_subjects"])].reshape(-1, 33)
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


def test_the_space_of_an_eye_model_asks_for_what_it_needs(eye_run, tmp_path):
    """A SEED-V model needs eye features and, trained on SEED-V's distributed DE, refuses raw recordings: its Space
    says so for an upload without eye features and for a recording with them."""
    pytest.importorskip("gradio", reason="gradio is the optional [space] extra")
    import mne

    from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
    from moodreader_hf.space import build_space

    folder, _, report = eye_run
    space = build_space(folder / "run" / report["folds"][0]["model"], tmp_path / "space", copy_model=True,
                        example_seconds=8.0)
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
    finally:
        sys.path.remove(str(space))
        for name in [name for name in sys.modules if name.startswith("moodreader_explain")]:
            del sys.modules[name]
