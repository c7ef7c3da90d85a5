"""Configuration of the Mood Reader model, with the SEED montage and frequency bands.

This file travels to the Hugging Face Hub as remote code: it imports only the standard library and transformers.
"""

from __future__ import annotations

from transformers import PreTrainedConfig

SEED_CHANNEL_NAMES: tuple[str, ...] = (
    "Fp1", "Fpz", "Fp2", "AF3", "AF4",
    "F7", "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8",
    "FT7", "FC5", "FC3", "FC1", "FCz", "FC2", "FC4", "FC6", "FT8",
    "T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8",
    "TP7", "CP5", "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "TP8",
    "P7", "P5", "P3", "P1", "Pz", "P2", "P4", "P6", "P8",
    "PO7", "PO5", "PO3", "POz", "PO4", "PO6", "PO8",
    "CB1", "O1", "Oz", "O2", "CB2",
)  # fmt: skip
"""The 62 electrodes of SEED, SEED-IV and SEED-V (ESI NeuroScan, extended 10-20), in the datasets' order."""

BAND_NAMES: tuple[str, ...] = ("delta", "theta", "alpha", "beta", "gamma")
BAND_EDGES: tuple[tuple[float, float], ...] = ((1.0, 4.0), (4.0, 8.0), (8.0, 14.0), (14.0, 31.0), (31.0, 50.0))
"""Band edges in Hz, ``[low, high)``, as in the SEED papers."""

SEED_LABELS: dict[int, str] = {0: "negative", 1: "neutral", 2: "positive"}
INTERLINK_MODES: tuple[str, ...] = ("cross", "sequential", "none")
FUSION_LEVELS: tuple[str, ...] = ("token", "feature", "decision")


