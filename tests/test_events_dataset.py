"""Your own recordings: files exported with MNE in three formats and two montages plus a label table, built with the
``events`` layout (bad tables refused in one line naming table, line and field), checked against closed-form DE,
fine-tuned leave-one-subject-out, then used by ``predict`` and ``explain`` (channels named outside the 10-05 system
matched by the file's positions or a montage file)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import datasets
import mne
import numpy as np
import pytest
import torch
import yaml
from transformers import pipeline

from moodreader_hf import MoodReaderFeatureExtractor, MoodReaderForEmotionRecognition, cli
from moodreader_hf.builders import build_corpus, build_dataset, dataset_shards, load_built_dataset
from moodreader_hf.configuration_moodreader import ELECTRODE_VOCABULARY
from moodreader_hf.explain import load_montage, vocabulary_recording
from moodreader_hf.training.finetune import finetune_config, load_fold_tensors, run_finetuning
from moodreader_hf.training.pretrain import run_pretraining
from moodreader_hf.training.recipe import load_recipe, recipe_from_dict
from moodreader_hf.validation import MoodReaderInputError

from .training_helpers import TINY_RECIPE

TEN_TWENTY = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8",
              "O1", "O2")  # fmt: skip
WIDE = ("Fp1", "Fp2", "AF3", "AF4", "F7", "F3", "Fz", "F4", "F8", "FC5", "FC1", "FCz", "FC2", "FC6", "T7", "C3", "Cz",
        "C4", "T8", "CP5", "CP1", "CPz", "CP2", "CP6", "P7", "P3", "Pz", "P4", "P8", "POz", "O1", "O2")  # fmt: skip
"""Two montages: the 19 electrodes of the 10-20 system, and 32 of the 10-10 system (FCz, CPz, POz not in the 19)."""
ONSETS = (1.0, 11.0, 21.0, 31.0, 41.0, 51.0)
DURATIONS = (8.0, 8.0, 8.0, 8.0, 8.0, 9.5)
LABELS = ("calm", "excited", "calm", "excited", "calm", "excited")
SECONDS = 64
PROBE = 10.0
"""Amplitude in µV of the 10 Hz sinusoid of each recording's probe channel (the last item of its ``FILES`` entry)."""
FILES = {"s1": ("s1/rest.edf", TEN_TWENTY, 256.0, "Pz"), "s2": ("s2/run.vhdr", WIDE, 500.0, "POz"),
         "s3": ("s3/task.set", TEN_TWENTY, 256.0, "Pz")}  # fmt: skip


def _signal(rng: np.random.Generator, names: tuple[str, ...], sfreq: float, probe: str, gain: float) -> np.ndarray:
    """``(channels, samples)`` in volts: white noise, a class effect inside each span (10 Hz for calm, 20 Hz for
    excited) and, on ``probe``, only a 10 µV 10 Hz sinusoid over a faint noise floor."""
    time = np.arange(int(SECONDS * sfreq)) / sfreq
    data = 5.0 * gain * rng.standard_normal((len(names), time.size))
    for onset, duration, label in zip(ONSETS, DURATIONS, LABELS):
        inside = (time >= onset) & (time < onset + duration)
        frequency = 10.0 if label == "calm" else 20.0
        data[:, inside] += 12.0 * gain * np.sin(2 * np.pi * frequency * time[inside])
    data[names.index(probe)] = PROBE * np.sin(2 * np.pi * 10.0 * time) + 0.01 * rng.standard_normal(time.size)
    return data * 1e-6


