"""The README's Python example runs as written on a real recording, and the README names every command."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from moodreader_hf import MoodReaderForEmotionRecognition
from moodreader_hf.cli import COMMANDS
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor

from .conftest import tiny_config

README = Path(__file__).resolve().parents[1] / "README.md"


def python_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Using it", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_python_example_runs_on_a_real_recording(physionet_edf, tmp_path, monkeypatch, capsys):
    """The PhysioNet EDF (64 electrodes, 160 Hz, 61 s: longer than max_windows) and a model of the demo's kind (DE and
    raw-signal streams), saved where the example looks: outputs/demo/model."""
    torch.manual_seed(0)
    config = tiny_config(max_windows=16, sequence_windows=10, streams=["de", "signal"])
    model_dir = tmp_path / "outputs" / "demo" / "model"
    MoodReaderForEmotionRecognition(config).save_pretrained(model_dir)
    rng = np.random.default_rng(0)
    MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist()
    ).save_pretrained(model_dir)
    (tmp_path / "recording.edf").symlink_to(physionet_edf)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(python_example(), str(README), "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    result, probabilities = namespace["result"], namespace["probabilities"]
    assert len(result["segments"]) == 7  # 61 s in segments of 10 windows (the last one shorter)
    assert printed[0].split()[0] == result["label"]
    assert namespace["signals"].shape == (58, 61 * 200)  # 58 of the 62 electrodes present, resampled to 200 Hz
    assert len(namespace["names"]) == 58 and "PO5" not in namespace["names"]
    assert len(probabilities) == 3 and abs(sum(probabilities) - 1.0) < 1e-5
    assert set(eval(printed[1])) == {"negative", "neutral", "positive"}  # noqa: S307 - the example's own print


def test_the_readme_names_every_command_and_what_is_refused():
    text = README.read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"moodreader {command}" in text, command
    assert "## What the package refuses" in text and "--no-progress" in text
