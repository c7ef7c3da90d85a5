"""Folds trained in worker processes give exactly what the calling process gives, and a frozen pre-trained
raw-signal encoder stays as pre-training left it while its cached output stands in for the raw signal."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForSequenceClassification

from moodreader_hf.builders import build_corpus, build_dataset, load_built_dataset
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training import fold_pool, runtime
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.fold_pool import worker_count
from moodreader_hf.training.pretrain import run_pretraining
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import write_recipe

RAW_DATASET = {"layout": "seed-raw", "sequence_windows": 4, "stride": 4, "smoothing": "moving_average",
               "include_signal": True}


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory):
    """Three simulated subjects with their raw signal, rows of 4 windows, and a short MBSM pre-training on two
    other simulated subjects."""
    folder = tmp_path_factory.mktemp("workers")
    root = simulate_seed(folder / "raw", n_subjects=3, n_sessions=1, trial_seconds=12, seed=3, progress=False)
    dataset = build_dataset("seed-raw", root, folder / "dataset", sequence_windows=4, stride=4,
                            smoothing="moving_average", include_signal=True, progress=False)
    other = simulate_seed(folder / "other", n_subjects=2, n_sessions=1, trial_seconds=12, seed=4, progress=False)
    corpus = build_corpus([other], folder / "corpus", layout="seed-raw", sequence_windows=4, progress=False)
    recipe_path = write_recipe(folder / "recipe.yaml", dataset=RAW_DATASET,
                               pretrain={"steps": 3, "checkpoint_every": 3, "log_every": 1},
                               finetune={"epochs": 2, "patience": 2, "baseline_c": [1.0]})
    pretrained = run_pretraining(load_recipe(recipe_path), corpus_paths=[corpus], output_dir=folder / "pretrain",
                                 progress=False)
    return dataset, recipe_path, pretrained


def _finetune(raw_run, output: Path, workers: str, monkeypatch) -> tuple[dict, list[tuple[str, str, list[int]]]]:
    dataset, recipe_path, pretrained = raw_run
    monkeypatch.setenv("MOODREADER_FOLD_WORKERS", workers)
    monkeypatch.setenv("MOODREADER_NUM_THREADS", "1")
    batches: list[tuple[str, str, list[int]]] = []
    report = run_finetuning(load_recipe(recipe_path), dataset, output, pretrained=pretrained, progress=False,
                            callback=lambda fold, phase, rows: batches.append((fold, phase, rows.tolist())),
                            final_model=output / "final")
    return report, batches


def _predictions(run: Path, fold: dict) -> list[dict[str, str]]:
    with open(run / fold["predictions"], newline="") as handle:
        return list(csv.DictReader(handle))


def test_two_fold_workers_give_the_in_process_run_exactly(raw_run, tmp_path, monkeypatch):
    alone, alone_batches = _finetune(raw_run, tmp_path / "alone", "0", monkeypatch)
    pooled, pooled_batches = _finetune(raw_run, tmp_path / "pooled", "2", monkeypatch)
    assert alone["runtime"]["fold_workers"] == 0 and pooled["runtime"]["fold_workers"] == 2
    assert pooled_batches == alone_batches and {phase for _, phase, _ in alone_batches} == {"train", "validation",
                                                                                          "test"}
    assert [fold["name"] for fold in pooled["folds"]] == ["subject-1", "subject-2", "subject-3"]
    for mine, theirs in zip(pooled["folds"], alone["folds"]):
        assert _predictions(tmp_path / "pooled", mine) == _predictions(tmp_path / "alone", theirs)
        assert mine["best_epoch"] == theirs["best_epoch"] and mine["accuracy"] == theirs["accuracy"]
    for name in ("final/model.safetensors", "folds/subject-2/model/model.safetensors"):
        left, right = load_file(tmp_path / "pooled" / name), load_file(tmp_path / "alone" / name)
        assert left.keys() == right.keys() and all(torch.equal(left[key], right[key]) for key in left)


def test_a_frozen_encoder_keeps_its_pretrained_weights_and_its_cache_stands_for_the_signal(raw_run, tmp_path,
                                                                                         monkeypatch):
    dataset, _, pretrained = raw_run
    report, _ = _finetune(raw_run, tmp_path / "run", "0", monkeypatch)
    assert report["pretraining"]["signal_encoder"] == "frozen"
    before = load_file(Path(pretrained) / "model.safetensors")
    fold = report["folds"][0]
    after = load_file(tmp_path / "run" / fold["model"] / "model.safetensors")
    frozen = [name for name in after if name.startswith(("moodreader.signal_embeddings", "moodreader.signal_encoder"))]
    assert frozen and all(torch.equal(after[name], before[name]) for name in frozen)
    assert not torch.equal(after["moodreader.signal_pooler.dense.weight"], before["moodreader.signal_pooler.dense.weight"])
    # the saved model, fed the raw signal (not the cache), scores the test rows as the run did
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "run" / fold["model"],
                                                               trust_remote_code=True).eval()
    extractor = MoodReaderFeatureExtractor.from_pretrained(tmp_path / "run" / fold["model"])
    columns = load_built_dataset(dataset)[0]["train"].with_format("numpy")[:]
    saved = _predictions(tmp_path / "run", fold)
    rows = np.array([int(entry["row"]) for entry in saved])
    de = (columns["de"][rows] - np.asarray(extractor.de_mean)) / np.asarray(extractor.de_std)
    with torch.no_grad():
        logits = model(de_features=torch.from_numpy(de).float(), eeg_signals=torch.from_numpy(columns["signal"][rows]),
                       channel_mask=torch.from_numpy(columns["channel_mask"][rows]).long()).logits.numpy()
    expected = np.array([[float(entry[key]) for key in entry if key.startswith("logit_")] for entry in saved])
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-5)


def test_without_room_in_shared_memory_the_folds_run_in_process(raw_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fold_pool, "SHARED_MEMORY", str(tmp_path / "no-such-folder"))
    report, _ = _finetune(raw_run, tmp_path / "run", "2", monkeypatch)
    assert report["runtime"]["fold_workers"] == 0
    assert "folds run one after the other" in capsys.readouterr().out


def test_worker_count_follows_the_setting_the_cpus_and_the_jobs(monkeypatch):
    monkeypatch.delenv("MOODREADER_FOLD_WORKERS")
    monkeypatch.setattr(fold_pool, "available_cpus", lambda: 4)
    assert worker_count("auto", 5, single_cpu_process=True) == 4
    assert worker_count("auto", 3, single_cpu_process=True) == 3
    assert worker_count("auto", 5, single_cpu_process=False) == 0
    assert worker_count(1, 5, single_cpu_process=True) == 0
    monkeypatch.setattr(fold_pool, "available_cpus", lambda: 1)
    assert worker_count("auto", 5, single_cpu_process=True) == 0
    monkeypatch.setenv("MOODREADER_FOLD_WORKERS", "2")
    assert worker_count("auto", 5, single_cpu_process=True) == 2
    monkeypatch.setenv("MOODREADER_FOLD_WORKERS", "many")
    with pytest.raises(MoodReaderInputError, match="MOODREADER_FOLD_WORKERS.*a whole number of workers"):
        worker_count("auto", 5, single_cpu_process=True)


def test_threads_follow_the_cpus_other_jobs_leave_idle(monkeypatch):
    samples = iter([[100, 0, 50, 800, 50, 0, 0, 0], [250, 0, 50, 850, 50, 0, 0, 0]])  # 150 busy, 50 idle ticks
    monkeypatch.setattr(runtime, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(runtime.time, "sleep", lambda seconds: None)
    monkeypatch.delenv("MOODREADER_NUM_THREADS", raising=False)
    runtime.idle_cpus.cache_clear()
    try:
        assert runtime.idle_cpus() == pytest.approx(4 * 50 / 200)  # one of four CPUs idle
        assert runtime.cpu_threads() == 1 and runtime.cpu_threads(2) == 1
        monkeypatch.setenv("MOODREADER_NUM_THREADS", "3")
        assert runtime.cpu_threads() == 3
    finally:
        runtime.idle_cpus.cache_clear()


def test_a_script_without_a_main_guard_runs_its_folds_on_workers(raw_run, tmp_path):
    dataset, recipe_path, pretrained = raw_run
    script = tmp_path / "evaluate.py"
    script.write_text(
        "import json\n"
        "from moodreader_hf.training.finetune import run_finetuning\n"
        "from moodreader_hf.training.recipe import load_recipe\n"
        f"report = run_finetuning(load_recipe({str(recipe_path)!r}), {str(dataset)!r}, {str(tmp_path / 'run')!r}, "
        f"pretrained={str(pretrained)!r}, progress=False)\n"
        "print(json.dumps(report['runtime']))\n")
    env = {**os.environ, "MOODREADER_FOLD_WORKERS": "2", "MOODREADER_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["fold_workers"] == 2
    assert (tmp_path / "run" / "report.json").is_file()


def _job_and_parent(shared: object, job: int) -> tuple[int, int]:
    return job, os.getppid()


@pytest.mark.skipif(sys.platform != "linux", reason="the fork server is the Linux path")
def test_workers_are_forked_from_the_server_that_imported_the_training_code():
    """Workers fork from one fork server, started by ``prepare_workers`` before the run needs them and holding the
    training code already imported, instead of each importing torch and transformers anew."""
    import multiprocessing.forkserver as forkserver

    fold_pool.prepare_workers()
    server = forkserver._forkserver._forkserver_pid
    assert server and server != os.getpid()
    with open(f"/proc/{server}/cmdline", "rb") as handle:
        command = handle.read().replace(b"\0", b" ").decode()
    assert "moodreader_hf.training.finetune" in command
    with fold_pool.JobRunner(_job_and_parent, [0, 1, 2], None, 2) as runner:
        facts = list(runner.results())
    assert [job for job, _ in facts] == [0, 1, 2]
    assert {parent for _, parent in facts} == {server}


def test_the_demo_pretrains_beside_its_data_stage_with_the_result_of_a_run_in_turn(tmp_path, monkeypatch):
    """With fold workers, the demo's corpus and pre-training run in a worker while the data stage runs here; the
    pre-trained weights and the LOSO report equal those of the demo run stage after stage in one process (both on
    one thread), and the stage times say which ran beside which."""
    from moodreader_hf.training.demo import run_demo

    download = simulate_seed(tmp_path / "download", n_subjects=3, n_sessions=1, trial_seconds=12, seed=5,
                             progress=False)
    recipe = write_recipe(tmp_path / "recipe.yaml", dataset=RAW_DATASET,
                          pretrain={"steps": 3, "checkpoint_every": 3, "log_every": 1},
                          finetune={"epochs": 1, "patience": 1, "baseline_c": [1.0]})
    monkeypatch.setenv("MOODREADER_NUM_THREADS", "1")
    results = {}
    for workers in ("2", "0"):
        monkeypatch.setenv("MOODREADER_FOLD_WORKERS", workers)
        results[workers] = run_demo(tmp_path / f"demo-{workers}", seed_dir=download, recipe_path=recipe,
                                    progress=False)
    beside, in_turn = results["2"], results["0"]
    assert list(beside.stage_seconds) == ["data", "waiting for pre-training", "LOSO evaluation and final model"]
    assert list(beside.beside_seconds) == ["corpus", "pre-training"]
    assert list(in_turn.stage_seconds) == ["data", "corpus", "pre-training", "LOSO evaluation and final model"]
    assert not in_turn.beside_seconds
    weights = [load_file(tmp_path / f"demo-{workers}" / "pretrain" / "model" / "model.safetensors")
               for workers in ("2", "0")]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][name], weights[1][name]) for name in weights[0])
    reports = [json.loads(result.report.read_text()) for result in (beside, in_turn)]
    assert [fold["accuracy"] for fold in reports[0]["folds"]] == [fold["accuracy"] for fold in reports[1]["folds"]]
    assert reports[0]["runtime"]["fold_workers"] == 2 and reports[1]["runtime"]["fold_workers"] == 0


def test_an_error_in_the_caller_stops_the_workers_instead_of_waiting_for_their_jobs(tmp_path):
    """The caller fails while its workers run ten-minute jobs: the process ends with the caller's error at once."""
    script = tmp_path / "caller.py"
    script.write_text(
        "import sys, time\n"
        "from moodreader_hf.training.fold_pool import JobRunner\n"
        "def ten_minutes(shared, job):\n"
        "    time.sleep(600)\n"
        "if __name__ == '__main__':\n"
        f"    sys.path.insert(0, {str(tmp_path)!r})\n"
        "    import caller\n"
        "    with JobRunner(caller.ten_minutes, [0, 1], None, 2):\n"
        "        time.sleep(1)\n"
        "        raise SystemExit('the caller failed')\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "the caller failed" in done.stderr
