"""Mood Reader: EEG emotion recognition in the browser (a Gradio Space over the model's custom pipeline).

The model is loaded exactly as a user of its repository loads it::

    pipeline("eeg-emotion-recognition", model=MODEL, trust_remote_code=True)

``MODEL`` is the ``MOODREADER_MODEL`` environment variable if set, else the ``"model"`` entry of ``space.json``
(a Hub repo id, or a folder; a relative folder is taken relative to this file).

Inputs: one recording file MNE reads (EDF, BDF, FIF, EEGLAB ``.set``), uploaded alone; a recording split over
several files (BrainVision ``.vhdr`` + ``.vmrk`` + ``.eeg``, EEGLAB ``.set`` + ``.fdt``) is uploaded as all its files
selected together, or as one ``.zip`` holding them. Or one of the bundled examples: short SIMULATED recordings (a
seeded generator of SEED-like EEG, not real EEG) whose file names say which emotion the generator planted.

A model trained on a dataset's distributed DE (SEED-V) refuses raw recordings: it takes an ``.npz`` archive holding
``de_features (windows, channels, bands)`` in the model's montage order. Eye-movement models also need
``eye_features (windows, eye_dims)``: in that archive, or as a ``.npy`` / ``.csv`` uploaded beside the recording.

Outputs: the overall emotion with every class's score, the scores of each segment over time, and scalp topomaps of
the spatial attention each electrode receives (``moodreader_explain/importance.py``, a copy of the module the
``moodreader explain`` command uses), one per predicted emotion. A file that cannot be read gives a message in the
page.

Run locally: ``python app.py`` serves on ``GRADIO_SERVER_NAME`` (default 127.0.0.1) and ``GRADIO_SERVER_PORT``
(default 7860 or the next free port). Gradio's analytics are off and no share link is made.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from matplotlib.figure import Figure
from matplotlib.image import imread
from moodreader_explain.importance import electrode_importance, plot_topomaps, recording_inputs
from moodreader_explain.validation import fail
from transformers import pipeline

HERE = Path(__file__).resolve().parent
TASK = "eeg-emotion-recognition"
EXAMPLES = HERE / "examples"
RECORDING_SUFFIXES = (".edf", ".bdf", ".fif", ".fif.gz", ".vhdr", ".set", ".cnt")
"""Files that are a recording (or its header); MNE reads them."""
COMPANION_SUFFIXES = (".vmrk", ".eeg", ".fdt")
"""Files that belong to a header above: BrainVision markers and data, EEGLAB data."""
EYE_SUFFIXES = (".npy", ".csv")
"""Files of eye-movement features ``(windows, eye_dims)``, uploaded beside the recording for models that use them."""
FEATURE_SUFFIX = ".npz"
"""An archive of DE features (``de_features (windows, channels, bands)``, optionally ``eye_features``), uploaded
instead of a recording for models trained on a dataset's distributed DE (they refuse raw recordings)."""
MAX_ZIP_BYTES = 2 * 1024**3
"""Largest total uncompressed size of an uploaded zip."""

logger = logging.getLogger("moodreader-space")


def model_source() -> str:
    """The model to load: ``MOODREADER_MODEL``, else ``space.json``'s ``"model"`` (a relative folder is taken
    relative to this file)."""
    model = os.environ.get("MOODREADER_MODEL") or json.loads((HERE / "space.json").read_text())["model"]
    local = HERE / model
    return str(local) if not Path(model).is_absolute() and local.is_dir() else model


MODEL = model_source()
CLASSIFIER = pipeline(TASK, model=MODEL, trust_remote_code=True)


def _kind(path: Path) -> str:
    name = path.name.lower()
    return next((suffix for suffix in RECORDING_SUFFIXES + COMPANION_SUFFIXES + (".zip",) if name.endswith(suffix)),
                path.suffix.lower())


