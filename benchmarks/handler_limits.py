"""Worst-case CPU time and memory of one Inference Endpoints request at the handler's limits.

The model is the ``modeling/moodreader-seed.yaml`` architecture, random weights, published with ``build_model_repo``
so that the handler loads it exactly as an endpoint does: with both streams (DE and raw signal, the costlier one) for
signal payloads, with the DE stream alone for DE and table payloads (a model with the raw-signal stream needs the
signal).
Each payload runs in its own process (a fresh interpreter, the handler loaded first): CPU time is the process's
user + system time of the call, memory the peak resident size during the call above the size before it (sampled
every 5 ms), besides the size of the payload itself. Payloads:

- ``signals-min-rate``: base64 float32 signals at the lowest rate the model takes (twice its highest band edge),
  as long as the bounds after resampling allow (the most windows), in the largest batches (``batch_segments``);
- ``signals-max-rate``: :data:`MAX_VALUES` values at the highest rate (the most resampling input);
- ``signals-odd-rate``: the most values at 137.3 Hz (a ratio of rates with a large numerator and denominator);
- ``signals-nested``: the min-rate request as nested JSON lists (the handler's type checks walk every value);
- ``de-max-windows``: :data:`MAX_WINDOWS` windows of DE with ``segment_windows=1`` (the most forward passes);
- ``table-max-windows``: the widget table with :data:`MAX_WINDOWS` rows;
- ``refused-0.01Hz``: the issue's 62 x 1000 values at 0.01 Hz (refused before any work).

Run: ``python benchmarks/handler_limits.py [--only NAME ...]``; prints one line per payload and a JSON summary.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PAYLOADS = ("signals-min-rate", "signals-max-rate", "signals-odd-rate", "signals-nested", "de-max-windows",
            "table-max-windows", "refused-0.01Hz")


def build_repo(folder: Path, streams: list[str]) -> Path:
    import torch

    from moodreader_hf import MoodReaderForEmotionRecognition, hub
    from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
    from moodreader_hf.training.recipe import load_recipe

    recipe = load_recipe(REPO / "modeling" / "moodreader-seed.yaml")
    labels = {0: "negative", 1: "neutral", 2: "positive"}
    config = recipe.model_config(streams=streams, num_labels=3, id2label=labels,
                                 label2id={name: index for index, name in labels.items()})
    torch.manual_seed(0)
    model = folder / f"model-{'-'.join(streams)}"
    MoodReaderForEmotionRecognition(config).save_pretrained(model)
    rng = np.random.default_rng(0)
    MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist()
    ).save_pretrained(model)
    return hub.build_model_repo(model, folder / f"repo-{'-'.join(streams)}")


def _rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _b64(array: np.ndarray) -> dict:
    array = np.ascontiguousarray(array, dtype=np.float32)
    return {"base64": base64.b64encode(array.tobytes()).decode(), "dtype": "float32", "shape": list(array.shape)}


def make_payload(name: str, module, handler) -> dict:
    rng = np.random.default_rng(1)
    channels, rate = len(handler.channel_names), handler.rate
    max_values, max_windows = module.MAX_VALUES, module.MAX_WINDOWS
    most_samples = min(max_values // channels, max_windows * handler.window_samples)  # after resampling

    def signals_at(sfreq: float) -> np.ndarray:
        samples = int(most_samples * sfreq / rate) - 1
        samples = min(samples, max_values // channels)
        return (20.0 * rng.standard_normal((channels, samples))).astype(np.float32)

    if name == "signals-min-rate":
        return {"inputs": {"signals": _b64(signals_at(handler.min_rate)), "sampling_rate": handler.min_rate},
                "parameters": {"batch_segments": module.MAX_BATCH_SEGMENTS}}
    if name == "signals-max-rate":
        return {"inputs": {"signals": _b64(signals_at(module.MAX_SAMPLING_RATE)),
                           "sampling_rate": module.MAX_SAMPLING_RATE}}
    if name == "signals-odd-rate":
        return {"inputs": {"signals": _b64(signals_at(137.3)), "sampling_rate": 137.3}}
    if name == "signals-nested":
        return {"inputs": {"signals": signals_at(handler.min_rate).astype(np.float64).tolist(),
                           "sampling_rate": handler.min_rate}}
    if name == "de-max-windows":
        de = 2.0 + rng.normal(size=(max_windows, channels, len(handler.band_names)))
        return {"inputs": {"de_features": _b64(de)}, "parameters": {"segment_windows": 1}}
    if name == "table-max-windows":
        de = np.round(2.0 + rng.normal(size=(max_windows, channels, len(handler.band_names))), 4)
        return {"inputs": {"data": {f"{c}_{b}": de[:, i, j].tolist() for i, c in enumerate(handler.channel_names)
                                    for j, b in enumerate(handler.band_names)}}}
    if name == "refused-0.01Hz":
        return {"inputs": {"signals": [[1.0] * 1000] * 62, "sampling_rate": 0.01}}
    raise SystemExit(f"unknown payload {name}")


def measure(repo: Path, name: str) -> dict:
    """Run one payload in this process (called in a fresh interpreter by :func:`main`)."""
    spec = importlib.util.spec_from_file_location("handler", repo / "handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler = module.EndpointHandler(str(repo))
    handler({"inputs": {"de_features": np.ones((2, 62, 5)).tolist()}})  # warm up torch
    payload = make_payload(name, module, handler)
    payload_bytes = len(json.dumps(payload))
    before = _rss()
    peak = [before]
    running = [True]

    def sample() -> None:
        while running[0]:
            peak[0] = max(peak[0], _rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu, wall = time.process_time(), time.perf_counter()
    answer = handler(payload)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    running[0] = False
    sampler.join()
    return {"payload": name, "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2),
            "peak_extra_mib": round((peak[0] - before) / 2**20, 1), "payload_json_mib": round(payload_bytes / 2**20, 1),
            "answer": "error: " + answer["error"][:100] if isinstance(answer, dict) else answer[0]["label"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=PAYLOADS, help="payloads to run (default: all)")
    parser.add_argument("--child", nargs=2, metavar=("REPO", "PAYLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), args.child[1])))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="moodreader-handler-") as scratch:
        repos = {"signal": build_repo(Path(scratch), ["de", "signal"]), "de": build_repo(Path(scratch), ["de"])}
        for name in args.only or PAYLOADS:
            repo = repos["de" if name.startswith(("de-", "table-")) else "signal"]
            done = subprocess.run([sys.executable, __file__, "--child", str(repo), name], capture_output=True,
                                  text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{name:20s} cpu {result['cpu_seconds']:7.2f} s  wall {result['wall_seconds']:7.2f} s  "
                  f"peak +{result['peak_extra_mib']:7.1f} MiB  (payload {result['payload_json_mib']:6.1f} MiB JSON) "
                  f"-> {result['answer']}")
    worst = {"cpu_seconds": max(r["cpu_seconds"] for r in results),
             "peak_extra_mib": max(r["peak_extra_mib"] for r in results)}
    print(json.dumps({"results": results, "worst": worst}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
