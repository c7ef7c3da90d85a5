"""Forward+backward throughput of the interlinked encoder against full attention over all tokens, side by side.

Both encoders have the default SEED width and depth and see the same batch of 10-window DE sequences
(62 electrodes, 5 bands). The reference is ``torch.nn.TransformerEncoder`` over the flattened (time x electrode)
tokens, so its attention is quadratic in 620 tokens; the interlinked encoder attends over 62 electrodes and over
10 windows separately.

    python benchmarks/model_throughput.py [--batch-size 16] [--windows 10 40] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from moodreader_hf import MoodReaderConfig, MoodReaderModel
from moodreader_hf.configuration_moodreader import INTERLINK_MODES


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
    parser.add_argument("--windows", type=int, nargs="+", default=[10, 40],
                        help="sequence lengths in windows; 10 is the SEED recipe's")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    base = MoodReaderConfig(hidden_dropout_prob=0.0, attention_dropout_prob=0.0)
    print(f"hidden {base.hidden_size}, layers {base.num_hidden_layers}, heads {base.num_attention_heads}; batch "
          f"{args.batch_size} x windows x {base.num_channels} electrodes x {base.num_bands} bands; "
          f"{torch.get_num_threads()} threads; forward+backward samples/s, ratio = interlinked / full attention")
    print(f"{'windows':>7} {'tokens':>6} {'full attention':>14} " + " ".join(f"{mode:>17}" for mode in INTERLINK_MODES))
    for windows in args.windows:
        de = torch.randn(args.batch_size, windows, base.num_channels, base.num_bands)
        reference = FullAttentionReference(base, windows).train()

        def reference_step():
            reference.zero_grad()
            reference(de).sum().backward()

        reference_rate = samples_per_second(reference_step, args.batch_size, args.repeats)
        cells = []
        for mode in INTERLINK_MODES:
            config = MoodReaderConfig(hidden_dropout_prob=0.0, attention_dropout_prob=0.0, interlink=mode)
            ours = MoodReaderModel(config).train()

            def ours_step():
                ours.zero_grad()
                ours(de_features=de).pooler_output.sum().backward()

            rate = samples_per_second(ours_step, args.batch_size, args.repeats)
            cells.append(f"{rate:8.1f} ({rate / reference_rate:4.2f}x)")
        tokens = windows * base.num_channels
        print(f"{windows:>7} {tokens:>6} {reference_rate:>14.1f} " + " ".join(f"{cell:>17}" for cell in cells))


if __name__ == "__main__":
    main()