def _unzip(archive: Path, folder: Path) -> list[Path]:
    """The files of ``archive`` extracted flat into ``folder`` (folders inside the zip are ignored, and so is the
    ``__MACOSX`` metadata macOS adds)."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [member for member in bundle.infolist() if not member.is_dir()
                       and not member.filename.startswith("__MACOSX/")
                       and not Path(member.filename).name.startswith("._")]
            size = sum(member.file_size for member in members)
            if size > MAX_ZIP_BYTES:
                fail(archive.name, "zip", f"at most {MAX_ZIP_BYTES // 1024**2} MB uncompressed",
                     f"{size // 1024**2} MB")
            paths = []
            for member in members:
                target = folder / Path(member.filename).name
                if target.exists():
                    fail(archive.name, "zip", "files with distinct names", f"{target.name!r} twice")
                with bundle.open(member) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                paths.append(target)
    except zipfile.BadZipFile as error:
        fail(archive.name, "zip", "a readable zip archive", f"{error}")
    return paths


def recording_path(files: list[str], folder: Path) -> Path:
    """The recording among the uploaded ``files``: the file itself, or the header of a recording whose files were
    uploaded together or zipped (they are gathered into ``folder`` so the reader finds them side by side)."""
    paths = [Path(file) for file in files]
    if len(paths) == 1 and _kind(paths[0]) == ".zip":
        paths = _unzip(paths[0], folder)
    elif len(paths) > 1:
        gathered = []
        for path in paths:
            target = folder / path.name
            if target.exists():
                fail("upload", "files", "files with distinct names", f"{path.name!r} twice")
            shutil.copyfile(path, target)
            gathered.append(target)
        paths = gathered
    names = [path.name for path in paths]
    headers = [path for path in paths if _kind(path) in RECORDING_SUFFIXES]
    unknown = [path.name for path in paths if _kind(path) not in RECORDING_SUFFIXES + COMPANION_SUFFIXES]
    if unknown or len(headers) != 1:
        fail("upload", "files", "one recording: an EDF, BDF, FIF or EEGLAB .set file, or a BrainVision .vhdr with "
             "its .vmrk and .eeg (selected together or in one .zip)", f"{names}")
    if _kind(headers[0]) == ".vhdr":
        _check_brainvision(headers[0])
    elif _kind(headers[0]) == ".set":
        _check_eeglab(headers[0])
    return headers[0]


HEADER_FILE_KEYS = ("datafile=", "markerfile=")
"""The lines of a BrainVision header (``.vhdr``; also in its ``.vmrk``) that name another file."""


def _contained(folder: Path, name: str, source: str) -> Path:
    """``folder / name`` if ``name`` is a plain file name inside the upload's folder; a header naming anything else
    (an absolute path, ``..``, a sub-folder, a link out of the folder) is refused before MNE opens it."""
    candidate = Path(name)
    inside = (folder / name).resolve()
    plain = (not candidate.is_absolute() and not candidate.drive and len(candidate.parts) == 1
             and candidate.name not in ("", ".", "..") and "\\" not in name)
    if not plain or inside.parent != folder.resolve():
        fail(source, "files", "file names inside the upload (the header may only name files uploaded with it)",
             f"{name!r}")
    return folder / name


def _named_files(path: Path) -> list[str]:
    text = path.read_text(encoding="latin-1", errors="replace")
    return [line.split("=", 1)[1].strip() for line in text.splitlines()
            if line.strip().lower().startswith(HEADER_FILE_KEYS)]


def _check_brainvision(header: Path) -> None:
    """Fail unless every file that a BrainVision header (and its marker file) names is a file of the upload, next to
    the header: no path may lead out of the upload's folder."""
    named = _named_files(header)
    for name in named:
        _contained(header.parent, name, header.name)
    missing = [name for name in named if not (header.parent / name).is_file()]
    if missing:
        fail(header.name, "files", f"the files the header names ({', '.join(named)}) uploaded with it, selected "
             "together or in one .zip", f"no {', '.join(missing)}")
    for name in named:
        if name.lower().endswith(".vmrk"):
            for inner in _named_files(header.parent / name):
                _contained(header.parent, inner, name)


def _check_eeglab(header: Path) -> None:
    """Fail unless the data file an EEGLAB ``.set`` names (``EEG.data``/``EEG.datfile``), if any, is a plain file name
    inside the upload's folder."""
    import scipy.io

    try:
        contents = scipy.io.loadmat(header, squeeze_me=True, struct_as_record=False,
                                    variable_names=("EEG", "data", "datfile"))
    except Exception as error:  # noqa: BLE001 - whatever scipy cannot parse is not inspected, so not read
        fail(header.name, "file", "an EEGLAB .set file saved as MATLAB v5/v7 (the data file it names is checked "
             "before reading)", f"a file that cannot be inspected ({type(error).__name__})")
    eeg = contents.get("EEG")
    for field in ("data", "datfile"):
        value = getattr(eeg, field, None) if eeg is not None else contents.get(field)
        if isinstance(value, str) and value.strip():
            _contained(header.parent, value.strip(), header.name)


