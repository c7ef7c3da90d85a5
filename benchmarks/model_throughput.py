"""Forward+backward throughput of the interlinked encoder against full attention over all tokens, interleaved.

Table 1 (the SEED recipe's width and depth, DE tokens): every interlink mode against ``torch.nn.TransformerEncoder``
of equal width and depth over all (window x electrode) tokens, at 10, 20 and 40 windows of 62 electrodes.

Table 2 (CBraMod's setting: d_model 200, 12 layers, 8 heads, feed-forward 800; 62 channels x 10 s of 200 Hz raw
signal in patches of 200 samples): our raw-signal encoder in each mode against a criss-cross reference written from
CBraMod's paper (spatial and temporal attention on two halves of the heads, one projection each) and against full
attention, with parameter counts; and against the encoder of ``--reference`` (default 321dfca, the code issue 14
measured, taken from git) in its fastest mode ``none``: the issue's bar for the raw-signal samples per second.

Each round times one step of every model in turn (A B C ... A B C ...), after a warm-up; the table shows the median
samples per second and the median of the per-round ratios to the reference.

    python benchmarks/model_throughput.py [--batch-size 16] [--windows 10 20 40] [--rounds 7] [--skip-cbramod]
                                          [--reference 321dfca]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from moodreader_hf import MoodReaderConfig, MoodReaderModel
from moodreader_hf.configuration_moodreader import INTERLINK_MODES
from pipeline_recording import side_folder  # this script's folder is on sys.path


class FullAttentionReference(nn.Module):
    """One token per (time step, electrode), learned positions, full self-attention over all of them."""

    def __init__(self, hidden: int, heads: int, intermediate: int, layers: int, inputs: int, tokens: int):
        super().__init__()
        self.projection = nn.Linear(inputs, hidden)
        self.positions = nn.Parameter(torch.zeros(tokens, hidden))
        layer = nn.TransformerEncoderLayer(hidden, heads, intermediate, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.projection(grid.flatten(1, 2)) + self.positions).mean(dim=1)


class CrissCrossLayer(nn.Module):
    """CBraMod's criss-cross layer as its paper describes it: the heads split in two halves, one attending across
    channels, one across patches, each half with its own projections; outputs concatenated; pre-norm; FFN."""

    def __init__(self, hidden: int, heads: int, intermediate: int):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.spatial = nn.MultiheadAttention(hidden // 2, heads // 2, batch_first=True)
        self.temporal = nn.MultiheadAttention(hidden // 2, heads // 2, batch_first=True)
        self.feed_forward = nn.Sequential(nn.LayerNorm(hidden), nn.Linear(hidden, intermediate), nn.GELU(),
                                          nn.Linear(intermediate, hidden))

    def forward(self, grid: torch.Tensor) -> torch.Tensor:  # (batch, patches, channels, hidden)
        batch, patches, channels, hidden = grid.shape
        normed = self.norm(grid)
        left, right = normed[..., : hidden // 2], normed[..., hidden // 2 :]
        spatial_in = left.reshape(batch * patches, channels, hidden // 2)
        spatial = self.spatial(spatial_in, spatial_in, spatial_in, need_weights=False)[0]
        temporal_in = right.transpose(1, 2).reshape(batch * channels, patches, hidden // 2)
        temporal = self.temporal(temporal_in, temporal_in, temporal_in, need_weights=False)[0]
        spatial = spatial.reshape(batch, patches, channels, hidden // 2)
        temporal = temporal.reshape(batch, channels, patches, hidden // 2).transpose(1, 2)
        grid = grid + torch.cat([spatial, temporal], dim=-1)
        return grid + self.feed_forward(grid)


class CrissCrossReference(nn.Module):
    def __init__(self, hidden: int, heads: int, intermediate: int, layers: int, inputs: int, tokens: int):
        super().__init__()
        self.projection = nn.Linear(inputs, hidden)
        self.positions = nn.Parameter(torch.zeros(tokens, hidden))
        self.layers = nn.ModuleList(CrissCrossLayer(hidden, heads, intermediate) for _ in range(layers))

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        tokens = self.projection(grid)
        tokens = tokens + self.positions.view(1, tokens.shape[1], tokens.shape[2], -1)
        for layer in self.layers:
            tokens = layer(tokens)
        return tokens.mean(dim=(1, 2))


def reference_classes(revision: str, scratch: Path) -> tuple[type, type[nn.Module]]:
    """``MoodReaderConfig`` and ``MoodReaderModel`` as they were at git ``revision`` (the Hub-bound files of that
    revision in a package of their own under ``scratch``, as ``pipeline_recording.py`` builds it)."""
    sys.path.insert(0, str(side_folder(scratch, "reference", revision)))
    return (importlib.import_module("side.configuration_moodreader").MoodReaderConfig,
            importlib.import_module("side.modeling_moodreader").MoodReaderModel)


def parameters(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def interleaved(steps: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    """Seconds per step of every entry, ``rounds`` times, the entries run in turn within each round."""
    for step in steps.values():
        step()
    timings: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            timings[name].append(time.perf_counter() - started)
    return timings


def train_step(model: nn.Module, forward: Callable[[], torch.Tensor]) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad()
        forward().sum().backward()
    return step


def report(timings: dict[str, list[float]], reference: str, batch: int, counts: dict[str, int] | None = None) -> None:
    base = timings[reference]
    for name, seconds in timings.items():
        ratios = [other / mine for mine, other in zip(seconds, base)]
        extra = f", {counts[name] / 1e6:6.2f} M parameters" if counts else ""
        print(f"  {name:>22}: {batch / statistics.median(seconds):8.1f} samples/s, ratio to {reference} "
              f"{statistics.median(ratios):5.2f}x (per round {' '.join(f'{r:.2f}' for r in ratios)}){extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--windows", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cbramod-batch-size", type=int, default=4)
    parser.add_argument("--skip-cbramod", action="store_true")
    parser.add_argument("--reference", default="321dfca", help="git revision whose 'none' encoder is the bar")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"machine: {platform.machine()} {platform.processor()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; forward+backward, medians of {args.rounds} interleaved rounds")
    base = MoodReaderConfig(hidden_dropout_prob=0.0, attention_dropout_prob=0.0)
    print(f"\nTable 1: DE tokens, hidden {base.hidden_size}, {base.num_hidden_layers} layers, "
          f"{base.num_attention_heads} heads, batch {args.batch_size} x windows x 62 electrodes x 5 bands")
    for windows in args.windows:
        de = torch.randn(args.batch_size, windows, 62, 5)
        reference = FullAttentionReference(base.hidden_size, base.num_attention_heads, base.intermediate_size,
                                           base.num_hidden_layers, 5, windows * 62).train()
        steps = {"full attention": train_step(reference, lambda: reference(de))}
        for mode in INTERLINK_MODES:
            model = MoodReaderModel(MoodReaderConfig(hidden_dropout_prob=0.0, attention_dropout_prob=0.0,
                                                     interlink=mode)).train()
            steps[mode] = train_step(model, lambda model=model: model(de_features=de).pooler_output)
        print(f" {windows} windows ({windows * 62} tokens):")
        report(interleaved(steps, args.rounds), "full attention", args.batch_size)
    if args.skip_cbramod:
        return
    hidden, layers, heads, intermediate, patch = 200, 12, 8, 800, 200
    signal = 20 * torch.randn(args.cbramod_batch_size, 62, 10 * 200)
    patches = signal.view(args.cbramod_batch_size, 62, 10, patch).transpose(1, 2)
    print(f"\nTable 2: CBraMod's setting, d_model {hidden}, {layers} layers, {heads} heads, feed-forward "
          f"{intermediate}; batch {args.cbramod_batch_size} x 62 channels x 10 s at 200 Hz, patches of {patch}")
    criss_cross = CrissCrossReference(hidden, heads, intermediate, layers, patch, 10 * 62).train()
    steps = {"criss-cross (CBraMod)": train_step(criss_cross, lambda: criss_cross(patches))}
    counts = {"criss-cross (CBraMod)": parameters(criss_cross)}
    setting = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                   intermediate_size=intermediate, signal_patch_size=patch, max_windows=10, sequence_windows=10,
                   streams=["signal"], hidden_dropout_prob=0.0, attention_dropout_prob=0.0)
    with tempfile.TemporaryDirectory(prefix="moodreader-throughput-") as scratch:
        old_config, old_model = reference_classes(args.reference, Path(scratch))
        models = {f"none at {args.reference}": old_model(old_config(**setting, interlink="none"))}
        models |= {mode: MoodReaderModel(MoodReaderConfig(**setting, interlink=mode)) for mode in INTERLINK_MODES}
        for name, model in models.items():
            model.train()
            steps[name] = train_step(model, lambda model=model: model(eeg_signals=signal).signal_pooler_output)
            counts[name] = parameters(model)
        timings = interleaved(steps, max(3, args.rounds // 2))
    report(timings, "criss-cross (CBraMod)", args.cbramod_batch_size, counts)
    print(f" the same rounds against the bar (target: cross >= 1.00x none at {args.reference}):")
    report(timings, f"none at {args.reference}", args.cbramod_batch_size, counts)


if __name__ == "__main__":
    main()
