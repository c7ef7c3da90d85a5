"""The folder of a Gradio Space for a Mood Reader model: the app, its pinned requirements, its card and examples.

The Space folder holds::

    app.py                 the Gradio app (template/app.py, copied as is)
    space.json             {"model": <Hub repo id or folder>}, what app.py loads
    requirements.txt       the app's imports pinned to the versions installed here (torch from the CPU index)
    README.md              the Space card: metadata (sdk: gradio, sdk_version, app_file, models, ...) and usage
    moodreader_explain/    copies of importance.py, atomic.py and validation.py: the topomaps without this package
    examples/simulated-<emotion>.edf   short simulated recordings (not real EEG), one per SEED emotion
    model/                 with copy_model: the model repository folder, so the Space runs offline

The app never imports ``moodreader_hf``: it loads the model with ``pipeline("eeg-emotion-recognition",
trust_remote_code=True)``, which runs the model repository's own remote code.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from huggingface_hub import SpaceCard, SpaceCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from .. import atomic, importance, validation
from ..atomic import atomic_folder, atomic_path
from ..configuration_moodreader import SEED_CHANNEL_NAMES, SEED_LABELS
from ..hub import build_model_repo, check_classifier, check_model_repo, check_output_folder
from ..simulation.writer import SHORTEST_TRIAL_FRACTION
from ..validation import MoodReaderInputError, fail

TEMPLATE_DIR = Path(__file__).resolve().parent / "template"
SPACE_FILES: tuple[str, ...] = (
    "app.py", "space.json", "requirements.txt", "README.md",
    "moodreader_explain/__init__.py", "moodreader_explain/atomic.py", "moodreader_explain/importance.py",
    "moodreader_explain/validation.py",
)
"""Every file of a Space folder besides ``examples/`` and the optional ``model/``."""
REQUIREMENTS: tuple[str, ...] = ("torch", "transformers", "numpy", "scipy", "mne", "matplotlib", "gradio")
"""The distributions app.py imports (directly or through the model's remote code and the topomaps)."""
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
"""Where pip finds torch's CPU build (the Space's free hardware has no GPU; PyPI's default wheel carries CUDA)."""
MODEL_FOLDER = "model"
EXAMPLE_SECONDS = 30.0
MAX_EXAMPLE_SECONDS = 600.0
"""Longest example recording (the examples are simulated and shipped in the Space: keep them small)."""
SPACE_KIND = "space"
"""The :data:`~moodreader_hf.atomic.MARKER` kind of a Space folder."""
SHORT_DESCRIPTION = "EEG emotion recognition with Mood Reader"
"""The Hub allows at most 60 characters."""
SPACE_TAGS: tuple[str, ...] = ("eeg", "emotion-recognition", "affective-computing", "moodreader", "simulated-data")
INSTALL_HINT = "pip install 'moodreader-hf[space]'"
SHIPPED_INIT = ('"""Copies of moodreader-hf\'s importance.py, atomic.py and validation.py (electrode importance and '
                'topomaps), shipped with the Space so that it does not need the moodreader-hf package."""\n')


def _version(distribution: str) -> str:
    """The installed version of ``distribution`` without a local label (``2.13.0+cpu`` -> ``2.13.0``)."""
    try:
        return importlib.metadata.version(distribution).split("+")[0]
    except importlib.metadata.PackageNotFoundError:
        fail("publish-space", "requirements", f"{distribution} installed, to pin its version ({INSTALL_HINT})",
             "not installed")


def requirements_text() -> str:
    """``requirements.txt``: every distribution of :data:`REQUIREMENTS` pinned to its installed version."""
    lines = ["# The versions `moodreader publish-space` ran with; torch is the CPU build.",
             f"--extra-index-url {TORCH_CPU_INDEX}"]
    return "\n".join(lines + [f"{name}=={_version(name)}" for name in REQUIREMENTS]) + "\n"


def is_model_repo(folder: Path) -> bool:
    """Whether ``folder`` is a complete model repository folder (as ``moodreader publish`` writes)."""
    try:
        check_model_repo(folder)
    except MoodReaderInputError:
        return False
    return True


def write_examples(folder: str | os.PathLike, *, seconds: float = EXAMPLE_SECONDS, seed: int = 0) -> list[Path]:
    """Write one simulated recording per SEED emotion as ``folder/simulated-<emotion>.edf``: the first trial of that
    emotion from a one-subject, one-session run of the simulator (62 SEED electrodes, 200 Hz, ``seconds`` long at
    most). Returns the paths, in the order of the SEED labels."""
    import mne

    from ..recordings import iter_seed_raw
    from ..simulation import simulate_seed

    if importlib.util.find_spec("edfio") is None:
        fail(os.fspath(folder), "examples", f"edfio installed, to write EDF files ({INSTALL_HINT})", "not installed")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with tempfile.TemporaryDirectory(prefix="moodreader-examples-") as scratch:
        root = simulate_seed(scratch, n_subjects=1, n_sessions=1, trial_seconds=seconds, seed=seed, progress=False)
        first = {}
        for trial in iter_seed_raw(root):
            first.setdefault(trial.label, trial)
        for label, emotion in SEED_LABELS.items():
            trial = first[label]
            info = mne.create_info(list(SEED_CHANNEL_NAMES), float(trial.sfreq), "eeg")
            raw = mne.io.RawArray(np.asarray(trial.signal, dtype=np.float64) * 1e-6, info, verbose="error")
            path = folder / f"simulated-{emotion}.edf"
            with atomic_path(path) as temporary:
                mne.export.export_raw(temporary, raw, fmt="edf", overwrite=True, verbose="error")
            paths.append(path)
    return paths


def _model_reference(model: str, copy_model: bool) -> tuple[str, Path | None]:
    """``(what space.json names, local folder to copy or build from)`` for ``--model``."""
    local = Path(model)
    if local.exists():
        if not local.is_dir():
            fail(model, "model", "a model folder or a Hub repo id (owner/name)", "a file")
        if copy_model:
            return MODEL_FOLDER, local
        if not is_model_repo(local):
            fail(model, "model", "a model repository folder as `moodreader publish --local-dir` writes it "
                 "(config.json with custom_pipelines, remote code, handler.py, README.md), or --copy-model to "
                 "build one inside the Space", "a folder without them")
        return str(local.resolve()), None
    try:
        validate_repo_id(model)
    except HFValidationError as error:
        fail(model, "model", "an existing model folder or a Hub repo id (owner/name)", f"neither ({error})")
    if copy_model:
        fail(model, "--copy-model", "a local model folder to copy (a Hub model is loaded from the Hub)",
             "a Hub repo id")
    return model, None


def render_space_card(model: str, *, title: str, hub_model: bool, examples: list[str],
                      example_seconds: float) -> SpaceCard:
    """The Space's README: metadata for the Hub (``sdk: gradio`` at the installed version, ``app_file``,
    ``models`` when the model is on the Hub, ``short_description``, ``tags``) and usage text."""
    data = SpaceCardData(
        title=title,
        sdk="gradio",
        sdk_version=_version("gradio"),
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        app_file="app.py",
        license="apache-2.0",
        models=[model] if hub_model else None,
        tags=list(SPACE_TAGS),
        short_description=SHORT_DESCRIPTION,
        emoji="🧠",
        colorFrom="indigo",
        colorTo="pink",
        pinned=False,
    )
    return SpaceCard.from_template(
        data,
        template_path=str(TEMPLATE_DIR / "README.md"),
        title=title,
        model=model,
        model_url=f"https://huggingface.co/{model}" if hub_model else None,
        examples=examples,
        example_seconds=f"{example_seconds:g}",
        package_version=_version("moodreader-hf"),
    )


def build_space(
    model: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    copy_model: bool = False,
    title: str = "Mood Reader EEG emotion recognition",
    example_seconds: float = EXAMPLE_SECONDS,
    overwrite: bool = False,
) -> Path:
    """Write the Space folder for ``model``.

    Args:
        model: A Hub repo id (the Space loads it from the Hub) or a local folder: a model repository folder
            (``moodreader publish --local-dir``), which the Space loads from its absolute path, or, with
            ``copy_model``, any model folder, copied (repository folder) or built into one (training output) as
            ``output_dir/model`` so the Space runs offline and can be uploaded with its model.
        output_dir: The Space folder to create (replaced only with ``overwrite``).
        copy_model: Put the model inside the Space (local folders only).
        title: The Space's title.
        example_seconds: Longest simulated example recording, in seconds.
        overwrite: Replace a Space folder written before.

    Returns:
        ``output_dir``.
    """
    output_dir = Path(output_dir)
    check_output_folder(output_dir, overwrite, kind=SPACE_KIND)
    shortest = 1.0 / SHORTEST_TRIAL_FRACTION
    if not (isinstance(example_seconds, (int, float)) and not isinstance(example_seconds, bool)
            and shortest <= example_seconds <= MAX_EXAMPLE_SECONDS):
        fail("build_space", "example_seconds", f"a length from {shortest:.2f} to {MAX_EXAMPLE_SECONDS:g} s",
             repr(example_seconds))
    reference, source = _model_reference(os.fspath(model), copy_model)
    if Path(os.fspath(model)).exists():
        check_classifier(model)
    requirements = requirements_text()
    with atomic_folder(output_dir, SPACE_KIND, overwrite=overwrite, field="--local-dir") as staging:
        if source is not None:
            if is_model_repo(source):
                shutil.copytree(source, staging / MODEL_FOLDER)
            else:
                build_model_repo(source, staging / MODEL_FOLDER)
        shutil.copyfile(TEMPLATE_DIR / "app.py", staging / "app.py")
        (staging / "space.json").write_text(json.dumps({"model": reference}, indent=2) + "\n", encoding="utf-8")
        (staging / "requirements.txt").write_text(requirements, encoding="utf-8")
        shipped = staging / "moodreader_explain"
        shipped.mkdir()
        (shipped / "__init__.py").write_text(SHIPPED_INIT, encoding="utf-8")
        for module in (atomic, importance, validation):
            shutil.copyfile(module.__file__, shipped / Path(module.__file__).name)
        examples = write_examples(staging / "examples", seconds=example_seconds)
        hub_model = source is None and not Path(reference).is_absolute()
        card = render_space_card(reference, title=title, hub_model=hub_model,
                                 examples=[path.name for path in examples], example_seconds=example_seconds)
        card.save(staging / "README.md")
    return output_dir


__all__ = ["REQUIREMENTS", "SPACE_FILES", "build_space", "is_model_repo", "render_space_card", "requirements_text",
           "write_examples"]
