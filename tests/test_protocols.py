"""Named protocols on small SEED, SEED-IV and SEED-V datasets: each protocol's folds are what its definition says,
checked on the rows actually fed to the model (train, validation, test batches), and no test subject (cross-subject
protocols) or test trial (within-subject protocols) reaches training, validation or normalisation. Bad protocol
input is one clear line."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch

from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.feature_extraction_moodreader import MoodReaderFeatureExtractor
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.training.finetune import run_finetuning
from moodreader_hf.training.protocols import Rows, SplitSettings, make_folds
from moodreader_hf.training.recipe import load_recipe
from moodreader_hf.validation import MoodReaderInputError

from .layout_writers import write_seed_iv
from .training_helpers import write_recipe

FINETUNE = {"epochs": 1, "batch_size": 512, "patience": 1, "baseline_c": [0.1, 1.0]}
"""One epoch; every fold's training rows fit in one batch, so every row of the split is fed (none dropped)."""


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Path:
    """Simulated SEED: 4 subjects x 2 sessions x 15 trials of 3-4 s, rows of 2 windows."""
    folder = tmp_path_factory.mktemp("protocols-seed")
    root = simulate_seed(folder / "raw", n_subjects=4, n_sessions=2, trial_seconds=4.0, seed=5, progress=False)
    return build_dataset("seed", root, folder / "dataset", sequence_windows=2, stride=2, progress=False)


@pytest.fixture(scope="module")
def seed_iv(tmp_path_factory) -> Path:
    """SEED-IV in its published layout: 2 subjects x 3 sessions x 24 trials of 2-4 windows (4 s), rows of 2."""
    folder = tmp_path_factory.mktemp("protocols-seed-iv")
    write_seed_iv(folder / "raw", seed=6)
    return build_dataset("seed-iv", folder / "raw", folder / "dataset", sequence_windows=2, stride=2, progress=False)


@pytest.fixture(scope="module")
def seed_v(tmp_path_factory) -> Path:
    """Simulated SEED-V: 2 subjects x 3 sessions x 15 trials of 2 windows (4 s), rows of 2."""
    folder = tmp_path_factory.mktemp("protocols-seed-v")
    root = simulate_seed(folder / "raw", n_subjects=2, trial_seconds=9.5, layout="seed-v", seed=7, progress=False)
    return build_dataset("seed-v", root, folder / "dataset", sequence_windows=2, stride=2, progress=False)


def columns(dataset: Path) -> dict[str, np.ndarray]:
    rows = load_built_dataset(dataset)[0]["train"].with_format("numpy")[:]
    return {"subject": rows["subject"].astype(str), "session": rows["session"].astype(str),
            "trial": rows["trial"].astype(int), "de": rows["de"].astype(np.float64), "tail": rows["tail"]}


def run(dataset: Path, tmp_path: Path, protocol: str, *, layout: str = "seed", model: dict | None = None,
        **finetune) -> tuple[dict, dict[tuple[str, str], list[int]]]:
    fed: dict[tuple[str, str], list[int]] = defaultdict(list)

    def record(fold: str, phase: str, rows: torch.Tensor) -> None:
        fed[fold, phase].extend(rows.tolist())

    recipe = write_recipe(tmp_path / "recipe.yaml", dataset={"layout": layout, "sequence_windows": 2, "stride": 2},
                          model=model or {}, finetune={**FINETUNE, **finetune})
    report = run_finetuning(load_recipe(recipe), dataset, tmp_path / "run", protocol=protocol, progress=False,
                            callback=record)
    return report, fed


def fed_rows(fed: dict, fold: str) -> dict[str, np.ndarray]:
    train, validation, test = (np.unique(fed[fold, phase]) for phase in ("train", "validation", "test"))
    assert train.size and validation.size and test.size, fold
    assert not set(train) & set(validation) and not (set(train) | set(validation)) & set(test), fold
    return {"train": train, "validation": validation, "test": test, "trained": np.union1d(train, validation)}


