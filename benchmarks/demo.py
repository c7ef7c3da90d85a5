"""``moodreader demo`` quiet and beside one other CPU-heavy job, interleaved, plus the start-up of the command line.

Each demo run is a fresh ``moodreader demo --quiet`` into a scratch folder. Cases alternate (quiet, loaded, quiet,
loaded, ...); the loaded case starts one CPU-bound process (a NumPy matrix-multiplication loop on one thread)
before the demo and stops it after. The medians, the ratio loaded / quiet per pair and the stage times of the
quiet runs (printed by the demo) are reported. Then ``moodreader --help``, ``moodreader predict --help`` and
``moodreader predict`` on a 60 s EDF are timed against the floor every command that loads a model pays: a bare
``import transformers.modeling_utils``.

Targets: the quiet demo under 2 minutes; loaded no worse than 2x quiet; ``--help`` under 1 s; ``predict`` under
5 s.

    python benchmarks/demo.py [--rounds 2] [--skip-demo]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MOODREADER = Path(sys.executable).with_name("moodreader")
BUSY = "import numpy as np, os\nos.environ['OMP_NUM_THREADS'] = '1'\na = np.random.rand(400, 400)\nwhile True:\n    a @ a\n"


def timed(command: list[str], **kwargs) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode not in (0,):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout


def demo_run(scratch: Path, name: str, loaded: bool) -> tuple[float, str]:
    busy = None
    if loaded:
        busy = subprocess.Popen([sys.executable, "-c", BUSY], env={**os.environ, "OMP_NUM_THREADS": "1",
                                                                    "OPENBLAS_NUM_THREADS": "1"})
        time.sleep(1.0)  # running before the demo measures which CPUs are idle
    try:
        return timed([str(MOODREADER), "demo", "--quiet", "--output-dir", str(scratch / name)])
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-demo", action="store_true", help="only the command-line start-up")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="moodreader-bench-demo-") as folder:
        scratch = Path(folder)
        if not args.skip_demo:
            quiet, loaded, stages = [], [], ""
            for round_number in range(args.rounds):
                seconds, output = demo_run(scratch, f"quiet-{round_number}", loaded=False)
                quiet.append(seconds)
                stages = "\n".join(line for line in output.splitlines() if re.search(r"\d s\b|stage", line))
                print(f"round {round_number + 1}: quiet {seconds:.0f} s", flush=True)
                seconds, _ = demo_run(scratch, f"loaded-{round_number}", loaded=True)
                loaded.append(seconds)
                print(f"round {round_number + 1}: beside one CPU-heavy job {seconds:.0f} s "
                      f"(ratio {seconds / quiet[-1]:.2f})", flush=True)
            print(f"demo quiet: median {statistics.median(quiet):.0f} s (target < 120 s)")
            print(f"demo beside one CPU-heavy job: median {statistics.median(loaded):.0f} s, ratio per pair "
                  f"{[round(b / a, 2) for a, b in zip(quiet, loaded)]} (target <= 2)")
            print("stage times of the last quiet run:\n" + stages)
        model = scratch / "model"
        recording = scratch / "recording.edf"
        timed([sys.executable, "-c", MAKE_MODEL, str(model), str(recording)])
        cases = {
            "import transformers.modeling_utils (floor)": [sys.executable, "-c", "import transformers.modeling_utils"],
            "moodreader --help": [str(MOODREADER), "--help"],
            "moodreader predict --help": [str(MOODREADER), "predict", "--help"],
            "moodreader predict (60 s EDF)": [str(MOODREADER), "predict", str(recording), "--model", str(model)],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(3):
            for name, command in cases.items():
                times[name].append(timed(command)[0])
        for name, values in times.items():
            print(f"{name}: median {statistics.median(values):.2f} s")
        print(json.dumps({name: statistics.median(values) for name, values in times.items()}))


MAKE_MODEL = r"""
import sys
import mne, numpy as np
from moodreader_hf import MoodReaderConfig, MoodReaderFeatureExtractor, MoodReaderForEmotionRecognition
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
MoodReaderForEmotionRecognition(MoodReaderConfig()).save_pretrained(sys.argv[1])
MoodReaderFeatureExtractor().save_pretrained(sys.argv[1])
raw = mne.io.RawArray(2e-5 * np.random.default_rng(0).standard_normal((62, 200 * 60)),
                      mne.create_info(list(SEED_CHANNEL_NAMES), 200.0, "eeg"), verbose="error")
mne.export.export_raw(sys.argv[2], raw, verbose="error")
"""

if __name__ == "__main__":
    main()
