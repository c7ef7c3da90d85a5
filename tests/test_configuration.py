"""MoodReaderConfig: defaults for SEED, field validation, JSON round trip."""

from __future__ import annotations

import pytest

from moodreader_hf import MoodReaderConfig
from moodreader_hf.configuration_moodreader import BAND_EDGES, SEED_CHANNEL_NAMES


def test_defaults_describe_seed():
    config = MoodReaderConfig()
    assert config.model_type == "moodreader"
    assert (config.num_channels, config.num_bands, config.sampling_rate) == (62, 5, 200)
    assert config.channel_names == list(SEED_CHANNEL_NAMES)
    assert len(set(config.channel_names)) == 62
    assert config.band_edges == [list(edge) for edge in BAND_EDGES]
    assert config.band_edges[2] == [8.0, 14.0]
    assert config.interlink == "cross" and config.mask_ratio == 0.75
    assert config.eye_feature_size == 0
    assert config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    assert config.samples_per_window == 200 and config.patches_per_window == 4


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"hidden_size": 0}, "hidden_size"),
        ({"num_hidden_layers": -1}, "num_hidden_layers"),
        ({"num_channels": 0}, "num_channels"),
        ({"hidden_size": 30, "num_attention_heads": 4}, "hidden_size"),
        ({"interlink": "parallel"}, "interlink"),
        ({"channel_names": ["Fz", "Cz"]}, "channel_names"),
        ({"num_channels": 2, "channel_names": ["Fz", "fz"]}, "channel_names"),
        ({"num_bands": 4}, "band_names"),
        ({"mask_ratio": 1.0}, "mask_ratio"),
        ({"hidden_dropout_prob": 1.5}, "hidden_dropout_prob"),
        ({"fusion_levels": ["token", "late"]}, "fusion_levels"),
        ({"signal_patch_size": 30}, "signal_patch_size"),
        ({"eye_feature_size": -3}, "eye_feature_size"),
        ({"window_seconds": 0}, "window_seconds"),
        ({"band_edges": [[1, 4], [4, 8], [8, 14], [14, 31], [31, 150]]}, "band_edges"),
    ],
)
def test_invalid_values_name_the_field(overrides, field):
    with pytest.raises(ValueError, match=rf"MoodReaderConfig\.{field}: expected"):
        MoodReaderConfig(**overrides)


def test_json_round_trip(tmp_path):
    config = MoodReaderConfig(eye_feature_size=33, num_labels=5, interlink="sequential", fusion_levels=["feature"])
    config.save_pretrained(tmp_path)
    loaded = MoodReaderConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded.num_labels == 5 and loaded.eye_feature_size == 33 and loaded.fusion_levels == ["feature"]