def eye_features(files: list[str]) -> np.ndarray | None:
    """The eye-movement features among the uploads (one ``.npy`` or comma-separated ``.csv`` of shape ``(windows,
    eye_dims)``), required when the model was trained with them; ``None`` for other models."""
    size = getattr(CLASSIFIER.model.config, "eye_feature_size", 0)
    found = [Path(file) for file in files if _kind(Path(file)) in EYE_SUFFIXES]
    if not size:
        if found:
            fail("upload", "files", "no eye-movement file (this model uses EEG only)", f"{[p.name for p in found]}")
        return None
    if len(found) != 1:
        fail("upload", "eye features", f"one .npy or .csv file of eye-movement features (windows, {size}) beside the "
             "recording: this model was trained with them", f"{len(found)} such files")
    try:
        array = (np.load(found[0], allow_pickle=False) if _kind(found[0]) == ".npy"
                 else np.loadtxt(found[0], delimiter=",", ndmin=2))
    except (OSError, ValueError) as error:
        fail(found[0].name, "eye features", f"a numeric array (windows, {size})", f"{type(error).__name__}: {error}")
    return np.asarray(array, dtype=np.float64)


def feature_archive(files: list[str]) -> dict[str, np.ndarray] | None:
    """The DE features of an uploaded ``.npz`` (``de_features`` and, for eye models, ``eye_features``, there or in a
    ``.npy`` / ``.csv`` beside it) as pipeline inputs; ``None`` when no ``.npz`` was uploaded."""
    found = [Path(file) for file in files if _kind(Path(file)) == FEATURE_SUFFIX]
    if not found:
        return None
    others = [Path(file).name for file in files if _kind(Path(file)) not in (FEATURE_SUFFIX,) + EYE_SUFFIXES]
    if len(found) > 1 or others:
        fail("upload", "files", "one .npz of DE features (and possibly one eye-feature file), without a recording",
             f"{[Path(file).name for file in files]}")
    try:
        with np.load(found[0], allow_pickle=False) as archive:
            contents = {key: np.asarray(archive[key], dtype=np.float64) for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        fail(found[0].name, "npz", "a readable .npz archive of numeric arrays", f"{type(error).__name__}: {error}")
    if "de_features" not in contents or set(contents) - {"de_features", "eye_features"}:
        fail(found[0].name, "npz", "'de_features' (windows, channels, bands) and optionally 'eye_features'",
             f"keys {sorted(contents)}")
    if "eye_features" in contents:
        if any(_kind(Path(file)) in EYE_SUFFIXES for file in files):
            fail("upload", "eye features", "eye features in the .npz or in a file beside it, not in both", "both")
        eye = contents["eye_features"]
    else:
        eye = eye_features(files)
    inputs = {"de_features": contents["de_features"]}
    if eye is not None:
        inputs["eye_features"] = eye
    return inputs


def predict(recording: str | os.PathLike | dict[str, Any], eye: np.ndarray | None = None) -> dict[str, Any]:
    """The pipeline's result for one recording file or dict of DE features (and, for eye models, the eye features):
    overall ``label``/``scores`` and per-``segments`` scores."""
    inputs = dict(recording) if isinstance(recording, dict) else {"recording": os.fspath(recording)}
    if eye is not None:
        inputs["eye_features"] = eye
    return CLASSIFIER(inputs)


def timeline(result: dict[str, Any]) -> Figure:
    """Each class's probability per segment, drawn as steps over the segment's time span (seconds)."""
    segments = result["segments"]
    edges = [segment["start"] for segment in segments] + [segments[-1]["end"]]
    figure = Figure(figsize=(7, 3), layout="constrained")
    axis = figure.subplots()
    for entry in result["scores"]:
        label = entry["label"]
        scores = [next(item["score"] for item in segment["scores"] if item["label"] == label) for segment in segments]
        axis.stairs(scores, edges, label=label, linewidth=2, baseline=None)
    axis.set_xlim(edges[0], edges[-1])
    axis.set_ylim(0, 1)
    axis.set_xlabel("time (s)")
    axis.set_ylabel("probability")
    axis.set_title(f"Emotion per segment ({len(segments)} segments)", fontsize=10)
    axis.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure


def topomap(recording: Path | dict[str, Any], folder: Path, eye: np.ndarray | None = None) -> np.ndarray:
    """Scalp topomaps (RGBA image) of the spatial attention each electrode receives, per predicted emotion."""
    importance = electrode_importance(CLASSIFIER.model, **recording_inputs(CLASSIFIER, recording, eye),
                                      method="attention")
    path = plot_topomaps(importance, folder / "topomap.png", title="Attention per electrode")
    return imread(path)


def _readable(error: Exception, files: list[str], folder: Path) -> str:
    """The error's message with temporary upload paths replaced by the file names the user chose."""
    message = str(error)
    for file in files:
        message = message.replace(str(file), Path(file).name)
    return message.replace(f"{folder}{os.sep}", "")


def analyse(files: list[str] | str | None) -> tuple[Any, Any, Any, Any]:
    """The page's outputs for the uploaded files: status box, overall scores, timeline figure, topomap image."""
    if not files:
        return gr.update(value="", visible=False), None, None, None
    files = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    with tempfile.TemporaryDirectory(prefix="moodreader-space-") as scratch:
        folder = Path(scratch)
        try:
            recording = feature_archive(files)
            eye = None
            if recording is None:
                eye = eye_features(files)
                recording = recording_path([file for file in files if _kind(Path(file)) not in EYE_SUFFIXES],
                                           folder)
            result = predict(recording, eye)
            image = topomap(recording, folder, eye)
        except (ValueError, OSError) as error:
            message = f"### Could not analyse this recording\n\n{_readable(error, files, folder)}"
            return gr.update(value=message, visible=True), None, None, None
        except Exception as error:  # a bug, not the file: the page shows a message, the log the traceback
            logger.exception("analysis failed")
            message = f"### Unexpected error\n\n{type(error).__name__}: {_readable(error, files, folder)}"
            return gr.update(value=message, visible=True), None, None, None
    scores = {entry["label"]: entry["score"] for entry in result["scores"]}
    note = ""
    if result["missing_channels"]:
        note = f"Electrodes not in the recording (masked): {', '.join(result['missing_channels'])}."
    return gr.update(value=note, visible=bool(note)), scores, timeline(result), image


def build_demo() -> gr.Blocks:
    """The page: upload or example on the left, results on the right."""
    examples = sorted(EXAMPLES.glob("*.edf")) if EXAMPLES.is_dir() else []
    shown = f"the local folder `{Path(MODEL).name}/`" if Path(MODEL).is_dir() else f"`{MODEL}`"
    with gr.Blocks(title="Mood Reader: EEG emotion recognition", analytics_enabled=False) as demo:
        gr.Markdown(
            "# Mood Reader: EEG emotion recognition\n"
            f"Model: {shown}, loaded with "
            f'`pipeline("{TASK}", trust_remote_code=True)`. Upload an EEG recording (EDF, BDF, FIF, EEGLAB `.set`; '
            "BrainVision: select the `.vhdr`, `.vmrk` and `.eeg` together or upload them in one `.zip`), or pick a "
            "simulated example. Electrodes are matched to the model's montage by name.\n\n"
            "The examples are **simulated** recordings (a seeded generator of SEED-like EEG), not real EEG."
        )
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(label="EEG recording (eye-movement models: also a .npy or .csv of their features; "
                                 "distributed-DE models: an .npz of DE features instead)",
                                 file_count="multiple", elem_id="recording")
                run = gr.Button("Analyse", variant="primary", elem_id="analyse")
                status = gr.Markdown(visible=False, elem_id="status")
            with gr.Column(scale=2):
                overall = gr.Label(label="Overall emotion", elem_id="overall")
                segments = gr.Plot(label="Emotion over time", format="png", elem_id="timeline")
                maps = gr.Image(label="Electrode importance (spatial attention)", type="numpy", interactive=False,
                                elem_id="topomap")
        outputs = [status, overall, segments, maps]
        if examples:
            gr.Examples(
                examples=[[[str(path)]] for path in examples],
                inputs=upload,
                outputs=outputs,
                fn=analyse,
                run_on_click=True,
                cache_examples=False,
                label="Simulated examples (not real EEG)",
                example_labels=[f"{path.stem} (simulated)" for path in examples],
            )
        upload.upload(analyse, inputs=upload, outputs=outputs)
        run.click(analyse, inputs=upload, outputs=outputs)
    return demo


demo = build_demo()

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    demo.launch(share=False, allowed_paths=[str(EXAMPLES)])
