"""Training speed at the SEED recipe size: samples per second and peak memory of pre-training and fine-tuning
steps, the data loader's share of the step time, the wall time of a 15-fold LOSO on a SEED-sized set extrapolated
from measured steps and from whole LOSO folds run end to end on a small simulated SEED-layout set, the wall time of
every evaluation protocol at that size and the cost of the logistic-regression and linear-SVM baselines, each as a
ratio to one model fold of LOSO.

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
from moodreader_hf.training.baseline import BASELINES, baseline_fold
from moodreader_hf.training.data import batch_loader
from moodreader_hf.training.finetune import load_fold_tensors, run_finetuning, split_settings
from moodreader_hf.training.protocols import PROTOCOLS, WITHIN_TRIALS_TRAIN, Rows, make_folds
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


def measure_folds(recipe, subjects: int) -> dict[str, float]:
    """Run one-epoch LOSO folds of ``recipe`` end to end (data loading, training, validation, test, saving, the
    baselines) on a simulated SEED-layout set of ``subjects`` subjects, then time the baselines alone on the same
    folds. Returns the model's seconds per fold-epoch (baselines excluded), its training rows per fold, and each
    baseline's seconds per training window (the whole C grid)."""
    with tempfile.TemporaryDirectory(prefix="moodreader-benchmark-") as scratch:
        root = simulate_seed(Path(scratch) / "raw", n_subjects=subjects, n_sessions=1, trial_seconds=60.0,
                             progress=False)
        dataset = build_dataset("seed", root, Path(scratch) / "dataset", progress=False,
                                sequence_windows=recipe.dataset.sequence_windows, stride=recipe.dataset.stride)
        one_epoch = dataclasses.replace(recipe, finetune=dataclasses.replace(recipe.finetune, epochs=1, seeds=None))
        started = time.perf_counter()
        report = run_finetuning(one_epoch, dataset, Path(scratch) / "run", protocol="loso", progress=False)
        seconds = time.perf_counter() - started
        tensors = load_fold_tensors(one_epoch, dataset)
        folds = make_folds("loso", Rows(tensors.subjects, tensors.sessions, tensors.trials, tensors.tail),
                           split_settings(one_epoch, tensors.metadata))
        baseline_seconds, per_window = 0.0, {}
        for kind in BASELINES:
            started = time.perf_counter()
            windows = 0
            for fold in folds:
                _, record = baseline_fold(kind, tensors, fold, len(tensors.label_names),
                                          grid=recipe.finetune.baseline_c, use_eye=False)
                windows += record["train_windows"]
            elapsed = time.perf_counter() - started
            baseline_seconds += elapsed
            per_window[f"{kind}_seconds_per_window"] = elapsed / windows
    rows = sum(fold["n_test"] for fold in report["folds"])
    return {"fold_epoch_seconds": (seconds - baseline_seconds) / len(folds),
            "training_rows": rows * (subjects - 1) // subjects, **per_window}


def protocol_folds(rows_per_trial: int) -> dict[str, tuple[int, float]]:
    """Each protocol at SEED size: ``(folds, rows of the training pool per fold)`` (SEED-V's 3 folds and an 80/20
    subject split for ``given-split`` applied to SEED's grid of subjects, sessions and trials)."""
    trial = rows_per_trial
    session = SEED_TRIALS * trial
    subject = SEED_SESSIONS * session
    within = WITHIN_TRIALS_TRAIN["seed"]
    return {
        "loso": (SEED_SUBJECTS, (SEED_SUBJECTS - 1) * subject),
        "loso-session": (SEED_SUBJECTS * SEED_SESSIONS, (SEED_SUBJECTS - 1) * session),
        "cross-session": (SEED_SUBJECTS, (SEED_SESSIONS - 1) * session),
        "within-trials": (SEED_SUBJECTS * SEED_SESSIONS, within * trial),
        "seed-v-3fold": (SEED_SUBJECTS * 3, subject * 2 / 3),
        "kfold-subject": (5, SEED_SUBJECTS * 4 / 5 * subject),
        "given-split": (1, SEED_SUBJECTS * 4 / 5 * subject),
    }


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
    measured = measure_folds(recipe, args.fold_subjects)
    fold_epoch_seconds, measured_rows = measured["fold_epoch_seconds"], measured["training_rows"]
    per_row = recipe.finetune.epochs * fold_epoch_seconds / measured_rows
    measured_fold_seconds = per_row * fold_rows
    print(f"LOSO from measured folds: {args.fold_subjects} one-epoch folds of {measured_rows} training rows took "
          f"{fold_epoch_seconds:.1f} s each end to end (baselines apart); scaled to {fold_rows:.0f} rows and "
          f"{recipe.finetune.epochs} epochs: {measured_fold_seconds / 60:.1f} min per fold, "
          f"{SEED_SUBJECTS * measured_fold_seconds / 3600:.2f} h in all")
    print("protocols at SEED size (folds x rows of the training pool; at most finetune.epochs epochs, per seed), "
          "as multiples of one LOSO model fold:")
    for name, (folds, pool_rows) in protocol_folds(rows_per_trial).items():
        seconds = folds * per_row * pool_rows
        print(f"  {name:14s} {folds:3d} folds x {pool_rows:7.0f} rows: {seconds / 3600:6.2f} h  "
              f"{seconds / measured_fold_seconds:6.2f} folds  ({PROTOCOLS[name].scope})")
    windows = fold_rows * (1 - recipe.finetune.validation_fraction) * recipe.dataset.sequence_windows
    for kind, name in BASELINES.items():
        seconds = measured[f"{kind}_seconds_per_window"] * windows
        print(f"baseline {name} (C grid {recipe.finetune.baseline_c}) per LOSO fold of {windows:.0f} training "
              f"windows: {seconds:.1f} s, {seconds / measured_fold_seconds:.3f} model folds (scaled linearly from "
              f"{args.fold_subjects} measured folds)")
    print(f"pre-training {recipe.pretrain.steps} steps: "
          f"{recipe.pretrain.steps * recipe.pretrain.batch_size / results['pretrain']['samples_per_second'] / 3600:.2f} h")


if __name__ == "__main__":
    main()
