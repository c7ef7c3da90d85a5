"""Speed and peak memory of ``build_corpus`` on real EEG, and whether memory grows with the corpus.

Corpus A is ``--files`` copies (symbolic links, one subject folder each) of the real PhysioNet recording (64
electrodes, 160 Hz, 61 s); corpus B is the same files four times over. Each build runs in a fresh subprocess, so
its peak resident memory (``ru_maxrss``, plus the anonymous-memory peak sampled from ``/proc``) is its own; the two
are measured interleaved, A B A B..., and compared by their medians. Memory is bounded by the shard size and the
recordings in flight, not by the corpus, when B / A stays below 1.2; both corpora span several shards
(``--shard-size-mb``), so both reach that bound.

Printed: the machine, hours of EEG per minute per process for each side, and the ratios B / A of peak memory:
resident, anonymous, and the anonymous memory the build added to the interpreter after its imports (the part that
would grow with the corpus if rows were held).

Usage: ``python benchmarks/corpus_build.py [--files 16] [--repeats 2] [--num-proc 1] [--shard-size-mb 8]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, re, resource, sys, threading, time, warnings
warnings.simplefilter("ignore")
anonymous = [0]
def sample():
    while True:
        status = open("/proc/self/status").read()
        anonymous[0] = max(anonymous[0], int(re.search(r"RssAnon:\\s+(\\d+)", status).group(1)) * 1024)
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
from moodreader_hf.builders import build_corpus, load_corpus_metadata
task = json.loads(sys.argv[1])
time.sleep(0.1)
baseline = anonymous[0]
start = time.perf_counter()
build_corpus([task["source"]], task["out"], shard_size_mb=task["shard_size_mb"], num_proc=task["num_proc"],
             progress=False)
seconds = time.perf_counter() - start
metadata = load_corpus_metadata(task["out"])
print(json.dumps({"seconds": seconds, "hours": metadata["hours"], "rows": metadata["rows"],
                  "shards": len(metadata["shards"]),
                  "peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "peak_children_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
                  "peak_anonymous_bytes": anonymous[0], "baseline_anonymous_bytes": baseline}))
"""


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))  # fmt: skip
    except (OSError, StopIteration):
        pass
    import mne
    import numpy

    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} logical CPUs, Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, mne {mne.__version__}")  # fmt: skip


def _build_bytes(result: dict) -> float:
    """Anonymous memory the build added to the imported interpreter."""
    return result["peak_anonymous_bytes"] - result["baseline_anonymous_bytes"]


def _corpus_source(folder: Path, recording: Path, files: int) -> Path:
    """``files`` subject folders, each holding a link to ``recording``."""
    for index in range(files):
        subject = folder / f"S{index:03d}"
        subject.mkdir(parents=True)
        (subject / recording.name).symlink_to(recording)
    return folder


def _build(source: Path, out: Path, shard_size_mb: float, num_proc: int) -> dict:
    task = {"source": str(source), "out": str(out), "shard_size_mb": shard_size_mb, "num_proc": num_proc}
    finished = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(task)], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{finished.stderr}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16, help="recordings in corpus A (default 16)")
    parser.add_argument("--repeats", type=int, default=2, help="builds of each corpus, interleaved (default 2)")
    parser.add_argument("--num-proc", type=int, default=1, help="build_corpus num_proc (default 1)")
    parser.add_argument("--shard-size-mb", type=float, default=8.0, help="shard size (default 8 MiB)")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "moodreader-hf"),
                        help="folder for the downloaded PhysioNet recording")  # fmt: skip
    args = parser.parse_args()

    from moodreader_hf.recordings import fetch_physionet_sample

    recording = fetch_physionet_sample(args.cache)
    print(f"machine: {_machine()}")
    with tempfile.TemporaryDirectory(prefix="moodreader-corpus-bench-") as scratch:
        work = Path(scratch)
        sides = {"A": _corpus_source(work / "A", recording, args.files),
                 "B": _corpus_source(work / "B", recording, 4 * args.files)}  # fmt: skip
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        for repeat in range(args.repeats):
            for side, source in sides.items():
                runs[side].append(_build(source, work / f"out-{side}-{repeat}", args.shard_size_mb, args.num_proc))
    medians = {}
    for side, results in runs.items():
        median = {key: statistics.median(result[key] for result in results) for key in results[0]}
        medians[side] = median
        rate = median["hours"] / (median["seconds"] / 60) / args.num_proc
        workers = f", workers {median['peak_children_bytes'] / 2**20:.0f} MiB" if args.num_proc > 1 else ""
        print(f"corpus {side}: {median['hours']:.3f} h of EEG, {median['rows']:.0f} rows, {median['shards']:.0f} "
              f"shards; build {median['seconds']:.1f} s -> {rate:.2f} hours of EEG per minute per process "
              f"(num_proc {args.num_proc}); peak RSS {median['peak_bytes'] / 2**20:.0f} MiB, anonymous "
              f"{median['peak_anonymous_bytes'] / 2**20:.0f} MiB of which the build "
              f"{_build_bytes(median) / 2**20:.0f} MiB{workers}")  # fmt: skip
    a, b = medians["A"], medians["B"]
    rss, anonymous = b["peak_bytes"] / a["peak_bytes"], b["peak_anonymous_bytes"] / a["peak_anonymous_bytes"]
    print(f"B / A (4x the corpus, medians of {args.repeats} interleaved runs): peak RSS {rss:.3f}, anonymous "
          f"{anonymous:.3f}, the build's own anonymous memory {_build_bytes(b) / _build_bytes(a):.3f} (target < 1.2); "
          f"build time {b['seconds'] / a['seconds']:.2f} for {b['hours'] / a['hours']:.0f}x the EEG")

if __name__ == "__main__":
    main()
