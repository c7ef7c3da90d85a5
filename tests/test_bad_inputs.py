"""Every command on a catalogue of bad inputs (tests/bad_inputs/catalogue.py): exit status 2, exactly one line on
stderr naming the file or field, no traceback, nothing written or changed.

The catalogue runs batched in one subprocess (tests/bad_inputs/runner.py calls ``moodreader_hf.cli.main`` for each
command line, capturing its file descriptors as a separate process would see them); one case per command also runs
through the real console script, ``moodreader``, in its own process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .bad_inputs.catalogue import CASES, CONSOLE_CASES
from .bad_inputs.fixtures import make_fixtures
from .bad_inputs.runner import snapshot

REPO = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).parent / "moodreader"
BY_ID = {case.id: case for case in CASES}


def _environment(home: Path) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(home / "hf-home"),
            "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONWARNINGS": "", "TQDM_DISABLE": "", "COLUMNS": "120"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict:
    """The fixtures, an empty output folder per case, and the catalogue's command lines with paths filled in."""
    root = tmp_path_factory.mktemp("bad-inputs")
    paths = make_fixtures(root / "inputs")
    lines = {}
    for case in CASES:
        out = root / "outputs" / case.id
        out.mkdir(parents=True)
        fields = {**paths, "out": str(out)}
        lines[case.id] = {"argv": [part.format(**fields) for part in case.argv],
                          "names": [name.format(**fields) for name in case.names]}
    return {"root": root, "paths": paths, "lines": lines}


@pytest.fixture(scope="module")
def batched(workspace) -> dict[str, dict]:
    """Every case of the catalogue, run in one subprocess; results by case id."""
    root = workspace["root"]
    cases = [{"id": case.id, "argv": workspace["lines"][case.id]["argv"], "watch": str(root)} for case in CASES]
    (root / "cases.json").write_text(json.dumps(cases))
    results_path = root.parent / f"{root.name}-results.json"
    done = subprocess.run([sys.executable, "-m", "tests.bad_inputs.runner", str(root / "cases.json"),
                           str(results_path)], cwd=REPO, env=_environment(root.parent), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (root / "cases.json").unlink()
    return {result["id"]: result for result in json.loads(results_path.read_text())}


def stderr_lines(stderr: str) -> list[str]:
    """Non-empty lines as a terminal shows them (a progress bar's carriage returns start new lines)."""
    return [line for line in stderr.replace("\r", "\n").split("\n") if line.strip()]


def assert_clear_refusal(case_id: str, code: int, stderr: str, changed: list[str], names: list[str]) -> None:
    lines = stderr_lines(stderr)
    assert "Traceback" not in stderr, f"{case_id}: a traceback\n{stderr[-3000:]}"
    assert code == 2, f"{case_id}: exit status {code}\n{stderr[-2000:]}"
    assert len(lines) == 1, f"{case_id}: {len(lines)} lines on stderr\n{stderr[-2000:]}"
    assert lines[0].startswith("moodreader "), lines[0]
    missing = [name for name in names if name not in lines[0]]
    assert not missing, f"{case_id}: the line does not name {missing}: {lines[0]}"
    assert not changed, f"{case_id}: the case wrote or changed {changed[:5]}"


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_bad_input_is_refused_in_one_line(case_id, batched, workspace):
    result = batched[case_id]
    assert_clear_refusal(case_id, result["code"], result["stderr"], result["changed"],
                         workspace["lines"][case_id]["names"])


def test_one_case_per_command_through_the_console_script(workspace):
    from moodreader_hf.cli import COMMANDS

    commands = {BY_ID[case_id].argv[0] for case_id in CONSOLE_CASES}
    covered = set(COMMANDS)
    assert covered <= commands, f"no console-script case for {sorted(covered - commands)}"
    root = workspace["root"]
    before = snapshot(str(root))

    def run(case_id: str) -> tuple[str, subprocess.CompletedProcess]:
        argv = workspace["lines"][case_id]["argv"]
        return case_id, subprocess.run([str(CONSOLE_SCRIPT), *argv], cwd=root, env=_environment(root.parent),
                                       capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(max_workers=2) as pool:
        finished = list(pool.map(run, CONSOLE_CASES))
    after = snapshot(str(root))
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    for case_id, done in finished:
        assert_clear_refusal(case_id, done.returncode, done.stderr, changed, workspace["lines"][case_id]["names"])


def test_the_catalogue_covers_every_class_of_bad_input():
    """Missing, empty, wrong format, truncated, wrong keys and shapes, NaN, wrong types, hostile outputs."""
    ids = " ".join(BY_ID)
    for fragment in ("missing", "empty", "text_edf", "mat", "truncated", "header_too_large", "size_mismatch",
                     "missing_key", "wrong_type", "nan", "bool", "foreign", "output-file", "under-file", "pretrained",
                     "zero-rows", "hub-offline"):
        assert fragment in ids, fragment
    assert len(CASES) >= 150


def test_a_bug_keeps_its_traceback(monkeypatch, capsys):
    """Only bad input becomes one line: an error of the code itself is not hidden."""
    from moodreader_hf.cli import run_command

    def buggy(args):
        return {}["no such key"]

    with pytest.raises(KeyError):
        run_command(buggy, None, "moodreader test")

    def numpy_value_error(args):
        import numpy as np

        return np.zeros(3).reshape(2, 2)

    with pytest.raises(ValueError):
        run_command(numpy_value_error, None, "moodreader test")
    assert capsys.readouterr().err == ""


def test_scripts_exit_with_the_code_and_one_line(tmp_path):
    """``python scripts/finetune.py`` with a missing recipe: status 2 and one line; ``accelerate launch -q`` shows the
    same line and no traceback (without ``-q`` accelerate prints a traceback of its own for any non-zero exit)."""
    argv = ["--recipe", str(tmp_path / "missing.yaml"), "--dataset", str(tmp_path), "--output-dir",
            str(tmp_path / "run"), "--quiet"]
    env = _environment(tmp_path)
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "finetune.py"), *argv], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and stderr_lines(done.stderr) == [
        f"finetune.py: error: {tmp_path / 'missing.yaml'}: field '(file)': expected an existing YAML recipe file, "
        "got no such file."]
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent))
    if accelerate is None:
        pytest.skip("accelerate's launcher is not installed")
    launched = subprocess.run([accelerate, "launch", "-q", "--config_file",
                               str(REPO / "modeling" / "accelerate" / "cpu_1proc.yaml"),
                               str(REPO / "scripts" / "finetune.py"), *argv], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
    assert launched.returncode != 0 and "Traceback" not in launched.stderr
    assert [line for line in stderr_lines(launched.stderr) if "error" in line] == stderr_lines(done.stderr)
    assert not (tmp_path / "run").exists()