def write_recording(path: Path, names: tuple[str, ...], sfreq: float, data: np.ndarray, *,
                    montage: bool = False) -> Path:
    """Export ``data`` (volts) with MNE's exporter of the file's extension (EDF, BrainVision, EEGLAB) or save a FIF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = mne.io.RawArray(data, mne.create_info(list(names), sfreq, "eeg"), verbose="error")
    if montage:
        raw.set_montage("standard_1005", verbose="error")
    if path.suffix == ".fif":
        raw.save(path, overwrite=True, verbose="error")
    else:
        mne.export.export_raw(path, raw, overwrite=True, verbose="error")
    return path


def write_table(path: Path, rows: list[dict[str, object]], delimiter: str = ",") -> Path:
    columns = list(rows[0])
    lines = [delimiter.join(columns)] + [delimiter.join(str(row[column]) for column in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def table_rows() -> list[dict[str, object]]:
    return [{"file": file, "onset": onset, "duration": duration, "label": label, "subject": subject}
            for subject, (file, _, _, _) in FILES.items()
            for onset, duration, label in zip(ONSETS, DURATIONS, LABELS)]  # fmt: skip


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("own-recordings")
    rng = np.random.default_rng(7)
    for number, (subject, (file, names, sfreq, probe)) in enumerate(FILES.items()):
        write_recording(root / file, names, sfreq, _signal(rng, names, sfreq, probe, 1.0 + 0.3 * number))
    write_table(root / "labels.csv", table_rows())
    return root


@pytest.fixture(scope="module")
def built(recordings, tmp_path_factory) -> Path:
    return build_dataset("events", recordings, tmp_path_factory.mktemp("built") / "dataset", sequence_windows=4,
                         stride=4, smoothing="none", layout_options={"labels": recordings / "labels.csv"},
                         progress=False)


def test_the_data_decide_montage_rate_and_classes(built):
    dataset, metadata = load_built_dataset(built)
    assert metadata["channel_names"] == sorted(set(TEN_TWENTY) | set(WIDE), key=ELECTRODE_VOCABULARY.index)
    assert metadata["sampling_rate"] == 256 and metadata["label_names"] == ["calm", "excited"]
    assert metadata["subjects"] == ["s1", "s2", "s3"] and metadata["layout"] == "events"
    table = dataset["train"].with_format("numpy")[:]
    assert len(table["label"]) == 3 * (5 * 2 + 3)  # 8 s spans: 2 rows of 4 windows; the 9.5 s span: 2 + a tail row
    names = metadata["channel_names"]
    for subject, (_, montage, _, _) in FILES.items():
        masks = table["channel_mask"][table["subject"] == subject]
        assert (masks == [int(name in montage) for name in names]).all(), subject
    only_wide = [names.index(name) for name in ("FCz", "CPz", "POz")]
    assert (table["de"][table["subject"] != "s2"][:, :, only_wide] == 0).all()
    assert (table["de"][table["subject"] == "s2"][:, :, only_wide] != 0).all()
    assert table["trial"][table["subject"] == "s2"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6]
    assert [dataset["train"].features["label"].int2str(int(v)) for v in table["label"][:12:2]] == list(LABELS)
    coverage = metadata["coverage"]
    assert coverage["labelled"] == pytest.approx(3 * sum(DURATIONS))
    assert coverage["in_rows"] == pytest.approx(3 * (5 * 8 + 9)) and coverage["window_tails"] == pytest.approx(1.5)
    assert coverage["between_rows"] == 0 and coverage["short_trials"] == 0
    card = (built / "README.md").read_text()
    assert "147 s of the 148.5 s" in card and "1.5 s after the last whole window" in card
    assert "Recordings at 256, 500 Hz" in card and "license: unknown" in card


def test_de_of_the_probe_channels_matches_the_closed_form(built):
    """A sinusoid of amplitude A has band power A**2 / 2: its band's DE is 0.5 * ln(2 pi e A**2 / 2), read back at
    the probe's electrode, from the native 256 Hz files and from the 500 Hz BrainVision file resampled to 256 Hz."""
    dataset, metadata = load_built_dataset(built)
    table = dataset["train"].with_format("numpy")[:]
    expected = 0.5 * np.log(2 * np.pi * np.e * PROBE**2 / 2)
    alpha = metadata["band_names"].index("alpha")
    for subject, (_, _, sfreq, probe) in FILES.items():
        rows = table["de"][table["subject"] == subject][:, :, metadata["channel_names"].index(probe), alpha]
        np.testing.assert_allclose(rows, expected, atol=2e-3 if sfreq == 256 else 1e-2, err_msg=subject)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows[1].update(file="s1/rset.edf"), r"labels.csv:3: field 'file': expected a recording "
         r"under .*, got 's1/rset.edf' \(no such file\)"),
        (lambda rows: rows[2].update(onset=15.0), r"labels.csv:4: field 'onset': expected a span of "
         r"s1/rest.edf starting at or after the end \(19 s\) of the span at .*labels.csv:3, got 15 s"),
        (lambda rows: rows[5].update(duration=20.0), r"labels.csv:7: field 'duration': expected a span "
         r"ending by the end of s1/rest.edf \(64 s\), got onset 51 s \+ duration 20 s = 71 s"),
        (lambda rows: rows[0].update(label=""), r"labels.csv:2: field 'label': expected a class name"),
        (lambda rows: [row.pop("duration") for row in rows], r"labels.csv:1: field 'columns'.*"
         r"missing \['duration'\]"),
        (lambda rows: rows[0].update(subject="../s9"), r"field 'subject': expected a non-empty name"),
        (lambda rows: [row.update(trial=1) for row in rows], r"labels.csv:3: field 'trial': expected a \(subject, "
         r"session, trial\) of its own \(.*labels.csv:2 has \('s1', '1', 1\)\), got trial 1 again"),
    ],
)
def test_bad_label_tables_are_refused_naming_table_line_and_field(recordings, tmp_path, change, message):
    rows = table_rows()
    change(rows)
    table = write_table(tmp_path / "labels.csv", rows)
    with pytest.raises(MoodReaderInputError, match=message):
        build_dataset("events", recordings, tmp_path / "out", sequence_windows=4, stride=4,
                      layout_options={"labels": table}, progress=False)
    assert not (tmp_path / "out").exists()


