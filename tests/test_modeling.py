"""The model classes: shapes, learning, interlink modes, masking, masks, checkpointing and bad input."""

from __future__ import annotations

import pytest
import torch

from moodreader_hf import (
    MoodReaderConfig,
    MoodReaderForEmotionRecognition,
    MoodReaderForMaskedEEGModeling,
    MoodReaderModel,
)
from moodreader_hf.configuration_moodreader import ELECTRODE_VOCABULARY, SEED_CHANNEL_NAMES, electrode_ids
from moodreader_hf.modeling_moodreader import masked_mse, random_token_mask

from .conftest import tiny_config

BATCH, TIME, CHANNELS, BANDS = 3, 4, 62, 5


def de_batch(batch: int = BATCH, time: int = TIME) -> torch.Tensor:
    return torch.randn(batch, time, CHANNELS, BANDS)


def signal_batch(batch: int = BATCH, time: int = TIME) -> torch.Tensor:
    return 20 * torch.randn(batch, CHANNELS, time * 200)


BOTH_STREAMS = {"streams": ["de", "signal"]}
DEAP_32 = ("Fp1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "Oz", "Pz",
           "Fp2", "AF4", "Fz", "F4", "F8", "FC6", "FC2", "Cz", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2")
TEN_TWENTY_19 = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T3", "C3", "Cz", "C4", "T4", "T5", "P3", "Pz", "P4",
                 "T6", "O1", "O2")


def test_base_model_shapes_attentions_and_hidden_states():
    config = tiny_config(**BOTH_STREAMS)
    model = MoodReaderModel(config).eval()
    out = model(de_features=de_batch(), eeg_signals=signal_batch(), output_attentions=True, output_hidden_states=True)
    assert out.last_hidden_state.shape == (BATCH, TIME, CHANNELS, 16)
    assert out.pooler_output.shape == (BATCH, 16)
    assert out.signal_last_hidden_state.shape == (BATCH, TIME * 4, CHANNELS, 16)
    assert len(out.hidden_states) == config.num_hidden_layers + 1
    assert len(out.spatial_attentions) == len(out.temporal_attentions) == config.num_hidden_layers
    spatial, temporal = out.spatial_attentions[0], out.temporal_attentions[0]
    assert spatial.shape == (BATCH, TIME, 1, CHANNELS, CHANNELS)  # 2 heads: one per axis
    assert temporal.shape == (BATCH, CHANNELS, 1, TIME, TIME)
    torch.testing.assert_close(spatial.sum(-1), torch.ones(BATCH, TIME, 1, CHANNELS))


def test_an_encoded_signal_stands_in_for_the_raw_signal():
    model = MoodReaderForEmotionRecognition(tiny_config(**BOTH_STREAMS, num_labels=3)).eval()
    de, signal = de_batch(), signal_batch()
    mask = torch.ones(BATCH, CHANNELS, dtype=torch.long)
    mask[0, :5] = 0
    with torch.no_grad():
        direct = model(de_features=de, eeg_signals=signal, channel_mask=mask).logits
        encoded = model.moodreader(eeg_signals=signal, channel_mask=mask).signal_last_hidden_state
        cached = model(de_features=de, signal_last_hidden_state=encoded, channel_mask=mask).logits
    torch.testing.assert_close(cached, direct, rtol=0, atol=0)
    for inputs, message in (
        ({"de_features": de, "eeg_signals": signal, "signal_last_hidden_state": encoded},
         r"signal_last_hidden_state: expected none when eeg_signals are given"),
        ({"de_features": de, "signal_last_hidden_state": encoded[:, :2]},
         rf"signal_last_hidden_state: expected shape \({BATCH}, {TIME * 4}, {CHANNELS}, 16\)"),
        ({"de_features": de}, r"eeg_signals: expected shape .* got none"),
    ):
        with pytest.raises(ValueError, match=message):
            model(**inputs)
    de_only = MoodReaderForEmotionRecognition(tiny_config(num_labels=3))
    with pytest.raises(ValueError, match=r"signal_last_hidden_state: expected none \(the model has no 'signal'"):
        de_only(de_features=de, signal_last_hidden_state=encoded)


