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

ELECTRODE_VOCABULARY: tuple[str, ...] = (
    "Fp1", "Fpz", "Fp2", "AF9", "AF7", "AF5", "AF3", "AF1", "AFz", "AF2", "AF4", "AF6", "AF8", "AF10", "F9", "F7",
    "F5", "F3", "F1", "Fz", "F2", "F4", "F6", "F8", "F10", "FT9", "FT7", "FC5", "FC3", "FC1", "FCz", "FC2", "FC4",
    "FC6", "FT8", "FT10", "T9", "T7", "C5", "C3", "C1", "Cz", "C2", "C4", "C6", "T8", "T10", "TP9", "TP7", "CP5",
    "CP3", "CP1", "CPz", "CP2", "CP4", "CP6", "TP8", "TP10", "P9", "P7", "P5", "P3", "P1", "Pz", "P2", "P4", "P6",
    "P8", "P10", "PO9", "PO7", "PO5", "PO3", "PO1", "POz", "PO2", "PO4", "PO6", "PO8", "PO10", "O1", "Oz", "O2",
    "I1", "Iz", "I2", "AFp9h", "AFp7h", "AFp5h", "AFp3h", "AFp1h", "AFp2h", "AFp4h", "AFp6h", "AFp8h", "AFp10h",
    "AFF9h", "AFF7h", "AFF5h", "AFF3h", "AFF1h", "AFF2h", "AFF4h", "AFF6h", "AFF8h", "AFF10h", "FFT9h", "FFT7h",
    "FFC5h", "FFC3h", "FFC1h", "FFC2h", "FFC4h", "FFC6h", "FFT8h", "FFT10h", "FTT9h", "FTT7h", "FCC5h", "FCC3h",
    "FCC1h", "FCC2h", "FCC4h", "FCC6h", "FTT8h", "FTT10h", "TTP9h", "TTP7h", "CCP5h", "CCP3h", "CCP1h", "CCP2h",
    "CCP4h", "CCP6h", "TTP8h", "TTP10h", "TPP9h", "TPP7h", "CPP5h", "CPP3h", "CPP1h", "CPP2h", "CPP4h", "CPP6h",
    "TPP8h", "TPP10h", "PPO9h", "PPO7h", "PPO5h", "PPO3h", "PPO1h", "PPO2h", "PPO4h", "PPO6h", "PPO8h", "PPO10h",
    "POO9h", "POO7h", "POO5h", "POO3h", "POO1h", "POO2h", "POO4h", "POO6h", "POO8h", "POO10h", "OI1h", "OI2h",
    "Fp1h", "Fp2h", "AF9h", "AF7h", "AF5h", "AF3h", "AF1h", "AF2h", "AF4h", "AF6h", "AF8h", "AF10h", "F9h", "F7h",
    "F5h", "F3h", "F1h", "F2h", "F4h", "F6h", "F8h", "F10h", "FT9h", "FT7h", "FC5h", "FC3h", "FC1h", "FC2h", "FC4h",
    "FC6h", "FT8h", "FT10h", "T9h", "T7h", "C5h", "C3h", "C1h", "C2h", "C4h", "C6h", "T8h", "T10h", "TP9h", "TP7h",
    "CP5h", "CP3h", "CP1h", "CP2h", "CP4h", "CP6h", "TP8h", "TP10h", "P9h", "P7h", "P5h", "P3h", "P1h", "P2h",
    "P4h", "P6h", "P8h", "P10h", "PO9h", "PO7h", "PO5h", "PO3h", "PO1h", "PO2h", "PO4h", "PO6h", "PO8h", "PO10h",
    "O1h", "O2h", "I1h", "I2h", "AFp9", "AFp7", "AFp5", "AFp3", "AFp1", "AFpz", "AFp2", "AFp4", "AFp6", "AFp8",
    "AFp10", "AFF9", "AFF7", "AFF5", "AFF3", "AFF1", "AFFz", "AFF2", "AFF4", "AFF6", "AFF8", "AFF10", "FFT9",
    "FFT7", "FFC5", "FFC3", "FFC1", "FFCz", "FFC2", "FFC4", "FFC6", "FFT8", "FFT10", "FTT9", "FTT7", "FCC5", "FCC3",
    "FCC1", "FCCz", "FCC2", "FCC4", "FCC6", "FTT8", "FTT10", "TTP9", "TTP7", "CCP5", "CCP3", "CCP1", "CCPz", "CCP2",
    "CCP4", "CCP6", "TTP8", "TTP10", "TPP9", "TPP7", "CPP5", "CPP3", "CPP1", "CPPz", "CPP2", "CPP4", "CPP6", "TPP8",
    "TPP10", "PPO9", "PPO7", "PPO5", "PPO3", "PPO1", "PPOz", "PPO2", "PPO4", "PPO6", "PPO8", "PPO10", "POO9",
    "POO7", "POO5", "POO3", "POO1", "POOz", "POO2", "POO4", "POO6", "POO8", "POO10", "OI1", "OIz", "OI2", "M1",
    "M2", "A1", "A2", "CB1", "CB2",
)  # fmt: skip
"""The one electrode vocabulary of every Mood Reader model: MNE's ``standard_1005`` names (without the old 10-20
names T3, T4, T5, T6, which are aliases of T7, T8, P7, P8) plus the NeuroScan cerebellar electrodes CB1 and CB2 of
SEED. An electrode's id is its index here, whatever dataset it comes from."""

