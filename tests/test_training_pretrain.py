"""MBSM pre-training on a raw-EEG corpus: the loss beats two naive baselines on real EEG, a killed run resumes to
the same weights, processes read disjoint shards, stale checkpoints are refused, NaN stops the run, and fine-tuning
on another montage takes every encoder weight from the pre-training and reports what the pre-training saw."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import mne
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from moodreader_hf import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling
from moodreader_hf.configuration_moodreader import electrode_ids
from moodreader_hf.builders import build_corpus, build_dataset
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.pipeline_moodreader import TASK, EEGEmotionRecognitionPipeline
from moodreader_hf.training.evaluate import evaluate_model
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.pretrain import TrainingDivergedError, latest_checkpoint, run_pretraining
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.training.stream import SignalBatches, open_corpus
from moodreader_hf.training.transfer import transfer_pretrained
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import REPO, write_recipe

WINDOWS = 4
PRETRAIN = {"steps": 80, "batch_size": 8, "checkpoint_every": 4, "keep_checkpoints": 2, "warmup_steps": 2,
            "learning_rate": 0.003, "shuffle_buffer": 8, "log_every": 5}
PATCH = 100  # the tiny recipe's signal_patch_size


def _nineteen_channel_edf(folder: Path) -> Path:
    """A 19-electrode 10-20 recording at 256 Hz, exported by MNE (a second montage and rate in the corpus)."""
    names = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8",
             "O1", "O2"]
    rng = np.random.default_rng(3)
    seconds, rate = 40, 256
    t = np.arange(seconds * rate) / rate
    data = 20e-6 * (rng.standard_normal((19, t.size)) + np.sin(2 * np.pi * 10 * t + rng.uniform(0, 6, (19, 1))))
    raw = mne.io.RawArray(data, mne.create_info(names, rate, "eeg"), verbose="error")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clinic.edf"
    mne.export.export_raw(path, raw, verbose="error")
    return path


@pytest.fixture(scope="module")
def corpus(physionet_edf, tmp_path_factory) -> Path:
    sources = tmp_path_factory.mktemp("corpus-sources")
    (sources / "S001").mkdir()
    (sources / "S001" / physionet_edf.name).symlink_to(physionet_edf)
    _nineteen_channel_edf(sources / "clinic-07")
    return build_corpus([sources], tmp_path_factory.mktemp("corpus") / "corpus", sequence_windows=WINDOWS,
                        shard_size_mb=0.5, progress=False)


@pytest.fixture(scope="module")
def recipe_path(tmp_path_factory) -> Path:
    return write_recipe(tmp_path_factory.mktemp("recipe") / "recipe.yaml", pretrain=PRETRAIN)


@pytest.fixture(scope="module")
def uninterrupted(corpus, recipe_path, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("uninterrupted")
    run_pretraining(load_recipe(recipe_path), corpus_paths=[corpus], output_dir=output, progress=False)
    return output


def _script(recipe_path: Path, corpus: Path, output: Path, *extra: str) -> list[str]:
    return [sys.executable, str(REPO / "scripts" / "pretrain.py"), "--recipe", str(recipe_path), "--corpus",
            str(corpus), "--output-dir", str(output), "--no-progress", *extra]


def _corpus_rows(corpus: Path) -> list[tuple[np.ndarray, list[str]]]:
    import datasets

    rows = datasets.load_dataset(str(corpus), split="train").with_format("numpy")
    return [(np.asarray(row["signal"], dtype=np.float32), list(row["channel_names"])) for row in rows]


def _patch_targets(signal: np.ndarray) -> np.ndarray:
    """Independent recipe of the raw-patch targets: ``(patches, channels, PATCH + 1)``, each channel centred and
    divided by its population SD over the row, cut into patches of ``PATCH`` samples, then each patch's
    ``log(1 + SD)``."""
    channels, samples = signal.shape
    data = signal.astype(np.float64)
    centred = data - data.mean(axis=1, keepdims=True)
    scaled = (centred / (centred.std(axis=1, keepdims=True) + 1e-6)).reshape(channels, samples // PATCH, PATCH)
    amplitude = data.reshape(channels, samples // PATCH, PATCH).std(axis=-1, keepdims=True)
    return np.concatenate([scaled, np.log1p(amplitude)], axis=-1).transpose(1, 0, 2)


def test_mbsm_on_real_eeg_beats_the_mean_patch_and_copy_the_neighbour_baselines(uninterrupted, corpus):
    model = MoodReaderForMaskedEEGModeling.from_pretrained(uninterrupted / "model").eval()
    rng = np.random.default_rng(0)
    errors = {"model": [], "mean patch": [], "copy the neighbour": []}

    for signal_row, names in _corpus_rows(corpus):
        targets = _patch_targets(signal_row)
        patches, channels, _ = targets.shape
        mask = rng.random((patches, channels)) < 0.5
        mask[0] = mask[-1] = False  # every masked patch has a visible one before and after it in time
        visible = targets[~mask]
        errors["mean patch"].append(((targets[mask] - visible.mean(axis=0)) ** 2).mean())
        neighbour = np.empty_like(targets)
        for channel in range(channels):
            seen = np.flatnonzero(~mask[:, channel])
            nearest = seen[np.abs(np.arange(patches)[:, None] - seen[None]).argmin(axis=1)]
            neighbour[:, channel] = targets[nearest, channel]
        errors["copy the neighbour"].append(((targets[mask] - neighbour[mask]) ** 2).mean())
        with torch.no_grad():
            out = model(eeg_signals=torch.from_numpy(signal_row[None]),
                        electrode_ids=torch.tensor(electrode_ids(names)),
                        signal_token_mask=torch.from_numpy(mask[None]))
        prediction = out.signal_logits[0].double().numpy()
        errors["model"].append(((prediction[mask] - targets[mask]) ** 2).mean())
    means = {name: float(np.mean(values)) for name, values in errors.items()}
    assert means["model"] < means["mean patch"] and means["model"] < means["copy the neighbour"], means


def test_log_and_provenance_record_what_was_seen(uninterrupted, corpus):
    log = json.loads((uninterrupted / "pretrain_log.json").read_text())
    assert len(log["losses"]) == PRETRAIN["steps"] and [entry["step"] for entry in log["log"]] == list(
        range(5, PRETRAIN["steps"] + 1, 5))
    rows = sum(1 for _ in _corpus_rows(corpus))
    expected_hours = PRETRAIN["steps"] * PRETRAIN["batch_size"] * WINDOWS / 3600
    assert log["log"][-1]["hours_seen"] == pytest.approx(expected_hours)
    assert all(entry["samples_per_second"] > 0 for entry in log["log"])
    record = json.loads((uninterrupted / "model" / "pretraining.json").read_text())
    (source,) = record["sources"]
    assert source["rows"] == rows and source["kind"] == "corpus"
    assert sorted(source["subjects"]) == ["S001", "clinic-07"]
    assert source["hours"] == pytest.approx(rows * WINDOWS / 3600)
    assert record["trained_weights"] == ["moodreader.signal_embeddings.", "moodreader.signal_encoder."]


def test_killed_run_resumes_to_the_uninterrupted_result(uninterrupted, corpus, recipe_path, tmp_path):
    output = tmp_path / "killed"
    process = subprocess.Popen(_script(recipe_path, corpus, output), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while latest_checkpoint(output) is None or latest_checkpoint(output).name < "step-00000012":
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 180 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = latest_checkpoint(output).name
    assert not (output / "model").exists(), "the run finished before it was killed; the test proves nothing"
    assert int(killed_at.split("-")[1]) < PRETRAIN["steps"]
    resumed = subprocess.run(_script(recipe_path, corpus, output, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    expected = load_file(uninterrupted / "model" / "model.safetensors")
    got = load_file(output / "model" / "model.safetensors")
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], rtol=0, atol=0, msg=name)
    losses = json.loads((output / "pretrain_log.json").read_text())["losses"]
    assert losses == json.loads((uninterrupted / "pretrain_log.json").read_text())["losses"]


def _fingerprints(batches: SignalBatches, count: int) -> list[str]:
    found = []
    iterator = iter(batches)
    while len(found) < count:
        batch = next(iterator)
        for signal_row, mask in zip(batch["eeg_signals"].numpy(), batch["channel_mask"].numpy()):
            found.append(hashlib.sha1(signal_row[mask.astype(bool)].tobytes()).hexdigest())
    return found[:count]


def test_processes_read_disjoint_shards_whose_union_is_the_corpus(corpus):
    source = open_corpus(corpus)
    assert len(source.files) >= 2, "the test corpus must have several shards"
    everything = sorted(hashlib.sha1(signal_row.tobytes()).hexdigest() for signal_row, _ in _corpus_rows(corpus))
    per_rank = []
    for rank in (0, 1):
        rows = sum(1 for _ in SignalBatches([source], batch_size=1, buffer_size=4, seed=0, rank=rank,
                                            world_size=2)._shuffled(0))
        per_rank.append(_fingerprints(SignalBatches([source], batch_size=1, buffer_size=4, seed=0, rank=rank,
                                                    world_size=2), rows))
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == everything


def test_two_processes_pretrain_on_their_own_shards(corpus, recipe_path, tmp_path):
    output = tmp_path / "two"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
              str(REPO / "modeling" / "accelerate" / "cpu_2proc.yaml"), "--mixed_precision", "no", "--dynamo_backend",
              "no"]
    recipe = write_recipe(tmp_path / "short.yaml", pretrain={**PRETRAIN, "steps": 4})
    finished = subprocess.run([*launch, *_script(recipe, corpus, output)[1:]], capture_output=True, text=True,
                              cwd=REPO)
    assert finished.returncode == 0, finished.stderr[-3000:]
    log = json.loads((output / "pretrain_log.json").read_text())
    assert log["runtime"]["num_processes"] == 2 and len(log["losses"]) == 4
    state = json.loads((latest_checkpoint(output) / "trainer_state.json").read_text())
    assert len(state["positions"]) == 2


def test_a_fresh_run_refuses_another_runs_checkpoints(uninterrupted, corpus, recipe_path, tmp_path):
    output = tmp_path / "reuse"
    output.mkdir()
    (output / "checkpoints").symlink_to(uninterrupted / "checkpoints", target_is_directory=True)
    with pytest.raises(MoodReaderInputError, match=r"checkpoints of an earlier run"):
        run_pretraining(load_recipe(recipe_path), corpus_paths=[corpus], output_dir=output, progress=False)
    other = write_recipe(tmp_path / "other.yaml", pretrain={**PRETRAIN, "learning_rate": 0.001})
    with pytest.raises(MoodReaderInputError, match=r"fingerprint.*one of another run"):
        run_pretraining(load_recipe(other), corpus_paths=[corpus], output_dir=output, resume=True, progress=False)
    assert not (output / "model").exists()


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(corpus, tmp_path):
    recipe_path = write_recipe(tmp_path / "nan.yaml", pretrain={**PRETRAIN, "learning_rate": 1.0e30,
                                                                "warmup_steps": 0, "checkpoint_every": 1})
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step (\d+) \(epoch \d+, batch \d+") as caught:
        run_pretraining(load_recipe(recipe_path), corpus_paths=[corpus], output_dir=tmp_path / "run",
                        progress=False)
    step = int(caught.value.args[0].split(" at step ")[1].split(" ")[0])
    kept = latest_checkpoint(tmp_path / "run")
    assert step >= 2 and kept is not None and kept.name == f"step-{step - 1:08d}"
    assert str(kept) in str(caught.value)
    assert not (tmp_path / "run" / "model").exists()


@pytest.fixture(scope="module")
def seed_raw(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("seed-raw")
    root = simulate_seed(folder / "simulated", n_subjects=3, n_sessions=1, trial_seconds=16, seed=4, progress=False)
    return build_dataset("seed-raw", root, folder / "dataset", sequence_windows=WINDOWS, stride=WINDOWS,
                         include_signal=True, progress=False)


def test_the_64_channel_encoder_fine_tunes_on_62_channels_with_every_encoder_weight(uninterrupted, seed_raw,
                                                                                   recipe_path, tmp_path):
    recipe = load_recipe(write_recipe(tmp_path / "ft.yaml", pretrain=PRETRAIN, finetune={"epochs": 1}))
    report = run_finetuning(recipe, seed_raw, tmp_path / "loso", pretrained=uninterrupted / "model", progress=False)
    pretrained = load_file(uninterrupted / "model" / "model.safetensors")
    encoder = sorted(name for name in pretrained if name.startswith(("moodreader.signal_embeddings.",
                                                                       "moodreader.signal_encoder.")))
    fold = report["folds"][0]
    tuned = MoodReaderForEmotionRecognition.from_pretrained(tmp_path / "loso" / fold["model"])
    assert tuned.config.num_channels == 62 and tuned.config.streams == ["de", "signal"]
    section = report["pretraining"]
    assert section["loaded_modules"] == ["moodreader.signal_embeddings", "moodreader.signal_encoder"]
    assert section["loaded_tensors"] == len(encoder) > 20
    assert "moodreader.signal_pooler" in section["fresh_modules"] and "classifier.weight" in section["fresh_modules"]
    assert section["overlap"]["test_subjects_seen_in_pretraining"] == []
    folder = tmp_path / "loso" / fold["model"]
    assert evaluate_model(folder, seed_raw, subjects=[fold["test_subject"]])["accuracy"] == pytest.approx(
        fold["accuracy"])  # evaluate feeds the raw signal too
    extractor = MoodReaderFeatureExtractor.from_pretrained(folder)
    signal = 20 * np.random.default_rng(8).standard_normal((62, 200 * WINDOWS))
    pipe = EEGEmotionRecognitionPipeline(model=tuned.eval(), feature_extractor=extractor, task=TASK, device=-1)
    scores = {entry["label"]: entry["score"] for entry in pipe(signal, sampling_rate=200)["scores"]}
    inputs = extractor(signal, sampling_rate=200, return_signals=True, smoothing_span=WINDOWS)
    with torch.no_grad():
        expected = tuned(de_features=inputs["de_features"], eeg_signals=inputs["eeg_signals"],
                         channel_mask=inputs["channel_mask"]).logits.softmax(-1)[0]
    for index, probability in enumerate(expected.tolist()):
        assert scores[tuned.config.id2label[index]] == pytest.approx(probability, rel=1e-5)
    fresh = MoodReaderForEmotionRecognition(tuned.config)
    transfer = transfer_pretrained(fresh, uninterrupted / "model", explicit_signal=True)
    assert transfer.loaded == encoder
    state = fresh.state_dict()
    for name in encoder:
        assert torch.equal(state[name], pretrained[name]), name


def test_pretraining_on_the_evaluated_dataset_is_reported_and_can_be_refused(seed_raw, tmp_path):
    recipe_path = write_recipe(tmp_path / "own.yaml", pretrain={**PRETRAIN, "steps": 2, "checkpoint_every": 2},
                               finetune={"epochs": 1})
    pretrained = run_pretraining(load_recipe(recipe_path), [seed_raw], tmp_path / "pre", progress=False)
    report = run_finetuning(load_recipe(recipe_path), seed_raw, tmp_path / "warn", pretrained=pretrained,
                            progress=False)
    overlap = report["pretraining"]["overlap"]
    assert overlap["test_subjects_seen_in_pretraining"] == ["1", "2", "3"]
    assert overlap["dataset_id"] == "SEED (simulated, seed 4)"
    assert "Overlap: the pre-training saw test subjects 1, 2, 3" in (tmp_path / "warn" / "report.md").read_text()
    strict = write_recipe(tmp_path / "strict.yaml", pretrain={**PRETRAIN, "steps": 2},
                          finetune={"epochs": 1, "pretraining_overlap": "error"})
    with pytest.raises(MoodReaderInputError, match=r"pretraining_overlap.*test subjects \['1', '2', '3'\]"):
        run_finetuning(load_recipe(strict), seed_raw, tmp_path / "error", pretrained=pretrained, progress=False)
    assert not (tmp_path / "error" / "folds").exists()
