"""A BIDS dataset written by ``mne_bids.write_raw_bids`` (events, channel status and electrode positions in its
sidecars) is built with the ``bids`` layout from the command line, checked against its events and a closed-form
DE, refused in one line when the task, the label column or the labelled events are not there, and trained
leave-one-subject-out."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pytest
import yaml

mne_bids = pytest.importorskip("mne_bids")

from moodreader_hf import cli  # noqa: E402
from moodreader_hf.builders import build_dataset, load_built_dataset  # noqa: E402
from moodreader_hf.training.finetune import run_finetuning  # noqa: E402
from moodreader_hf.training.recipe import load_recipe  # noqa: E402
from moodreader_hf.validation import MoodReaderInputError  # noqa: E402

from .training_helpers import TINY_RECIPE  # noqa: E402

NAMES = ("Fp1", "Fp2", "F3", "F4", "C3", "Cz", "C4", "P3", "Pz", "P4", "O1", "O2")
RATE = 200.0
SECONDS = 50
EVENTS = ((1.0, 8.0, "stim/calm"), (11.0, 8.0, "stim/excited"), (21.0, 8.0, "stim/calm"), (30.0, 0.0, "response"),
          (31.0, 8.0, "stim/excited"), (41.0, 0.0, "boundary"))  # fmt: skip
EVENT_ID = {"stim/calm": 1, "stim/excited": 2, "response": 3, "boundary": 4}
RECORDINGS = (("01", "a", "1"), ("01", "a", "2"), ("01", "b", "1"), ("02", "a", "1"), ("03", None, "1"))
"""(subject, session, run) of each recording; subject 03 has no session."""
PROBE, AMPLITUDE = "Pz", 10.0
BAD = ("02", "O2")
"""Subject 02's recording marks O2 bad in its channels.tsv."""


def _recording(rng: np.random.Generator) -> mne.io.RawArray:
    """Noise, a class effect inside each labelled event (10 Hz calm, 20 Hz excited) and a constant 10 Hz
    sinusoid of 10 µV on the probe over a faint noise floor, with the standard 10-05 positions."""
    time = np.arange(int(SECONDS * RATE)) / RATE
    data = 5.0 * rng.standard_normal((len(NAMES), time.size))
    for onset, duration, label in EVENTS:
        if label.startswith("stim/"):
            inside = (time >= onset) & (time < onset + duration)
            data[:, inside] += 12.0 * np.sin(2 * np.pi * (10.0 if label == "stim/calm" else 20.0) * time[inside])
    data[NAMES.index(PROBE)] = AMPLITUDE * np.sin(2 * np.pi * 10.0 * time) + 0.01 * rng.standard_normal(time.size)
    raw = mne.io.RawArray(data * 1e-6, mne.create_info(list(NAMES), RATE, "eeg"), verbose="error")
    raw.set_montage("standard_1005", verbose="error")
    raw.set_annotations(mne.Annotations([e[0] for e in EVENTS], [e[1] for e in EVENTS], [e[2] for e in EVENTS]))
    return raw


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bids")
    rng = np.random.default_rng(11)
    for subject, session, run in RECORDINGS:
        raw = _recording(rng)
        if subject == BAD[0]:
            raw.info["bads"] = [BAD[1]]
        path = mne_bids.BIDSPath(subject=subject, session=session, task="emotion", run=run, datatype="eeg",
                                 root=root)
        mne_bids.write_raw_bids(raw, path, event_id=EVENT_ID, allow_preload=True, format="EDF", verbose="error")
    return root


