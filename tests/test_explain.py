"""Electrode importance finds the electrodes where the simulator plants an emotion effect; topomaps are drawn."""

from __future__ import annotations

import argparse
import json

import mne
import numpy as np
import pytest
import torch
from matplotlib.image import imread

from moodreader_hf import MoodReaderForEmotionRecognition
from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.commands import explain as explain_command
from moodreader_hf.configuration_moodreader import BAND_NAMES, SEED_CHANNEL_NAMES
from moodreader_hf.explain import electrode_importance, electrode_positions, plot_topomaps
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.simulation import PLANTED_EFFECTS, SEED_EMOTIONS, simulate_seed

from .conftest import tiny_config

PLANTED = {
    "negative": ("parieto-occipital", "delta"),
    "neutral": ("parieto-occipital", "alpha"),
    "positive": ("lateral temporal", "gamma"),
}
"""One row of the simulator's table per SEED class: here the only thing that tells the classes apart."""
EFFECT_SCALE = 10.0
"""The planted DE shift ``0.5 * ln(gain)``, in standard deviations of the normalised DE noise (0.5)."""


def planted_rows():
    return {effect.emotion: effect for effect in PLANTED_EFFECTS
            if PLANTED.get(effect.emotion) == (effect.region, effect.band)}


def synthetic_de(rng, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised DE ``(count, 2, 62, 5)``: noise, plus each sample's class effect on its planted electrodes."""
    shifts = np.zeros((3, 62, 5))
    for emotion, effect in planted_rows().items():
        channels = [SEED_CHANNEL_NAMES.index(name) for name in effect.electrodes]
        shifts[SEED_EMOTIONS.index(emotion), channels, BAND_NAMES.index(effect.band)] = (
            EFFECT_SCALE * 0.5 * np.log(effect.gain))
    labels = rng.integers(0, 3, count)
    de = 0.5 * rng.standard_normal((count, 2, 62, 5)) + shifts[labels][:, None]
    return torch.tensor(de, dtype=torch.float32), torch.tensor(labels)


@pytest.fixture(scope="module")
def trained():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        config = tiny_config(num_hidden_layers=1, max_windows=4, fusion_levels=["feature"])
        model = MoodReaderForEmotionRecognition(config)
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
        model.train()
        for _ in range(150):
            de, labels = synthetic_de(rng, 32)
            loss = model(de_features=de, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        de, labels = synthetic_de(rng, 90)
        with torch.no_grad():
            accuracy = (model(de_features=de).logits.argmax(-1) == labels).float().mean().item()
        yield model, de.numpy(), labels.numpy(), accuracy
    finally:
        torch.set_num_threads(threads)


def test_gradient_importance_peaks_on_the_planted_electrodes(trained):
    model, de, labels, accuracy = trained
    assert accuracy > 0.95
    importance = electrode_importance(model, de, labels=labels, method="gradient")
    assert importance.values.shape == (3, 62, 5) and importance.samples.tolist() == np.bincount(labels).tolist()
    for emotion, effect in planted_rows().items():
        k = len(effect.electrodes)
        in_band = importance.top_electrodes(k, emotion, effect.band)
        assert len(set(in_band) & set(effect.electrodes)) >= k - 1, (emotion, in_band)
        values = importance.values[SEED_EMOTIONS.index(emotion), :, BAND_NAMES.index(effect.band)]
        planted = np.isin(importance.channel_names, effect.electrodes)
        assert values[planted].mean() > 3 * values[~planted].mean()
    union = set().union(*(effect.electrodes for effect in planted_rows().values()))
    overall = importance.top_electrodes(len(union))  # all classes and bands, where unplanted bands add noise
    assert len(set(overall) & union) >= 2 / 3 * len(union)


def test_attention_importance_is_attention_received(trained):
    model, de, labels, _ = trained
    mask = np.ones((len(de), 62), dtype=np.int64)
    mask[:, SEED_CHANNEL_NAMES.index("Cz")] = 0
    importance = electrode_importance(model, de, channel_mask=mask, method="attention")
    assert importance.band_names == ["all bands"]
    assert np.isnan(importance.values[:, SEED_CHANNEL_NAMES.index("Cz")]).all()
    with torch.no_grad():
        output = model(de_features=torch.from_numpy(de), channel_mask=torch.from_numpy(mask), output_attentions=True)
    predicted = output.logits.argmax(-1).numpy()
    present = mask[0] == 1
    received = np.mean([layer.mean(dim=(1, 2)).numpy()[:, present, :].mean(axis=1)
                        for layer in output.spatial_attentions], axis=0)
    for label in np.unique(predicted):
        expected = received[predicted == label].mean(axis=0)
        np.testing.assert_allclose(importance.values[label, present, 0], expected[present], rtol=1e-4, atol=1e-7)
        assert expected[~present] == pytest.approx(0.0, abs=1e-7)
        assert np.nansum(importance.values[label]) == pytest.approx(1.0, rel=1e-5)


def test_positions_approximate_cb1_cb2_between_10_05_neighbours():
    positions = electrode_positions(SEED_CHANNEL_NAMES)
    assert len(positions) == 62
    names = set(mne.channels.get_builtin_montages())
    montage = mne.channels.make_standard_montage("colin27_1005" if "colin27_1005" in names else "standard_1005")
    reference = montage.get_positions()["ch_pos"]
    np.testing.assert_allclose(positions["CB1"], (reference["PO9"] + reference["I1"]) / 2)
    np.testing.assert_allclose(positions["CB2"], (reference["PO10"] + reference["I2"]) / 2)
    np.testing.assert_allclose(positions["FCz"], reference["FCz"])
    assert positions["CB1"][0] < 0 < positions["CB2"][0]


def test_topomaps_are_saved_as_png(trained, tmp_path):
    model, de, labels, _ = trained
    importance = electrode_importance(model, de[:12], labels=labels[:12], method="gradient")
    path = plot_topomaps(importance, tmp_path / "maps" / "importance.png")
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 600
    assert [p.name for p in (tmp_path / "maps").iterdir()] == ["importance.png"]


def run_command(module, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args([argv[0].replace("_", "-"), *argv[1:]])
    return module.run(args)


def test_explain_command_on_a_built_dataset_and_a_recording(trained, tmp_path, capsys):
    model, _, _, _ = trained
    model.save_pretrained(tmp_path / "model")
    MoodReaderFeatureExtractor.from_model_config(model.config).save_pretrained(tmp_path / "model")
    root = simulate_seed(tmp_path / "sim", n_subjects=1, n_sessions=1, trial_seconds=8, progress=False)
    dataset = build_dataset("seed", root, tmp_path / "dataset", sequence_windows=4, stride=4, simulated=True,
                            progress=False)
    assert run_command(explain_command, "explain", str(dataset), "--model", str(tmp_path / "model"), "--method",
                       "gradient", "--output", str(tmp_path / "dataset.png"), "--json", str(tmp_path / "d.json")) == 0
    arrays = json.loads((tmp_path / "d.json").read_text())
    rows = load_built_dataset(dataset)[0]["train"]
    assert arrays["samples"] == np.bincount(rows.with_format("numpy")[:]["label"], minlength=3).tolist()
    assert np.array(arrays["values"], dtype=float).shape == (3, 62, 5)
    assert imread(tmp_path / "dataset.png").shape[1] > 600

    names = [name for name in SEED_CHANNEL_NAMES if name not in ("CB1", "CB2")]
    signals = 20e-6 * np.random.default_rng(7).standard_normal((len(names), 200 * 9))
    edf = tmp_path / "recording.edf"
    mne.export.export_raw(edf, mne.io.RawArray(signals, mne.create_info(names, 200.0, "eeg"), verbose="error"),
                          fmt="edf", verbose="error")
    assert run_command(explain_command, "explain", str(edf), "--model", str(tmp_path / "model"),
                       "--output", str(tmp_path / "recording.png"), "--json", str(tmp_path / "r.json")) == 0
    arrays = json.loads((tmp_path / "r.json").read_text())
    assert sum(arrays["samples"]) == 2 and arrays["band_names"] == ["all bands"]
    values = np.array(arrays["values"], dtype=float)
    assert np.isnan(values[:, [SEED_CHANNEL_NAMES.index("CB1"), SEED_CHANNEL_NAMES.index("CB2")]]).all()
    assert "top electrodes" in capsys.readouterr().out


def test_a_nearly_uniform_map_stays_pale():
    from moodreader_hf.importance import MIN_COLOUR_RANGE_PERCENT, relative_importance

    attention = (1 / 62) * (1 + 0.06 * np.random.default_rng(0).uniform(-1, 1, 62))
    relative = relative_importance(attention)
    np.testing.assert_allclose(relative, (attention / attention.mean() - 1) * 100)
    assert np.abs(relative).max() < 6.5 < MIN_COLOUR_RANGE_PERCENT / 3  # a third of the colour scale at most