def test_explicit_attention_equals_sdpa(config):
    model = MoodReaderModel(config).eval()
    de = de_batch()
    with torch.no_grad():
        fast = model(de_features=de).last_hidden_state
        explicit = model(de_features=de, output_attentions=True).last_hidden_state
    torch.testing.assert_close(fast, explicit, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("head", ["emotion", "masked"])
def test_forward_backward_reach_every_used_parameter(head):
    config = tiny_config(eye_feature_size=6, **BOTH_STREAMS)
    if head == "emotion":
        model = MoodReaderForEmotionRecognition(config)
        out = model(de_features=de_batch(), eeg_signals=signal_batch(), eye_features=torch.randn(BATCH, TIME, 6),
                    labels=torch.tensor([0, 1, 2]))
        assert out.logits.shape == (BATCH, 3)
    else:
        model = MoodReaderForMaskedEEGModeling(config)
        out = model(de_features=de_batch(), eeg_signals=signal_batch())
        assert out.logits.shape == (BATCH, TIME, CHANNELS, BANDS)
        assert out.signal_logits.shape == (BATCH, TIME * 4, CHANNELS, 51)
        torch.testing.assert_close(out.loss, out.de_loss + out.signal_loss)
    out.loss.backward()
    without_grad = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    unused_by_design = [] if head == "emotion" else [  # reconstruction needs no pooled vector
        name for name, _ in model.named_parameters() if "_pooler." in name
    ]
    assert without_grad == unused_by_design


def _train(model, batch: dict, steps: int = 30) -> list[float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_emotion_loss_decreases_on_learnable_batch(config):
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    de = torch.randn(6, TIME, CHANNELS, BANDS) * 0.1
    de[..., 2] += labels[:, None, None].float()  # the alpha band carries the class
    losses = _train(MoodReaderForEmotionRecognition(config), {"de_features": de, "labels": labels})
    assert losses[-1] < 0.5 * losses[0]


def test_masked_modeling_loss_decreases(config):
    de = de_batch() * 0.1 + torch.linspace(-1, 1, BANDS)  # a structure to learn: a fixed band profile
    losses = _train(MoodReaderForMaskedEEGModeling(config), {"de_features": de})
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5


def test_interlink_modes_compute_differently():
    de = de_batch()
    cross = MoodReaderModel(tiny_config(interlink="cross")).eval()
    outputs = {"cross": cross(de_features=de).last_hidden_state}
    none = MoodReaderModel(tiny_config(interlink="none")).eval()
    missing, unexpected = none.load_state_dict(cross.state_dict(), strict=False)
    assert missing == [] and unexpected and all(key.endswith(".link_gate") for key in unexpected)
    outputs["none"] = none(de_features=de).last_hidden_state
    outputs["sequential"] = MoodReaderModel(tiny_config(interlink="sequential")).eval()(de_features=de).last_hidden_state
    assert not torch.allclose(outputs["cross"], outputs["none"], atol=1e-4)
    assert not torch.allclose(outputs["cross"], outputs["sequential"], atol=1e-4)
    assert not torch.allclose(outputs["none"], outputs["sequential"], atol=1e-4)
    with torch.no_grad():  # the interlink is exactly what separates "cross" from "none"
        for layer in cross.de_encoder.layers:
            layer.link_gate.zero_()
    torch.testing.assert_close(cross(de_features=de).last_hidden_state, outputs["none"])


def test_cross_link_attends_to_the_other_paths_output():
    """A spatial head's link reads, across electrodes, the temporal heads' output: change one window of one electrode
    and, through the temporal path and the link, every electrode of the other windows moves; without the link only
    that electrode's own tokens and the changed window's do (one layer)."""
    de = de_batch(batch=1)
    changed = de.clone()
    changed[0, 0, 7] += 3.0
    for mode, spreads in (("cross", True), ("none", False)):
        model = MoodReaderModel(tiny_config(interlink=mode, num_hidden_layers=1)).eval()
        with torch.no_grad():
            before = model.de_encoder.layers[0](model.de_embeddings(model.de_embeddings.content(de),
                                                                     torch.tensor(model.config.default_electrode_ids)[None]))[0]
            after = model.de_encoder.layers[0](model.de_embeddings(model.de_embeddings.content(changed),
                                                                    torch.tensor(model.config.default_electrode_ids)[None]))[0]
        moved = (after - before).abs().amax(dim=-1)[0]  # (time, channels)
        elsewhere = moved[1:, [c for c in range(CHANNELS) if c != 7]]
        assert bool((elsewhere > 1e-6).any()) == spreads, mode


def reference_cross_layer(layer, grid, time_mask, channel_mask):
    """The ``cross`` layer written from its definition with einsum and an explicit softmax: spatial heads attend
    across electrodes, temporal heads across windows, then each path adds (gated) the other path's output attended
    with its own weights; output projection, residual, feed-forward."""
    batch, time, channels, _ = grid.shape
    heads, size = layer.num_heads, layer.head_size
    half = heads // 2
    q, k, v = layer.query_key_value(layer.attention_norm(grid)).view(batch, time, channels, 3, heads, size).unbind(3)
    spatial_scores = torch.einsum("btchd,btkhd->bthck", q[..., :half, :], k[..., :half, :]) / size**0.5
    spatial_scores = spatial_scores.masked_fill(~channel_mask[:, None, None, None, :], float("-inf"))
    temporal_scores = torch.einsum("btchd,bschd->bchts", q[..., half:, :], k[..., half:, :]) / size**0.5
    temporal_scores = temporal_scores.masked_fill(~time_mask[:, None, None, None, :], float("-inf"))
    spatial_weights, temporal_weights = spatial_scores.softmax(-1), temporal_scores.softmax(-1)

    def across_electrodes(values):
        return torch.einsum("bthck,btkhd->btchd", spatial_weights, values)

    def across_windows(values):
        return torch.einsum("bchts,bschd->btchd", temporal_weights, values)

    spatial, temporal = across_electrodes(v[..., :half, :]), across_windows(v[..., half:, :])
    spatial, temporal = (spatial + layer.link_gate[0] * across_electrodes(temporal),
                         temporal + layer.link_gate[1] * across_windows(spatial))
    merged = grid + layer.output(torch.cat([spatial, temporal], dim=-2).flatten(-2))
    return merged + layer.feed_forward(layer.feed_forward_norm(merged))


@pytest.mark.parametrize("output_attentions", [False, True])
def test_the_cross_layer_computes_its_definition_with_and_without_attention_maps(output_attentions):
    torch.manual_seed(3)
    layer = MoodReaderModel(tiny_config(interlink="cross", num_attention_heads=4)).de_encoder.layers[0].eval()
    with torch.no_grad():
        layer.link_gate.copy_(torch.tensor([0.6, 1.4]))
    grid = torch.randn(2, 5, 9, layer.num_heads * layer.head_size)
    time_mask = torch.ones(2, 5, dtype=torch.bool)
    time_mask[1, 3:] = False
    channel_mask = torch.ones(2, 9, dtype=torch.bool)
    channel_mask[0, :4] = False
    with torch.no_grad():
        got = layer(grid, time_mask, channel_mask, output_attentions)[0]
        expected = reference_cross_layer(layer, grid, time_mask, channel_mask)
    real = time_mask[:, :, None] & channel_mask[:, None, :]
    torch.testing.assert_close(got[real], expected[real], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("shape", "ratio"), [((4, 10, 62), 0.75), ((2, 3, 7), 0.5), ((5, 1, 3), 0.9)])
def test_random_mask_covers_mask_ratio_within_one_token(shape, ratio):
    valid = torch.ones(shape, dtype=torch.bool)
    valid[0, -1] = False  # a padded window in the first sample
    mask = random_token_mask(valid, ratio)
    assert not bool((mask & ~valid).any())
    for sample_mask, sample_valid in zip(mask, valid):
        assert abs(int(sample_mask.sum()) - ratio * int(sample_valid.sum())) <= 1


def test_masked_loss_ignores_unmasked_targets():
    prediction, target = torch.randn(2, 4, 62, 5), torch.randn(2, 4, 62, 5)
    mask = random_token_mask(torch.ones(2, 4, 62, dtype=torch.bool), 0.75)
    perturbed = torch.where(mask[..., None], target, target + 100.0)
    assert masked_mse(prediction, perturbed, mask) == masked_mse(prediction, target, mask)
    expected = ((prediction - target) ** 2).mean(-1)[mask].mean()
    torch.testing.assert_close(masked_mse(prediction, target, mask), expected)


def test_mbsm_loss_is_mse_on_masked_tokens_and_masked_inputs_are_hidden(config):
    model = MoodReaderForMaskedEEGModeling(config).eval()
    de = de_batch()
    mask = random_token_mask(torch.ones(BATCH, TIME, CHANNELS, dtype=torch.bool), config.mask_ratio)
    out = model(de_features=de, de_token_mask=mask)
    assert torch.equal(out.mask, mask)
    expected = ((out.logits - de) ** 2).mean(-1)[mask].mean()
    torch.testing.assert_close(out.loss, expected)
    changed = torch.where(mask[..., None], de + 5.0, de)  # only masked inputs change: the encoder must not see them
    again = model(de_features=changed, de_token_mask=mask)
    torch.testing.assert_close(again.logits, out.logits)
    assert again.loss > out.loss


def test_padding_and_missing_electrodes_do_not_leak(config):
    model = MoodReaderForEmotionRecognition(config).eval()
    de = de_batch()
    attention_mask = torch.ones(BATCH, TIME, dtype=torch.long)
    attention_mask[:, -1] = 0
    channel_mask = torch.ones(BATCH, CHANNELS, dtype=torch.long)
    channel_mask[:, 5] = 0
    changed = de.clone()
    changed[:, -1] = 50.0
    changed[:, :, 5] = -50.0
    kwargs = {"attention_mask": attention_mask, "channel_mask": channel_mask}
    torch.testing.assert_close(model(de_features=changed, **kwargs).logits, model(de_features=de, **kwargs).logits)


def test_every_stream_the_model_was_built_with_is_required_and_no_other(config):
    with pytest.raises(ValueError, match=r"eeg_signals: expected none \(the model has no 'signal' stream"):
        MoodReaderForEmotionRecognition(config)(de_features=de_batch(), eeg_signals=signal_batch())
    two_streams = MoodReaderForEmotionRecognition(tiny_config(**BOTH_STREAMS)).eval()
    with pytest.raises(ValueError, match=r"eeg_signals: expected shape .*built with the 'signal' stream.*got none"):
        two_streams(de_features=de_batch())
    de = de_batch()
    noise = two_streams(de_features=de, eeg_signals=signal_batch()).logits
    zeros = two_streams(de_features=de, eeg_signals=torch.zeros(BATCH, CHANNELS, TIME * 200)).logits
    assert not torch.allclose(noise, zeros)  # the signal reaches the logits
    signal_only = MoodReaderForEmotionRecognition(tiny_config(streams=["signal"])).eval()
    assert signal_only(eeg_signals=signal_batch()).logits.shape == (BATCH, 3)
    assert not any(name.startswith("moodreader.de_") for name, _ in signal_only.named_parameters())


@pytest.mark.parametrize("head", [MoodReaderModel, MoodReaderForMaskedEEGModeling, MoodReaderForEmotionRecognition])
def test_one_set_of_weights_runs_on_every_montage(head):
    model = head(tiny_config(**BOTH_STREAMS)).eval()
    outputs = []
    for names in (SEED_CHANNEL_NAMES, DEAP_32, TEN_TWENTY_19, ("Oz",)):
        ids = torch.tensor(electrode_ids(names))
        out = model(de_features=torch.randn(2, TIME, len(names), BANDS),
                    eeg_signals=20 * torch.randn(2, len(names), TIME * 200), electrode_ids=ids)
        outputs.append(out)
    if head is MoodReaderForEmotionRecognition:
        assert all(out.logits.shape == (2, 3) for out in outputs)
    shapes = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    other = head(tiny_config(channel_names=list(DEAP_32), num_channels=32, **BOTH_STREAMS))
    assert {name: tuple(value.shape) for name, value in other.state_dict().items()} == shapes
    assert not any(size in shape for size in (len(SEED_CHANNEL_NAMES), len(TEN_TWENTY_19)) for shape in shapes.values())


def test_electrode_ids_say_which_electrode_a_channel_is(config):
    model = MoodReaderModel(config).eval()
    de = de_batch()
    default = model(de_features=de).last_hidden_state
    explicit = model(de_features=de, electrode_ids=torch.tensor(electrode_ids(SEED_CHANNEL_NAMES))).last_hidden_state
    torch.testing.assert_close(default, explicit)
    permutation = torch.randperm(CHANNELS)
    reordered = model(de_features=de[:, :, permutation],
                      electrode_ids=torch.tensor(electrode_ids(SEED_CHANNEL_NAMES))[permutation]).last_hidden_state
    torch.testing.assert_close(reordered, default[:, :, permutation], rtol=1e-5, atol=1e-5)
    relabelled = model(de_features=de, electrode_ids=torch.tensor(electrode_ids(SEED_CHANNEL_NAMES))[permutation])
    assert not torch.allclose(relabelled.last_hidden_state, default, atol=1e-4)


def test_fully_masked_electrodes_get_different_reconstructions():
    model = MoodReaderForMaskedEEGModeling(tiny_config(streams=["signal"])).eval()
    signals = 20 * torch.randn(1, CHANNELS, TIME * 200)
    mask = torch.zeros(1, TIME * 4, CHANNELS, dtype=torch.bool)
    mask[:, :, [3, 40]] = True  # two electrodes masked in every patch: only their identity tells them apart
    out = model(eeg_signals=signals, signal_token_mask=mask)
    first, second = out.signal_logits[0, :, 3], out.signal_logits[0, :, 40]
    assert (first - second).abs().max() > 1e-3


def test_a_config_saved_before_the_electrode_vocabulary_is_refused_with_what_changed():
    old = MoodReaderConfig().to_dict()
    old.pop("streams")
    with pytest.raises(ValueError, match=r"saved when each model was bound to one montage"):
        MoodReaderConfig.from_dict(old)


def test_vocabulary_holds_the_10_05_names_and_seed_extras_once():
    keys = [name.lower() for name in ELECTRODE_VOCABULARY]
    assert len(keys) == len(set(keys)) == 341
    assert electrode_ids(["T3", "T7", "Fp1.", "EEG Cz-REF", "CB2"]) == [keys.index("t7")] * 2 + [
        keys.index("fp1"), keys.index("cz"), keys.index("cb2")]
    with pytest.raises(ValueError, match=r"expected electrode names of the 10-05 system.*'EEG 001'"):
        electrode_ids(["Cz", "EEG 001"])


def test_gradient_checkpointing_gives_the_same_gradients(config):
    de, labels = de_batch(), torch.tensor([0, 1, 2])
    plain = MoodReaderForEmotionRecognition(config).train()
    checkpointed = MoodReaderForEmotionRecognition(config).train()
    checkpointed.load_state_dict(plain.state_dict())
    checkpointed.activation_checkpointing_enable()
    assert all(layer.gradient_checkpointing for layer in checkpointed.moodreader.de_encoder.layers)
    for model in (plain, checkpointed):
        model(de_features=de, labels=labels).loss.backward()
    for (name, a), (_, b) in zip(plain.named_parameters(), checkpointed.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_pretrained_encoder_loads_into_the_classifier(tmp_path):
    config = tiny_config(**BOTH_STREAMS)
    pretrained = MoodReaderForMaskedEEGModeling(config)
    pretrained.save_pretrained(tmp_path)
    classifier = MoodReaderForEmotionRecognition.from_pretrained(tmp_path)
    for name, value in pretrained.moodreader.state_dict().items():
        assert torch.equal(classifier.moodreader.state_dict()[name], value), name


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"de_features": torch.randn(2, 4, 61, 5)}, r"electrode_ids: expected vocabulary ids \(batch, 61\)"),
        ({"de_features": torch.randn(2, 4, 3, 5), "electrode_ids": torch.tensor([0, 1, 341])},
         r"electrode_ids: expected ids in \[0, 341\)"),
        ({"de_features": torch.randn(2, 4, 3, 5), "electrode_ids": torch.tensor([0, 1])},
         r"electrode_ids: expected integer ids of shape \(2, 3\) or \(3,\), got \(2,\)"),
        ({"de_features": torch.randn(2, 4, 62, 4)}, r"de_features: expected shape .*got \(2, 4, 62, 4\)"),
        ({"de_features": torch.randn(4, 62, 5)}, r"de_features: expected shape .*got \(4, 62, 5\)"),
        ({"de_features": torch.randn(2, 4, 62, 5), "eye_features": torch.randn(2, 4, 33)},
         r"eye_features: expected none .*eye_feature_size=0.*\(2, 4, 33\)"),
        ({"de_features": torch.full((2, 4, 62, 5), float("nan"))}, r"de_features: expected finite values"),
        ({"de_features": torch.randn(2, 4, 62, 5), "attention_mask": torch.ones(2, 5)},
         r"attention_mask: expected shape \(2, 4\).*got \(2, 5\)"),
        ({"de_features": torch.randn(2, 4, 62, 5), "attention_mask": torch.zeros(2, 4)},
         r"attention_mask: expected at least one non-zero entry"),
        ({"de_features": torch.randn(2, 4, 62, 5), "labels": torch.tensor([0, 3])}, r"labels: expected integer class"),
        ({"de_features": torch.randn(1, 17, 62, 5)}, r"expected 1 to max_windows=16 windows, got 17"),
    ],
)
def test_bad_input_raises_with_expected_and_received(config, inputs, message):
    with pytest.raises(ValueError, match=message):
        MoodReaderForEmotionRecognition(config)(**inputs)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"de_features": torch.randn(2, 4, 62, 5), "eeg_signals": torch.randn(2, 62, 600)},
         r"eeg_signals: expected shape \(2, 62, 800\).*got \(2, 62, 600\)"),
        ({"de_features": torch.randn(2, 4, 62, 5), "eeg_signals": torch.randn(2, 62, 810)},
         r"eeg_signals: expected a whole number of 1.0 s windows .*got 810 samples"),
        ({"de_features": torch.randn(2, 4, 62, 5), "eeg_signals": torch.full((2, 62, 800), float("inf"))},
         r"eeg_signals: expected finite values"),
    ],
)
def test_bad_signal_input_raises_with_expected_and_received(inputs, message):
    with pytest.raises(ValueError, match=message):
        MoodReaderForEmotionRecognition(tiny_config(**BOTH_STREAMS))(**inputs)


def test_eye_features_required_when_configured():
    model = MoodReaderForEmotionRecognition(tiny_config(eye_feature_size=33))
    with pytest.raises(ValueError, match=r"eye_features: expected shape \(2, 4, 33\) .*got none"):
        model(de_features=torch.randn(2, 4, 62, 5))
    with pytest.raises(ValueError, match=r"eye_features: expected shape \(2, 4, 33\).*got \(2, 3, 33\)"):
        model(de_features=torch.randn(2, 4, 62, 5), eye_features=torch.randn(2, 3, 33))
