"""The main job in one call: simulate (or read SEED), build, build a pre-training corpus, pre-train briefly,
evaluate LOSO, and train the publishable model.

Decisions, stated once:
- The dataset is built from the raw recordings (``seed-raw`` with the signal kept), so fine-tuning uses the
  pre-trained raw-signal encoder, fused with the DE stream at the token level.
- Pre-training reads a corpus of raw EEG. On simulated data it is simulated subjects drawn apart from the evaluated
  ones (another seed), so no evaluated subject's EEG is seen before its fold, labelled or not. With ``seed_dir`` it
  is ``--corpus`` if given, otherwise a corpus of that download's own ``Preprocessed_EEG`` recordings (the report
  then lists every subject as seen in pre-training: unlabeled, but not a clean cross-subject estimate).
- ``DIR/model`` is trained on every evaluated subject with the same recipe (early stopping on a validation split of
  their trials) and normalised with all their rows but tail rows: the model one would publish. The LOSO report in
  ``DIR/report.json`` is the estimate of how it does on a new subject; a copy in ``DIR/model`` (saying so) lets
  ``moodreader publish DIR/model`` put those numbers and the simulated-data warning in the card.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..builders import build_dataset
from ..simulation import simulate_seed
from ..validation import fail
from .finetune import fold_workers_wanted, run_finetuning
from .fold_pool import JobRunner
from .pretrain import run_pretraining
from .recipe import Recipe, load_recipe
from .report import attach_report

DEMO_RECIPE = Path(__file__).resolve().parent / "recipes" / "moodreader-tiny.yaml"
DEMO_SUBJECTS = 5
PRETRAIN_SUBJECTS = 2


@dataclass
class DemoResult:
    """Where the demo wrote its results."""

    report: Path
    model: Path
    report_markdown: Path
    confusion_matrix: Path
    simulated: bool
    accuracy_mean: float
    accuracy_std: float
    chance_level: float
    baseline_accuracy: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    beside_seconds: dict[str, float] = field(default_factory=dict)


class _Stages:
    """Wall time of each stage of the demo, in seconds: ``seconds`` one after the other (they add up to the whole
    run), ``beside`` those that ran in a worker meanwhile."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.beside: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now

    def split(self, parts: dict[str, float]) -> None:
        """The time since the last stage, made of ``parts`` (their own measures, in this order)."""
        self.seconds.update(parts)
        self._last = time.perf_counter()


def _build(recipe: Recipe, root: Path, output: Path, progress: bool) -> Path:
    return build_dataset(recipe.dataset.layout, root, output, sequence_windows=recipe.dataset.sequence_windows,
                         stride=recipe.dataset.stride, smoothing=recipe.dataset.smoothing,
                         include_signal=recipe.dataset.include_signal, progress=progress)


def _build_corpus(recipe: Recipe, root: Path, output: Path, progress: bool) -> Path:
    from ..builders import build_corpus

    config = recipe.model_config()
    return build_corpus([root], output, layout="seed-raw", sampling_rate=config.sampling_rate,
                        window_seconds=config.window_seconds, sequence_windows=recipe.dataset.sequence_windows,
                        progress=progress)


@dataclass
class _PretrainingJob:
    """The corpus (simulated, the SEED download's own recordings, or given) and the pre-training of one demo."""

    recipe: Recipe
    data: Path
    output_dir: Path
    seed_dir: Path | None
    corpus: Path | None
    progress: bool
    in_worker: bool


def _corpus_and_pretraining(shared: object, job: _PretrainingJob) -> tuple[Path, float, float]:
    """Build the corpus if none was given, then pre-train; returns the pre-trained folder and the seconds each took.
    Runs in a worker beside the data stage (no progress bars there, transformers' included: they would cut
    through the data stage's), or in the demo's process (:func:`run_demo`)."""
    if job.in_worker:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    started = time.perf_counter()
    corpus = job.corpus
    if corpus is None:
        if job.seed_dir is None:
            corpus_root = simulate_seed(job.data / "simulated-pretrain", n_subjects=PRETRAIN_SUBJECTS, n_sessions=1,
                                        seed=job.recipe.seed + 1, progress=job.progress)
        else:
            corpus_root = job.seed_dir
        corpus = _build_corpus(job.recipe, corpus_root, job.data / "pretrain-corpus", job.progress)
    built = time.perf_counter()
    pretrained = run_pretraining(job.recipe, corpus_paths=[corpus], output_dir=job.output_dir / "pretrain",
                                 overwrite=True, progress=job.progress)
    return pretrained, built - started, time.perf_counter() - built