def test_a_label_outside_the_declared_classes_is_refused(recordings, tmp_path):
    with pytest.raises(MoodReaderInputError, match=r"labels.csv:3: field 'label': expected one of the classes "
                                                   r"\['calm', 'bored'\], got 'excited'"):
        build_dataset("events", recordings, tmp_path / "out", layout_options={
            "labels": recordings / "labels.csv", "classes": ["calm", "bored"]}, progress=False)


def test_the_command_line_says_it_in_one_line(recordings, tmp_path, capsys):
    rows = table_rows()
    rows[1]["file"] = "s1/missing.edf"
    table = write_table(tmp_path / "labels.tsv", rows, delimiter="\t")
    status = cli.main(["build-dataset", "events", str(recordings), str(tmp_path / "out"), "--labels", str(table),
                       "--quiet"])
    error = capsys.readouterr().err.strip()
    assert status == 2 and len(error.splitlines()) == 1
    assert error.startswith("moodreader build-dataset: error: ") and "labels.tsv:3: field 'file'" in error
    status = cli.main(["build-dataset", "seed", str(recordings), str(tmp_path / "out"), "--labels", str(table)])
    assert status == 2 and "--labels: field 'layout'" in capsys.readouterr().err


def test_epoch_style_recordings_without_subjects(tmp_path):
    """Twelve labelled trials of 2 s in one FIF file and one of 0.5 s, no subject column: one row per 2 s trial,
    the short one dropped and counted, the file is its own subject and the card says so."""
    rng = np.random.default_rng(3)
    write_recording(tmp_path / "rec" / "epochs.fif", TEN_TWENTY[:8], 128.0,
                    1e-5 * rng.standard_normal((8, 128 * 32)))  # fmt: skip
    rows = [{"file": "epochs.fif", "onset": 0.5 + 2.5 * index, "duration": 2.0, "label": "ab"[index % 2]}
            for index in range(12)]
    rows.append({"file": "epochs.fif", "onset": 30.5, "duration": 0.5, "label": "a"})
    write_table(tmp_path / "rec" / "trials.csv", rows[::-1])  # table order does not matter
    with pytest.warns(UserWarning, match="1 of 13 trials were shorter"):
        out = build_dataset("events", tmp_path / "rec", tmp_path / "out", sequence_windows=2, stride=2,
                            smoothing="none", layout_options={"labels": tmp_path / "rec" / "trials.csv"},
                            progress=False)  # fmt: skip
    dataset, metadata = load_built_dataset(out)
    table = dataset["train"].with_format("numpy")[:]
    assert table["trial"].tolist() == list(range(1, 13)) and table["label"].tolist() == [0, 1] * 6
    assert metadata["coverage"]["labelled"] == 24.5 and metadata["coverage"]["window_tails"] == 0.5
    assert metadata["skipped_trials"] == 1
    assert metadata["subjects"] == ["epochs"] and metadata["sampling_rate"] == 128
    assert "no `subject` column: each recording is its own subject" in (out / "README.md").read_text()


