"""Forward+backward throughput of the interlinked encoder against full attention over all tokens, side by side.

Both encoders have the default SEED width and depth and see the same batch of 10-window DE sequences
(62 electrodes, 5 bands). The reference is ``torch.nn.TransformerEncoder`` over the flattened (time x electrode)
tokens, so its attention is quadratic in 620 tokens; the interlinked encoder attends over 62 electrodes and over
10 windows separately.

    python benchmarks/model_throughput.py [--batch-size 16] [--windows 10 30 60] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from moodreader_hf import MoodReaderConfig, MoodReaderModel


class FullAttentionReference(nn.Module):
    """One token per (window, electrode), learned electrode and time embeddings, full self-attention over all."""

    def __init__(self, config: MoodReaderConfig, windows: int):
        super().__init__()
        self.band_projection = nn.Linear(config.num_bands, config.hidden_size)
        self.positions = nn.Parameter(torch.zeros(windows * config.num_channels, config.hidden_size))
        layer = nn.TransformerEncoderLayer(
            config.hidden_size, config.num_attention_heads, config.intermediate_size, dropout=0.0,
            batch_first=True, norm_first=True, activation="gelu",
        )
        self.encoder = nn.TransformerEncoder(layer, config.num_hidden_layers, enable_nested_tensor=False)

    def forward(self, de_features: torch.Tensor) -> torch.Tensor:
        tokens = self.band_projection(de_features.flatten(1, 2)) + self.positions
        return self.encoder(tokens).mean(dim=1)


def samples_per_second(step, batch_size: int, repeats: int) -> float:
    """Best of ``repeats`` timed forward+backward steps, after one warm-up step."""
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return batch_size / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--windows", type=int, nargs="+", default=[10, 30, 60],
                        help="sequence lengths in windows; 10 is the SEED recipe's")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = MoodReaderConfig(hidden_dropout_prob=0.0, attention_dropout_prob=0.0)
    print(f"config: hidden {config.hidden_size}, layers {config.num_hidden_layers}, heads {config.num_attention_heads}, "
          f"interlink {config.interlink}; batch {args.batch_size} x windows x {config.num_channels} electrodes x "
          f"{config.num_bands} bands; {torch.get_num_threads()} threads; forward+backward samples/s")
    print(f"{'windows':>7} {'tokens':>6} {'interlinked':>11} {'reference':>9} {'ratio':>6}")
    for windows in args.windows:
        de = torch.randn(args.batch_size, windows, config.num_channels, config.num_bands)
        ours = MoodReaderModel(config).train()
        reference = FullAttentionReference(config, windows).train()

        def ours_step():
            ours.zero_grad()
            ours(de_features=de).pooler_output.sum().backward()

        def reference_step():
            reference.zero_grad()
            reference(de).sum().backward()

        ours_rate = samples_per_second(ours_step, args.batch_size, args.repeats)
        reference_rate = samples_per_second(reference_step, args.batch_size, args.repeats)
        tokens = windows * config.num_channels
        print(f"{windows:>7} {tokens:>6} {ours_rate:>11.1f} {reference_rate:>9.1f} {ours_rate / reference_rate:>5.2f}x")


if __name__ == "__main__":
    main()
