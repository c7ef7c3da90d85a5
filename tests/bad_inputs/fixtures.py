"""Good inputs of every command (a tiny classifier, a pre-training folder, a published repo, a built dataset, a
recording, a recipe) and the bad files the catalogue derives from them, written once into one folder."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
from pathlib import Path

import mne
import numpy as np
import scipy.io
import torch

from moodreader_hf import MoodReaderForEmotionRecognition, MoodReaderForMaskedEEGModeling, hub
from moodreader_hf.builders import build_dataset
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor

from ..conftest import tiny_config
from ..training_helpers import write_recipe, write_seed_download

REPORT = {
    "protocol": "leave-one-subject-out", "dataset": "simulated-seed",
    "folds": [{"test_subject": "1", "accuracy": 0.5, "macro_f1": 0.4, "n_test": 10}],
    "accuracy_mean": 0.5, "accuracy_std": 0.0, "macro_f1_mean": 0.4, "macro_f1_std": 0.0,
    "chance_level": 1 / 3, "simulated": True,
}


def _extractor(config, rng) -> MoodReaderFeatureExtractor:
    return MoodReaderFeatureExtractor.from_model_config(
        config, de_mean=(2.0 + rng.normal(size=(62, 5))).tolist(), de_std=(0.5 + rng.random((62, 5))).tolist())


def save_classifier(folder: Path, **overrides) -> Path:
    torch.manual_seed(1)
    config = tiny_config(max_windows=8, sequence_windows=4, **overrides)
    MoodReaderForEmotionRecognition(config).save_pretrained(folder)
    _extractor(config, np.random.default_rng(1)).save_pretrained(folder)
    (folder / "report.json").write_text(json.dumps(REPORT))
    return folder


def save_pretraining_folder(folder: Path) -> Path:
    """What ``run_pretraining`` leaves in ``model/``: the masked-modelling model, its extractor, pretraining.json."""
    torch.manual_seed(2)
    config = tiny_config(max_windows=8, sequence_windows=4, streams=["signal"])
    MoodReaderForMaskedEEGModeling(config).save_pretrained(folder)
    MoodReaderFeatureExtractor.from_model_config(config, smoothing="none").save_pretrained(folder)
    (folder / "pretraining.json").write_text(json.dumps({"objective": "mbsm-signal", "streams": ["signal"],
                                                          "trained_weights": ["moodreader."], "sources": []}))
    return folder


def write_edf(path: Path, names: list[str], seconds: float, *, seed: int = 0, sfreq: float = 200.0) -> Path:
    signals = 20e-6 * np.random.default_rng(seed).standard_normal((len(names), int(sfreq * seconds)))
    raw = mne.io.RawArray(signals, mne.create_info(names, sfreq, "eeg"), verbose="error")
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    return path


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def _edit_json(path: Path, **changes) -> None:
    values = json.loads(path.read_text())
    values.update(changes)
    path.write_text(json.dumps(values))


def make_fixtures(root: Path) -> dict[str, str]:
    """Write the good and bad inputs under ``root``; returns ``{name: path}`` (the catalogue's ``{name}`` fields)."""
    root.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    good = root / "good"
    bad = root / "bad"
    good.mkdir()
    bad.mkdir()
    paths["model"] = save_classifier(good / "model")
    paths["pretrained"] = save_pretraining_folder(good / "pretrained")
    paths["repo"] = hub.build_model_repo(paths["model"], good / "repo")
    paths["raw"] = write_seed_download(good / "raw", subjects=2, sessions=1, windows=8)
    paths["dataset"] = build_dataset("seed", paths["raw"], good / "dataset", sequence_windows=4, stride=4,
                                     progress=False)
    names = [name for name in SEED_CHANNEL_NAMES if name not in ("CB1", "CB2")]
    paths["edf"] = write_edf(good / "recording.edf", names, 9.0)
    paths["recipe"] = write_recipe(good / "recipe.yaml", finetune={"epochs": 1}, pretrain={"steps": 2})

    # Files that are not what their name says, empty, truncated.
    paths["missing"] = bad / "no-such-file.edf"
    paths["missing_dir"] = bad / "no-such-folder"
    (bad / "empty.edf").write_bytes(b"")
    paths["empty_edf"] = bad / "empty.edf"
    (bad / "text.edf").write_text("this is not an EDF file\n" * 20)
    paths["text_edf"] = bad / "text.edf"
    data = paths["edf"].read_bytes()
    (bad / "truncated.edf").write_bytes(data[: len(data) // 3])
    paths["truncated_edf"] = bad / "truncated.edf"
    (bad / "header-only.edf").write_bytes(data[:256])
    paths["header_only_edf"] = bad / "header-only.edf"
    scipy.io.savemat(bad / "notes.mat", {"notes": np.arange(10.0)})
    paths["mat"] = bad / "notes.mat"
    (bad / "recording.xyz").write_bytes(data)
    paths["unknown_ext"] = bad / "recording.xyz"
    (bad / "a-folder.edf").mkdir()
    paths["dir_edf"] = bad / "a-folder.edf"
    write_edf(bad / "few-channels.edf", ["X1", "X2", "X3"], 9.0)
    paths["foreign_channels_edf"] = bad / "few-channels.edf"
    short = mne.io.RawArray(20e-6 * np.random.default_rng(3).standard_normal((len(names), 100)),
                            mne.create_info(names, 200.0, "eeg"), verbose="error")
    short.save(bad / "short_raw.fif", verbose="error")
    paths["short_fif"] = bad / "short_raw.fif"
    slow = mne.io.RawArray(np.zeros((len(names), 40)) + 1e-5, mne.create_info(names, 0.5, "eeg"), verbose="error")
    slow.save(bad / "slow_raw.fif", verbose="error")
    paths["slow_fif"] = bad / "slow_raw.fif"
    raw = mne.io.read_raw_edf(paths["edf"], preload=True, verbose="error")
    raw._data[3, 100:200] = np.nan
    raw.save(bad / "nan_raw.fif", verbose="error")
    paths["nan_fif"] = bad / "nan_raw.fif"
    mne.export.export_raw(bad / "outside.vhdr", raw.copy().crop(0, 2), fmt="brainvision", verbose="error")
    paths["vhdr"] = bad / "outside.vhdr"

    # Model folders: broken config, weights, extractor; a pre-training folder; a folder without weights.
    folder = _copy(paths["model"], bad / "model-bad-config-value")
    _edit_json(folder / "config.json", hidden_size=-16)
    paths["model_bad_config_value"] = folder
    folder = _copy(paths["model"], bad / "model-config-type")
    _edit_json(folder / "config.json", num_attention_heads="two")
    paths["model_config_type"] = folder
    folder = _copy(paths["model"], bad / "model-config-not-json")
    (folder / "config.json").write_text("{ not json")
    paths["model_config_not_json"] = folder
    folder = _copy(paths["model"], bad / "model-config-list")
    (folder / "config.json").write_text("[1, 2, 3]")
    paths["model_config_list"] = folder
    folder = _copy(paths["model"], bad / "model-no-config")
    (folder / "config.json").unlink()
    paths["model_no_config"] = folder
    folder = _copy(paths["model"], bad / "model-header-too-large")
    weights = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 2**40) + weights[8:])
    paths["model_header_too_large"] = folder
    folder = _copy(paths["model"], bad / "model-truncated-weights")
    (folder / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    paths["model_truncated_weights"] = folder
    folder = _copy(paths["model"], bad / "model-empty-weights")
    (folder / "model.safetensors").write_bytes(b"")
    paths["model_empty_weights"] = folder
    folder = _copy(paths["model"], bad / "model-no-weights")
    (folder / "model.safetensors").unlink()
    paths["model_no_weights"] = folder
    folder = _copy(paths["model"], bad / "model-pickle-weights")
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not a pickle at all")
    paths["model_pickle_weights"] = folder
    folder = bad / "model-size-mismatch"
    save_classifier(folder)
    torch.manual_seed(1)
    MoodReaderForEmotionRecognition(tiny_config(max_windows=8, sequence_windows=4, hidden_size=24,
                                                intermediate_size=48)).save_pretrained(bad / "wider")
    shutil.copyfile(bad / "wider" / "model.safetensors", folder / "model.safetensors")
    shutil.rmtree(bad / "wider")
    paths["model_size_mismatch"] = folder
    folder = _copy(paths["model"], bad / "model-no-extractor")
    (folder / "preprocessor_config.json").unlink()
    paths["model_no_extractor"] = folder
    folder = _copy(paths["model"], bad / "model-extractor-not-json")
    (folder / "preprocessor_config.json").write_text("{{{")
    paths["model_extractor_not_json"] = folder
    folder = _copy(paths["model"], bad / "model-extractor-bool-rate")
    _edit_json(folder / "preprocessor_config.json", sampling_rate=True)
    paths["model_extractor_bool_rate"] = folder
    folder = _copy(paths["model"], bad / "model-extractor-window")
    _edit_json(folder / "preprocessor_config.json", window_seconds=0)
    paths["model_extractor_window"] = folder
    folder = _copy(paths["model"], bad / "model-bad-report")
    (folder / "report.json").write_text('{"protocol": "loso"')
    paths["model_bad_report"] = folder
    folder = _copy(paths["model"], bad / "model-nan-report")
    _edit_json(folder / "report.json", accuracy_mean=float("nan"))
    paths["model_nan_report"] = folder
    (bad / "a-file").write_text("a file, not a folder\n")
    paths["a_file"] = bad / "a-file"
    (bad / "empty-folder").mkdir()
    paths["empty_dir"] = bad / "empty-folder"

    # Built datasets: no metadata, broken metadata, missing arrow files, truncated arrow, no signal column.
    folder = _copy(paths["dataset"], bad / "dataset-no-metadata")
    (folder / "moodreader_dataset.json").unlink()
    paths["dataset_no_metadata"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-metadata-not-json")
    (folder / "moodreader_dataset.json").write_text("nope")
    paths["dataset_metadata_not_json"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-metadata-missing-key")
    values = json.loads((folder / "moodreader_dataset.json").read_text())
    del values["channel_names"]
    (folder / "moodreader_dataset.json").write_text(json.dumps(values))
    paths["dataset_metadata_missing_key"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-metadata-wrong-type")
    _edit_json(folder / "moodreader_dataset.json", channel_names=7, sequence_windows="four")
    paths["dataset_metadata_wrong_type"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-no-dict")
    (folder / "dataset_dict.json").unlink()
    paths["dataset_no_dict"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-truncated-arrow")
    for arrow in (folder / "train").glob("*.arrow"):
        arrow.write_bytes(arrow.read_bytes()[:200])
    paths["dataset_truncated_arrow"] = folder
    folder = _copy(paths["dataset"], bad / "dataset-state-not-json")
    (folder / "train" / "state.json").write_text("][")
    paths["dataset_state_not_json"] = folder

    # Recipes.
    paths["recipe_not_yaml"] = bad / "recipe-not-yaml.yaml"
    paths["recipe_not_yaml"].write_text("name: [unclosed\n  - : :")
    paths["recipe_unknown_key"] = write_recipe(bad / "recipe-unknown-key.yaml", finetune={"epochz": 1})
    paths["recipe_wrong_type"] = write_recipe(bad / "recipe-wrong-type.yaml", finetune={"epochs": "many"})
    paths["recipe_bool_number"] = write_recipe(bad / "recipe-bool-number.yaml", pretrain={"steps": True})
    paths["recipe_negative"] = write_recipe(bad / "recipe-negative.yaml", finetune={"learning_rate": -1.0})
    paths["recipe_nan"] = write_recipe(bad / "recipe-nan.yaml", finetune={"learning_rate": float("nan")})
    paths["recipe_layout"] = write_recipe(bad / "recipe-layout.yaml", dataset={"layout": "seed-xyz"})
    paths["recipe_model_value"] = write_recipe(bad / "recipe-model-value.yaml", model={"hidden_size": -16})
    paths["recipe_list"] = bad / "recipe-list.yaml"
    paths["recipe_list"].write_text("- 1\n- 2\n")
    paths["recipe_binary"] = bad / "recipe-binary.yaml"
    paths["recipe_binary"].write_bytes(bytes(range(256)))

    # Downloads in a layout, broken.
    download = _copy(paths["raw"], bad / "raw-short-trials")
    for mat in (download / "ExtractedFeatures").glob("*_*.mat"):
        values = scipy.io.loadmat(mat)
        scipy.io.savemat(mat, {key: value[:, :2] for key, value in values.items() if key.startswith("de_")})
    paths["raw_short_trials"] = download
    download = _copy(paths["raw"], bad / "raw-nan")
    first = sorted((download / "ExtractedFeatures").glob("*_*.mat"))[0]
    values = {key: value for key, value in scipy.io.loadmat(first).items() if key.startswith("de_")}
    values["de_LDS1"][0, 0, 0] = np.nan
    scipy.io.savemat(first, values)
    paths["raw_nan"] = download
    download = _copy(paths["raw"], bad / "raw-truncated-mat")
    first = sorted((download / "ExtractedFeatures").glob("*_*.mat"))[0]
    first.write_bytes(first.read_bytes()[:300])
    paths["raw_truncated_mat"] = download
    download = bad / "raw-empty-layout"
    (download / "ExtractedFeatures").mkdir(parents=True)
    paths["raw_empty_layout"] = download
    download = bad / "deap-pickle"
    (download / "data_preprocessed_python").mkdir(parents=True)
    (download / "data_preprocessed_python" / "s01.dat").write_bytes(b"\x80\x04\x95garbage")
    paths["deap_bad_pickle"] = download
    download = bad / "deap-wrong-keys"
    (download / "data_preprocessed_python").mkdir(parents=True)
    with open(download / "data_preprocessed_python" / "s01.dat", "wb") as handle:
        pickle.dump({"data": np.zeros((2, 40, 10)), "stuff": 1}, handle)
    paths["deap_wrong_keys"] = download

    # Outputs that must not be touched: a foreign folder (a user's project), a file where a folder goes.
    project = bad / "project"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("# my project\n")
    (project / "src" / "main.py").write_text("print('mine')\n")
    (project / "thesis.tex").write_text("\\documentclass{article}\n")
    paths["project"] = project
    repo = _copy(paths["repo"], bad / "repo-with-notes")
    (repo / "notes.txt").write_text("mine, added after publishing\n")
    paths["repo_with_notes"] = repo
    (bad / "dataset-link").symlink_to(paths["dataset"], target_is_directory=True)
    paths["dataset_link"] = bad / "dataset-link"
    topomap = bad / "not-a-png.png"
    topomap.write_text("not a PNG")
    paths["not_png"] = topomap
    template = bad / "template.md"
    template.write_text("---\n{{ card_data }}\n---\n{{ undefined_function() }}\n")
    paths["bad_template"] = template
    return {name: str(path) for name, path in paths.items()}