def test_rows_written_in_several_shards_read_back_as_one(recordings, built, tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_shards, "SHARD_BYTES", 20_000)
    out = build_dataset("events", recordings, tmp_path / "sharded", sequence_windows=4, stride=4, smoothing="none",
                        layout_options={"labels": recordings / "labels.csv"}, progress=False)
    shards = sorted((out / "train").glob("*.arrow"))
    assert len(shards) > 1 and [shard.name for shard in shards] == [
        f"data-{index:05d}-of-{len(shards):05d}.arrow" for index in range(len(shards))]
    one, _ = load_built_dataset(built)
    several = datasets.load_from_disk(str(out))["train"]
    assert several.features == one["train"].features
    for column in one["train"].column_names:
        np.testing.assert_array_equal(several.with_format("numpy")[:][column],
                                      one["train"].with_format("numpy")[:][column])


@pytest.fixture(scope="module")
def trained(built, tmp_path_factory) -> tuple[Path, dict]:
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="events", sequence_windows=4, stride=4, smoothing="none", include_signal=False)
    recipe["model"].update(sampling_rate=256, signal_patch_size=64)  # the dataset's rate, a divisor of its window
    recipe["finetune"].update(epochs=12, patience=12, batch_size=16)
    folder = tmp_path_factory.mktemp("loso")
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    report = run_finetuning(load_recipe(folder / "recipe.yaml"), built, folder / "run", progress=False)
    return folder / "run", report


def test_loso_fine_tuning_on_own_recordings(trained, built):
    run, report = trained
    assert [fold["test_subject"] for fold in report["folds"]] == ["s1", "s2", "s3"]
    assert report["dataset"]["classes"] == ["calm", "excited"]
    assert all(fold["n_test"] == 13 for fold in report["folds"])
    assert report["accuracy_mean"] > 0.7, [fold["accuracy"] for fold in report["folds"]]
    config = json.loads((run / "folds" / "subject-s2" / "model" / "config.json").read_text())
    metadata = json.loads((built / "moodreader_dataset.json").read_text())
    assert config["channel_names"] == metadata["channel_names"] and config["sampling_rate"] == 256
    assert config["id2label"] == {"0": "calm", "1": "excited"}


def test_the_generic_recipe_takes_rate_window_and_bands_from_the_dataset(built):
    values = yaml.safe_load((TINY_RECIPE.parents[1] / "modeling" / "moodreader-generic.yaml").read_text())
    values["dataset"].update(sequence_windows=4, stride=4, smoothing="none")
    recipe = recipe_from_dict(values, "generic")
    tensors = load_fold_tensors(recipe, built)
    config = finetune_config(recipe, tensors, str(built))
    metadata = json.loads((built / "moodreader_dataset.json").read_text())
    assert (config.sampling_rate, config.window_seconds, config.band_edges) == (256, 1.0, metadata["band_edges"])
    assert config.channel_names == metadata["channel_names"] and config.signal_patch_size == 256  # no signal stream
    values["model"]["sampling_rate"] = 200
    with pytest.raises(MoodReaderInputError, match=r"field 'sampling_rate': expected the recipe's "
                                                   r"model.sampling_rate = 200 .*got 256 in the dataset"):
        load_fold_tensors(recipe_from_dict(values, "generic"), built)