def run_demo(
    output_dir: str | Path, *, seed_dir: str | Path | None = None, recipe_path: str | Path | None = None,
    corpus: str | Path | None = None, progress: bool = True,
) -> DemoResult:
    """Run the whole job into ``output_dir``: ``data/``, ``pretrain/``, ``folds/``, ``report.json``,
    ``report.md``, ``confusion_matrix.png`` and ``model/``. ``seed_dir`` is a real SEED download (the recipe's
    layout is read from it: ``Preprocessed_EEG`` for ``seed-raw``, ``ExtractedFeatures`` for ``seed``); without it
    the data is simulated. ``corpus`` is a corpus folder (``moodreader build-corpus``) to pre-train on.

    When the folds will train in worker processes (:func:`.finetune.fold_workers_wanted`), the corpus and the
    pre-training run in one such worker, on one thread, while this process simulates and builds the dataset: the
    data stage uses one CPU, and pre-training on one thread costs less CPU than on two (the stage times say which
    ran beside which). Otherwise they run after the data, here."""
    output_dir = Path(output_dir)
    recipe = load_recipe(recipe_path or DEMO_RECIPE)
    if recipe.dataset.layout not in ("seed", "seed-raw"):
        fail(str(recipe_path), "dataset.layout", "'seed' or 'seed-raw' for the demo", repr(recipe.dataset.layout))
    if seed_dir is not None:
        needed = "Preprocessed_EEG" if recipe.dataset.layout == "seed-raw" else "ExtractedFeatures"
        if not (Path(seed_dir) / needed).is_dir():
            fail(str(seed_dir), needed, f"a SEED download folder holding {needed}/ (dataset.layout "
                 f"{recipe.dataset.layout!r})", "no such folder")
        if corpus is None and not (Path(seed_dir) / "Preprocessed_EEG").is_dir():
            fail(str(seed_dir), "Preprocessed_EEG", "the raw recordings to pre-train on (or pass --corpus)",
                 "no such folder")
    data = output_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    beside = fold_workers_wanted(recipe)
    stages = _Stages()
    job = _PretrainingJob(recipe, data, output_dir, None if seed_dir is None else Path(seed_dir),
                          None if corpus is None else Path(corpus), progress and not beside, beside)
    with JobRunner(_corpus_and_pretraining, [job], None, 1 if beside else 0) as runner:
        if beside and progress:
            print("corpus and pre-training: in a worker process on one thread, beside the data stage")
        if seed_dir is None:
            root = simulate_seed(data / "simulated-seed", n_subjects=DEMO_SUBJECTS, seed=recipe.seed,
                                 progress=progress)
        else:
            root = Path(seed_dir)
        dataset = _build(recipe, root, data / "dataset", progress)
        stages.done("data")
        pretrained, corpus_seconds, pretraining_seconds = next(runner.results())
        parts = {"corpus": corpus_seconds, "pre-training": pretraining_seconds}
        if beside:
            stages.done("waiting for pre-training")
            stages.beside.update(parts)
        else:
            stages.split(parts)
    model = output_dir / "model"
    report = run_finetuning(recipe, dataset, output_dir, protocol="loso", pretrained=pretrained, progress=progress,
                            final_model=model)
    attach_report(model, output_dir, f"This model was trained with the same recipe on all {len(report['subjects'])} "
                  "evaluated subjects; the leave-one-subject-out numbers estimate how the recipe does on a new "
                  "subject.")
    shutil.rmtree(output_dir / "pretrain" / "checkpoints", ignore_errors=True)
    stages.done("LOSO evaluation and final model")
    return DemoResult(
        report=output_dir / "report.json", model=model, report_markdown=output_dir / "report.md",
        confusion_matrix=output_dir / "confusion_matrix.png", simulated=report["simulated"],
        accuracy_mean=report["accuracy_mean"], accuracy_std=report["accuracy_std"],
        chance_level=report["chance_level"],
        baseline_accuracy=report["baselines"]["logistic_regression"]["accuracy_mean"],
        stage_seconds=stages.seconds,
        beside_seconds=stages.beside,
    )
