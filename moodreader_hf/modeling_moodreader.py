"""The Mood Reader model: interlinked spatial-temporal attention over EEG tokens, masked brain signal modelling
(MBSM) pre-training, and multi-level fusion of DE, raw-signal and eye-movement representations for emotion
recognition.

This file travels to the Hugging Face Hub as remote code: it imports only torch, transformers and the configuration.

Token grids. Every stream is a grid ``(batch, time, channels, hidden)``: one token per (window, electrode) for DE
features, one token per (patch of samples, electrode) for raw signals. Spatial attention runs across electrodes
within one time step, temporal attention across time steps within one electrode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.utils import ModelOutput

from .configuration_moodreader import MoodReaderConfig

AUTO_MAP: dict[str, str] = {
    "AutoConfig": "configuration_moodreader.MoodReaderConfig",
    "AutoModel": "modeling_moodreader.MoodReaderModel",
    "AutoModelForSequenceClassification": "modeling_moodreader.MoodReaderForEmotionRecognition",
    "AutoModelForPreTraining": "modeling_moodreader.MoodReaderForMaskedEEGModeling",
}
"""Every class of this file by the Auto class that loads it; written into each saved ``config.json``."""

REMOTE_CODE_FILES: tuple[str, ...] = ("configuration_moodreader.py", "modeling_moodreader.py")
"""The files a saved model folder needs to load with ``trust_remote_code=True``."""


@dataclass
class MoodReaderModelOutput(ModelOutput):
    """Output of :class:`MoodReaderModel`.

    Args:
        last_hidden_state: DE tokens after the encoder, ``(batch, time, channels, hidden)``.
        pooler_output: The DE tokens pooled by :class:`MoodReaderPooler`, ``(batch, hidden)``.
        signal_last_hidden_state: Raw-signal tokens after their encoder, ``(batch, patches, channels, hidden)``,
            when ``eeg_signals`` was given.
        signal_pooler_output: The raw-signal tokens pooled likewise, ``(batch, hidden)``, when ``eeg_signals`` was
            given.
        hidden_states: DE token grids after the embeddings and after each layer, each
            ``(batch, time, channels, hidden)``.
        spatial_attentions: Per layer, attention across electrodes ``(batch, time, heads, channels, channels)``.
        temporal_attentions: Per layer, attention across windows ``(batch, channels, heads, time, time)``.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    signal_last_hidden_state: torch.Tensor | None = None
    signal_pooler_output: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    spatial_attentions: tuple[torch.Tensor, ...] | None = None
    temporal_attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class MoodReaderMaskedEEGModelingOutput(ModelOutput):
    """Output of :class:`MoodReaderForMaskedEEGModeling`.

    Args:
        loss: Sum of the masked reconstruction losses of the streams that were given.
        logits: Reconstructed DE tokens ``(batch, time, channels, bands)``, when ``de_features`` was given.
        mask: Which DE tokens were masked, ``(batch, time, channels)`` bool.
        signal_logits: Reconstructed raw-signal token features ``(batch, patches, channels, signal_patch_size + 1)``
            (the samples scaled by their channel's standard deviation, then the log-amplitude), when
            ``eeg_signals`` was given.
        signal_mask: Which raw-signal tokens were masked, ``(batch, patches, channels)`` bool.
        de_loss: Mean squared error on the masked DE tokens.
        signal_loss: Mean squared error on the masked raw-signal tokens.
        hidden_states, spatial_attentions, temporal_attentions: As in :class:`MoodReaderModelOutput`, of the DE
            stream when given, otherwise of the raw-signal stream.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    signal_logits: torch.Tensor | None = None
    signal_mask: torch.Tensor | None = None
    de_loss: torch.Tensor | None = None
    signal_loss: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    spatial_attentions: tuple[torch.Tensor, ...] | None = None
    temporal_attentions: tuple[torch.Tensor, ...] | None = None


@dataclass
class MoodReaderEmotionRecognitionOutput(ModelOutput):
    """Output of :class:`MoodReaderForEmotionRecognition`.

    Args:
        loss: Cross-entropy of ``logits`` against ``labels``, when ``labels`` was given.
        logits: Class scores before softmax, ``(batch, num_labels)``.
        hidden_states, spatial_attentions, temporal_attentions: Of the DE stream, as in
            :class:`MoodReaderModelOutput`.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    hidden_states: tuple[torch.Tensor, ...] | None = None
    spatial_attentions: tuple[torch.Tensor, ...] | None = None
    temporal_attentions: tuple[torch.Tensor, ...] | None = None


