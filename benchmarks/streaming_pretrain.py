"""MBSM pre-training throughput streaming from a corpus's Parquet shards against the same rows held in memory.

Both sides train the same raw-signal encoder (the SEED recipe's architecture) on the same rows with the same batch
size; only where the rows come from differs. They are measured interleaved (A B A B ...), each round a few
optimiser steps per side, and the ratio of every pair is printed with the medians. The data-loading share is the
time spent waiting for the next batch over the step time, on the streaming side.

Targets: streaming / in memory >= 0.8; data-loading share < 10 %.

    .venv/bin/python benchmarks/streaming_pretrain.py [--rounds 5] [--steps 4] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from moodreader_hf.builders import build_corpus
from moodreader_hf.modeling_moodreader import MoodReaderForMaskedEEGModeling
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.training.stream import SignalBatches, open_corpus

REPO = Path(__file__).resolve().parents[1]


def in_memory_batches(source, batch_size: int):
    """The corpus's rows read once into memory, then served as the same padded batches, endlessly."""
    stream = SignalBatches([source], batch_size=1, buffer_size=1, seed=0, rank=0, world_size=1)
    rows = [(batch["eeg_signals"][0], batch["electrode_ids"][0]) for _, batch in zip(range(source.rows), stream)]
    while True:
        for start in range(0, len(rows) - batch_size + 1, batch_size):
            chunk = rows[start : start + batch_size]
            yield {"eeg_signals": torch.stack([signal for signal, _ in chunk]),
                   "electrode_ids": torch.stack([ids for _, ids in chunk]),
                   "channel_mask": torch.ones(len(chunk), chunk[0][0].shape[0], dtype=torch.long)}


def train_steps(model, optimizer, batches, steps: int) -> tuple[float, float]:
    """``steps`` optimiser steps; returns (samples per second, share of the time spent fetching batches)."""
    waiting = 0.0
    started = time.perf_counter()
    samples = 0
    for _ in range(steps):
        fetched = time.perf_counter()
        batch = next(batches)
        waiting += time.perf_counter() - fetched
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        samples += batch["eeg_signals"].shape[0]
    elapsed = time.perf_counter() - started
    return samples / elapsed, waiting / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--subjects", type=int, default=3)
    args = parser.parse_args()
    recipe = load_recipe(REPO / "modeling" / "moodreader-seed.yaml")
    config = recipe.model_config(streams=["signal"])
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="moodreader-streaming-") as scratch:
        root = simulate_seed(Path(scratch) / "raw", n_subjects=args.subjects, n_sessions=1, trial_seconds=60.0,
                             progress=False)
        corpus = build_corpus([root], Path(scratch) / "corpus", layout="seed-raw",
                              sequence_windows=recipe.dataset.sequence_windows, shard_size_mb=8, progress=False)
        source = open_corpus(corpus)
        streaming = iter(SignalBatches([source], batch_size=args.batch_size, buffer_size=64, seed=0, rank=0,
                                       world_size=1))
        memory = in_memory_batches(source, args.batch_size)
        model = MoodReaderForMaskedEEGModeling(config).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        train_steps(model, optimizer, memory, 1)  # warm-up
        ratios, stream_rates, memory_rates, shares = [], [], [], []
        for _ in range(args.rounds):
            stream_rate, share = train_steps(model, optimizer, streaming, args.steps)
            memory_rate, _ = train_steps(model, optimizer, memory, args.steps)
            stream_rates.append(stream_rate)
            memory_rates.append(memory_rate)
            shares.append(share)
            ratios.append(stream_rate / memory_rate)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads")
    print(f"corpus: {source.rows} rows of {config.sequence_windows} s x 62 electrodes at {config.sampling_rate} Hz, "
          f"{len(source.files)} shards; model hidden {config.hidden_size}, {config.num_hidden_layers} layers; "
          f"batch {args.batch_size}, {args.rounds} rounds x {args.steps} steps per side, interleaved")
    print("ratios (streaming / in memory) per pair: " + " ".join(f"{ratio:.3f}" for ratio in ratios))
    print(f"median samples/s: streaming {statistics.median(stream_rates):.1f}, in memory "
          f"{statistics.median(memory_rates):.1f}; median ratio {statistics.median(ratios):.3f} (target >= 0.8)")
    print(f"data-loading share of step time (streaming): median {100 * statistics.median(shares):.1f} % "
          "(target < 10 %)")


if __name__ == "__main__":
    main()