def check_isolation(report: dict, data: dict[str, np.ndarray], fed: dict) -> None:
    """Each fold's record names the units of what was fed, and no test unit among training units."""
    keys = np.array([f"{a}|{b}|{c}" for a, b, c in zip(data["subject"], data["session"], data["trial"])])
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        record = fold["isolation"]
        labels = data["subject"] if record["unit"] == "subject" else keys
        assert set(record["test"]) == set(labels[rows["test"]])
        assert set(record["train"]) == set(labels[rows["train"]])
        assert set(record["validation"]) == set(record["early_stopping"]) == set(labels[rows["validation"]])
        assert set(record["normalisation"]) == set(labels[rows["trained"]])
        assert record["leaked"] == [] and not set(labels[rows["test"]]) & set(labels[rows["trained"]])
        assert fold["n_test"] == len(fed[fold["name"], "test"]) == len(rows["test"])


def test_loso_tests_every_session_of_one_subject_and_validates_on_other_subjects(seed, tmp_path):
    report, fed = run(seed, tmp_path, "loso")
    data = columns(seed)
    subjects = ["1", "2", "3", "4"]
    assert [fold["name"] for fold in report["folds"]] == [f"subject-{name}" for name in subjects]
    for fold, name in zip(report["folds"], subjects):
        rows = fed_rows(fed, fold["name"])
        assert np.array_equal(rows["test"], np.flatnonzero(data["subject"] == name))
        assert set(data["subject"][rows["trained"]]) == set(subjects) - {name}
        assert len(set(data["subject"][rows["validation"]])) == 1  # round(0.15 * 3) -> one held-out subject
        assert not set(data["subject"][rows["validation"]]) & set(data["subject"][rows["train"]])
        assert fold["validation_by"] == "subjects" and fold["test_subject"] == name
    check_isolation(report, data, fed)
    assert report["protocol_scope"] == "cross-subject" and "Leave-one-subject-out" in report["protocol_definition"]


def test_loso_session_keeps_each_fold_inside_one_session(seed, tmp_path):
    report, fed = run(seed, tmp_path, "loso-session")
    data = columns(seed)
    assert len(report["folds"]) == 8
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        session, name = fold["session"], fold["test_subject"]
        assert fold["name"] == f"session-{session}-subject-{name}"
        assert np.array_equal(rows["test"], np.flatnonzero((data["subject"] == name) & (data["session"] == session)))
        assert set(data["session"][rows["trained"]]) == {session}
        assert name not in set(data["subject"][rows["trained"]])
        assert len(set(data["subject"][rows["trained"]])) == 3
    check_isolation(report, data, fed)
    assert [entry["session"] for entry in report["sessions"]] == ["1", "2"]
    assert all(len(entry["subjects"]) == 4 for entry in report["sessions"])


def test_cross_session_trains_on_the_first_session_and_tests_on_the_last(seed, tmp_path):
    report, fed = run(seed, tmp_path, "cross-session")
    data = columns(seed)
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        own = data["subject"] == fold["test_subject"]
        assert np.array_equal(rows["test"], np.flatnonzero(own & (data["session"] == "2")))
        assert np.array_equal(rows["trained"], np.flatnonzero(own & (data["session"] == "1") & ~data["tail"]))
        assert fold["validation_by"] == "trials" and fold["isolation"]["unit"] == "trial"
    check_isolation(report, data, fed)


def test_within_trials_on_seed_trains_on_the_first_nine_trials_of_each_session(seed, tmp_path):
    report, fed = run(seed, tmp_path, "within-trials")
    data = columns(seed)
    assert len(report["folds"]) == 4 * 2
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        for part in ("trained", "test"):
            assert len(set(zip(data["subject"][rows[part]], data["session"][rows[part]]))) == 1, part
        assert set(data["trial"][rows["trained"]]) == set(range(1, 10))
        assert set(data["trial"][rows["test"]]) == set(range(10, 16))
        assert fold["validation_by"] == "trials"
        extractor = MoodReaderFeatureExtractor.from_pretrained(tmp_path / "run" / fold["model"])
        np.testing.assert_allclose(extractor.de_mean, data["de"][rows["trained"]].mean(axis=(0, 1)), rtol=1e-6)
    check_isolation(report, data, fed)