@pytest.fixture(scope="module")
def built(bids_root, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "dataset"
    status = cli.main(["build-dataset", "bids", str(bids_root), str(out), "--task", "emotion", "--label-map",
                       "stim/calm=calm,stim/excited=excited", "--sequence-windows", "4", "--stride", "4",
                       "--smoothing", "none", "--quiet"])
    assert status == 0
    return out


def test_rows_follow_the_events_and_the_bids_entities(built):
    dataset, metadata = load_built_dataset(built)
    table = dataset["train"].with_format("numpy")[:]
    assert metadata["label_names"] == ["calm", "excited"] and metadata["subjects"] == ["01", "02", "03"]
    assert metadata["channel_names"] == list(NAMES) and metadata["sampling_rate"] == 200
    assert len(table["label"]) == len(RECORDINGS) * 4 * 2  # four 8 s events of each recording, two rows each
    groups = sorted({(str(subject), str(session)) for subject, session in zip(table["subject"], table["session"])})
    assert groups == [("01", "a"), ("01", "b"), ("02", "a"), ("03", "1")]
    first = (table["subject"] == "01") & (table["session"] == "a")
    assert table["trial"][first].tolist() == [t for t in range(1, 9) for _ in range(2)]  # runs 1 then 2, by onset
    assert table["label"][first][::2].tolist() == [0, 1, 0, 1] * 2
    bad = table["channel_mask"][:, NAMES.index(BAD[1])]
    assert (bad[table["subject"] == BAD[0]] == 0).all() and (bad[table["subject"] != BAD[0]] == 1).all()
    notes = " ".join(metadata["notes"])
    assert "`trial_type` column" in notes and f"{len(RECORDINGS) * 2} events without a label" in notes


def test_de_of_the_probe_matches_the_closed_form(built):
    dataset, metadata = load_built_dataset(built)
    de = dataset["train"].with_format("numpy")[:]["de"]
    alpha = metadata["band_names"].index("alpha")
    np.testing.assert_allclose(de[:, :, NAMES.index(PROBE), alpha], 0.5 * np.log(2 * np.pi * np.e * AMPLITUDE**2 / 2),
                               atol=2e-3)


def test_another_label_column_gives_the_same_rows(bids_root, built, tmp_path):
    other = build_dataset("bids", bids_root, tmp_path / "by-value", sequence_windows=4, stride=4, smoothing="none",
                          layout_options={"task": "emotion", "label_column": "value",
                                          "label_map": {"1": "calm", "2": "excited"}}, progress=False)  # fmt: skip
    left = load_built_dataset(built)[0]["train"].with_format("numpy")[:]
    right = load_built_dataset(other)[0]["train"].with_format("numpy")[:]
    for column in ("subject", "session", "trial", "start", "label", "de"):
        np.testing.assert_array_equal(left[column], right[column])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"task": "rest"}, r"field 'task': expected EEG recordings of task 'rest'.*got none \(tasks found: "
                           r"\['emotion'\]\)"),
        ({"task": "emotion", "label_column": "emotion"}, r"events.tsv:1: field 'emotion': expected a column of the "
                                                         r"events table \(--label-column\)"),
        ({"task": "emotion", "label_map": {"happy": "happy"}}, r"field 'events': expected at least one event .*"
                                                               r"named by the label map"),
        ({"task": "emotion", "label_map": {"stim/calm": "calm", "response": "response"}},
         r"events.tsv:5: field 'duration': expected a positive number of seconds \(or --event-duration"),
    ],
)
def test_bad_bids_requests_are_refused_in_one_line(bids_root, tmp_path, options, message):
    with pytest.raises(MoodReaderInputError, match=message):
        build_dataset("bids", bids_root, tmp_path / "out", layout_options=options, progress=False)


def test_the_command_needs_a_task(bids_root, tmp_path, capsys):
    status = cli.main(["build-dataset", "bids", str(bids_root), str(tmp_path / "out")])
    assert status == 2 and "field '--task': expected a value" in capsys.readouterr().err


def test_a_bids_dataset_trains_leave_one_subject_out(built, tmp_path):
    recipe = yaml.safe_load(TINY_RECIPE.read_text())
    recipe["dataset"].update(layout="bids", sequence_windows=4, stride=4, smoothing="none", include_signal=False)
    recipe["finetune"].update(epochs=10, patience=10, batch_size=16)
    (tmp_path / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    report = run_finetuning(load_recipe(tmp_path / "recipe.yaml"), built, tmp_path / "run", progress=False)
    assert [fold["test_subject"] for fold in report["folds"]] == ["01", "02", "03"]
    assert [fold["n_test"] for fold in report["folds"]] == [24, 8, 8]
    assert report["accuracy_mean"] > 0.7, [fold["accuracy"] for fold in report["folds"]]
    assert (tmp_path / "run" / "folds" / "subject-03" / "model" / "preprocessor_config.json").is_file()
