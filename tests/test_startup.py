"""The command line starts without the heavy libraries, and ``import moodreader_hf`` still registers everything
with transformers however the user's code reaches transformers (each case in a fresh process)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from moodreader_hf import MoodReaderConfig, MoodReaderFeatureExtractor, MoodReaderForEmotionRecognition
from moodreader_hf.cli import COMMANDS, build_parser

HEAVY = ("torch", "transformers", "mne", "datasets", "scipy")


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_the_help_of_each_command_is_its_modules_own():
    parser = build_parser()
    subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    assert {action.dest: action.help for action in subparsers._choices_actions} == {
        name: summary for name, (_, summary) in COMMANDS.items()}


def test_moodreader_help_imports_no_heavy_library():
    loaded = run_python(
        "import sys\n"
        "from moodreader_hf.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))"
    )
    assert loaded.splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registered")
    config = MoodReaderConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    MoodReaderForEmotionRecognition(config).save_pretrained(folder)
    MoodReaderFeatureExtractor().save_pretrained(folder)
    return folder


@pytest.mark.parametrize("first", [
    "import moodreader_hf\nimport transformers",
    "import transformers\nfrom transformers import AutoModel\nimport moodreader_hf",
    "import moodreader_hf\nfrom moodreader_hf.modeling_moodreader import MoodReaderModel",
    "import moodreader_hf\nfrom transformers import pipeline",
])
def test_import_registers_the_auto_classes_and_the_pipeline_in_any_order(model_folder, first):
    answer = run_python(
        f"{first}\n"
        "from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForSequenceClassification, pipeline\n"
        f"folder = {str(model_folder)!r}\n"
        "model = AutoModelForSequenceClassification.from_pretrained(folder)\n"
        "extractor = AutoFeatureExtractor.from_pretrained(folder)\n"
        "classify = pipeline('eeg-emotion-recognition', model=folder)\n"
        "print(type(model).__module__, type(extractor).__name__, type(classify).__name__)"
    )
    assert answer.splitlines()[-1] == ("moodreader_hf.modeling_moodreader MoodReaderFeatureExtractor "
                                       "EEGEmotionRecognitionPipeline")


CONSOLE_EXIT = r"""
import atexit, sys, threading, time
from pathlib import Path
from moodreader_hf.cli import console_main
folder = Path(sys.argv[1])
def late_write():
    time.sleep(0.5)
    (folder / "thread.txt").write_text("joined")
threading.Thread(target=late_write).start()
atexit.register(lambda: (folder / "atexit.txt").write_text("ran"))
sys.stdout.write("x" * 1000)  # held in the buffer of a piped stdout until flushed
sys.argv = ["moodreader", *sys.argv[2:]]
console_main()
raise AssertionError("console_main returned")
"""


@pytest.mark.parametrize(("argv", "status"), [(["--help"], 0), (["predict"], 2), (["predict", "missing.edf",
                                                                                     "--model", "nowhere"], 2)])
def test_the_console_script_ends_with_the_status_after_threads_exit_handlers_and_output(tmp_path, argv, status):
    done = subprocess.run([sys.executable, "-c", CONSOLE_EXIT, str(tmp_path), *argv], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == status, done.stderr[-3000:]
    assert done.stdout.startswith("x" * 1000)
    assert (tmp_path / "thread.txt").read_text() == "joined" and (tmp_path / "atexit.txt").read_text() == "ran"
    if status == 2:
        assert len(done.stderr.strip().splitlines()) == 1 and "error" in done.stderr


def test_the_console_script_keeps_a_bugs_traceback():
    code = ("from moodreader_hf import cli\n"
            "def broken():\n    raise RuntimeError('a bug')\n"
            "cli.main = broken\ncli.console_main()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" in done.stderr and "RuntimeError: a bug" in done.stderr