def test_predict_a_recording_with_the_fold_model(trained, built, recordings, capsys):
    run, _ = trained
    status = cli.main(["predict", str(recordings / "s3" / "task.set"), "--model",
                       str(run / "folds" / "subject-s3" / "model"), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert status == 0 and result["label"] in ("calm", "excited")
    montage = json.loads((built / "moodreader_dataset.json").read_text())["channel_names"]
    assert result["missing_channels"] == [name for name in montage if name not in TEN_TWENTY]
    assert result["coverage"] == pytest.approx(19 / 32)
    assert len(result["segments"]) == SECONDS // 4


def s2_logits(run: Path, built: Path, report: dict, *, with_signal: bool) -> tuple[np.ndarray, np.ndarray]:
    """The s2 fold's test logits as ``predictions.csv`` has them, and as the saved fold model gives them here on
    the same rows with every electrode outside TEN_TWENTY masked by hand (DE and, ``with_signal``, raw signal
    zeroed): inference's view of a fold that never trained on them."""
    fold = next(fold for fold in report["folds"] if fold["test_subject"] == "s2")
    with open(run / fold["predictions"], newline="") as handle:
        written = list(csv.DictReader(handle))
    model = MoodReaderForEmotionRecognition.from_pretrained(run / fold["model"]).eval()
    extractor = MoodReaderFeatureExtractor.from_pretrained(run / fold["model"])
    table = load_built_dataset(built)[0]["train"].with_format("numpy")[:]
    rows = np.array([int(line["row"]) for line in written])
    kept = torch.tensor([name in TEN_TWENTY for name in model.config.channel_names], dtype=torch.long)
    mask = torch.from_numpy(table["channel_mask"][rows]) * kept
    de = (torch.from_numpy(table["de"][rows]).double() - torch.tensor(extractor.de_mean)) / torch.tensor(
        extractor.de_std)
    signal = torch.from_numpy(table["signal"][rows]).float() * mask[:, :, None] if with_signal else None
    with torch.no_grad():
        logits = model(de_features=(de * mask[:, None, :, None]).float(), eeg_signals=signal,
                       channel_mask=mask).logits
    return np.array([[float(line["logit_calm"]), float(line["logit_excited"])] for line in written]), logits.numpy()


def test_a_fold_masks_the_electrodes_only_its_test_subject_recorded(trained, built, recordings, tmp_path):
    """Only s2 recorded the 13 electrodes of WIDE outside TEN_TWENTY: the s2 fold never trained on them, so its
    test rows are scored without them (logits recomputed here from the saved model and statistics with those
    electrodes masked), its extractor masks them, and its predictions do not change when they are left out of the
    recording. The other folds trained on s2 and keep every electrode."""
    run, report = trained
    montage = json.loads((built / "moodreader_dataset.json").read_text())["channel_names"]
    only_s2 = [name for name in montage if name not in TEN_TWENTY]
    assert len(only_s2) == 13
    for subject in ("s1", "s2", "s3"):
        config = json.loads((run / "folds" / f"subject-{subject}" / "model" / "preprocessor_config.json").read_text())
        assert config["unfitted_channels"] == (only_s2 if subject == "s2" else []), subject
    written, recomputed = s2_logits(run, built, report, with_signal=False)
    np.testing.assert_allclose(written, recomputed, rtol=1e-4, atol=1e-5)
    fold = next(fold for fold in report["folds"] if fold["test_subject"] == "s2")
    raw = mne.io.read_raw_brainvision(recordings / "s2" / "run.vhdr", preload=True, verbose="error")
    reduced = write_recording(tmp_path / "s2-without.vhdr", TEN_TWENTY, raw.info["sfreq"],
                              raw.copy().pick(list(TEN_TWENTY)).get_data())
    classify = pipeline("eeg-emotion-recognition", model=str(run / fold["model"]), trust_remote_code=False)
    whole, without = classify(str(recordings / "s2" / "run.vhdr")), classify(str(reduced))
    assert whole["missing_channels"] == without["missing_channels"] == only_s2
    np.testing.assert_allclose([entry["score"] for entry in whole["scores"]],
                               [entry["score"] for entry in without["scores"]], rtol=1e-4)


def test_a_frozen_signal_encoder_encodes_a_folds_test_rows_without_its_unfitted_electrodes(recordings, tmp_path):
    """With the raw-signal stream and the pre-trained encoder frozen (its output computed once per run), the s2
    fold's test rows are encoded without the 13 electrodes that fold never trained on: the fold's test logits equal
    the saved fold model run here on those rows with the electrodes' signal and DE zeroed and masked, as inference
    gives them. (Encoded with them, the logits differ by about 5e-6 here; the tolerance is 5e-7.)"""
    built = build_dataset("events", recordings, tmp_path / "dataset", sequence_windows=4, stride=4,
                          smoothing="none", include_signal=True,
                          layout_options={"labels": recordings / "labels.csv"}, progress=False)
    rng = np.random.default_rng(11)
    write_recording(tmp_path / "other" / "s9" / "rest.edf", WIDE, 256.0, 1e-5 * rng.standard_normal((32, 256 * 40)))
    corpus = build_corpus([tmp_path / "other"], tmp_path / "corpus", sampling_rate=256.0, sequence_windows=4,
                          progress=False)
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="events", sequence_windows=4, stride=4, smoothing="none", include_signal=True)
    recipe["model"].update(sampling_rate=256, signal_patch_size=64)
    recipe["pretrain"].update(steps=2, checkpoint_every=2, log_every=1)
    recipe["finetune"].update(epochs=1, patience=1, baseline_c=[1.0], freeze_signal_encoder=True)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    loaded = load_recipe(tmp_path / "recipe.yaml")
    pretrained = run_pretraining(loaded, corpus_paths=[corpus], output_dir=tmp_path / "pretrain", progress=False)
    report = run_finetuning(loaded, built, tmp_path / "run", pretrained=pretrained, progress=False)
    assert report["pretraining"]["signal_encoder"] == "frozen"
    extractor = MoodReaderFeatureExtractor.from_pretrained(tmp_path / "run" / "folds" / "subject-s2" / "model")
    assert extractor.unfitted_channels == [name for name in extractor.channel_names if name not in TEN_TWENTY]
    written, recomputed = s2_logits(tmp_path / "run", built, report, with_signal=True)
    np.testing.assert_allclose(written, recomputed, rtol=0, atol=5e-7)


def test_a_test_subject_without_any_electrode_of_its_training_subjects_is_refused_before_training(tmp_path):
    rng = np.random.default_rng(2)
    montages = {"s1": TEN_TWENTY, "s2": TEN_TWENTY, "s3": ("FCz", "CPz", "POz")}
    for subject, names in montages.items():
        write_recording(tmp_path / "rec" / subject / "run.edf", names, 256.0,
                        _signal(rng, names, 256.0, names[-1], 1.0))
    write_table(tmp_path / "rec" / "labels.csv", [
        {"file": f"{subject}/run.edf", "onset": onset, "duration": duration, "label": label, "subject": subject}
        for subject in montages for onset, duration, label in zip(ONSETS, DURATIONS, LABELS)])
    built = build_dataset("events", tmp_path / "rec", tmp_path / "dataset", sequence_windows=4, stride=4,
                          smoothing="none", layout_options={"labels": tmp_path / "rec" / "labels.csv"},
                          progress=False)
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="events", sequence_windows=4, stride=4, smoothing="none", include_signal=False)
    recipe["model"].update(sampling_rate=256, signal_patch_size=64)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    with pytest.raises(MoodReaderInputError, match=r"field 'channel_mask': expected test rows of fold subject-s3 .*"
                                                   r"\(subject s3\) recording only \['FCz', 'CPz', 'POz'\]"):
        run_finetuning(load_recipe(tmp_path / "recipe.yaml"), built, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "folds").exists()