class MoodReaderConfig(PreTrainedConfig):
    r"""
    Configuration of a Mood Reader model: electrodes, bands, window length, encoder sizes, masking and fusion.

    Every default below is this package's choice (the paper's numbers are not public), tuned to be small enough
    to train on a CPU.

    Args:
        num_channels: Number of electrodes; equals ``len(channel_names)``.
        num_bands: Number of frequency bands of the DE features; equals ``len(band_names)``.
        channel_names: Electrode names of the montage, in the order of the model's channel axis.
        band_names: Names of the DE bands, in the order of the model's band axis.
        band_edges: ``(low, high)`` edges in Hz of each band.
        sampling_rate: Sampling rate in Hz of ``eeg_signals``.
        window_seconds: Length in seconds of one DE window (one time step of ``de_features``).
        max_windows: Most windows one input sequence may hold (size of the learned time embedding).
        sequence_windows: Windows per input sequence in training (the rows of the built datasets); the inference
            pipeline cuts recordings into segments of this length.
        hidden_size: Width of every token.
        num_hidden_layers: Number of interlinked spatial-temporal layers in each encoder.
        num_attention_heads: Attention heads; must divide ``hidden_size``.
        intermediate_size: Width of the feed-forward layer.
        hidden_dropout_prob: Dropout after attention and feed-forward layers.
        attention_dropout_prob: Dropout on attention weights.
        classifier_dropout_prob: Dropout before the classification heads.
        layer_norm_eps: Epsilon of the layer norms.
        initializer_range: Standard deviation of the weight initialisation.
        interlink: How the spatial (across electrodes) and temporal (across windows) attention paths are joined:
            ``"cross"`` runs them side by side and lets each attend to the other's output; ``"sequential"`` runs
            spatial then temporal attention; ``"none"`` runs them side by side and averages them.
        mask_ratio: Fraction of tokens masked during masked brain signal modelling (MBSM).
        decoder_hidden_size: Width of the light MBSM decoder.
        decoder_num_hidden_layers: Interlinked layers in the MBSM decoder.
        eye_feature_size: Eye-movement features per window; 0 means the model has no eye modality (SEED-V: 33).
        signal_patch_size: Samples of raw signal per raw-signal token; must divide one window's samples.
        fusion_levels: Where the modalities are fused: ``"token"`` (DE tokens attend to the raw-signal tokens of
            the same electrode), ``"feature"`` (gated sum of pooled representations), ``"decision"`` (weighted
            average of per-modality logits).

    Example:

    ```python
    >>> from moodreader_hf import MoodReaderConfig, MoodReaderForEmotionRecognition
    >>> config = MoodReaderConfig(hidden_size=32, num_attention_heads=4, eye_feature_size=33, num_labels=5)
    >>> model = MoodReaderForEmotionRecognition(config)
    ```"""

    model_type = "moodreader"

    num_channels: int = 62
    num_bands: int = 5
    channel_names: list[str] | tuple[str, ...] = SEED_CHANNEL_NAMES
    band_names: list[str] | tuple[str, ...] = BAND_NAMES
    band_edges: list[list[float]] | tuple[tuple[float, float], ...] = BAND_EDGES
    sampling_rate: int = 200
    window_seconds: float = 1.0
    max_windows: int = 64
    sequence_windows: int = 10
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    intermediate_size: int = 128
    hidden_dropout_prob: float = 0.1
    attention_dropout_prob: float = 0.0
    classifier_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-6
    initializer_range: float = 0.02
    interlink: str = "cross"
    mask_ratio: float = 0.75
    decoder_hidden_size: int = 32
    decoder_num_hidden_layers: int = 1
    eye_feature_size: int = 0
    signal_patch_size: int = 50
    fusion_levels: list[str] | tuple[str, ...] = FUSION_LEVELS

    def __post_init__(self, **kwargs):
        if self.id2label is None and "num_labels" not in kwargs:
            self.id2label = dict(SEED_LABELS)
        self.channel_names = list(self.channel_names)
        self.band_names = list(self.band_names)
        self.band_edges = [[float(low), float(high)] for low, high in self.band_edges]
        self.fusion_levels = list(self.fusion_levels)
        super().__post_init__(**kwargs)
        self._check_values()

    @property
    def samples_per_window(self) -> int:
        """Samples of raw signal in one DE window."""
        return round(self.sampling_rate * self.window_seconds)

    @property
    def patches_per_window(self) -> int:
        """Raw-signal tokens per electrode in one DE window."""
        return self.samples_per_window // self.signal_patch_size

    def _check_values(self) -> None:
        for name in (
            "num_channels", "num_bands", "sampling_rate", "max_windows", "hidden_size", "num_hidden_layers",
            "num_attention_heads", "intermediate_size", "decoder_hidden_size", "signal_patch_size",
        ):  # fmt: skip
            _require(name, getattr(self, name), isinstance(getattr(self, name), int) and getattr(self, name) > 0,
                     "a positive integer")
        _require("sequence_windows", self.sequence_windows,
                 isinstance(self.sequence_windows, int) and 1 <= self.sequence_windows <= self.max_windows,
                 f"an integer from 1 to max_windows={self.max_windows}")
        _require("decoder_num_hidden_layers", self.decoder_num_hidden_layers,
                 isinstance(self.decoder_num_hidden_layers, int) and self.decoder_num_hidden_layers >= 0,
                 "a non-negative integer")
        _require("eye_feature_size", self.eye_feature_size,
                 isinstance(self.eye_feature_size, int) and self.eye_feature_size >= 0, "a non-negative integer")
        _require("window_seconds", self.window_seconds, _is_number(self.window_seconds) and self.window_seconds > 0,
                 "a positive number of seconds")
        for name in ("hidden_dropout_prob", "attention_dropout_prob", "classifier_dropout_prob"):
            value = getattr(self, name)
            _require(name, value, _is_number(value) and 0 <= value < 1, "a probability in [0, 1)")
        _require("mask_ratio", self.mask_ratio, _is_number(self.mask_ratio) and 0 < self.mask_ratio < 1,
                 "a fraction in (0, 1)")
        _require("hidden_size", self.hidden_size, self.hidden_size % self.num_attention_heads == 0,
                 f"a multiple of num_attention_heads={self.num_attention_heads}")
        _require("decoder_hidden_size", self.decoder_hidden_size,
                 self.decoder_hidden_size % self.num_attention_heads == 0,
                 f"a multiple of num_attention_heads={self.num_attention_heads}")
        _require("interlink", self.interlink, self.interlink in INTERLINK_MODES, f"one of {INTERLINK_MODES}")
        unknown_levels = sorted(set(self.fusion_levels) - set(FUSION_LEVELS))
        _require("fusion_levels", self.fusion_levels, not unknown_levels, f"a subset of {FUSION_LEVELS}")
        _require("channel_names", f"{len(self.channel_names)} names", len(self.channel_names) == self.num_channels,
                 f"num_channels={self.num_channels} names")
        _require("channel_names", self.channel_names,
                 len({name.lower() for name in self.channel_names}) == len(self.channel_names),
                 "distinct names (case-insensitive)")
        _require("band_names", f"{len(self.band_names)} names", len(self.band_names) == self.num_bands,
                 f"num_bands={self.num_bands} names")
        _require("band_edges", self.band_edges,
                 len(self.band_edges) == self.num_bands and all(0 <= lo < hi for lo, hi in self.band_edges),
                 f"num_bands={self.num_bands} pairs (low, high) in Hz with 0 <= low < high")
        nyquist = self.sampling_rate / 2
        _require("band_edges", self.band_edges, all(hi <= nyquist for _, hi in self.band_edges),
                 f"edges at or below the Nyquist frequency {nyquist} Hz")
        _require("window_seconds", self.window_seconds,
                 abs(self.sampling_rate * self.window_seconds - self.samples_per_window) < 1e-9,
                 f"a whole number of samples at sampling_rate={self.sampling_rate} Hz")
        _require("signal_patch_size", self.signal_patch_size,
                 self.samples_per_window % self.signal_patch_size == 0,
                 f"a divisor of the {self.samples_per_window} samples of one window")
        _require("num_labels", self.num_labels, self.num_labels >= 1, "at least 1")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(field: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"MoodReaderConfig.{field}: expected {expected}, got {value!r}.")


__all__ = ["MoodReaderConfig", "SEED_CHANNEL_NAMES", "BAND_NAMES", "BAND_EDGES", "SEED_LABELS"]
