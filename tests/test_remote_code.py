"""Saved folders load through every Auto class, installed or as remote code in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModel, AutoModelForPreTraining, AutoModelForSequenceClassification

from moodreader_hf import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling, MoodReaderModel
from moodreader_hf.modeling_moodreader import AUTO_MAP

from .conftest import tiny_config

REMOTE_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["moodreader_hf"] = None  # the package must not be needed: only the folder's remote code
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForPreTraining, AutoModelForSequenceClassification

    folder, inputs_path, outputs_path = sys.argv[1:]
    inputs = torch.load(inputs_path)
    config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    classifier = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()
    encoder = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    pretraining = AutoModelForPreTraining.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        torch.manual_seed(0)
        outputs = {
            "logits": classifier(**inputs).logits,
            "pooled": encoder(de_features=inputs["de_features"]).pooler_output,
            "modules": [type(m).__module__ for m in (config, classifier, encoder, pretraining)],
        }
    torch.save(outputs, outputs_path)
    """
)


def test_save_writes_every_auto_class_and_the_remote_code(tmp_path):
    for model_class in (MoodReaderModel, MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling):
        folder = tmp_path / model_class.__name__
        model_class(tiny_config()).save_pretrained(folder)
        assert json.loads((folder / "config.json").read_text())["auto_map"] == AUTO_MAP
        assert {"configuration_moodreader.py", "modeling_moodreader.py", "model.safetensors"} <= {
            path.name for path in folder.iterdir()
        }


def test_installed_auto_classes_load_any_saved_head(tmp_path):
    MoodReaderForEmotionRecognition(tiny_config()).save_pretrained(tmp_path)
    assert type(AutoConfig.from_pretrained(tmp_path)).__module__ == "moodreader_hf.configuration_moodreader"
    assert isinstance(AutoModelForSequenceClassification.from_pretrained(tmp_path), MoodReaderForEmotionRecognition)
    assert isinstance(AutoModel.from_pretrained(tmp_path), MoodReaderModel)
    assert isinstance(AutoModelForPreTraining.from_pretrained(tmp_path), MoodReaderForMaskedEEGModeling)


def test_fresh_process_remote_code_gives_identical_outputs(tmp_path):
    config = tiny_config(eye_feature_size=4, num_labels=5, streams=["de", "signal"])
    folder = tmp_path / "model"
    MoodReaderForEmotionRecognition(config).save_pretrained(folder)
    inputs = {"de_features": torch.randn(2, 3, 62, 5), "eye_features": torch.randn(2, 3, 4),
              "eeg_signals": 10 * torch.randn(2, 62, 600)}
    torch.save(inputs, tmp_path / "inputs.pt")
    script = tmp_path / "load_remote.py"
    script.write_text(REMOTE_SCRIPT)
    # bitwise equality needs the same number of threads on both sides (it decides the order of float reductions);
    # earlier tests may have changed this process's
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": "",
           "OMP_NUM_THREADS": str(torch.get_num_threads())}
    subprocess.run(
        [sys.executable, str(script), str(folder), str(tmp_path / "inputs.pt"), str(tmp_path / "outputs.pt")],
        cwd=tmp_path, env=env, check=True, timeout=300,
    )
    remote = torch.load(tmp_path / "outputs.pt")
    assert all(module.startswith("transformers_modules.") for module in remote["modules"])
    assert remote["modules"][3].endswith("modeling_moodreader")  # AutoModelForPreTraining resolved too

    classifier = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    encoder = AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        torch.manual_seed(0)
        assert torch.equal(classifier(**inputs).logits, remote["logits"])
        assert torch.equal(encoder(de_features=inputs["de_features"]).pooler_output, remote["pooled"])


def test_round_trip_keeps_every_parameter(tmp_path):
    model = MoodReaderForMaskedEEGModeling(tiny_config())
    model.save_pretrained(tmp_path)
    loaded = MoodReaderForMaskedEEGModeling.from_pretrained(tmp_path)
    original, reloaded = model.state_dict(), loaded.state_dict()
    assert original.keys() == reloaded.keys()
    for name, value in original.items():
        assert torch.equal(value, reloaded[name]), name
    assert Path(tmp_path / "model.safetensors").stat().st_size > 0
