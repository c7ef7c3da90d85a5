"""Training speed at the SEED recipe size: samples per second and peak memory of pre-training and fine-tuning
steps, the data loader's share of the step time, and the wall time of a 15-fold LOSO on a SEED-sized set,
extrapolated from measured steps and from whole LOSO folds run end to end on a small simulated SEED-layout set.

Run: ``python benchmarks/training.py [--recipe modeling/moodreader-seed.yaml] [--steps 20]`` (or under
``accelerate launch``). SEED size: 15 subjects x 3 sessions x 15 trials of about 235 1-s windows.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import tempfile
import time
from pathlib import Path

import torch

from moodreader_hf import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling
from moodreader_hf.builders import build_dataset
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.data import batch_loader
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.training.runtime import make_accelerator

SEED_SUBJECTS, SEED_SESSIONS, SEED_TRIALS, SEED_TRIAL_WINDOWS = 15, 3, 15, 235


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, recipe, rows: int, steps: int) -> dict[str, float]:
    """Time ``steps`` optimiser steps of ``kind`` (``"pretrain"`` or ``"finetune"``); loader time is measured
    separately from the step time."""
    settings = recipe.pretrain if kind == "pretrain" else recipe.finetune
    accelerator = make_accelerator(mixed_precision=None, recipe_mixed_precision=settings.mixed_precision,
                                   gradient_accumulation_steps=1)
    config = recipe.model_config(num_labels=3, streams=["signal"] if kind == "pretrain" else ["de"])
    windows = recipe.dataset.sequence_windows
    tensors = {"de": torch.randn(rows, windows, config.num_channels, config.num_bands),
               "channel_mask": torch.ones(rows, config.num_channels, dtype=torch.long),
               "labels": torch.randint(0, 3, (rows,)), "row": torch.arange(rows)}
    if kind == "pretrain":  # MBSM pre-trains the raw-signal encoder
        tensors["signal"] = 20 * torch.randn(rows, config.num_channels, windows * config.samples_per_window)
    if config.eye_feature_size:
        tensors["eye"] = torch.randn(rows, windows, config.eye_feature_size)
    model = (MoodReaderForMaskedEEGModeling if kind == "pretrain" else MoodReaderForEmotionRecognition)(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    loader = batch_loader(tensors, batch_size=settings.batch_size, shuffle=True, seed=0, drop_last=True)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    loading = computing = 0.0
    done = 0
    iterator = iter(loader)
    while done < steps + 2:
        started = time.perf_counter()
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = iter(loader)
            batch = next(iterator)
        fetched = time.perf_counter()
        inputs = {"channel_mask": batch["channel_mask"]}
        if kind == "pretrain":
            inputs["eeg_signals"] = batch["signal"]
        else:
            inputs["de_features"] = batch["de"]
            inputs.update(labels=batch["labels"], eye_features=batch.get("eye"))
        loss = model(**inputs).loss
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
        if accelerator.device.type == "cuda":
            torch.cuda.synchronize()
        finished = time.perf_counter()
        if done >= 2:
            loading += fetched - started
            computing += finished - fetched
        done += 1
    samples = steps * settings.batch_size
    return {"samples_per_second": samples / (loading + computing), "loader_share": loading / (loading + computing),
            "peak_memory_mb": _peak_memory_mb(accelerator.device), "batch_size": settings.batch_size}


def measure_folds(recipe, subjects: int) -> tuple[float, int]:
    """Run one-epoch LOSO folds of ``recipe`` end to end (data loading, training, validation, test, saving) on a
    simulated SEED-layout set of ``subjects`` subjects; returns (seconds per fold-epoch, training rows per fold)."""
    with tempfile.TemporaryDirectory(prefix="moodreader-benchmark-") as scratch:
        root = simulate_seed(Path(scratch) / "raw", n_subjects=subjects, n_sessions=1, trial_seconds=60.0,
                             progress=False)
        dataset = build_dataset("seed", root, Path(scratch) / "dataset", progress=False,
                                sequence_windows=recipe.dataset.sequence_windows, stride=recipe.dataset.stride)
        one_epoch = dataclasses.replace(recipe, finetune=dataclasses.replace(recipe.finetune, epochs=1))
        started = time.perf_counter()
        report = run_finetuning(one_epoch, dataset, Path(scratch) / "run", protocol="loso", progress=False)
        seconds = time.perf_counter() - started
    rows = sum(fold["n_test"] for fold in report["folds"])
    return seconds / len(report["folds"]), rows * (subjects - 1) // subjects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(Path(__file__).resolve().parents[1] / "modeling" /
                                               "moodreader-seed.yaml"))
    parser.add_argument("--steps", type=int, default=20, help="measured steps of each kind")
    parser.add_argument("--fold-subjects", type=int, default=4, help="subjects of the measured LOSO run")
    args = parser.parse_args()
    recipe = load_recipe(args.recipe)
    rows_per_trial = (SEED_TRIAL_WINDOWS - recipe.dataset.sequence_windows) // recipe.dataset.stride + 1
    total_rows = SEED_SUBJECTS * SEED_SESSIONS * SEED_TRIALS * rows_per_trial
    print(f"recipe {recipe.name}: rows of {recipe.dataset.sequence_windows} windows; a SEED-sized set has "
          f"{total_rows} rows")
    results = {kind: measure(kind, recipe, 4 * max(recipe.pretrain.batch_size, recipe.finetune.batch_size),
                             args.steps) for kind in ("pretrain", "finetune")}
    for kind, result in results.items():
        print(f"{kind:9s} {result['samples_per_second']:8.1f} samples/s  batch {result['batch_size']}  "
              f"loader share {100 * result['loader_share']:.2f} % (target < 10 %)  "
              f"peak memory {result['peak_memory_mb']:.0f} MB")
    fold_rows = total_rows * (SEED_SUBJECTS - 1) / SEED_SUBJECTS
    epoch_seconds = fold_rows / results["finetune"]["samples_per_second"]
    evaluation_seconds = (total_rows / SEED_SUBJECTS + fold_rows * recipe.finetune.validation_fraction) / (
        3 * results["finetune"]["samples_per_second"])
    fold_seconds = recipe.finetune.epochs * (epoch_seconds + evaluation_seconds)
    print(f"LOSO, {SEED_SUBJECTS} folds x at most {recipe.finetune.epochs} epochs: {fold_seconds / 60:.1f} min per "
          f"fold, {SEED_SUBJECTS * fold_seconds / 3600:.2f} h in all (extrapolated from the measured fine-tuning "
          f"steps; evaluation counted at a third of a training step per row; early stopping shortens it)")
    fold_epoch_seconds, measured_rows = measure_folds(recipe, args.fold_subjects)
    measured_fold_seconds = recipe.finetune.epochs * fold_epoch_seconds * fold_rows / measured_rows
    print(f"LOSO from measured folds: {args.fold_subjects} one-epoch folds of {measured_rows} training rows took "
          f"{fold_epoch_seconds:.1f} s each end to end; scaled to {fold_rows:.0f} rows and {recipe.finetune.epochs} "
          f"epochs: {measured_fold_seconds / 60:.1f} min per fold, {SEED_SUBJECTS * measured_fold_seconds / 3600:.2f} h "
          f"in all")
    print(f"pre-training {recipe.pretrain.steps} steps: "
          f"{recipe.pretrain.steps * recipe.pretrain.batch_size / results['pretrain']['samples_per_second'] / 3600:.2f} h")


if __name__ == "__main__":
    main()
