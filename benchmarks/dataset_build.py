"""Time and peak memory of building datasets: the demo, a FACED-sized build from recordings with a label table, and
a SEED-sized build.

Each build runs in a fresh subprocess, so that its peak resident memory (``ru_maxrss``) is its own; the data are
simulated first, in this process, and not timed:

1. the demo: the default 5-subject simulated set (3 sessions x 15 trials of up to 60 s) built from the ``seed``
   layout (target: under a minute on 2 cores);
2. FACED-sized: 123 subjects x 28 clips x 30 s x 32 channels at 250 Hz (3.3 GB of float32 signal), simulated as one
   FIF file per subject (the clips back to back) and a label table of the 28 clips (9 emotion categories), built
   with the ``events`` layout at the recordings' own 250 Hz;
3. SEED-sized: 15 subjects x 3 sessions x 15 trials of up to 240 s (about 7 GB of float32 signal) in the SEED layout,
   built from ``seed-raw`` (200 Hz).

Both large builds store the raw signal (``--include-signal``; ``--no-signal`` leaves it out). Rows go to Arrow
shards as they are produced, so the peak stays at a few batches of rows plus one recording (target: below 2 GiB for
both); before, a SEED-sized ``--include-signal`` build read its whole table back to save it and peaked at 7.7 GiB.
The anonymous (heap) peak is printed beside the resident one. The large builds need about 25 GB of free disk (the
simulated recordings and the built datasets) and several minutes each.

Usage: ``python benchmarks/dataset_build.py [--faced-subjects 123] [--seed-subjects 15] [--trial-seconds 240]
[--no-signal] [--skip-faced] [--skip-seed] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FACED_CHANNELS = (
    "Fp1", "Fp2", "Fz", "F3", "F4", "F7", "F8", "FC1", "FC2", "FC5", "FC6", "Cz", "C3", "C4", "T7", "T8", "CP1",
    "CP2", "CP5", "CP6", "Pz", "P3", "P4", "P7", "P8", "PO3", "PO4", "Oz", "O1", "O2", "A1", "A2",
)  # fmt: skip
"""32 electrode names of a 10-20 cap (the benchmark's simulated montage; only the count matters here)."""
FACED_EMOTIONS = ("anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness")
FACED_CLIPS, FACED_CLIP_SECONDS, FACED_RATE = 28, 30.0, 250.0

_CHILD = """
import json, re, resource, sys, threading, time, warnings
warnings.simplefilter("ignore")
anonymous = [0]
def sample():
    while True:
        status = open("/proc/self/status").read()
        anonymous[0] = max(anonymous[0], int(re.search(r"RssAnon:\\s+(\\d+)", status).group(1)) * 1024)
        time.sleep(0.05)
threading.Thread(target=sample, daemon=True).start()
from moodreader_hf.builders import build_dataset, load_built_dataset
task = json.loads(sys.argv[1])
start = time.perf_counter()
build_dataset(task["layout"], task["root"], task["out"], include_signal=task["include_signal"],
              layout_options=task.get("options"), progress=False)
done = time.perf_counter()
metadata = load_built_dataset(task["out"])[1]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"build_s": done - start, "rows": metadata["num_rows"], "bytes": metadata["num_bytes"],
                  "peak_bytes": peak, "peak_anonymous_bytes": anonymous[0]}))
"""


def _run(task: dict) -> dict:
    """Build in a fresh interpreter and return its measurements."""
    finished = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(task)], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def simulate_faced(root: Path, subjects: int, seed: int = 0) -> int:
    """One FIF per subject (float32, 32 channels at 250 Hz, the 28 clips of 30 s back to back: white noise with a
    per-clip alpha amplitude) and ``labels.csv``; returns the bytes of signal written."""
    import mne

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    samples = int(FACED_CLIPS * FACED_CLIP_SECONDS * FACED_RATE)
    time_axis = np.arange(samples, dtype=np.float32) / np.float32(FACED_RATE)
    alpha = np.sin(2 * np.pi * 10.0 * time_axis).astype(np.float32)
    info = mne.create_info(list(FACED_CHANNELS), FACED_RATE, "eeg")
    rows = ["file,onset,duration,label,subject"]
    for subject in range(1, subjects + 1):
        gain = np.repeat(rng.uniform(5, 20, FACED_CLIPS).astype(np.float32), int(FACED_CLIP_SECONDS * FACED_RATE))
        data = rng.standard_normal((len(FACED_CHANNELS), samples), dtype=np.float32) * 10 + gain * alpha
        raw = mne.io.RawArray(data * 1e-6, info, verbose="error")
        raw.save(root / f"sub{subject:03d}_raw.fif", fmt="single", overwrite=True, verbose="error")
        rows += [f"sub{subject:03d}_raw.fif,{clip * FACED_CLIP_SECONDS:g},{FACED_CLIP_SECONDS:g},"
                 f"{FACED_EMOTIONS[clip % len(FACED_EMOTIONS)]},{subject}" for clip in range(FACED_CLIPS)]
    (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return subjects * len(FACED_CHANNELS) * samples * 4


def _report(name: str, result: dict, signal_bytes: int, with_signal: bool) -> None:
    print(f"{name}: build {result['build_s']:.0f} s ({signal_bytes / 2**30 / (result['build_s'] / 60):.2f} GiB of "
          f"signal per minute), {result['rows']} rows ({result['bytes'] / 2**30:.2f} GiB"
          f"{', signal stored' if with_signal else ''}), peak {result['peak_bytes'] / 2**30:.2f} GiB "
          f"({result['peak_bytes'] / 2**31:.2f} of the 2 GiB budget; anonymous "
          f"{result['peak_anonymous_bytes'] / 2**30:.2f} GiB) while reading {signal_bytes / 2**30:.1f} GiB of signal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faced-subjects", type=int, default=123, help="subjects of the FACED-sized build")
    parser.add_argument("--seed-subjects", type=int, default=15, help="subjects of the SEED-sized build")
    parser.add_argument("--trial-seconds", type=float, default=240.0, help="longest trial of the SEED-sized build")
    parser.add_argument("--no-signal", action="store_true", help="leave the raw signal out of the large builds")
    parser.add_argument("--skip-faced", action="store_true", help="skip the FACED-sized build")
    parser.add_argument("--skip-seed", action="store_true", help="skip the SEED-sized build")
    parser.add_argument("--workdir", help="folder for the data (default: a temporary folder, removed at the end)")
    args = parser.parse_args()
    with_signal = not args.no_signal

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="moodreader-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        from moodreader_hf.simulation import simulate_seed

        simulate_seed(workdir / "demo", n_subjects=5, progress=False)
        demo = _run({"root": str(workdir / "demo"), "layout": "seed", "out": str(workdir / "demo-built"),
                     "include_signal": False})  # fmt: skip
        print(f"demo (5 subjects x 3 sessions x 15 trials <= 60 s, simulated, seed layout): build "
              f"{demo['build_s']:.1f} s, {demo['rows']} rows, peak {demo['peak_bytes'] / 2**30:.2f} GiB")
        if not args.skip_faced:
            started = time.perf_counter()
            signal_bytes = simulate_faced(workdir / "faced", args.faced_subjects)
            print(f"simulated the FACED-sized set in {time.perf_counter() - started:.0f} s")
            faced = _run({"root": str(workdir / "faced"), "layout": "events", "out": str(workdir / "faced-built"),
                          "include_signal": with_signal, "options": {"labels": str(workdir / "faced" / "labels.csv")}})
            _report(f"FACED-sized build ({args.faced_subjects} subjects x {FACED_CLIPS} clips x "
                    f"{FACED_CLIP_SECONDS:g} s x 32 channels at 250 Hz, events layout)", faced, signal_bytes,
                    with_signal)
            shutil.rmtree(workdir / "faced-built", ignore_errors=True)
        if not args.skip_seed:
            started = time.perf_counter()
            simulate_seed(workdir / "seed", n_subjects=args.seed_subjects, trial_seconds=args.trial_seconds,
                          progress=False)
            print(f"simulated the SEED-sized set in {time.perf_counter() - started:.0f} s")
            seed = _run({"root": str(workdir / "seed"), "layout": "seed-raw", "out": str(workdir / "seed-built"),
                         "include_signal": with_signal})  # fmt: skip
            signal_bytes = sum(path.stat().st_size for path in (workdir / "seed" / "Preprocessed_EEG").glob("*.mat"))
            _report(f"SEED-sized build ({args.seed_subjects} subjects x 3 sessions x 15 trials <= "
                    f"{args.trial_seconds:g} s, seed-raw, 62 channels at 200 Hz)", seed, signal_bytes, with_signal)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