ELECTRODE_ALIASES: dict[str, str] = {"t3": "t7", "t4": "t8", "t5": "p7", "t6": "p8"}
"""Old 10-20 names (lower case) and the 10-10 names they stand for."""


def electrode_key(name: str) -> str:
    """A channel name reduced for matching: case-insensitive, without a leading ``"EEG "``, a ``"-REF"`` or
    ``"-LE"`` suffix, and dots (PhysioNet EDF files name channels ``"Fp1."``, ``"Fc5."``)."""
    key = str(name).strip()
    if key[:4].upper() == "EEG ":
        key = key[4:]
    key = key.replace(".", "").strip().upper()
    for suffix in ("-REF", "-LE"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.strip().lower()


_VOCABULARY_INDEX: dict[str, int] = {electrode_key(name): index for index, name in enumerate(ELECTRODE_VOCABULARY)}


def electrode_index(name: str) -> int | None:
    """Id of the electrode ``name`` in :data:`ELECTRODE_VOCABULARY` (matched with :func:`electrode_key` and the
    :data:`ELECTRODE_ALIASES`), or ``None`` when it is not an electrode of the vocabulary."""
    key = electrode_key(name)
    return _VOCABULARY_INDEX.get(ELECTRODE_ALIASES.get(key, key))


def electrode_ids(names: list[str] | tuple[str, ...], source: str = "electrode_ids") -> list[int]:
    """Vocabulary ids of ``names``; a name outside the vocabulary raises ``ValueError`` naming it."""
    ids = [electrode_index(name) for name in names]
    unknown = [name for name, index in zip(names, ids) if index is None]
    if unknown:
        raise ValueError(f"{source}: field 'channel_names': expected electrode names of the 10-05 system (MNE "
                         f"standard_1005) or CB1/CB2, got {unknown}.")
    return ids

BAND_NAMES: tuple[str, ...] = ("delta", "theta", "alpha", "beta", "gamma")
BAND_EDGES: tuple[tuple[float, float], ...] = ((1.0, 4.0), (4.0, 8.0), (8.0, 14.0), (14.0, 31.0), (31.0, 50.0))
"""Band edges in Hz, ``[low, high)``, as in the SEED papers."""

SEED_LABELS: dict[int, str] = {0: "negative", 1: "neutral", 2: "positive"}
INTERLINK_MODES: tuple[str, ...] = ("cross", "sequential", "none")
STREAMS: tuple[str, ...] = ("de", "signal")
FUSION_LEVELS: tuple[str, ...] = ("token", "feature", "decision")


class MoodReaderConfig(PreTrainedConfig):
    r"""
    Configuration of a Mood Reader model: electrodes, bands, window length, encoder sizes, masking and fusion.

    Every default below is this package's choice (the paper's numbers are not public), tuned to be small enough
    to train on a CPU.

    Electrodes are known by their id in :data:`ELECTRODE_VOCABULARY`, never by their position in one dataset's list:
    a batch carries its channels (``electrode_ids``), and no weight of the encoder, the poolers or the MBSM decoder
    has a size that depends on the number of channels, so one pre-trained encoder serves every montage.

    Args:
        num_channels: Number of electrodes of the default montage; equals ``len(channel_names)``.
        num_bands: Number of frequency bands of the DE features; equals ``len(band_names)``.
        channel_names: The default montage: the electrodes of a batch given without ``electrode_ids`` (and of the
            feature extractor built from this config), all in :data:`ELECTRODE_VOCABULARY`.
        band_names: Names of the DE bands, in the order of the model's band axis.
        band_edges: ``(low, high)`` edges in Hz of each band.
        sampling_rate: Sampling rate in Hz of ``eeg_signals``.
        window_seconds: Length in seconds of one DE window (one time step of ``de_features``).
        max_windows: Most windows one input sequence may hold (size of the learned time embedding).
        sequence_windows: Windows per input sequence in training (the rows of the built datasets); the inference
            pipeline cuts recordings into segments of this length.
        hidden_size: Width of every token.
        num_hidden_layers: Number of interlinked spatial-temporal layers in each encoder.
        num_attention_heads: Attention heads; must divide ``hidden_size``. With ``interlink`` ``"cross"`` or
            ``"none"`` half of them attend across electrodes and half across windows, so the number is even.
        intermediate_size: Width of the feed-forward layer.
        hidden_dropout_prob: Dropout after attention and feed-forward layers.
        attention_dropout_prob: Dropout on attention weights.
        classifier_dropout_prob: Dropout before the classification heads.
        layer_norm_eps: Epsilon of the layer norms.
        initializer_range: Standard deviation of the weight initialisation.
        interlink: How the spatial (across electrodes) and temporal (across windows) attention paths are joined:
            ``"cross"`` runs them side by side on half the heads each and lets each attend to the other's output;
            ``"none"`` runs them side by side only; ``"sequential"`` runs full-width spatial then temporal attention.
        mask_ratio: Fraction of tokens masked during masked brain signal modelling (MBSM).
        decoder_hidden_size: Width of the light MBSM decoder.
        decoder_num_hidden_layers: Interlinked layers in the MBSM decoder.
        eye_feature_size: Eye-movement features per window; 0 means the model has no eye modality (SEED-V: 33).
        signal_patch_size: Samples of raw signal per raw-signal token; must divide one window's samples.
        streams: The token streams the model builds and, for emotion recognition, needs as inputs: ``"de"`` (DE
            tokens, ``de_features``) and/or ``"signal"`` (raw-signal patches, ``eeg_signals``). MBSM pre-training on
            a raw-EEG corpus uses ``["signal"]``.
        pooler_rank: Width of each electrode's own linear map in the pooler that turns a token grid into one
            vector (the maps are indexed by the electrode vocabulary).
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
    streams: list[str] | tuple[str, ...] = ("de",)
    pooler_rank: int = 16
    fusion_levels: list[str] | tuple[str, ...] = FUSION_LEVELS

    def __post_init__(self, **kwargs):
        if self.id2label is None and "num_labels" not in kwargs:
            self.id2label = dict(SEED_LABELS)
        self.channel_names = list(self.channel_names)
        self.band_names = list(self.band_names)
        self.band_edges = [[float(low), float(high)] for low, high in self.band_edges]
        self.fusion_levels = list(self.fusion_levels)
        self.streams = list(self.streams)
        super().__post_init__(**kwargs)
        self._check_values()

    @classmethod
    def from_dict(cls, config_dict: dict, **kwargs):
        """As transformers does; a config saved before the electrode vocabulary (no ``streams`` field) is refused
        with what changed, since its weights are tied to one montage."""
        if config_dict.get("model_type") == cls.model_type and "streams" not in config_dict:
            raise ValueError(
                "MoodReaderConfig: field 'streams': expected a config saved by moodreader-hf 0.2 or later (one "
                "electrode vocabulary for every montage), got a config without it: this folder was saved when each "
                "model was bound to one montage (electrode embeddings and poolers sized by num_channels); its "
                "weights cannot be loaded by this version. Pre-train or fine-tune it again."
            )
        return super().from_dict(config_dict, **kwargs)

    @property
    def vocabulary_size(self) -> int:
        """Rows of every electrode embedding: the size of :data:`ELECTRODE_VOCABULARY`."""
        return len(ELECTRODE_VOCABULARY)

    @property
    def default_electrode_ids(self) -> list[int]:
        """Vocabulary ids of ``channel_names``."""
        return electrode_ids(self.channel_names, "MoodReaderConfig")

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
            "pooler_rank",
        ):  # fmt: skip
            _require(name, getattr(self, name), _is_int(getattr(self, name)) and getattr(self, name) > 0,
                     "a positive integer")
        _require("sequence_windows", self.sequence_windows,
                 _is_int(self.sequence_windows) and 1 <= self.sequence_windows <= self.max_windows,
                 f"an integer from 1 to max_windows={self.max_windows}")
        _require("decoder_num_hidden_layers", self.decoder_num_hidden_layers,
                 _is_int(self.decoder_num_hidden_layers) and self.decoder_num_hidden_layers >= 0,
                 "a non-negative integer")
        _require("eye_feature_size", self.eye_feature_size,
                 _is_int(self.eye_feature_size) and self.eye_feature_size >= 0, "a non-negative integer")
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
        _require("num_attention_heads", self.num_attention_heads,
                 self.interlink == "sequential" or self.num_attention_heads % 2 == 0,
                 f"an even number with interlink={self.interlink!r} (half the heads per axis)")
        _require("streams", self.streams,
                 bool(self.streams) and set(self.streams) <= set(STREAMS) and len(set(self.streams)) == len(self.streams),
                 f"a non-empty list of distinct streams from {STREAMS}")
        unknown_names = [name for name in self.channel_names if electrode_index(name) is None]
        _require("channel_names", unknown_names, not unknown_names,
                 "electrode names of the vocabulary (MNE standard_1005 or CB1/CB2)")
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


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(field: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"MoodReaderConfig.{field}: expected {expected}, got {value!r}.")


__all__ = [
    "MoodReaderConfig", "SEED_CHANNEL_NAMES", "BAND_NAMES", "BAND_EDGES", "SEED_LABELS", "ELECTRODE_VOCABULARY",
    "ELECTRODE_ALIASES", "STREAMS", "electrode_key", "electrode_index", "electrode_ids",
]