def check_model_inputs(
    config: MoodReaderConfig,
    de_features: torch.Tensor | None = None,
    eeg_signals: torch.Tensor | None = None,
    eye_features: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    channel_mask: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    electrode_ids: torch.Tensor | None = None,
    require_eye: bool = False,
    required_streams: tuple[str, ...] = (),
    signal_last_hidden_state: torch.Tensor | None = None,
) -> None:
    """Raise ``ValueError`` stating the expected and the received shape of any input that does not fit ``config``.

    Shapes: ``de_features (batch, time, channels, bands)``, ``eeg_signals (batch, channels, samples)`` with
    ``samples = time * samples_per_window``, ``eye_features (batch, time, eye_feature_size)``,
    ``attention_mask (batch, time)``, ``channel_mask (batch, channels)``, ``electrode_ids (batch, channels)``,
    ``(1, channels)`` or ``(channels,)`` vocabulary ids, ``labels (batch,)``. Any number of channels; without ``electrode_ids`` they
    must be the ``config.num_channels`` electrodes of ``config.channel_names``. No broadcasting otherwise.
    ``required_streams`` names the streams whose input must be given. ``signal_last_hidden_state (batch,
    time * patches_per_window, channels, hidden_size)``, the raw-signal stream already encoded, stands in for
    ``eeg_signals`` beside ``de_features``.
    """
    bands = config.num_bands
    if de_features is None and eeg_signals is None:
        raise ValueError("Expected de_features (batch, time, channels, bands) or eeg_signals (batch, channels, samples).")
    encoded = signal_last_hidden_state is not None
    signal_name = "signal_last_hidden_state" if encoded else "eeg_signals"
    for stream, name, value, shape in (("de", "de_features", de_features, "(batch, time, channels, bands)"),
                                       ("signal", signal_name, signal_last_hidden_state if encoded else eeg_signals,
                                        "(batch, channels, samples)")):
        if value is None and stream in required_streams:
            raise ValueError(f"{name}: expected shape {shape} (the model was built with the {stream!r} stream, "
                             f"config.streams={config.streams}), got none.")
        if value is not None and stream not in config.streams:
            raise ValueError(f"{name}: expected none (the model has no {stream!r} stream, config.streams="
                             f"{config.streams}), got shape {tuple(value.shape)}.")
    if de_features is not None:
        _check_shape("de_features", de_features, (None, None, None, bands), "(batch, time, channels, bands)")
    if encoded:
        _check_encoded_signal(config, de_features, eeg_signals, signal_last_hidden_state)
    if eeg_signals is not None:
        _check_shape("eeg_signals", eeg_signals, (None, None, None), "(batch, channels, samples)")
        samples = eeg_signals.shape[-1]
        if samples % config.samples_per_window:
            raise ValueError(
                f"eeg_signals: expected a whole number of {config.window_seconds} s windows "
                f"({config.samples_per_window} samples each at {config.sampling_rate} Hz), got {samples} samples."
            )
    reference = de_features if de_features is not None else eeg_signals
    batch = reference.shape[0]
    channels = de_features.shape[2] if de_features is not None else eeg_signals.shape[1]
    windows = de_features.shape[1] if de_features is not None else eeg_signals.shape[-1] // config.samples_per_window
    if not 1 <= windows <= config.max_windows:
        name = "de_features" if de_features is not None else "eeg_signals"
        raise ValueError(f"{name}: expected 1 to max_windows={config.max_windows} windows, got {windows}.")
    if channels == 0:
        raise ValueError("de_features: expected at least one channel, got 0.")
    if de_features is not None and eeg_signals is not None:
        expected = (batch, channels, windows * config.samples_per_window)
        _check_shape("eeg_signals", eeg_signals, expected, f"(batch, channels, time * {config.samples_per_window})",
                     finite=False)
    if electrode_ids is None:
        if channels != config.num_channels:
            raise ValueError(
                f"electrode_ids: expected vocabulary ids (batch, {channels}) for a batch of {channels} channels (the "
                f"default montage config.channel_names has {config.num_channels}), got none."
            )
    else:
        if not isinstance(electrode_ids, torch.Tensor) or electrode_ids.dtype.is_floating_point or (
                tuple(electrode_ids.shape) not in ((channels,), (1, channels), (batch, channels))):
            got = tuple(electrode_ids.shape) if isinstance(electrode_ids, torch.Tensor) else type(electrode_ids).__name__
            raise ValueError(f"electrode_ids: expected integer ids of shape ({batch}, {channels}) or ({channels},), "
                             f"got {got}.")
        if bool(((electrode_ids < 0) | (electrode_ids >= config.vocabulary_size)).any()):
            raise ValueError(f"electrode_ids: expected ids in [0, {config.vocabulary_size}) (ELECTRODE_VOCABULARY), "
                             f"got {sorted(set(electrode_ids.flatten().tolist()))[:10]}.")
    if eye_features is not None:
        if config.eye_feature_size == 0:
            raise ValueError(
                "eye_features: expected none (the model is configured with eye_feature_size=0), "
                f"got shape {tuple(eye_features.shape)}."
            )
        _check_shape("eye_features", eye_features, (batch, windows, config.eye_feature_size),
                     "(batch, time, eye_feature_size)")
    elif require_eye and config.eye_feature_size > 0:
        raise ValueError(
            f"eye_features: expected shape ({batch}, {windows}, {config.eye_feature_size}) "
            "(the model is configured with eye features), got none."
        )
    for name, mask, shape in (("attention_mask", attention_mask, (batch, windows)),
                              ("channel_mask", channel_mask, (batch, channels))):
        if mask is not None:
            _check_shape(name, mask, shape, "(batch, time)" if name == "attention_mask" else "(batch, channels)")
            if not bool((mask != 0).any(dim=1).all()):
                raise ValueError(f"{name}: expected at least one non-zero entry per sample, got a sample of zeros.")
    if labels is not None:
        _check_shape("labels", labels, (batch,), "(batch,)")
        if labels.dtype.is_floating_point or bool(((labels < 0) | (labels >= config.num_labels)).any()):
            raise ValueError(f"labels: expected integer class indices in [0, {config.num_labels}), got {labels.tolist()}.")


def _check_encoded_signal(config: MoodReaderConfig, de_features: torch.Tensor | None,
                          eeg_signals: torch.Tensor | None, encoded: torch.Tensor) -> None:
    """``signal_last_hidden_state`` replaces ``eeg_signals`` and needs ``de_features``, whose windows and channels
    it must match: ``(batch, time * patches_per_window, channels, hidden_size)``."""
    if eeg_signals is not None:
        raise ValueError("signal_last_hidden_state: expected none when eeg_signals are given (it replaces them), got "
                         f"shape {tuple(encoded.shape)}.")
    if de_features is None:
        raise ValueError("de_features: expected shape (batch, time, channels, bands) beside signal_last_hidden_state, "
                         "got none.")
    batch, time, channels = de_features.shape[:3]
    expected = (batch, time * config.patches_per_window, channels, config.hidden_size)
    _check_shape("signal_last_hidden_state", encoded, expected, "(batch, time * patches_per_window, channels, hidden)")


def _check_shape(
    name: str, tensor: torch.Tensor, expected: tuple[int | None, ...], dims: str, finite: bool = True
) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"{name}: expected a torch.Tensor of shape {dims}, got {type(tensor).__name__}.")
    fits = tensor.dim() == len(expected) and all(e is None or e == s for e, s in zip(expected, tensor.shape))
    if not fits:
        wanted = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name}: expected shape {wanted} {dims}, got {tuple(tensor.shape)}.")
    if finite and tensor.is_floating_point() and not _all_finite(tensor):
        raise ValueError(f"{name}: expected finite values, got NaN or infinite values in shape {tuple(tensor.shape)}.")