def test_explain_matches_channels_named_outside_10_05_by_the_files_positions(trained, tmp_path, capsys):
    """A FIF whose Cz, Pz and O1 are named 'EEG 001', 'A1-Cz' and 'chan 7' but carry those electrodes' positions:
    they are matched by position, present in the maps, and drawn at the file's positions."""
    run, _ = trained
    rng = np.random.default_rng(5)
    path = tmp_path / "renamed.fif"
    write_recording(path, TEN_TWENTY, 256.0, 1e-5 * rng.standard_normal((19, 256 * 16)), montage=True)
    raw = mne.io.read_raw_fif(path, preload=True, verbose="error")
    renamed = {"Cz": "EEG 001", "Pz": "A1-Cz", "O1": "chan 7"}
    expected = {electrode: raw.info["chs"][raw.ch_names.index(electrode)]["loc"][:3].copy()
                for electrode in renamed}  # fmt: skip
    raw.rename_channels(renamed)
    raw.save(path, overwrite=True, verbose="error")
    loaded, positions, mapping = vocabulary_recording(path)
    assert {original: name for original, name, how in zip(mapping.originals, mapping.names, mapping.how)
            if how == "position"} == {value: key for key, value in renamed.items()}  # fmt: skip
    for electrode, position in expected.items():
        np.testing.assert_allclose(positions[electrode], position)
    assert set(TEN_TWENTY) == set(loaded.ch_names)
    status = cli.main(["explain", str(path), "--model", str(run / "folds" / "subject-s1" / "model"), "--output",
                       str(tmp_path / "maps.png"), "--json", str(tmp_path / "maps.json")])
    output = capsys.readouterr().out
    assert status == 0 and "EEG 001 -> Cz" in output and (tmp_path / "maps.png").stat().st_size > 10_000
    values = json.loads((tmp_path / "maps.json").read_text())
    drawn = ~np.isnan(np.array(values["values"], dtype=float)).all(axis=(0, 2))
    assert {name for name, present in zip(values["channel_names"], drawn) if present} == set(TEN_TWENTY)


