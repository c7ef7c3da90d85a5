"""The inference pipeline on a long recording: this tree against a reference revision, interleaved.

Each measurement runs in a fresh Python process (so its peak RSS is its own): the pipeline of one side (the four
Hub-bound files of this tree, or of ``--reference`` taken from git) classifies the same seeded 62-channel recording
of ``--minutes`` minutes at 200 Hz with a SEED-sized model (hidden 64, 2 layers, LDS smoothing). Sides alternate
(A B A B ...); the medians of wall time and peak RSS and the per-pair ratios are printed.

Target: this tree within 1.2x of the reference in time and memory.

    python benchmarks/pipeline_recording.py [--minutes 30] [--rounds 3] [--reference ec95147]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES = ("configuration_moodreader", "modeling_moodreader", "feature_extraction_moodreader", "pipeline_moodreader")

WORKER = r"""
import json, resource, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from side.configuration_moodreader import MoodReaderConfig
from side.modeling_moodreader import MoodReaderForEmotionRecognition
from side.feature_extraction_moodreader import MoodReaderFeatureExtractor
from side.pipeline_moodreader import EEGEmotionRecognitionPipeline
torch.manual_seed(0)
config = MoodReaderConfig(hidden_dropout_prob=0.0)
rng = np.random.default_rng(0)
extractor = MoodReaderFeatureExtractor(smoothing="lds", de_mean=(2 + rng.normal(size=(62, 5))).tolist(),
                                       de_std=(0.5 + rng.random((62, 5))).tolist())
model = MoodReaderForEmotionRecognition(config).eval()
pipe = EEGEmotionRecognitionPipeline(model=model, feature_extractor=extractor, task="eeg-emotion-recognition",
                                     device=-1)
signals = 20 * rng.standard_normal((62, int(float(sys.argv[2]) * 60 * 200)))
names = list(config.channel_names)
started = time.perf_counter()
result = pipe(signals, sampling_rate=200, channel_names=names)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "segments": len(result["segments"])}))
"""


def side_folder(scratch: Path, name: str, reference: str | None) -> Path:
    """``scratch/name/side/`` holding the four Hub-bound files (of this tree, or of git revision ``reference``)."""
    package = scratch / name / "side"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for stem in FILES:
        if reference is None:
            text = (REPO / "moodreader_hf" / f"{stem}.py").read_text()
        else:
            text = subprocess.run(["git", "-C", str(REPO), "show", f"{reference}:moodreader_hf/{stem}.py"],
                                  capture_output=True, text=True, check=True).stdout
        (package / f"{stem}.py").write_text(text)
    return package.parent


def measure(folder: Path, minutes: float) -> dict[str, float]:
    finished = subprocess.run([sys.executable, "-c", WORKER, str(folder), str(minutes)], capture_output=True,
                              text=True, check=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference", default="ec95147", help="git revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moodreader-pipeline-") as scratch:
        sides = {"this tree": side_folder(Path(scratch), "tree", None),
                 args.reference: side_folder(Path(scratch), "reference", args.reference)}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, folder in sides.items():
                results[name].append(measure(folder, args.minutes))
    print(f"machine: {platform.machine()} {platform.processor()}, Python {platform.python_version()}; "
          f"{args.minutes:g} min of 62 channels at 200 Hz, SEED-sized model, {args.rounds} interleaved rounds")
    for name, runs in results.items():
        print(f"  {name:>10}: median {statistics.median(r['seconds'] for r in runs):6.2f} s, peak RSS "
              f"{statistics.median(r['peak_rss_mb'] for r in runs):7.1f} MiB, {runs[0]['segments']} segments")
    tree, reference = results["this tree"], results[args.reference]
    for key, label in (("seconds", "time"), ("peak_rss_mb", "peak RSS")):
        ratios = [mine[key] / other[key] for mine, other in zip(tree, reference)]
        print(f"  {label} ratio (this tree / {args.reference}) per pair: {' '.join(f'{r:.2f}' for r in ratios)}; "
              f"median {statistics.median(ratios):.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