def test_within_trials_on_seed_iv_trains_on_sixteen_and_tests_on_eight(seed_iv, tmp_path):
    report, fed = run(seed_iv, tmp_path, "within-trials", layout="seed-iv",
                      model={"window_seconds": 4.0, "max_windows": 4})
    data = columns(seed_iv)
    assert len(report["folds"]) == 2 * 3
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        assert set(data["trial"][rows["trained"]]) == set(range(1, 17))
        assert set(data["trial"][rows["test"]]) == set(range(17, 25))
    check_isolation(report, data, fed)


def test_seed_v_three_folds_test_one_block_of_five_trials_of_every_session(seed_v, tmp_path):
    report, fed = run(seed_v, tmp_path, "seed-v-3fold", layout="seed-v",
                      model={"window_seconds": 4.0, "max_windows": 4})
    data = columns(seed_v)
    assert [fold["name"] for fold in report["folds"]] == [f"subject-{s}-block-{k}" for s in "12" for k in (1, 2, 3)]
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        block = int(fold["name"][-1])
        tested = set(range(5 * block - 4, 5 * block + 1))
        assert set(zip(data["session"][rows["test"]], data["trial"][rows["test"]])) == {
            (session, trial) for session in "123" for trial in tested}
        assert set(data["trial"][rows["trained"]]) == set(range(1, 16)) - tested
        assert set(data["subject"][np.concatenate([rows["trained"], rows["test"]])]) == {fold["test_subject"]}
    check_isolation(report, data, fed)


def test_kfold_subject_deals_subjects_into_disjoint_folds(seed, tmp_path):
    report, fed = run(seed, tmp_path, "kfold-subject", kfold=2)
    data = columns(seed)
    tested = [set(fold["test_subjects"]) for fold in report["folds"]]
    assert [len(names) for names in tested] == [2, 2] and tested[0] | tested[1] == {"1", "2", "3", "4"}
    for fold in report["folds"]:
        rows = fed_rows(fed, fold["name"])
        assert set(data["subject"][rows["test"]]) == set(fold["test_subjects"])
        assert set(data["subject"][rows["trained"]]) == {"1", "2", "3", "4"} - set(fold["test_subjects"])
        assert fold["test_subject"] is None
    check_isolation(report, data, fed)


def test_given_split_follows_the_table_including_its_validation_rows(seed, tmp_path):
    table = tmp_path / "split.csv"
    table.write_text("subject,split\n1,train\n2,train\n3,validation\n4,test\n")
    report, fed = run(seed, tmp_path, "given-split", split_file=str(table))
    data = columns(seed)
    rows = fed_rows(fed, "given-split")
    assert set(data["subject"][rows["train"]]) == {"1", "2"} and set(data["subject"][rows["validation"]]) == {"3"}
    assert np.array_equal(rows["test"], np.flatnonzero(data["subject"] == "4"))
    assert report["folds"][0]["validation_by"] == "given" and report["folds"][0]["isolation"]["unit"] == "subject"
    check_isolation(report, data, fed)


def identity(dataset: Path) -> Rows:
    data = columns(dataset)
    return Rows(data["subject"], data["session"], data["trial"])


def test_loso_on_one_subject_is_refused_naming_the_protocols_that_fit(seed):
    rows = identity(seed)
    one = rows.subjects == "1"
    single = Rows(rows.subjects[one], rows.sessions[one], rows.trials[one])
    for protocol in ("loso", "loso-session", "kfold-subject"):
        with pytest.raises(MoodReaderInputError) as raised:
            make_folds(protocol, single, SplitSettings(layout="seed", kfold=2))
        message = str(raised.value)
        assert "field 'subject'" in message and "\n" not in message
        named = message.split("use a protocol that fits: ")[1].split(")")[0]
        assert named == "cross-session, within-trials, seed-v-3fold, given-split (with a split table"
    assert len(make_folds("cross-session", single, SplitSettings(layout="seed"))) == 1
    one_session = single.sessions == "1"
    first = Rows(single.subjects[one_session], single.sessions[one_session], single.trials[one_session])
    with pytest.raises(MoodReaderInputError, match=r"fits: within-trials, seed-v-3fold, given-split \(with"):
        make_folds("loso", first, SplitSettings(layout="seed"))


