"""One test per root cause of issue 11: only what the package wrote is ever deleted; folders appear whole or not at
all and the leftovers of killed runs are cleaned; a build without rows says why; a folder without a trained head is
refused; the progress switch is one name; outputs are checked before any work."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from moodreader_hf import atomic, hub
from moodreader_hf.atomic import MARKER, STAGE_MARKER, check_replaceable, clean_stale_stages, new_stage
from moodreader_hf.builders import build_dataset, load_built_dataset
from moodreader_hf.cli import build_parser
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.validation import MoodReaderInputError

from .bad_inputs.fixtures import save_classifier, save_pretraining_folder
from .training_helpers import write_seed_download

CONSOLE_SCRIPT = Path(sys.executable).parent / "moodreader"


def user_project(folder: Path) -> Path:
    """What ``--local-dir myproject --overwrite`` deleted before: a README, code and a thesis."""
    (folder / "src").mkdir(parents=True)
    (folder / "README.md").write_text("# my project\n")
    (folder / "src" / "main.py").write_text("print('mine')\n")
    (folder / "thesis.tex").write_text("\\documentclass{article}\n")
    return folder


def contents(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> Path:
    return save_classifier(tmp_path_factory.mktemp("classifier") / "model")


# Overwrite: only what the package wrote.

def test_publish_overwrite_never_deletes_a_folder_the_package_did_not_write(classifier, tmp_path):
    project = user_project(tmp_path / "myproject")
    before = contents(project)
    with pytest.raises(MoodReaderInputError, match="myproject.*--local-dir.*moodreader did not write"):
        hub.build_model_repo(classifier, project, overwrite=True)
    assert contents(project) == before
    from moodreader_hf.space import build_space

    with pytest.raises(MoodReaderInputError, match="myproject.*moodreader did not write"):
        build_space(classifier, project, copy_model=True, overwrite=True)
    assert contents(project) == before


def test_overwrite_replaces_the_packages_own_folder_and_nothing_more(classifier, tmp_path):
    repo = hub.build_model_repo(classifier, tmp_path / "repo")
    manifest = json.loads((repo / MARKER).read_text())
    assert manifest["kind"] == "model-repo" and sorted(manifest["files"]) == sorted(hub.MODEL_REPO_FILES)
    with pytest.raises(MoodReaderInputError, match="--overwrite"):
        hub.build_model_repo(classifier, repo)
    hub.build_model_repo(classifier, repo, overwrite=True)
    (repo / "notes.txt").write_text("mine")
    with pytest.raises(MoodReaderInputError, match="1 other entries: notes.txt"):
        hub.build_model_repo(classifier, repo, overwrite=True)
    assert (repo / "notes.txt").read_text() == "mine"
    (repo / "notes.txt").unlink()
    (repo / ".git").mkdir()
    with pytest.raises(MoodReaderInputError, match=r"\.git"):
        hub.build_model_repo(classifier, repo, overwrite=True)


def test_a_folder_of_another_kind_is_not_replaced(classifier, tmp_path):
    root = write_seed_download(tmp_path / "raw", subjects=1, sessions=1, windows=8)
    dataset = build_dataset("seed", root, tmp_path / "dataset", sequence_windows=4, stride=4, progress=False)
    before = contents(dataset)
    with pytest.raises(MoodReaderInputError, match="a dataset folder written by moodreader"):
        hub.build_model_repo(classifier, dataset, overwrite=True)
    assert contents(dataset) == before


def test_builders_replace_their_own_output_with_library_caches_but_not_a_users_file(tmp_path):
    root = write_seed_download(tmp_path / "raw", subjects=2, sessions=1, windows=8)
    out = build_dataset("seed", root, tmp_path / "ds", sequence_windows=4, stride=4, progress=False)
    dataset, _ = load_built_dataset(out)
    dataset["train"].map(lambda row: row)  # datasets writes cache-*.arrow files into the folder
    assert list((out / "train").glob("cache-*.arrow"))
    build_dataset("seed", root, out, sequence_windows=4, stride=2, progress=False)
    assert json.loads((out / "moodreader_dataset.json").read_text())["stride"] == 2
    (out / "my-analysis.ipynb").write_text("{}")
    with pytest.raises(MoodReaderInputError, match="my-analysis.ipynb"):
        build_dataset("seed", root, out, sequence_windows=4, stride=4, progress=False)
    assert (out / "my-analysis.ipynb").exists()


def test_uploads_leave_the_markers_out():
    patterns = atomic.upload_ignore_patterns()
    import fnmatch

    for name in (MARKER, f"model/{MARKER}", STAGE_MARKER):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns)
    assert not any(fnmatch.fnmatch("README.md", pattern) for pattern in patterns)


# Atomic folders and the leftovers of killed runs.

def test_killed_simulation_leaves_no_folder_a_builder_reads_and_the_next_run_cleans_up(tmp_path):
    target = tmp_path / "simulated"
    process = subprocess.Popen([str(CONSOLE_SCRIPT), "simulate", str(target), "--subjects", "6", "--sessions", "1",
                                "--trial-seconds", "20", "--quiet"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    stage = None
    while time.monotonic() < deadline and process.poll() is None:
        stages = list(tmp_path.glob(".simulated.tmp-*"))
        if stages and list(stages[0].glob("Preprocessed_EEG/1_*.mat")):
            stage = stages[0]
            break
        time.sleep(0.05)
    assert stage is not None and process.poll() is None, "the simulation ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not target.exists()
    assert (stage / STAGE_MARKER).is_file()
    with pytest.raises(MoodReaderInputError, match="no such directory"):
        build_dataset("seed-raw", target, tmp_path / "dataset", progress=False)
    simulate_seed(target, n_subjects=1, n_sessions=1, trial_seconds=3, progress=False)
    assert not stage.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["simulated"]


def test_only_stale_stages_of_this_package_are_cleaned(tmp_path):
    target = tmp_path / "out"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead_pid = int(finished.stdout)
    alive = new_stage(target, "tmp", hidden=False)  # this process: still writing it
    killed = []
    for name in (f"{target.name}.tmp-dead0001", f"{target.name}.cache-dead0002", f".{target.name}.tmp-dead0003"):
        folder = tmp_path / name
        (folder / "train").mkdir(parents=True)
        record = {"pid": dead_pid, "host": __import__("socket").gethostname(), "target": target.name}
        (folder / STAGE_MARKER).write_text(json.dumps(record))
        killed.append(folder)
    foreign = tmp_path / f"{target.name}.cache-mine"
    foreign.mkdir()
    (foreign / "data.bin").write_text("not the package's")
    removed = clean_stale_stages(target)
    assert sorted(removed) == sorted(killed)
    assert alive.exists() and (foreign / "data.bin").exists()


def test_a_killed_build_is_cleaned_by_the_next_build(tmp_path):
    root = write_seed_download(tmp_path / "raw", subjects=1, sessions=1, windows=8)
    script = (f"from moodreader_hf.atomic import new_stage; import os; "
              f"new_stage({str(tmp_path / 'ds')!r}, 'tmp', hidden=False); "
              f"new_stage({str(tmp_path / 'ds')!r}, 'cache', hidden=False); os._exit(9)")
    subprocess.run([sys.executable, "-c", script], check=False)
    assert len(list(tmp_path.glob("ds.*-*"))) == 2
    build_dataset("seed", root, tmp_path / "ds", sequence_windows=4, stride=4, progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ds", "raw"]


def test_explain_json_is_written_atomically(classifier, tmp_path, monkeypatch):
    from moodreader_hf.commands import explain

    from .bad_inputs.fixtures import write_edf
    from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES

    edf = write_edf(tmp_path / "recording.edf", list(SEED_CHANNEL_NAMES), 9.0)
    target = tmp_path / "importance.json"
    target.write_text('{"old": true}\n')
    parser = argparse.ArgumentParser()
    explain.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["explain", str(edf), "--model", str(classifier), "--output", str(tmp_path / "t.png"),
                              "--json", str(target)])

    def interrupted(source, destination):
        if str(destination) == str(target):
            raise KeyboardInterrupt("killed while writing")
        return original(source, destination)

    original = os.replace
    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        explain.run(args)
    assert target.read_text() == '{"old": true}\n'
    assert [path.name for path in tmp_path.glob(".importance.json*")] == []
    monkeypatch.setattr(atomic.os, "replace", original)
    assert explain.run(args) == 0
    assert json.loads(target.read_text())["channel_names"]


# A build with zero rows.

def test_a_build_without_rows_says_why(tmp_path):
    root = write_seed_download(tmp_path / "raw", subjects=1, sessions=1, windows=3)
    with pytest.raises(MoodReaderInputError, match=r"raw: field 'trials': expected at least one trial of 5 windows.*"
                                                    r"6 trials, all shorter"):
        build_dataset("seed", root, tmp_path / "ds", sequence_windows=5, stride=5, progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["raw"]


# A folder without a trained classification head.

def test_a_folder_without_a_trained_head_is_refused(classifier, tmp_path):
    pretrained = save_pretraining_folder(tmp_path / "pretrained")
    with pytest.raises(MoodReaderInputError, match="pretrained: field 'architectures'.*MoodReaderForMaskedEEGModeling"):
        hub.load_pipeline(pretrained)
    from safetensors.torch import load_file, save_file

    headless = tmp_path / "headless"
    headless.mkdir()
    for path in classifier.iterdir():
        (headless / path.name).write_bytes(path.read_bytes())
    weights = load_file(headless / "model.safetensors")
    save_file({key: value for key, value in weights.items() if not key.startswith("classifier")},
              headless / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(MoodReaderInputError, match=r"headless: field 'weights'.*missing.*classifier"):
        hub.load_pipeline(headless)


def test_a_mistyped_local_folder_is_no_such_folder(tmp_path):
    for given in ("./runs/modle", str(tmp_path / "modle"), "runs/loso/folds/1/modle"):
        with pytest.raises(MoodReaderInputError, match=f"{given}: field 'model'.*no such folder"):
            hub.load_pipeline(given)


# One progress switch, options that refuse bad numbers.

def test_every_command_with_progress_takes_quiet_and_its_alias():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices
    with_progress = []
    for name, sub in choices.items():
        flags = {flag for action in sub._actions for flag in action.option_strings}
        if flags & {"--quiet", "--no-progress"}:
            with_progress.append(name)
            if name != "build-corpus":
                assert {"--quiet", "--no-progress"} <= flags, name
    assert {"demo", "pretrain", "finetune", "simulate", "build-dataset"} <= set(with_progress)
    args = parser.parse_args(["simulate", "out", "--no-progress"])
    assert args.quiet is True


@pytest.mark.parametrize("imported_first", [False, True])
def test_quiet_turns_off_the_libraries_bars_whether_they_load_before_or_after(imported_first):
    """``--quiet`` silences transformers' and datasets' own progress bars (in worker processes too, through the
    environment) without importing them itself."""
    code = ("import sys\n" + ("import datasets, transformers\n" if imported_first else "")
            + "from moodreader_hf.cli import _quiet_libraries\n_quiet_libraries()\n"
            "print('transformers' in sys.modules)\n"
            "import datasets, transformers, subprocess\n"
            "print(transformers.utils.logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled())\n"
            "child = 'import datasets, transformers; print(transformers.utils.logging.is_progress_bar_enabled(), "
            "datasets.is_progress_bar_enabled())'\n"
            "print(subprocess.run([sys.executable, '-c', child], capture_output=True, text=True).stdout.strip())\n")
    env = {key: value for key, value in os.environ.items() if "PROGRESS_BARS" not in key}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split("\n")[:3] == [str(imported_first), "False False", "False False"]


def test_check_replaceable_accepts_new_and_empty_folders(tmp_path):
    assert check_replaceable(tmp_path / "new" / "deeper", "dataset") == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    check_replaceable(tmp_path / "empty", "dataset", overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(MoodReaderInputError, match="a file"):
        check_replaceable(tmp_path / "file" / "sub", "dataset")


def test_temporary_files_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    tag = atomic._host_tag()
    dead = tmp_path / f".report.json.tmp-{tag}-{int(finished.stdout)}-0badf00d.json"
    alive = tmp_path / f".report.json.tmp-{tag}-{os.getppid()}-0badf00d.json"
    other_host = tmp_path / f".report.json.tmp-{'0000' if tag != '0000' else '0001'}-{int(finished.stdout)}-1.json"
    for path in (dead, alive, other_host):
        path.write_text("{half")
    atomic.write_json(tmp_path / "report.json", {"done": True})
    assert not dead.exists() and alive.exists() and other_host.exists()
    assert json.loads((tmp_path / "report.json").read_text()) == {"done": True}
