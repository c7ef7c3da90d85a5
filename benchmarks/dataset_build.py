"""Time and peak memory of building datasets from simulated SEED recordings.

Two measurements, each in a fresh subprocess so its peak resident memory (``ru_maxrss``) is its own:

1. the demo: simulate the default 5-subject set (3 sessions x 15 trials of up to 60 s) and build it from the
   ``seed`` layout (target: under a minute on 2 cores);
2. a SEED-sized build: 15 subjects x 3 sessions x 15 trials of up to 240 s (about 7 GB of float32 signal),
   simulated first (not timed), then built from the ``seed-raw`` layout with the DE computed by the package
   (target: peak memory under 2 GiB). It needs ~9 GB of free disk and several minutes.

Peak resident memory counts the pages of the memory-mapped Arrow files that ``save_to_disk`` reads back; they are
file-backed and reclaimable, so the anonymous (heap) peak is printed beside it. With ``--include-signal`` the
mapped pages grow with the dataset (7 GB at SEED size) while the heap stays bounded.

Usage: ``python benchmarks/dataset_build.py [--subjects 15] [--trial-seconds 240] [--include-signal] [--workdir DIR]``
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
from moodreader_hf.simulation import simulate_seed
task = json.loads(sys.argv[1])
start = time.perf_counter()
if task.get("simulate"):
    simulate_seed(task["root"], progress=False, **task["simulate"])
simulated = time.perf_counter()
build_dataset(task["layout"], task["root"], task["out"], include_signal=task["include_signal"], progress=False)
done = time.perf_counter()
rows = load_built_dataset(task["out"])[1]["num_rows"]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"simulate_s": simulated - start, "build_s": done - simulated, "rows": rows, "peak_bytes": peak,
                  "peak_anonymous_bytes": anonymous[0]}))
"""


def _run(task: dict) -> dict:
    """Run one task in a fresh interpreter and return its measurements."""
    finished = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(task)], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=15, help="subjects of the large build (default 15)")
    parser.add_argument("--trial-seconds", type=float, default=240.0, help="longest trial of the large build")
    parser.add_argument("--include-signal", action="store_true", help="also store the signal in the large build")
    parser.add_argument("--workdir", help="folder for the data (default: a temporary folder, removed at the end)")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="moodreader-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        demo = _run({"simulate": {"n_subjects": 5}, "root": str(workdir / "demo"), "layout": "seed",
                     "out": str(workdir / "demo-built"), "include_signal": False})  # fmt: skip
        total = demo["simulate_s"] + demo["build_s"]
        print(f"demo (5 subjects x 3 sessions x 15 trials <= 60 s, simulated): simulate {demo['simulate_s']:.1f} s + "
              f"build {demo['build_s']:.1f} s = {total:.1f} s ({total / 60:.2f} of the 60 s budget), "
              f"{demo['rows']} rows, peak {demo['peak_bytes'] / 2**30:.2f} GiB")

        started = time.perf_counter()
        from moodreader_hf.simulation import simulate_seed

        simulate_seed(workdir / "seed", n_subjects=args.subjects, trial_seconds=args.trial_seconds)
        print(f"simulated the SEED-sized set in {time.perf_counter() - started:.0f} s")
        large = _run({"root": str(workdir / "seed"), "layout": "seed-raw", "out": str(workdir / "seed-built"),
                      "include_signal": args.include_signal})  # fmt: skip
        signal_bytes = sum(path.stat().st_size for path in (workdir / "seed" / "Preprocessed_EEG").glob("*.mat"))
        print(f"SEED-sized build ({args.subjects} subjects x 3 sessions x 15 trials <= {args.trial_seconds:g} s, "
              f"seed-raw, DE computed{', signal stored' if args.include_signal else ''}): {large['build_s']:.0f} s, "
              f"{large['rows']} rows, peak {large['peak_bytes'] / 2**30:.2f} GiB "
              f"({large['peak_bytes'] / 2**31:.2f} of the 2 GiB budget; anonymous memory "
              f"{large['peak_anonymous_bytes'] / 2**30:.2f} GiB, the rest is memory-mapped Arrow pages) while reading "
              f"{signal_bytes / 2**30:.1f} GiB of signal files")
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