@pytest.mark.parametrize(("text", "field"), [
    ("subject,split\n1,train\n2,train\n3,test\n", "split_file"),                  # subject 4 has no line
    ("subject,split\n1,train\n2,train\n3,test\n4,holdout\n", "line 5: split"),     # unknown split
    ("subject,split\n1,train\n2,train\n3,test\n4,test\n04,test\n", "line 6"),       # matches no row
    ("subject,split\n1,train\n1,test\n2,train\n3,test\n4,test\n", "line 3: split"),  # two splits for one key
    ("subject,session,trial,split\n1,1,x,train\n", "line 2: trial"),
    ("name,split\n1,train\n", "subject"),
    ("subject,split\n1,train\n2,train\n3,train\n4,train\n", "split"),             # no test rows
])
def test_a_bad_split_table_is_one_line_naming_the_field(seed, tmp_path, text, field):
    table = tmp_path / "split.csv"
    table.write_text(text)
    with pytest.raises(MoodReaderInputError, match=f"split.csv: field '{field}'"):
        make_folds("given-split", identity(seed), SplitSettings(split_file=str(table)))


def test_a_split_table_by_trial_and_tab_separated_assigns_single_trials(seed, tmp_path):
    rows = identity(seed)
    lines = ["subject\tsession\ttrial\tsplit"] + [
        f"{s}\t{g}\t{t}\t{'test' if t > 12 else 'train'}" for s, g, t in sorted(set(zip(rows.subjects, rows.sessions,
                                                                                         rows.trials.tolist())))]
    table = tmp_path / "split.tsv"
    table.write_text("\n".join(lines) + "\n")
    (fold,) = make_folds("given-split", rows, SplitSettings(split_file=str(table)))
    assert set(rows.trials[fold.test]) == {13, 14, 15} and fold.unit == "trial" and fold.validation_by == "trials"
    assert set(rows.trials[np.concatenate([fold.train, fold.validation])]) == set(range(1, 13))


def test_protocol_settings_are_checked(seed):
    rows = identity(seed)
    with pytest.raises(MoodReaderInputError, match="finetune.validation.*'trials' or 'auto'"):
        make_folds("cross-session", rows, SplitSettings(validation="subjects"))
    with pytest.raises(MoodReaderInputError, match="finetune.train_trials.*no default"):
        make_folds("within-trials", rows, SplitSettings(layout="deap"))
    with pytest.raises(MoodReaderInputError, match="more than 15 trials"):
        make_folds("within-trials", rows, SplitSettings(layout="seed", train_trials=15))
    with pytest.raises(MoodReaderInputError, match="finetune.kfold"):
        make_folds("kfold-subject", rows, SplitSettings(kfold=5))
    with pytest.raises(MoodReaderInputError, match="finetune.split_file"):
        make_folds("given-split", rows, SplitSettings())
    folds = make_folds("within-trials", rows, SplitSettings(layout="seed", train_trials=12))
    assert {int(t) for t in rows.trials[folds[0].test]} == {13, 14, 15}
    assert make_folds("loso", rows, SplitSettings(validation="trials", split_seed=1))[0].validation_by == "trials"
    three = rows.subjects != "4"
    rows = Rows(rows.subjects[three], rows.sessions[three], rows.trials[three])
    assert {fold.validation_by for fold in make_folds("loso", rows, SplitSettings())} == {"trials"}  # 2 to train on
    folds = make_folds("loso", rows, SplitSettings(validation="subjects"))
    assert all(len(fold.validation_subjects) == 1 and len(set(rows.subjects[fold.train])) == 1 for fold in folds)
