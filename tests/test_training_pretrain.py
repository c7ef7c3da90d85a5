"""MBSM pre-training: the loss goes down, a killed run resumes to the same weights, NaN stops the run, and
fine-tuning starts from the pre-trained encoder's weights."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from .training_helpers import REPO, build_tiny_dataset, write_recipe

from moodreader_hf import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.training.data import load_tensors, normalize
from moodreader_hf.training.pretrain import TrainingDivergedError, latest_checkpoint, run_pretraining
from moodreader_hf.training.recipe import load_recipe

PRETRAIN = {"steps": 40, "batch_size": 16, "checkpoint_every": 4, "keep_checkpoints": 2, "warmup_steps": 2,
            "learning_rate": 0.003}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return build_tiny_dataset(tmp_path_factory.mktemp("pretrain-data"))


@pytest.fixture(scope="module")
def recipe_path(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("recipe") / "recipe.yaml", pretrain=PRETRAIN)


@pytest.fixture(scope="module")
def uninterrupted(dataset, recipe_path, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("uninterrupted")
    run_pretraining(load_recipe(recipe_path), [dataset], output, progress=False)
    return output


def _script(recipe_path: Path, dataset: Path, output: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO / "scripts" / "pretrain.py"), "--recipe", str(recipe_path), "--dataset",
            str(dataset), "--output-dir", str(output), "--no-progress", *extra]


def _masked_loss(model: MoodReaderForMaskedEEGModeling, de: torch.Tensor) -> float:
    generator = torch.Generator().manual_seed(123)
    mask = torch.rand(de.shape[:3], generator=generator) < 0.5
    with torch.no_grad():
        return float(model.eval()(de_features=de, de_token_mask=mask).loss)


def test_pretraining_lowers_the_masked_reconstruction_loss(uninterrupted, dataset, recipe_path):
    recipe = load_recipe(recipe_path)
    folder = uninterrupted / "model"
    extractor = MoodReaderFeatureExtractor.from_pretrained(folder)
    tensors = load_tensors(dataset, channel_names=extractor.channel_names, need=("de",))
    de = normalize(tensors.de, tensors.channel_mask, extractor.de_mean, extractor.de_std)
    torch.manual_seed(recipe.seed)
    untrained = MoodReaderForMaskedEEGModeling(recipe.model_config())
    trained = MoodReaderForMaskedEEGModeling.from_pretrained(folder)
    before, after = _masked_loss(untrained, de), _masked_loss(trained, de)
    assert after < 0.85 * before, (before, after)
    log = json.loads((uninterrupted / "pretrain_log.json").read_text())
    assert len(log["losses"]) == PRETRAIN["steps"]
    assert sum(log["losses"][-6:]) / 6 < sum(log["losses"][:6]) / 6


def test_killed_run_resumes_to_the_uninterrupted_result(uninterrupted, dataset, recipe_path, tmp_path):
    output = tmp_path / "killed"
    process = subprocess.Popen(_script(recipe_path, dataset, output), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while latest_checkpoint(output) is None or latest_checkpoint(output).name < "step-00000008":
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = latest_checkpoint(output).name
    assert not (output / "model").exists(), "the run finished before it was killed; the test proves nothing"
    assert int(killed_at.split("-")[1]) < PRETRAIN["steps"]
    resumed = subprocess.run(_script(recipe_path, dataset, output, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    expected = load_file(uninterrupted / "model" / "model.safetensors")
    got = load_file(output / "model" / "model.safetensors")
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=name)
    losses = json.loads((output / "pretrain_log.json").read_text())["losses"]
    assert losses == json.loads((uninterrupted / "pretrain_log.json").read_text())["losses"]


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(dataset, tmp_path):
    recipe_path = write_recipe(tmp_path / "nan.yaml", pretrain={**PRETRAIN, "learning_rate": 1.0e30,
                                                                "warmup_steps": 0, "checkpoint_every": 1})
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step (\d+) \(epoch 0, batch \d+") as caught:
        run_pretraining(load_recipe(recipe_path), [dataset], tmp_path / "run", progress=False)
    step = int(caught.value.args[0].split(" at step ")[1].split(" ")[0])
    kept = latest_checkpoint(tmp_path / "run")
    assert step >= 2 and kept is not None and kept.name == f"step-{step - 1:08d}"
    assert str(kept) in str(caught.value)
    assert not (tmp_path / "run" / "model").exists()


def test_finetuning_starts_from_the_pretrained_encoder(uninterrupted, recipe_path):
    pretrained = load_file(uninterrupted / "model" / "model.safetensors")
    config = load_recipe(recipe_path).model_config(num_labels=3)
    model = MoodReaderForEmotionRecognition.from_pretrained(uninterrupted / "model", config=config)
    encoder = {f"moodreader.{name}": value for name, value in model.moodreader.state_dict().items()}
    assert encoder and encoder.keys() <= pretrained.keys()
    for name, value in encoder.items():
        torch.testing.assert_close(value, pretrained[name], rtol=0, atol=0, msg=name)
    scratch = MoodReaderForEmotionRecognition(config)
    assert not torch.equal(scratch.moodreader.de_embeddings.electrode_embeddings,
                           model.moodreader.de_embeddings.electrode_embeddings)