def _all_finite(tensor: torch.Tensor) -> bool:
    """Whether every value is finite, in one reduction when it is: a NaN or an infinity makes the sum non-finite
    (a sum that overflows is checked element-wise)."""
    return bool(torch.isfinite(tensor.sum())) or bool(torch.isfinite(tensor).all())


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the tokens where ``mask`` is true: ``(..., features)`` values, ``(...)`` mask."""
    per_token = (prediction - target).pow(2).mean(dim=-1)
    weights = mask.to(per_token.dtype)
    return (per_token * weights).sum() / weights.sum().clamp_min(1.0)


def random_token_mask(valid: torch.Tensor, mask_ratio: float) -> torch.Tensor:
    """Mask ``round(mask_ratio * n)`` of the ``n`` valid tokens of each sample, uniformly at random.

    Args:
        valid: ``(batch, ...)`` bool, the tokens that may be masked (real windows of present electrodes).
        mask_ratio: Fraction of each sample's valid tokens to mask; at least one where a sample has any and, where
            it has more than one, at least one left visible.

    Returns:
        ``(batch, ...)`` bool, true where a token is masked.
    """
    flat_valid = valid.flatten(1)
    counts = flat_valid.sum(dim=1)
    to_mask = torch.round(counts.to(torch.float64) * mask_ratio).long()
    to_mask = torch.minimum(to_mask.clamp_min(1), (counts - 1).clamp_min(1)).minimum(counts)
    noise = torch.rand(flat_valid.shape, device=valid.device).masked_fill(~flat_valid, 2.0)
    ranks = noise.argsort(dim=1).argsort(dim=1)
    return (ranks < to_mask[:, None]).view_as(valid)


class MoodReaderAttention(nn.Module):
    """Multi-head attention along one axis of a token array: queries ``(batch, ..., hidden)`` attend to context
    tokens of the same shape along dimension ``axis``, every other dimension being a batch dimension.

    On a grid ``(batch, time, channels, hidden)``, ``axis=2`` attends across electrodes within each window and
    ``axis=1`` across windows within each electrode; the projections run in the grid's own layout and the heads see
    permuted views, so nothing is transposed in memory. Uses ``scaled_dot_product_attention``; when the weights are
    asked for, computes them explicitly instead.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float):
        super().__init__()
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.dropout = dropout
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key_value = nn.Linear(hidden_size, 2 * hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)

    def forward(
        self,
        queries: torch.Tensor,
        context: torch.Tensor,
        axis: int,
        key_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``key_mask (batch, keys)`` bool: true for the positions along ``axis`` that may be attended to. Returns
        the attended tokens in the shape of ``queries`` and, if asked for, the weights ``(batch, <other dims>, heads,
        queries, keys)``."""
        split = (self.num_heads, self.head_size)
        query = self.query(queries).unflatten(-1, split).movedim(axis, -2)
        key, value = self.key_value(context).unflatten(-1, (2, *split)).unbind(-3)
        key, value = key.movedim(axis, -2), value.movedim(axis, -2)
        attn_mask = None
        if key_mask is not None:
            attn_mask = key_mask.view(key_mask.shape[0], *([1] * (query.dim() - 2)), key_mask.shape[-1])
        dropout = self.dropout if self.training else 0.0
        weights = None
        if output_attentions:
            scores = query @ key.transpose(-1, -2) / math.sqrt(self.head_size)
            if attn_mask is not None:
                scores = scores.masked_fill(~attn_mask, float("-inf"))
            weights = scores.softmax(dim=-1)
            attended = F.dropout(weights, p=dropout, training=self.training) @ value
        else:  # the fused kernel on (batch * <other dims>, heads, L, d): 4-D, as torch.compile needs
            leading = query.shape[:-3]
            if attn_mask is not None:
                attn_mask = attn_mask.expand(*leading, 1, 1, attn_mask.shape[-1]).flatten(0, -4)
            attended = F.scaled_dot_product_attention(query.flatten(0, -4), key.flatten(0, -4), value.flatten(0, -4),
                                                      attn_mask=attn_mask, dropout_p=dropout).unflatten(0, leading)
        return self.output(attended.movedim(-2, axis).flatten(-2)), weights


class MoodReaderFeedForward(nn.Module):
    """Position-wise feed-forward layer: ``(..., hidden) -> (..., hidden)``."""

    def __init__(self, hidden_size: int, intermediate_size: int, dropout: float):
        super().__init__()
        self.up = nn.Linear(hidden_size, intermediate_size)
        self.down = nn.Linear(intermediate_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.down(F.gelu(self.up(hidden_states))))


def _axial_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    axis: int,
    key_mask: torch.Tensor | None,
    dropout: float,
    output_attentions: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Attention along one axis of head-split grids ``(batch, time, channels, heads, head_size)``: ``axis=2`` across
    electrodes within each window, ``axis=1`` across windows within each electrode. ``key_mask (batch, keys)`` bool
    marks the positions that may be attended to. Returns the attended grid in the same layout and, if asked for, the
    weights ``(batch, <other axis>, heads, queries, keys)``."""
    query, key, value = (tensor.movedim(axis, 3) for tensor in (query, key, value))  # (batch, other, heads, L, d)
    mask = None if key_mask is None else key_mask[:, None, None, None, :]
    if output_attentions:
        scores = query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = scores.softmax(dim=-1)
        return (F.dropout(weights, p=dropout) @ value).movedim(3, axis), weights
    batch, other = query.shape[:2]  # the fused kernel on (batch * other, heads, L, d): 4-D, as torch.compile needs
    if mask is not None:
        mask = mask.expand(batch, other, 1, 1, mask.shape[-1]).flatten(0, 1)
    attended = F.scaled_dot_product_attention(query.flatten(0, 1), key.flatten(0, 1), value.flatten(0, 1),
                                              attn_mask=mask, dropout_p=dropout)
    return attended.unflatten(0, (batch, other)).movedim(3, axis), None


def _apply(weights: torch.Tensor, values: torch.Tensor, axis: int) -> torch.Tensor:
    """Weights ``(batch, <other>, heads, queries, keys)`` applied to values ``(batch, time, channels, heads,
    head_size)`` along ``axis``; the result in the values' layout."""
    return (weights @ values.movedim(axis, 3)).movedim(3, axis)


class MoodReaderInterlinkedLayer(GradientCheckpointingLayer):
    """One interlinked spatial-temporal layer over a token grid ``(batch, time, channels, hidden)``.

    What each path sees. One fused projection gives every token its queries, keys and values; the heads are split
    between the axes: the spatial heads attend across the electrodes of the same window, the temporal heads across
    the windows of the same electrode (as the criss-cross attention of CBraMod), at the cost of one full-width
    attention layer. (Splitting the features too, each path projecting only its half as CBraMod does, halves the
    projection cost but scored 0.029 lower on the demo's LOSO, so every head sees the whole token.)

    What the link adds (``interlink="cross"``). Each path then reads the *other* path's output along its own axis:
    the spatial heads gather, across electrodes, what the temporal heads found for each electrode over time, and the
    temporal heads gather, across windows, what the spatial heads found for each window across the scalp. The link
    reuses the attention weights each path has already computed and takes the other path's outputs as values, so it
    adds no projection, no score and no parameter besides a learned gate ``link_gate`` per path. The spatial link
    rides in the spatial path's own weight-times-value product (the temporal output appended to its values: one
    product of twice the width, not two), the temporal link is one more product along the short time axis; on the
    tiny recipe's layer this made forward+backward 1.1-1.3x faster than two separate link products. (Routing the link
    through the fused attention kernels instead measured slower on CPU at every size tried.) ``"none"`` leaves the
    link out (the two paths side by side); ``"sequential"`` runs full-width spatial attention, then full-width
    temporal attention on its result (two attention blocks with their own projections), for the ablation.

    One output projection merges the heads, a feed-forward layer follows; pre-norm residual blocks throughout.
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        interlink: str,
        hidden_dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ):
        super().__init__()
        self.interlink = interlink
        self.attention_dropout = attention_dropout
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        if interlink == "sequential":
            self.spatial_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
            self.spatial_attention = MoodReaderAttention(hidden_size, num_heads, attention_dropout)
            self.temporal_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
            self.temporal_attention = MoodReaderAttention(hidden_size, num_heads, attention_dropout)
        else:
            self.spatial_heads = num_heads // 2
            self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
            self.query_key_value = nn.Linear(hidden_size, 3 * hidden_size)
            self.output = nn.Linear(hidden_size, hidden_size)
            if interlink == "cross":
                self.link_gate = nn.Parameter(torch.ones(2))
        self.feed_forward_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.feed_forward = MoodReaderFeedForward(hidden_size, intermediate_size, hidden_dropout)
        self.dropout = nn.Dropout(hidden_dropout)

    def _criss_cross(
        self, hidden_states: torch.Tensor, time_mask: torch.Tensor | None, channel_mask: torch.Tensor | None,
        output_attentions: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        split = self.spatial_heads
        qkv = self.query_key_value(self.attention_norm(hidden_states))
        query, key, value = qkv.unflatten(-1, (3, self.num_heads, self.head_size)).unbind(-3)
        spatial_query, spatial_key, spatial_value = query[..., :split, :], key[..., :split, :], value[..., :split, :]
        temporal_query, temporal_key, temporal_value = (query[..., split:, :], key[..., split:, :],
                                                        value[..., split:, :])
        if self.interlink == "none":
            dropout = self.attention_dropout if self.training else 0.0
            spatial, spatial_weights = _axial_attention(spatial_query, spatial_key, spatial_value, 2, channel_mask,
                                                        dropout, output_attentions)
            temporal, temporal_weights = _axial_attention(temporal_query, temporal_key, temporal_value, 1, time_mask,
                                                          dropout, output_attentions)
        else:
            spatial_weights = self._weights(spatial_query, spatial_key, 2, channel_mask)
            temporal_weights = self._weights(temporal_query, temporal_key, 1, time_mask)
            temporal = _apply(temporal_weights, temporal_value, 1)
            # the link: each path reads the other path's output along its own axis, with the weights it already has;
            # the spatial one rides in the spatial product, the temporal output appended to the spatial values
            spatial, spatial_link = _apply(spatial_weights, torch.cat([spatial_value, temporal], dim=-1), 2).split(
                self.head_size, dim=-1)
            spatial, temporal = (spatial + self.link_gate[0] * spatial_link,
                                 temporal + self.link_gate[1] * _apply(temporal_weights, spatial, 1))
            if not output_attentions:
                spatial_weights = temporal_weights = None
        merged = self.output(torch.cat([spatial, temporal], dim=-2).flatten(-2))
        return hidden_states + self.dropout(merged), spatial_weights, temporal_weights

    def _weights(self, query: torch.Tensor, key: torch.Tensor, axis: int, key_mask: torch.Tensor | None
                 ) -> torch.Tensor:
        """Softmax attention weights along ``axis`` (after dropout when training): ``(batch, <other>, heads,
        queries, keys)``."""
        query, key = query.movedim(axis, 3), key.movedim(axis, 3)
        scores = query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])
        if key_mask is not None:
            scores = scores.masked_fill(~key_mask[:, None, None, None, :], float("-inf"))
        return F.dropout(scores.softmax(dim=-1), p=self.attention_dropout, training=self.training)

    def forward(
        self,
        hidden_states: torch.Tensor,
        time_mask: torch.Tensor | None = None,
        channel_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``time_mask (batch, time)`` and ``channel_mask (batch, channels)`` bool mark real windows and present
        electrodes (``None``: all). Returns the new grid, the spatial weights ``(batch, time, heads, channels,
        channels)`` and the temporal weights ``(batch, channels, heads, time, time)`` (``None`` unless asked for;
        ``heads`` are the heads of that axis). With ``"cross"`` the link uses these same weights."""
        if self.interlink == "sequential":
            normed = self.spatial_norm(hidden_states)
            update, spatial_weights = self.spatial_attention(normed, normed, 2, channel_mask, output_attentions)
            merged = hidden_states + self.dropout(update)
            normed = self.temporal_norm(merged)
            update, temporal_weights = self.temporal_attention(normed, normed, 1, time_mask, output_attentions)
            merged = merged + self.dropout(update)
        else:
            merged, spatial_weights, temporal_weights = self._criss_cross(hidden_states, time_mask, channel_mask,
                                                                          output_attentions)
        merged = merged + self.feed_forward(self.feed_forward_norm(merged))
        return merged, spatial_weights, temporal_weights


@dataclass
class _EncoderOutput:
    last_hidden_state: torch.Tensor
    hidden_states: tuple[torch.Tensor, ...] | None
    spatial_attentions: tuple[torch.Tensor, ...] | None
    temporal_attentions: tuple[torch.Tensor, ...] | None


class MoodReaderEncoder(nn.Module):
    """A stack of interlinked layers and a final layer norm over a token grid ``(batch, time, channels, hidden)``."""

    def __init__(self, config: MoodReaderConfig, hidden_size: int, intermediate_size: int, num_layers: int):
        super().__init__()
        self.layers = nn.ModuleList(
            MoodReaderInterlinkedLayer(
                hidden_size, config.num_attention_heads, intermediate_size, config.interlink,
                config.hidden_dropout_prob, config.attention_dropout_prob, config.layer_norm_eps,
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(hidden_size, eps=config.layer_norm_eps)

    def forward(
        self,
        grid: torch.Tensor,
        time_mask: torch.Tensor | None,
        channel_mask: torch.Tensor | None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
    ) -> _EncoderOutput:
        hidden_states = (grid,) if output_hidden_states else None
        spatial_attentions = () if output_attentions else None
        temporal_attentions = () if output_attentions else None
        # a mask that masks nothing is dropped: attention without one takes the faster kernels
        time_mask = None if time_mask is None or bool(time_mask.all()) else time_mask
        channel_mask = None if channel_mask is None or bool(channel_mask.all()) else channel_mask
        for layer in self.layers:
            grid, spatial_weights, temporal_weights = layer(grid, time_mask, channel_mask, output_attentions)
            if output_hidden_states:
                hidden_states += (grid,)
            if output_attentions:
                spatial_attentions += (spatial_weights,)
                temporal_attentions += (temporal_weights,)
        return _EncoderOutput(self.norm(grid), hidden_states, spatial_attentions, temporal_attentions)


class MoodReaderTokenEmbeddings(nn.Module):
    """Token grids from per-token content: ``content (batch, time, channels, hidden)`` plus a learned electrode
    embedding (looked up by vocabulary id, so any montage fits) and a learned time-position embedding.

    MBSM replaces the *content* of masked tokens by the mask token before the electrode and time embeddings are
    added, so a masked token still knows where on the scalp and when it is, and two masked electrodes of one time
    step are told apart.
    """

    def __init__(self, config: MoodReaderConfig, max_positions: int):
        super().__init__()
        self.electrode_embeddings = nn.Embedding(config.vocabulary_size, config.hidden_size)
        self.time_embeddings = nn.Embedding(max_positions, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        content: torch.Tensor,
        electrode_ids: torch.Tensor,
        token_mask: torch.Tensor | None = None,
        mask_token: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``electrode_ids (batch, channels)`` vocabulary ids; ``token_mask (batch, time, channels)`` bool: true
        where ``content`` is replaced by ``mask_token (hidden,)``."""
        if token_mask is not None:
            content = torch.where(token_mask[..., None], mask_token.to(content.dtype), content)
        positions = torch.arange(content.shape[1], device=content.device)
        tokens = content + self.electrode_embeddings(electrode_ids)[:, None] + self.time_embeddings(positions)[:, None]
        return self.dropout(self.norm(tokens))


class MoodReaderDEEmbeddings(MoodReaderTokenEmbeddings):
    """DE tokens: ``(batch, time, channels, bands) -> (batch, time, channels, hidden)``, a linear embedding of each
    token's bands plus the electrode and window-position embeddings."""

    def __init__(self, config: MoodReaderConfig):
        super().__init__(config, config.max_windows)
        self.band_projection = nn.Linear(config.num_bands, config.hidden_size)

    def content(self, de_features: torch.Tensor) -> torch.Tensor:
        """Each token's embedded bands, ``(batch, time, channels, hidden)``."""
        return self.band_projection(de_features)


class MoodReaderSignalEmbeddings(MoodReaderTokenEmbeddings):
    """Raw-signal tokens: ``(batch, channels, samples) -> (batch, patches, channels, hidden)``.

    Each token is one patch of ``signal_patch_size`` samples of one electrode, described by its samples scaled by the
    channel's standard deviation and its log-amplitude ``log(1 + std)`` (see :meth:`token_features`), embedded
    linearly, plus the electrode and patch-position embeddings.
    """

    def __init__(self, config: MoodReaderConfig):
        super().__init__(config, config.max_windows * config.patches_per_window)
        self.patch_size = config.signal_patch_size
        self.patch_projection = nn.Linear(config.signal_patch_size + 1, config.hidden_size)

    def token_features(self, eeg_signals: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, samples) -> (batch, patches, channels, patch_size + 1)``: each patch's samples divided
        by its channel's standard deviation over the whole input (so the continuity between neighbouring patches and
        the changes of amplitude within the input stay visible, and every montage and unit scale alike), then the
        patch's log-amplitude ``log(1 + std)`` (signal in microvolts)."""
        batch, channels, samples = eeg_signals.shape
        centred = (eeg_signals - eeg_signals.mean(dim=-1, keepdim=True)).view(
            batch, channels, samples // self.patch_size, self.patch_size)
        # variances as mean square minus squared mean of the centred signal: one pass each, unlike Tensor.std
        patch_mean = centred.mean(dim=-1, keepdim=True)
        patch_variance = (centred.square().mean(dim=-1, keepdim=True) - patch_mean.square()).clamp_min(0.0)
        channel_variance = (patch_variance + patch_mean.square()).mean(dim=-2, keepdim=True)
        patches = centred / (channel_variance.sqrt() + 1e-6)
        return torch.cat([patches, torch.log1p(patch_variance.sqrt())], dim=-1).transpose(1, 2)

    def content(self, eeg_signals: torch.Tensor) -> torch.Tensor:
        """Each patch's embedded features, ``(batch, patches, channels, hidden)``."""
        return self.patch_projection(self.token_features(eeg_signals))


class MoodReaderPooler(nn.Module):
    """A token grid ``(batch, time, channels, hidden)`` to one vector ``(batch, hidden)`` that keeps the topography
    for any montage: each electrode's tokens are averaged over the real windows and mapped by that electrode's own
    linear map (looked up by vocabulary id: ``hidden -> pooler_rank``), the maps of the present electrodes are
    averaged, and a shared layer widens the result back to ``hidden``. So the head knows where on the scalp a
    representation came from, as a dense layer over the concatenated electrodes would, while no weight has a size
    that depends on the number of channels (the maps are indexed by the vocabulary)."""

    def __init__(self, config: MoodReaderConfig):
        super().__init__()
        hidden, rank = config.hidden_size, config.pooler_rank
        self.electrode_maps = nn.Embedding(config.vocabulary_size, hidden * rank)
        self.rank = rank
        self.dense = nn.Linear(rank, hidden)
        self.norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)

    def forward(
        self, grid: torch.Tensor, time_mask: torch.Tensor, channel_mask: torch.Tensor, electrode_ids: torch.Tensor
    ) -> torch.Tensor:
        weights = time_mask.to(grid.dtype)[:, :, None, None]
        per_electrode = (grid * weights).sum(dim=1) / weights.sum(dim=1)  # (batch, channels, hidden)
        maps = self.electrode_maps(electrode_ids).unflatten(-1, (grid.shape[-1], self.rank))
        mapped = torch.einsum("bch,bchr->bcr", per_electrode, maps)
        present = channel_mask.to(grid.dtype)[..., None]
        pooled = (mapped * present).sum(dim=1) / present.sum(dim=1)
        return self.norm(F.gelu(self.dense(pooled)))


class MoodReaderPreTrainedModel(PreTrainedModel):
    """Class-level facts and weight initialisation shared by the Mood Reader models; saving writes an ``auto_map``
    naming every Mood Reader class and copies the remote-code files beside the weights."""

    config_class = MoodReaderConfig
    config: MoodReaderConfig
    base_model_prefix = "moodreader"
    main_input_name = "de_features"
    input_modalities = ("eeg",)
    supports_gradient_checkpointing = True
    _no_split_modules = ["MoodReaderInterlinkedLayer"]
    _supports_sdpa = True

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        std = self.config.initializer_range
        if isinstance(module, MoodReaderPooler):
            init.normal_(module.electrode_maps.weight, std=1 / math.sqrt(module.electrode_maps.embedding_dim
                                                                          / module.rank))
        elif isinstance(module, MoodReaderForMaskedEEGModeling):
            init.normal_(module.de_mask_token, std=std)
            init.normal_(module.signal_mask_token, std=std)
        elif isinstance(module, MoodReaderDecisionFusion):
            init.zeros_(module.path_weights)
        elif isinstance(module, MoodReaderInterlinkedLayer) and hasattr(module, "link_gate"):
            init.ones_(module.link_gate)

    def save_pretrained(self, save_directory: str | Path, *args, **kwargs) -> None:
        """Save as transformers does, with ``auto_map`` naming every Mood Reader class (not only this one) and the
        remote-code files copied, so every Auto class loads the folder with ``trust_remote_code=True``."""
        self.config.auto_map = {**(getattr(self.config, "auto_map", None) or {}), **AUTO_MAP}
        super().save_pretrained(save_directory, *args, **kwargs)
        here = Path(__file__).resolve().parent
        for name in REMOTE_CODE_FILES:
            target = Path(save_directory) / name
            if (here / name).resolve() != target.resolve():
                target.write_bytes((here / name).read_bytes())


@dataclass
class _BatchLayout:
    """What every stream of one batch shares: ``time_mask (batch, time)`` real windows, ``present (batch,
    channels)`` recorded electrodes, ``electrode_ids (batch, channels)`` vocabulary ids."""

    time_mask: torch.Tensor
    present: torch.Tensor
    electrode_ids: torch.Tensor


def _batch_layout(
    config: MoodReaderConfig,
    de_features: torch.Tensor | None,
    eeg_signals: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    channel_mask: torch.Tensor | None,
    electrode_ids: torch.Tensor | None,
) -> _BatchLayout:
    if de_features is not None:
        batch, time, channels, _ = de_features.shape
        device = de_features.device
    else:
        batch, channels, samples = eeg_signals.shape
        time, device = samples // config.samples_per_window, eeg_signals.device
    time_mask = torch.ones(batch, time, dtype=torch.bool, device=device) if attention_mask is None else attention_mask != 0
    present = torch.ones(batch, channels, dtype=torch.bool, device=device) if channel_mask is None else channel_mask != 0
    if electrode_ids is None:
        electrode_ids = torch.tensor(config.default_electrode_ids, device=device)
    electrode_ids = electrode_ids.to(device=device, dtype=torch.long).expand(batch, channels)
    return _BatchLayout(time_mask, present, electrode_ids)


class MoodReaderModel(MoodReaderPreTrainedModel):
    """The Mood Reader encoder: interlinked spatial-temporal attention over DE tokens and/or raw-signal tokens (the
    stream that MBSM pre-trains on unlabeled EEG), one stream per entry of ``config.streams``.

    Example:

    ```python
    >>> import torch
    >>> from moodreader_hf import MoodReaderConfig, MoodReaderModel
    >>> model = MoodReaderModel(MoodReaderConfig())
    >>> out = model(de_features=torch.randn(2, 10, 62, 5))
    >>> out.last_hidden_state.shape, out.pooler_output.shape
    (torch.Size([2, 10, 62, 64]), torch.Size([2, 64]))
    ```"""

    def __init__(self, config: MoodReaderConfig):
        super().__init__(config)
        if "de" in config.streams:
            self.de_embeddings = MoodReaderDEEmbeddings(config)
            self.de_encoder = MoodReaderEncoder(config, config.hidden_size, config.intermediate_size,
                                                config.num_hidden_layers)
            self.de_pooler = MoodReaderPooler(config)
        if "signal" in config.streams:
            self.signal_embeddings = MoodReaderSignalEmbeddings(config)
            self.signal_encoder = MoodReaderEncoder(config, config.hidden_size, config.intermediate_size,
                                                    config.num_hidden_layers)
            self.signal_pooler = MoodReaderPooler(config)
        self.post_init()

    def signal_masks(self, time_mask: torch.Tensor) -> torch.Tensor:
        """Window mask ``(batch, time)`` to raw-signal patch mask ``(batch, time * patches_per_window)``."""
        return time_mask.repeat_interleave(self.config.patches_per_window, dim=1)

    def forward(
        self,
        de_features: torch.Tensor | None = None,
        eeg_signals: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        channel_mask: torch.Tensor | None = None,
        electrode_ids: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        signal_last_hidden_state: torch.Tensor | None = None,
        **kwargs,
    ) -> MoodReaderModelOutput | tuple:
        """Encode DE features ``(batch, time, channels, bands)`` and/or the raw signals
        ``(batch, channels, time * samples_per_window)`` they came from (the streams of ``config.streams``).

        ``attention_mask (batch, time)`` marks real windows (1) and padding (0); ``channel_mask (batch, channels)``
        marks present (1) and missing or padded (0) electrodes; ``electrode_ids (batch, channels)`` (or
        ``(channels,)``) are the channels' ids in ``ELECTRODE_VOCABULARY`` (default: ``config.channel_names``).
        Attention maps and hidden states are of the DE stream when given, otherwise of the raw-signal stream.

        ``signal_last_hidden_state (batch, time * patches_per_window, channels, hidden)``, the raw-signal stream as
        an earlier call returned it, replaces ``eeg_signals`` beside ``de_features``: a frozen raw-signal encoder
        runs once per recording, not once per epoch (fine-tuning with ``finetune.freeze_signal_encoder``).
        """
        check_model_inputs(self.config, de_features, eeg_signals, None, attention_mask, channel_mask,
                           electrode_ids=electrode_ids, signal_last_hidden_state=signal_last_hidden_state)
        output_attentions = bool(output_attentions if output_attentions is not None else self.config.output_attentions)
        output_hidden_states = bool(
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        layout = _batch_layout(self.config, de_features, eeg_signals, attention_mask, channel_mask, electrode_ids)
        output = MoodReaderModelOutput()
        encoded = None
        if eeg_signals is not None or signal_last_hidden_state is not None:
            signal_time_mask = self.signal_masks(layout.time_mask)
            if signal_last_hidden_state is None:
                tokens = self.signal_embeddings(self.signal_embeddings.content(eeg_signals), layout.electrode_ids)
                encoded = self.signal_encoder(tokens, signal_time_mask, layout.present, output_attentions,
                                              output_hidden_states)
                signal_last_hidden_state = encoded.last_hidden_state
            output.signal_last_hidden_state = signal_last_hidden_state
            output.signal_pooler_output = self.signal_pooler(signal_last_hidden_state, signal_time_mask,
                                                             layout.present, layout.electrode_ids)
            output.last_hidden_state, output.pooler_output = output.signal_last_hidden_state, output.signal_pooler_output
        if de_features is not None:
            tokens = self.de_embeddings(self.de_embeddings.content(de_features), layout.electrode_ids)
            encoded = self.de_encoder(tokens, layout.time_mask, layout.present, output_attentions, output_hidden_states)
            output.last_hidden_state = encoded.last_hidden_state
            output.pooler_output = self.de_pooler(encoded.last_hidden_state, layout.time_mask, layout.present,
                                                  layout.electrode_ids)
        output.hidden_states = encoded.hidden_states
        output.spatial_attentions = encoded.spatial_attentions
        output.temporal_attentions = encoded.temporal_attentions
        return output if return_dict else output.to_tuple()


class MoodReaderDecoder(nn.Module):
    """Light MBSM decoder: ``(batch, time, channels, hidden) -> (batch, time, channels, output_size)`` through
    ``decoder_num_hidden_layers`` interlinked layers of width ``decoder_hidden_size`` (feed-forward twice as wide)."""

    def __init__(self, config: MoodReaderConfig, output_size: int):
        super().__init__()
        self.projection = nn.Linear(config.hidden_size, config.decoder_hidden_size)
        self.encoder = MoodReaderEncoder(config, config.decoder_hidden_size, 2 * config.decoder_hidden_size,
                                         config.decoder_num_hidden_layers)
        self.prediction = nn.Linear(config.decoder_hidden_size, output_size)

    def forward(self, grid: torch.Tensor, time_mask: torch.Tensor, channel_mask: torch.Tensor) -> torch.Tensor:
        decoded = self.encoder(self.projection(grid), time_mask, channel_mask).last_hidden_state
        return self.prediction(decoded)


class MoodReaderForMaskedEEGModeling(MoodReaderPreTrainedModel):
    """Masked brain signal modelling (MBSM): mask ``mask_ratio`` of the tokens of each stream given (raw-signal
    patches, DE tokens), replace their content by a learned mask token (their electrode and time embeddings stay),
    encode, and reconstruct them with a light decoder.

    The loss is the mean squared error on masked tokens only. Raw-signal targets are the scaled samples and the
    log-amplitude of :meth:`MoodReaderSignalEmbeddings.token_features`: the default objective, which any unlabeled
    EEG corpus feeds. DE targets are the DE features as given: give *unsmoothed* DE (the feature
    extractor with ``smoothing="none"``, normalised), since LDS or moving-average smoothing makes a row's tokens
    nearly constant (a masked token is then reconstructed by copying a visible neighbour) and, run before masking,
    leaks the masked values into the visible ones.
    """

    def __init__(self, config: MoodReaderConfig):
        super().__init__(config)
        self.moodreader = MoodReaderModel(config)
        self.de_mask_token = nn.Parameter(torch.zeros(config.hidden_size))
        self.signal_mask_token = nn.Parameter(torch.zeros(config.hidden_size))
        if "de" in config.streams:
            self.de_decoder = MoodReaderDecoder(config, config.num_bands)
        if "signal" in config.streams:
            self.signal_decoder = MoodReaderDecoder(config, config.signal_patch_size + 1)
        self.post_init()

    def _reconstruct(
        self,
        content: torch.Tensor,
        embeddings: MoodReaderTokenEmbeddings,
        mask_token: torch.Tensor,
        token_mask: torch.Tensor | None,
        encoder: MoodReaderEncoder,
        decoder: MoodReaderDecoder,
        time_mask: torch.Tensor,
        layout: _BatchLayout,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[torch.Tensor, torch.Tensor, _EncoderOutput]:
        valid = time_mask[:, :, None] & layout.present[:, None, :]
        if token_mask is None:
            token_mask = random_token_mask(valid, self.config.mask_ratio)
        elif token_mask.shape != valid.shape:
            raise ValueError(f"token mask: expected shape {tuple(valid.shape)}, got {tuple(token_mask.shape)}.")
        token_mask = token_mask.bool() & valid
        tokens = embeddings(content, layout.electrode_ids, token_mask, mask_token)
        encoded = encoder(tokens, time_mask, layout.present, output_attentions, output_hidden_states)
        return decoder(encoded.last_hidden_state, time_mask, layout.present), token_mask, encoded

    def forward(
        self,
        de_features: torch.Tensor | None = None,
        eeg_signals: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        channel_mask: torch.Tensor | None = None,
        electrode_ids: torch.Tensor | None = None,
        de_token_mask: torch.Tensor | None = None,
        signal_token_mask: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> MoodReaderMaskedEEGModelingOutput | tuple:
        """Reconstruct masked tokens of ``eeg_signals (batch, channels, samples)`` and/or ``de_features (batch,
        time, channels, bands)``. ``signal_token_mask (batch, patches, channels)`` and ``de_token_mask (batch, time,
        channels)`` (bool, true = masked) fix the masks; by default they are drawn at random. Channels as in
        :meth:`MoodReaderModel.forward`."""
        check_model_inputs(self.config, de_features, eeg_signals, None, attention_mask, channel_mask,
                           electrode_ids=electrode_ids)
        output_attentions = bool(output_attentions if output_attentions is not None else self.config.output_attentions)
        output_hidden_states = bool(
            output_hidden_states if output_hidden_states is not None else self.config.output_hidden_states
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        base = self.moodreader
        layout = _batch_layout(self.config, de_features, eeg_signals, attention_mask, channel_mask, electrode_ids)
        output = MoodReaderMaskedEEGModelingOutput()
        losses = []
        if eeg_signals is not None:
            targets = base.signal_embeddings.token_features(eeg_signals)
            output.signal_logits, output.signal_mask, encoded = self._reconstruct(
                base.signal_embeddings.patch_projection(targets), base.signal_embeddings, self.signal_mask_token,
                signal_token_mask, base.signal_encoder, self.signal_decoder, base.signal_masks(layout.time_mask),
                layout, output_attentions, output_hidden_states,
            )
            output.signal_loss = masked_mse(output.signal_logits, targets, output.signal_mask)
            losses.append(output.signal_loss)
        if de_features is not None:
            output.logits, output.mask, encoded = self._reconstruct(
                base.de_embeddings.content(de_features), base.de_embeddings, self.de_mask_token, de_token_mask,
                base.de_encoder, self.de_decoder, layout.time_mask, layout, output_attentions, output_hidden_states,
            )
            output.de_loss = masked_mse(output.logits, de_features, output.mask)
            losses.append(output.de_loss)
        output.loss = torch.stack(losses).sum()
        output.hidden_states = encoded.hidden_states
        output.spatial_attentions = encoded.spatial_attentions
        output.temporal_attentions = encoded.temporal_attentions
        return output if return_dict else output.to_tuple()


class MoodReaderTokenFusion(nn.Module):
    """Token-level fusion: each DE token attends to the raw-signal tokens of the same electrode (all patches), then
    a feed-forward layer. ``(batch, time, channels, hidden)`` stays ``(batch, time, channels, hidden)``."""

    def __init__(self, config: MoodReaderConfig):
        super().__init__()
        hidden = config.hidden_size
        self.query_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.context_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.attention = MoodReaderAttention(hidden, config.num_attention_heads, config.attention_dropout_prob)
        self.feed_forward_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.feed_forward = MoodReaderFeedForward(hidden, config.intermediate_size, config.hidden_dropout_prob)

    def forward(self, de_grid: torch.Tensor, signal_grid: torch.Tensor, signal_time_mask: torch.Tensor) -> torch.Tensor:
        attended, _ = self.attention(self.query_norm(de_grid), self.context_norm(signal_grid), 1, signal_time_mask)
        fused = de_grid + attended
        return fused + self.feed_forward(self.feed_forward_norm(fused))


class MoodReaderEyeEncoder(nn.Module):
    """Eye-movement features ``(batch, time, eye_feature_size)`` to one vector ``(batch, hidden)``: a linear
    embedding per window plus a window-position embedding, one layer of self-attention across windows, then the mean
    over real windows."""

    def __init__(self, config: MoodReaderConfig):
        super().__init__()
        hidden = config.hidden_size
        self.projection = nn.Linear(config.eye_feature_size, hidden)
        self.time_embeddings = nn.Embedding(config.max_windows, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.attention = MoodReaderAttention(hidden, config.num_attention_heads, config.attention_dropout_prob)
        self.feed_forward_norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)
        self.feed_forward = MoodReaderFeedForward(hidden, config.intermediate_size, config.hidden_dropout_prob)
        self.norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)

    def forward(self, eye_features: torch.Tensor, time_mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(eye_features.shape[1], device=eye_features.device)
        tokens = self.projection(eye_features) + self.time_embeddings(positions)
        normed = self.attention_norm(tokens)
        tokens = tokens + self.attention(normed, normed, 1, time_mask)[0]
        tokens = self.norm(tokens + self.feed_forward(self.feed_forward_norm(tokens)))
        weights = time_mask.to(tokens.dtype)[..., None]
        return (tokens * weights).sum(dim=1) / weights.sum(dim=1)


class MoodReaderFeatureFusion(nn.Module):
    """Feature-level fusion: a gated sum of the projected pooled representations of the modalities present,
    ``{name: (batch, hidden)} -> (batch, hidden)``. A gate ``sigmoid(w . r)`` per modality and sample weighs each."""

    def __init__(self, config: MoodReaderConfig, modalities: tuple[str, ...]):
        super().__init__()
        hidden = config.hidden_size
        self.projections = nn.ModuleDict({name: nn.Linear(hidden, hidden) for name in modalities})
        self.gates = nn.ModuleDict({name: nn.Linear(hidden, 1) for name in modalities})
        self.norm = nn.LayerNorm(hidden, eps=config.layer_norm_eps)

    def forward(self, representations: dict[str, torch.Tensor]) -> torch.Tensor:
        fused = sum(
            torch.sigmoid(self.gates[name](vector)) * self.projections[name](vector)
            for name, vector in representations.items()
        )
        return self.norm(fused)


class MoodReaderDecisionFusion(nn.Module):
    """Decision-level fusion: per-modality classifiers whose logits are averaged with learned weights (a softmax over
    the modalities present). ``{name: (batch, hidden)} -> (batch, num_labels)``."""

    def __init__(self, config: MoodReaderConfig, modalities: tuple[str, ...]):
        super().__init__()
        self.modalities = modalities
        self.heads = nn.ModuleDict({name: nn.Linear(config.hidden_size, config.num_labels) for name in modalities})
        self.path_weights = nn.Parameter(torch.zeros(len(modalities)))

    def forward(self, representations: dict[str, torch.Tensor]) -> torch.Tensor:
        present = [self.modalities.index(name) for name in representations]
        weights = self.path_weights[present].softmax(dim=0)
        logits = [self.heads[name](vector) for name, vector in representations.items()]
        return sum(weight * logit for weight, logit in zip(weights, logits))


class MoodReaderForEmotionRecognition(MoodReaderPreTrainedModel):
    """Emotion recognition from the streams of ``config.streams`` (DE features and/or raw signals) and, when
    ``config.eye_feature_size > 0``, eye movements, fused at the levels of ``config.fusion_levels``: token (DE tokens
    attend to the raw-signal tokens of the same electrode; needs both streams), feature (gated sum of pooled
    representations) and decision (weighted average of per-modality logits). Every modality the model was built with
    is a required input, so a model is never silently run without one it was trained on."""

    def __init__(self, config: MoodReaderConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        modalities = tuple(config.streams) + (("eye",) if config.eye_feature_size else ())
        self.moodreader = MoodReaderModel(config)
        both_streams = {"de", "signal"} <= set(config.streams)
        self.token_fusion = MoodReaderTokenFusion(config) if "token" in config.fusion_levels and both_streams else None
        self.eye_encoder = MoodReaderEyeEncoder(config) if config.eye_feature_size else None
        self.feature_fusion = (
            MoodReaderFeatureFusion(config, modalities) if "feature" in config.fusion_levels else None
        )
        self.decision_fusion = (
            MoodReaderDecisionFusion(config, modalities) if "decision" in config.fusion_levels else None
        )
        self.dropout = nn.Dropout(config.classifier_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        de_features: torch.Tensor | None = None,
        eeg_signals: torch.Tensor | None = None,
        eye_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        channel_mask: torch.Tensor | None = None,
        electrode_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        signal_last_hidden_state: torch.Tensor | None = None,
        **kwargs,
    ) -> MoodReaderEmotionRecognitionOutput | tuple:
        """Class scores for each sample. Shapes: ``de_features (batch, time, channels, bands)``, ``eeg_signals
        (batch, channels, time * samples_per_window)``, ``eye_features (batch, time, eye_feature_size)``,
        ``attention_mask (batch, time)``, ``channel_mask (batch, channels)``, ``electrode_ids (batch, channels)``
        vocabulary ids (default: ``config.channel_names``), ``labels (batch,)`` class indices;
        ``signal_last_hidden_state`` replaces ``eeg_signals`` as in :meth:`MoodReaderModel.forward`."""
        check_model_inputs(self.config, de_features, eeg_signals, eye_features, attention_mask, channel_mask, labels,
                           electrode_ids=electrode_ids, require_eye=True, required_streams=tuple(self.config.streams),
                           signal_last_hidden_state=signal_last_hidden_state)
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        encoded = self.moodreader(
            de_features, eeg_signals, attention_mask, channel_mask, electrode_ids, output_attentions=output_attentions,
            output_hidden_states=output_hidden_states, return_dict=True,
            signal_last_hidden_state=signal_last_hidden_state,
        )
        layout = _batch_layout(self.config, de_features, eeg_signals, attention_mask, channel_mask, electrode_ids)
        representations = {}
        if de_features is not None:
            representations["de"] = encoded.pooler_output
            if self.token_fusion is not None:
                signal_time_mask = self.moodreader.signal_masks(layout.time_mask)
                fused_grid = self.token_fusion(encoded.last_hidden_state, encoded.signal_last_hidden_state,
                                               signal_time_mask)
                representations["de"] = self.moodreader.de_pooler(fused_grid, layout.time_mask, layout.present,
                                                                  layout.electrode_ids)
        if encoded.signal_pooler_output is not None:
            representations["signal"] = encoded.signal_pooler_output
        if self.eye_encoder is not None:
            representations["eye"] = self.eye_encoder(eye_features, layout.time_mask)
        representations = {name: self.dropout(vector) for name, vector in representations.items()}
        level_logits = []
        if self.feature_fusion is not None:
            level_logits.append(self.classifier(self.feature_fusion(representations)))
        if self.decision_fusion is not None:
            level_logits.append(self.decision_fusion(representations))
        if not level_logits:
            level_logits.append(self.classifier(next(iter(representations.values()))))
        logits = torch.stack(level_logits).mean(dim=0)
        loss = F.cross_entropy(logits, labels) if labels is not None else None
        output = MoodReaderEmotionRecognitionOutput(
            loss=loss,
            logits=logits,
            hidden_states=encoded.hidden_states,
            spatial_attentions=encoded.spatial_attentions,
            temporal_attentions=encoded.temporal_attentions,
        )
        return output if return_dict else output.to_tuple()


__all__ = [
    "MoodReaderPreTrainedModel",
    "MoodReaderModel",
    "MoodReaderForMaskedEEGModeling",
    "MoodReaderForEmotionRecognition",
    "MoodReaderModelOutput",
    "MoodReaderMaskedEEGModelingOutput",
    "MoodReaderEmotionRecognitionOutput",
]