def test_a_montage_file_positions_channels_the_recording_does_not_name(tmp_path):
    """An EDF of channels E1..E19 (no positions) and a montage file giving them the 10-20 electrodes' positions."""
    info = mne.create_info(list(TEN_TWENTY), 100.0, "eeg")
    info.set_montage("standard_1005", verbose="error")
    template = {channel["ch_name"]: channel["loc"][:3] for channel in info["chs"]}
    lines = ["name,x,y,z"] + [f"E{index}," + ",".join(repr(float(value)) for value in template[name])
                              for index, name in enumerate(TEN_TWENTY, start=1)]  # fmt: skip
    (tmp_path / "cap.csv").write_text("\n".join(lines) + "\n")
    names = tuple(f"E{index}" for index in range(1, 20))
    write_recording(tmp_path / "cap.edf", names, 100.0, 1e-5 * np.random.default_rng(1).standard_normal((19, 800)))
    with pytest.raises(MoodReaderInputError, match="field 'channels'"):
        vocabulary_recording(tmp_path / "cap.edf")
    raw, positions, mapping = vocabulary_recording(tmp_path / "cap.edf", montage=load_montage(tmp_path / "cap.csv"))
    assert dict(zip(mapping.originals, mapping.names)) == dict(zip(names, TEN_TWENTY))
    assert set(mapping.how) == {"position"} and raw.ch_names == list(mapping.names)
    np.testing.assert_allclose(positions["Cz"], template["Cz"], atol=1e-9)
    with pytest.raises(MoodReaderInputError, match="field '--montage'"):
        load_montage(tmp_path / "cap.txt.json")
