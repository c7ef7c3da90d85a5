"""The Space folder: its files, card metadata, pinned requirements and simulated examples; the app's analysis equals
the pipeline's; bad uploads give readable messages; publish-space writes and uploads (to a recording double)."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import mne
import numpy as np
import pytest
from huggingface_hub import SpaceCard

from moodreader_hf import hub, importance, validation
from moodreader_hf.atomic import MARKER
from moodreader_hf.commands import publish_space
from moodreader_hf.configuration_moodreader import SEED_CHANNEL_NAMES, SEED_LABELS
from moodreader_hf.recordings import iter_seed_raw
from moodreader_hf.simulation import simulate_seed
from moodreader_hf.space import SPACE_FILES, build_space
from moodreader_hf.space.builder import SHORT_DESCRIPTION, TEMPLATE_DIR
from moodreader_hf.validation import MoodReaderInputError

from .test_hub import RecordingApi, save_tiny_model

EXAMPLE_SECONDS = 12.0


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("space-model") / "model")


@pytest.fixture(scope="module")
def space(model_dir, tmp_path_factory) -> Path:
    """A Space with the tiny model built into it (from a training output folder, so through build_model_repo)."""
    return build_space(model_dir, tmp_path_factory.mktemp("space") / "space", copy_model=True,
                       example_seconds=EXAMPLE_SECONDS)


def write_edf(path: Path, names: list[str], seconds: float, seed: int) -> Path:
    signals = 20e-6 * np.random.default_rng(seed).standard_normal((len(names), int(200 * seconds)))
    raw = mne.io.RawArray(signals, mne.create_info(names, 200.0, "eeg"), verbose="error")
    mne.export.export_raw(path, raw, fmt="edf", verbose="error")
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    names = [name for name in SEED_CHANNEL_NAMES if name not in ("CB1", "CB2")]
    return write_edf(tmp_path_factory.mktemp("recording") / "recording.edf", names, 13.0, seed=5)


@pytest.fixture(scope="module")
def app(space):
    """app.py of the Space, imported as a module (loads the model through the custom pipeline)."""
    pytest.importorskip("gradio", reason="gradio is the optional [space] extra: pip install 'moodreader-hf[space]'")
    sys.path.insert(0, str(space))
    try:
        spec = importlib.util.spec_from_file_location("moodreader_space_app", space / "app.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(space))
        for name in [name for name in sys.modules if name.startswith("moodreader_explain")]:
            del sys.modules[name]


def test_space_folder_files_card_and_requirements(space, model_dir):
    files = sorted(str(path.relative_to(space)) for path in space.rglob("*") if path.is_file())
    model_files = sorted(f"model/{name}" for name in hub.MODEL_REPO_FILES)
    examples = sorted(f"examples/simulated-{emotion}.edf" for emotion in SEED_LABELS.values())
    assert files == sorted([*SPACE_FILES, *model_files, *examples, MARKER, f"model/{MARKER}"])
    assert (space / "app.py").read_text() == (TEMPLATE_DIR / "app.py").read_text()
    for module in (importance, validation):
        assert (space / "moodreader_explain" / Path(module.__file__).name).read_text() == Path(
            module.__file__).read_text()
    assert json.loads((space / "space.json").read_text()) == {"model": "model"}
    assert hub.load_pipeline(space / "model").model.config.sequence_windows == 5

    data = SpaceCard.load(space / "README.md").data
    assert (data.sdk, data.app_file) == ("gradio", "app.py")
    assert data.sdk_version == importlib.metadata.version("gradio")
    assert data.short_description == SHORT_DESCRIPTION and len(data.short_description) <= 60
    assert data.models is None and "simulated-data" in data.tags and data.title

    lines = (space / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if "==" in line)
    assert set(pins) == {"torch", "transformers", "numpy", "scipy", "mne", "matplotlib", "gradio"}
    for name, version in pins.items():
        assert importlib.metadata.version(name).split("+")[0] == version
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines


def test_examples_are_the_simulators_trials(space, tmp_path):
    root = simulate_seed(tmp_path / "sim", n_subjects=1, n_sessions=1, trial_seconds=EXAMPLE_SECONDS, progress=False)
    first = {}
    for trial in iter_seed_raw(root):
        first.setdefault(trial.label, trial)
    for label, emotion in SEED_LABELS.items():
        raw = mne.io.read_raw_edf(space / "examples" / f"simulated-{emotion}.edf", preload=True, verbose="error")
        assert raw.ch_names == list(SEED_CHANNEL_NAMES) and raw.info["sfreq"] == 200.0
        signal = raw.get_data(units="uV")
        expected = first[label].signal
        assert signal.shape == expected.shape
        assert 0.85 * EXAMPLE_SECONDS <= signal.shape[1] / 200.0 <= EXAMPLE_SECONDS
        # EDF stores 16-bit integers over each channel's range: error below range / 2**15.
        span = expected.max(axis=1) - expected.min(axis=1)
        assert (np.abs(signal - expected).max(axis=1) <= span / 2**15 * 1.01).all()


def test_app_analysis_equals_the_pipeline(app, space, recording):
    expected = hub.load_pipeline(space / "model")(str(recording))
    assert type(app.CLASSIFIER).__module__.startswith("transformers_modules.")
    status, scores, figure, image = app.analyse([str(recording)])
    assert list(scores) == [entry["label"] for entry in expected["scores"]]
    np.testing.assert_allclose(list(scores.values()), [entry["score"] for entry in expected["scores"]], rtol=1e-6)
    assert status["visible"] and status["value"] == "Electrodes not in the recording (masked): CB1, CB2."

    steps = {artist.get_label(): artist for artist in figure.axes[0].patches}
    assert [s["windows"] for s in expected["segments"]] == [5, 5, 3]
    for label in scores:
        data = steps[label].get_data()
        values, edges = data.values, data.edges
        np.testing.assert_allclose(edges, [0.0, 5.0, 10.0, 13.0])
        segment_scores = [next(e["score"] for e in s["scores"] if e["label"] == label) for s in expected["segments"]]
        np.testing.assert_allclose(values, segment_scores, rtol=1e-6)
    assert image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 150


def test_brainvision_files_together_or_zipped_give_the_files_scores(app, space, recording, tmp_path):
    raw = mne.io.read_raw_edf(recording, preload=True, verbose="error")
    header = tmp_path / "bv" / "session.vhdr"
    header.parent.mkdir()
    mne.export.export_raw(header, raw, fmt="brainvision", verbose="error")
    parts = sorted(header.parent.iterdir())
    assert [path.suffix for path in parts] == [".eeg", ".vhdr", ".vmrk"]
    expected = hub.load_pipeline(space / "model")(str(header))
    uploads = tmp_path / "uploads"
    for index, path in enumerate(parts):  # an upload puts each file in its own folder
        (uploads / str(index)).mkdir(parents=True)
        (uploads / str(index) / path.name).write_bytes(path.read_bytes())
    separate = [str(uploads / str(index) / path.name) for index, path in enumerate(parts)]
    archive = tmp_path / "session.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in parts:
            bundle.write(path, f"recording/{path.name}")
            bundle.writestr(f"__MACOSX/recording/._{path.name}", b"macOS metadata")
    for files in (separate, [str(archive)]):
        _, scores, _, _ = app.analyse(files)
        np.testing.assert_allclose([scores[e["label"]] for e in expected["scores"]],
                                   [e["score"] for e in expected["scores"]], rtol=1e-6)


@pytest.mark.parametrize("case", ["corrupt", "vhdr-alone", "two-recordings", "bad-zip", "text"])
def test_bad_uploads_give_a_readable_message(app, recording, tmp_path, case):
    upload = tmp_path / "upload"
    upload.mkdir()
    if case == "corrupt":
        path = upload / "corrupt.edf"
        path.write_bytes(b"0       this is not an EDF header" + bytes(range(256)) * 4)
        files, needle = [path], "corrupt.edf"
    elif case == "vhdr-alone":
        raw = mne.io.read_raw_edf(recording, preload=True, verbose="error")
        mne.export.export_raw(tmp_path / "alone.vhdr", raw, fmt="brainvision", verbose="error")
        path = upload / "alone.vhdr"
        path.write_bytes((tmp_path / "alone.vhdr").read_bytes())
        files, needle = [path], "alone.vhdr: field 'files': expected the files the header names (alone.eeg, alone.vmrk)"
    elif case == "two-recordings":
        other = upload / "other.edf"
        other.write_bytes(recording.read_bytes())
        files, needle = [recording, other], "one recording"
    elif case == "bad-zip":
        path = upload / "bundle.zip"
        path.write_bytes(b"PK\x03\x04 truncated")
        files, needle = [path], "readable zip archive"
    else:
        path = upload / "notes.txt"
        path.write_text("not EEG")
        files, needle = [path], "one recording"
    status, scores, figure, image = app.analyse([str(path) for path in files])
    assert status["visible"] and status["value"].startswith("### Could not analyse this recording")
    assert needle in status["value"], status["value"]
    assert str(upload) not in status["value"] and "Traceback" not in status["value"]
    assert (scores, figure, image) == (None, None, None)


def test_empty_upload_clears_the_outputs(app):
    status, scores, figure, image = app.analyse(None)
    assert not status["visible"] and (scores, figure, image) == (None, None, None)


def test_model_comes_from_the_environment_or_space_json(app, space, monkeypatch):
    assert app.model_source() == str(space / "model") == app.MODEL
    monkeypatch.setenv("MOODREADER_MODEL", "someone/another-model")
    assert app.model_source() == "someone/another-model"


def run_publish_space(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    publish_space.register(parser.add_subparsers(dest="command"))
    return publish_space.run(parser.parse_args(["publish-space", *argv]))


def test_publish_space_for_a_hub_model_uploads_a_gradio_space(tmp_path, monkeypatch, capsys):
    RecordingApi.calls = []
    monkeypatch.setattr(hub, "HfApi", RecordingApi)
    monkeypatch.setenv("HF_TOKEN", "hf_recorded_not_real")
    folder = tmp_path / "space"
    assert run_publish_space("--model", "someone/moodreader-tiny", "--local-dir", str(folder), "--repo-id",
                             "someone/moodreader-space", "--example-seconds", "6") == 0
    (_, repo_id, create_kwargs), (_, files, kwargs, readme) = RecordingApi.calls
    assert repo_id == "someone/moodreader-space"
    assert (create_kwargs["repo_type"], create_kwargs["space_sdk"]) == ("space", "gradio")
    assert kwargs["repo_type"] == "space" and kwargs["repo_id"] == "someone/moodreader-space"
    assert files == sorted([*SPACE_FILES, *(f"examples/simulated-{e}.edf" for e in SEED_LABELS.values())])
    assert SpaceCard(readme).data.models == ["someone/moodreader-tiny"]
    assert 'model="someone/moodreader-tiny"' in readme
    assert json.loads((folder / "space.json").read_text()) == {"model": "someone/moodreader-tiny"}
    assert "recorded-commit" in capsys.readouterr().out


def test_publish_space_refuses_models_a_space_cannot_load(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "HfApi", lambda **kwargs: pytest.fail("reached the Hub"))
    monkeypatch.setenv("HF_TOKEN", "hf_recorded_not_real")
    with pytest.raises(MoodReaderInputError, match="--copy-model"):
        run_publish_space("--model", str(model_dir), "--repo-id", "someone/space")
    with pytest.raises(MoodReaderInputError, match="model repository folder"):
        run_publish_space("--model", str(model_dir), "--local-dir", str(tmp_path / "space"))
    with pytest.raises(MoodReaderInputError, match="Hub repo id"):
        run_publish_space("--model", "not a repo id!", "--local-dir", str(tmp_path / "space"))
    assert not (tmp_path / "space").exists()


def test_a_local_repository_folder_is_loaded_from_its_path(model_dir, tmp_path):
    repo = hub.build_model_repo(model_dir, tmp_path / "repo")
    space = build_space(repo, tmp_path / "space", example_seconds=6.0)
    assert json.loads((space / "space.json").read_text()) == {"model": str(repo.resolve())}
    assert not (space / "model").exists()
    card = SpaceCard.load(space / "README.md")
    assert card.data.models is None and f'model="{repo.resolve()}"' in card.text


@pytest.mark.parametrize(
    ("key", "named"),
    [("DataFile", "../outside/session.eeg"), ("DataFile", "/etc/hostname"), ("MarkerFile", "/etc/hostname"),
     ("DataFile", "sub/session.eeg"), ("MarkerFile", "..\\\\outside\\\\session.vmrk"), ("DataFile", ".."),
     ("vmrk DataFile", "/etc/hostname")],
)
def test_brainvision_headers_may_only_name_files_of_the_upload(app, recording, tmp_path, key, named):
    raw = mne.io.read_raw_edf(recording, preload=True, verbose="error").crop(0, 3)
    source = tmp_path / "bv" / "session.vhdr"
    source.parent.mkdir()
    mne.export.export_raw(source, raw, fmt="brainvision", verbose="error")
    outside = tmp_path / "outside"
    outside.mkdir()
    for path in source.parent.iterdir():
        (outside / path.name).write_bytes(path.read_bytes())  # what a header pointing outside would reach
    field = key.split()[-1]
    target = source.with_suffix(".vmrk") if key.startswith("vmrk") else source
    lines = target.read_text(encoding="latin-1").splitlines()
    target.write_text("\n".join(f"{field}={named}" if line.startswith(f"{field}=") else line for line in lines),
                      encoding="latin-1")
    upload = tmp_path / "upload"
    files = []
    for index, path in enumerate(sorted(source.parent.iterdir())):
        (upload / str(index)).mkdir(parents=True)
        files.append(str(upload / str(index) / path.name))
        Path(files[-1]).write_bytes(path.read_bytes())
    status, scores, figure, image = app.analyse(files)
    assert (scores, figure, image) == (None, None, None)
    assert "file names inside the upload" in status["value"] and repr(named) in status["value"], status["value"]


def test_eeglab_sets_may_only_name_data_files_of_the_upload(app, recording, tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    raw = mne.io.read_raw_edf(recording, preload=True, verbose="error").crop(0, 3)
    header = tmp_path / "session.set"
    mne.export.export_raw(header, raw, fmt="eeglab", verbose="error")
    _, scores, _, _ = app.analyse([str(path) for path in sorted(tmp_path.glob("session.*"))])
    assert scores is not None  # the exported .set (and its data file, if any) is accepted
    contents = scipy_io.loadmat(header, appendmat=False)
    contents = {key: value for key, value in contents.items() if not key.startswith("__")}
    contents["data"] = "../outside/session.fdt"
    hostile = tmp_path / "upload" / "session.set"
    hostile.parent.mkdir()
    scipy_io.savemat(hostile, contents, appendmat=False)
    status, scores, _, _ = app.analyse([str(hostile)])
    assert scores is None and "'../outside/session.fdt'" in status["value"], status["value"]
