"""Fine-tuning and evaluation with accelerate: the folds of a named protocol (:mod:`.protocols`), repeated for
each seed, early stopping on the fold's validation rows, the logistic-regression and linear-SVM baselines on the same
folds, and the report.

Per fold, DE is normalised with statistics of the fold's training and validation rows only; those statistics are
saved with the fold's model as its feature extractor (``preprocessor_config.json``), so inference normalises
identically. Test rows are scored per window (:mod:`.window_scores`) and per row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from ..atomic import replace_folder, write_text
from ..configuration_moodreader import MoodReaderConfig
from ..feature_extraction_moodreader import MoodReaderFeatureExtractor, normalization_statistics
from ..modeling_moodreader import MoodReaderForEmotionRecognition
from ..provenance import metadata_identity
from ..validation import fail
from .baseline import BASELINES, baseline_fold
from .contract import check_recipe_against_dataset, dataset_extractor, dataset_feature_config
from .data import (EEGTensors, batch_loader, fit_normalization, fitted_channel_mask, load_tensors, normalize,
                   normalize_eye, unrecorded_channels)
from .fold_pool import (SHARED_MEMORY, JobRunner, available_cpus, prepare_workers, shared_bytes, shared_memory_fits,
                        worker_count)
from .folds import Fold, isolation_record, split_validation
from .metrics import accuracy, macro_f1, scores
from .pretrain import check_loss
from .protocols import Rows, SplitSettings, make_folds
from .recipe import Recipe
from .report import build_report, write_evaluation_pointer, write_report
from .runtime import accumulation_steps, check_batch_size, compile_if_asked, make_accelerator, runtime_info
from .summary import RowPredictions, summarise
from .transfer import Transfer, overlap_section, read_pretraining_record, transfer_pretrained
from .window_scores import WindowPredictions, trial_keys, window_predictions

BatchCallback = Callable[[str, str, torch.Tensor], None]
"""Called as ``callback(fold_name, phase, rows)`` with the dataset rows of every batch fed to the model; ``phase``
is ``"train"``, ``"validation"`` or ``"test"``. With several seeds the fold name ends ``/seed-<seed>``."""


@dataclass
class TrainedFold:
    """A fold's model with its best weights, its feature extractor, the epoch the weights come from, and the rows
    its normalisation statistics were fitted on."""

    model: torch.nn.Module
    extractor: MoodReaderFeatureExtractor
    best_epoch: int
    validation_accuracy: float
    transfer: Transfer
    normalisation: np.ndarray


def uses_signal(recipe: Recipe, metadata: dict[str, Any]) -> bool:
    """Whether fine-tuning feeds the raw-signal stream: the recipe's ``finetune.use_signal``, where ``"auto"``
    means "when the dataset holds the raw signal"."""
    if recipe.finetune.use_signal == "auto":
        return bool(metadata.get("include_signal"))
    return bool(recipe.finetune.use_signal)


def dataset_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of the built dataset at ``path`` (checked by :func:`moodreader_hf.builders.load_built_dataset`)."""
    from ..builders import load_built_dataset

    if not Path(path).exists():
        fail(str(path), "(folder)", "a dataset folder written by moodreader_hf.builders.build_dataset", "no such folder")
    return load_built_dataset(path)[1]


def fold_inputs(tensors: EEGTensors, rows: np.ndarray, de: torch.Tensor, eye: torch.Tensor | None = None, *,
                use_signal: bool, use_eye: bool, signal_states: torch.Tensor | None = None,
                channel_mask: torch.Tensor | None = None, state_rows: np.ndarray | None = None
                ) -> dict[str, torch.Tensor]:
    """The tensors of ``rows``: normalised ``de``, ``channel_mask`` (``tensors``' unless given: the fold's, see
    :func:`~.data.fitted_channel_mask`), ``labels``, ``row`` and, if used, the raw signal (as ``signal``, or as its
    frozen encoding ``signal_states`` when given, see :func:`frozen_signal_states`; row ``i``'s at ``state_rows[i]``
    when given) and the normalised ``eye``."""
    index = torch.as_tensor(rows, dtype=torch.long)
    mask = tensors.channel_mask if channel_mask is None else channel_mask
    inputs = {"de": de[index], "channel_mask": mask[index], "labels": tensors.labels[index], "row": index}
    if use_signal and signal_states is not None:
        inputs["signal_states"] = signal_states[index if state_rows is None else torch.as_tensor(state_rows)[index]]
    elif use_signal:
        inputs["signal"] = tensors.signal[index]
    if use_eye:
        inputs["eye"] = eye[index]
    return inputs


def _forward(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Any:
    return model(de_features=batch["de"], eeg_signals=batch.get("signal"), eye_features=batch.get("eye"),
                 channel_mask=batch["channel_mask"], labels=batch["labels"],
                 signal_last_hidden_state=batch.get("signal_states"))


FROZEN_MODULES = ("moodreader.signal_embeddings", "moodreader.signal_encoder")
"""The modules ``finetune.freeze_signal_encoder`` keeps as pre-training left them (the raw-signal pooler trains)."""


def frozen_signal_states(recipe: Recipe, config: MoodReaderConfig, tensors: EEGTensors,
                         pretrained: str | Path | None, *, progress: bool, rows: np.ndarray | None = None,
                         channel_mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """With ``finetune.freeze_signal_encoder``, every row's raw signal encoded once by the pre-trained encoder:
    ``(rows, time * patches_per_window, channels, hidden)`` float32 (the model's ``signal_last_hidden_state``),
    shared by every fold, seed and epoch. ``None`` (the encoder trains like every other weight) when the recipe
    does not freeze it, the model has no raw-signal stream, or there is no pre-trained raw-signal encoder to keep
    (no ``pretrained`` folder, or one that trained another stream). Memory: rows x time x patches_per_window x
    channels x hidden x 4 bytes. ``rows`` (default: all) and ``channel_mask`` (default: ``tensors``') choose what
    is encoded."""
    if not recipe.finetune.freeze_signal_encoder or "signal" not in config.streams or pretrained is None:
        return None
    model = MoodReaderForEmotionRecognition(config)
    transfer = transfer_pretrained(model, pretrained, explicit_signal=recipe.finetune.use_signal is True)
    if not any(name.startswith(FROZEN_MODULES) for name in transfer.loaded):
        return None
    encoder = model.moodreader.eval()
    batch_size = recipe.finetune.batch_size
    index = torch.arange(len(tensors)) if rows is None else torch.as_tensor(rows, dtype=torch.long)
    mask = tensors.channel_mask if channel_mask is None else channel_mask
    states = []
    with torch.no_grad():
        for start in tqdm(range(0, len(index), batch_size), desc="frozen signal encoder", unit="batch",
                          disable=not progress):
            batch = index[start : start + batch_size]
            states.append(encoder(eeg_signals=tensors.signal[batch], channel_mask=mask[batch],
                                  return_dict=True).signal_last_hidden_state)
    return torch.cat(states)


def fold_channels(tensors: EEGTensors, config: MoodReaderConfig, train: np.ndarray, validation: np.ndarray
                  ) -> tuple[list[str], torch.Tensor]:
    """The electrodes no ``train`` or ``validation`` row recorded (the fold model's ``unfitted_channels``) and
    ``tensors.channel_mask`` with them masked in every row, as the fold model's feature extractor masks them."""
    unfitted = unrecorded_channels(tensors.channel_mask[np.concatenate([train, validation])], config.channel_names)
    return unfitted, fitted_channel_mask(tensors.channel_mask, config.channel_names, unfitted)


def check_fold_electrodes(tensors: EEGTensors, config: MoodReaderConfig, folds: list[Fold], source: str) -> None:
    """Refuse, before any training, a fold whose test rows include one that records none of the electrodes the
    fold's training rows recorded: with those masked it has nothing left to classify."""
    for fold in folds:
        unfitted, mask = fold_channels(tensors, config, fold.train, fold.validation)
        if not unfitted:
            continue
        blind = fold.test[~mask[fold.test].bool().any(dim=1).numpy()]
        if len(blind):
            row = int(blind[0])
            recorded = [name for name, here in zip(config.channel_names, tensors.channel_mask[row].tolist()) if here]
            fail(source, "channel_mask", f"test rows of fold {fold.name} that record some electrode its training "
                 f"subjects recorded", f"{len(blind)} rows (subject {tensors.subjects[row]}) recording only "
                 f"{recorded}, which no training subject of the fold has")


def _states_of_fold_tests(recipe: Recipe, config: MoodReaderConfig, tensors: EEGTensors,
                          pretrained: str | Path | None, signal_states: torch.Tensor, jobs: list[FoldJob]
                          ) -> tuple[torch.Tensor, list[FoldJob]]:
    """Frozen encodings for the test rows that record electrodes their fold never trained on: those rows encoded
    again with the electrodes masked (as inference on the fold model would encode them), appended to
    ``signal_states``; each such job's ``state_rows`` maps a row to its encoding. Usually nothing changes."""
    extra, offset, mapped = [], len(signal_states), {}
    for position, job in enumerate(jobs):
        if job.fold is None:
            continue
        if job.fold.name not in mapped:
            _, mask = fold_channels(tensors, config, job.fold.train, job.fold.validation)
            changed = job.fold.test[(mask[job.fold.test] != tensors.channel_mask[job.fold.test]).any(dim=1).numpy()]
            mapped[job.fold.name] = None
            if len(changed):
                extra.append(frozen_signal_states(recipe, config, tensors, pretrained, progress=False, rows=changed,
                                                  channel_mask=mask))
                state_rows = np.arange(len(tensors))
                state_rows[changed] = offset + np.arange(len(changed))
                offset += len(changed)
                mapped[job.fold.name] = state_rows
        jobs[position] = replace(job, state_rows=mapped[job.fold.name])
    return (torch.cat([signal_states, *extra]) if extra else signal_states), jobs


def _trainable_parameters(model: torch.nn.Module, frozen: bool) -> list[torch.nn.Parameter]:
    """The parameters the optimiser updates: all, or all but those of :data:`FROZEN_MODULES` (which stop
    requiring gradients)."""
    if frozen:
        for name, parameter in model.named_parameters():
            if name.startswith(FROZEN_MODULES):
                parameter.requires_grad_(False)
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


def evaluate(model: torch.nn.Module, loader: Any, accelerator: Accelerator, *, fold: str, phase: str,
             callback: BatchCallback | None) -> dict[str, np.ndarray]:
    """Logits, labels and rows of every row of ``loader`` gathered from all processes (``gather_for_metrics``,
    so padding duplicates are dropped), in the loader's order."""
    model.eval()
    gathered: dict[str, list[torch.Tensor]] = {"logits": [], "labels": [], "row": []}
    with torch.no_grad():
        for batch in loader:
            if callback is not None:
                callback(fold, phase, batch["row"].cpu())
            logits = _forward(model, batch).logits.float()
            result = accelerator.gather_for_metrics({"logits": logits, "labels": batch["labels"], "row": batch["row"]})
            for name, value in result.items():
                gathered[name].append(value.cpu())
    model.train()
    return {name: torch.cat(values).numpy() for name, values in gathered.items()}


def scored_windows(tensors: EEGTensors, result: dict[str, np.ndarray]) -> WindowPredictions:
    """The windows of the rows of ``result`` (from :func:`evaluate`) scored with their rows' logits."""
    rows = result["row"]
    return window_predictions(tensors.subjects[rows], tensors.sessions[rows], tensors.trials[rows],
                              tensors.starts[rows], result["labels"], result["logits"], int(tensors.de.shape[1]))


def train_fold(
    accelerator: Accelerator,
    recipe: Recipe,
    config: MoodReaderConfig,
    tensors: EEGTensors,
    *,
    name: str,
    number: int,
    train: np.ndarray,
    validation: np.ndarray,
    pretrained: str | Path | None,
    progress: bool,
    callback: BatchCallback | None = None,
    seed: int | None = None,
    signal_states: torch.Tensor | None = None,
) -> TrainedFold:
    """Fit normalisation on ``train`` and ``validation`` rows (never a test row), train with early stopping on
    the per-window accuracy of ``validation`` (ties: lower loss), and return the model holding its best weights.
    With ``finetune.keep: last`` the weights after the last epoch are kept instead (no early stopping).
    ``seed`` (default: the recipe's) and ``number`` seed the initialisation and the batch order. With
    ``signal_states`` (:func:`frozen_signal_states`) the raw-signal encoder is frozen and its cached output fed."""
    settings = recipe.finetune
    run_seed = (recipe.seed if seed is None else seed) * 1_000_003 + number
    fitted = np.concatenate([train, validation])
    de_mean, de_std = fit_normalization(tensors.de[fitted], tensors.channel_mask[fitted])
    unfitted, channel_mask = fold_channels(tensors, config, train, validation)
    de = normalize(tensors.de, channel_mask, de_mean, de_std)
    eye_mean = eye_std = eye = None
    if settings.use_eye:
        eye_mean, eye_std = normalization_statistics(tensors.eye[fitted].numpy(), feature_axes=1)
        eye = normalize_eye(tensors.eye, eye_mean, eye_std)
    extractor = dataset_extractor(tensors.metadata, config, de_mean=de_mean, de_std=de_std, eye_mean=eye_mean,
                                  eye_std=eye_std, unfitted_channels=unfitted)
    torch.manual_seed(run_seed)
    model = MoodReaderForEmotionRecognition(config)
    transfer = transfer_pretrained(model, pretrained, explicit_signal=settings.use_signal is True)
    trainable = _trainable_parameters(model, frozen=signal_states is not None)
    model = compile_if_asked(model, recipe.compile)
    # the fused kernel updates every tensor in one call: on the tiny recipe 1.7 ms a step instead of 7.7 ms
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay,
                                  fused=accelerator.device.type in ("cpu", "cuda"))
    flags = {"use_signal": "signal" in config.streams, "use_eye": settings.use_eye, "signal_states": signal_states,
             "channel_mask": channel_mask}
    train_loader = batch_loader(fold_inputs(tensors, train, de, eye, **flags), batch_size=settings.batch_size,
                                shuffle=True, seed=run_seed, drop_last=len(train) >= settings.batch_size)
    validation_loader = batch_loader(fold_inputs(tensors, validation, de, eye, **flags), batch_size=settings.batch_size,
                                     shuffle=False, seed=0, drop_last=False)
    model, optimizer, train_loader, validation_loader = accelerator.prepare(
        model, optimizer, train_loader, validation_loader)
    best = (-1.0, float("inf"))
    best_epoch, best_state = -1, None
    bar = tqdm(total=settings.epochs * len(train_loader), desc=f"fold {name}", unit="batch",
               disable=not (progress and accelerator.is_local_main_process))
    step = 0
    model.train()
    for epoch in range(settings.epochs):
        train_loader.set_epoch(epoch)
        for batch_index, batch in enumerate(train_loader):
            if callback is not None:
                callback(name, "train", batch["row"].cpu())
            with accelerator.accumulate(model):
                loss = _forward(model, batch).loss
                value = check_loss(loss, accelerator, what=f"fine-tuning fold {name}", step=step + 1, epoch=epoch,
                                   batch=batch_index, rows=batch["row"], checkpoint=None)
                accelerator.backward(loss)
                optimizer.step()
                optimizer.zero_grad()
            step += 1
            bar.update()
            bar.set_postfix(epoch=epoch, loss=f"{value:.4f}")
        result = evaluate(model, validation_loader, accelerator, fold=name, phase="validation", callback=callback)
        windows = scored_windows(tensors, result)
        score = (accuracy(windows.labels, windows.predictions),
                 float(torch.nn.functional.cross_entropy(torch.from_numpy(result["logits"]),
                                                         torch.from_numpy(result["labels"]))))
        improved = score[0] > best[0] or (score[0] == best[0] and score[1] < best[1])
        if improved or settings.keep == "last":
            best, best_epoch = score, epoch
            best_state = {key: value.detach().clone() for key, value in
                          accelerator.unwrap_model(model).state_dict().items()}
        elif epoch - best_epoch >= settings.patience:
            break
    bar.close()
    accelerator.unwrap_model(model).load_state_dict(best_state)
    return TrainedFold(model, extractor, best_epoch, best[0], transfer, np.sort(fitted))


def save_fold_model(trained: TrainedFold, accelerator: Accelerator, folder: Path) -> None:
    """``save_pretrained`` the fold's model and its feature extractor (with the remote-code file) into ``folder``."""
    if accelerator.is_main_process:
        temporary = folder.with_name(f".tmp-{folder.name}")
        temporary.parent.mkdir(parents=True, exist_ok=True)
        accelerator.unwrap_model(trained.model).save_pretrained(temporary)
        trained.extractor.register_for_auto_class("AutoFeatureExtractor")
        trained.extractor.save_pretrained(temporary)
        replace_folder(temporary, folder)
    accelerator.wait_for_everyone()


PREDICTION_COLUMNS = ("row", "subject", "session", "trial", "start", "windows", "label", "prediction")
"""The leading columns of ``predictions.csv``; ``logit_<class>`` columns follow (9 significant digits)."""


def _predictions_csv(tensors: EEGTensors, result: dict[str, np.ndarray], label_names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*PREDICTION_COLUMNS, *[f"logit_{name}" for name in label_names]])
    windows = int(tensors.de.shape[1])
    for row, label, logits in zip(result["row"], result["labels"], result["logits"]):
        writer.writerow([int(row), tensors.subjects[row], tensors.sessions[row], int(tensors.trials[row]),
                         int(tensors.starts[row]), windows, label_names[label], label_names[int(logits.argmax())],
                         *[f"{value:.9g}" for value in logits]])
    return buffer.getvalue()


def finetune_config(recipe: Recipe, tensors: EEGTensors, source: str) -> MoodReaderConfig:
    """The architecture of ``recipe`` with the dataset's classes, montage (its stored electrodes, in order) and
    streams (DE, plus the raw signal when the dataset holds it and the recipe uses it), checked against the
    dataset's columns."""
    names = tensors.label_names or [str(index) for index in range(int(tensors.labels.max()) + 1)]
    montage = list(tensors.metadata.get("channel_names") or recipe.model_config().channel_names)
    streams = ["de", "signal"] if tensors.signal is not None else ["de"]
    config = recipe.model_config(num_labels=len(names), id2label=dict(enumerate(names)),
                                 label2id={name: index for index, name in enumerate(names)}, channel_names=montage,
                                 num_channels=len(montage), streams=streams,
                                 **dataset_feature_config(recipe, tensors.metadata))
    if config.num_bands != tensors.de.shape[3]:
        fail(source, "de", f"{config.num_bands} bands (model.num_bands)", f"{tensors.de.shape[3]} bands")
    if recipe.finetune.use_eye and tensors.eye is not None and config.eye_feature_size != tensors.eye.shape[-1]:
        fail(source, "eye", f"{config.eye_feature_size} features per window (model.eye_feature_size)",
             f"{tensors.eye.shape[-1]}")
    if config.eye_feature_size and not recipe.finetune.use_eye:
        fail("recipe", "finetune.use_eye", "true when model.eye_feature_size > 0", "false")
    return config


def load_fold_tensors(recipe: Recipe, dataset_path: str | Path) -> EEGTensors:
    """The columns fine-tuning needs, in the dataset's own montage: DE and labels, the raw signal when
    :func:`uses_signal`, the eye features when the recipe uses them."""
    metadata = dataset_metadata(dataset_path)
    check_recipe_against_dataset(recipe, metadata, str(dataset_path), uses_signal=uses_signal(recipe, metadata))
    need = ["de", "label"] + ["signal"] * uses_signal(recipe, metadata) + ["eye"] * recipe.finetune.use_eye
    montage = metadata.get("channel_names") or recipe.model_config().channel_names
    return load_tensors(dataset_path, channel_names=montage, need=need)


def check_pretraining_overlap(recipe: Recipe, tensors: EEGTensors, folds: list[Fold],
                              pretrained: str | Path | None, accelerator: Accelerator) -> dict[str, Any] | None:
    """The test subjects the pre-training also saw; with ``finetune.pretraining_overlap: error`` any such subject
    stops the run before training, with ``warn`` it is printed (and always reported)."""
    if pretrained is None:
        return None
    record = read_pretraining_record(pretrained)
    subjects = sorted(set(tensors.subjects.tolist()))
    tested = sorted({subject for fold in folds for subject in np.unique(tensors.subjects[fold.test]).tolist()})
    overlap = overlap_section(Transfer(str(pretrained), record), metadata_identity(tensors.metadata), subjects,
                              tested, recipe.finetune.pretraining_overlap)
    seen = overlap["test_subjects_seen_in_pretraining"]
    if seen and recipe.finetune.pretraining_overlap == "error":
        fail(str(pretrained), "pretraining_overlap", f"pre-training that saw none of the test subjects of "
             f"{overlap['dataset_id']!r} (finetune.pretraining_overlap: error)", f"test subjects {seen}")
    if seen:
        accelerator.print(f"warning: the pre-training ({pretrained}) saw test subjects {seen} of "
                          f"{overlap['dataset_id']!r}; the report lists them.")
    return overlap



def split_settings(recipe: Recipe, metadata: dict[str, Any], split_file: str | Path | None = None) -> SplitSettings:
    """What the recipe (and ``--split-file``) says about the folds, with the dataset's layout."""
    settings = recipe.finetune
    chosen = split_file if split_file is not None else settings.split_file
    return SplitSettings(validation=settings.validation, fraction=settings.validation_fraction,
                         split_seed=recipe.seed, layout=metadata.get("layout"), train_trials=settings.train_trials,
                         kfold=settings.kfold, split_file=None if chosen is None else str(chosen))


@dataclass(frozen=True)
class FoldJob:
    """One model to train: a fold of the protocol for one seed (tested, saved under ``folder``), or, with
    ``fold`` ``None``, the final model on every subject (saved to ``folder``, not tested)."""

    name: str
    number: int
    seed: int
    fold: Fold | None
    folder: Path
    state_rows: np.ndarray | None = None
    """Where each row's frozen raw-signal encoding is (``None``: at the row's index); see
    :func:`_states_of_fold_tests`."""


@dataclass
class FoldResult:
    """What a :class:`FoldJob` gives back: its report entry, test windows and rows (``None`` for the final model),
    the transfer record and, when the run has a callback, the batches it fed (``(fold, phase, rows)``, rows as
    arrays: they travel back from a worker)."""

    entry: dict[str, Any] | None
    windows: WindowPredictions | None
    rows: RowPredictions | None
    transfer: Transfer
    batches: list[tuple[str, str, np.ndarray]]


@dataclass
class _RunState:
    """What every job of a run shares (sent once to each fold worker; tensors through shared memory)."""

    recipe: Recipe
    config: MoodReaderConfig
    tensors: EEGTensors
    signal_states: torch.Tensor | None
    pretrained: str | Path | None
    output_dir: Path
    label_names: list[str]
    progress: bool
    quiet_libraries: bool
    record_batches: bool
    mixed_precision: str | None
    gradient_accumulation_steps: int
    accelerator: Accelerator | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "accelerator": None}

    def get_accelerator(self) -> Accelerator:
        """The accelerator of this process (a fold worker makes its own on its first job)."""
        if self.accelerator is None:
            self.accelerator = make_accelerator(mixed_precision=self.mixed_precision,
                                                recipe_mixed_precision=self.recipe.finetune.mixed_precision,
                                                gradient_accumulation_steps=self.gradient_accumulation_steps)
        return self.accelerator


def all_subjects_split(recipe: Recipe, tensors: EEGTensors) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) rows of the final model: every subject, a ``validation_fraction`` of the trials held
    out for early stopping; tail rows in neither."""
    groups = trial_keys(tensors.subjects, tensors.sessions, tensors.trials)
    return split_validation(np.flatnonzero(~tensors.tail), groups, recipe.finetune.validation_fraction, recipe.seed)


def run_job(state: _RunState, job: FoldJob) -> FoldResult:
    """Train (and, for a fold, test and save) the model of ``job``; runs in a fold worker or in the caller."""
    if state.quiet_libraries:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    accelerator = state.get_accelerator()
    batches: list[tuple[str, str, np.ndarray]] = []
    callback = (lambda fold, phase, rows: batches.append((fold, phase, rows.numpy()))) if state.record_batches else None
    recipe, tensors = state.recipe, state.tensors
    progress = state.progress and accelerator.is_local_main_process
    if job.fold is None:
        train, validation = all_subjects_split(recipe, tensors)
    else:
        train, validation = job.fold.train, job.fold.validation
    trained = train_fold(accelerator, recipe, state.config, tensors, name=job.name, number=job.number,
                         train=train, validation=validation, pretrained=state.pretrained, progress=progress,
                         callback=callback, seed=job.seed, signal_states=state.signal_states)
    if job.fold is None:
        save_fold_model(trained, accelerator, job.folder)
        accelerator.free_memory()
        return FoldResult(None, None, None, trained.transfer, batches)
    entry, scored, by_row = _test_fold(accelerator, tensors, job.fold, trained, job.folder, state.output_dir,
                                       state.label_names, callback, name=job.name, use_eye=recipe.finetune.use_eye,
                                       batch_size=recipe.finetune.batch_size, signal_states=state.signal_states,
                                       state_rows=job.state_rows)
    accelerator.free_memory()
    return FoldResult({"seed": job.seed, **entry}, scored, by_row, trained.transfer, batches)


def _fold_jobs(folds: list[Fold], seeds: list[int], output_dir: Path, final_model: Path | None) -> list[FoldJob]:
    """Every (seed, fold) job, and first, being the longest (it trains on every subject), the final model's."""
    jobs = [FoldJob(fold.name if len(seeds) == 1 else f"{fold.name}/seed-{seed}", number, seed, fold,
                    output_dir / "folds" / fold.name / (f"seed-{seed}" if len(seeds) > 1 else ""))
            for seed in seeds for number, fold in enumerate(folds)]
    if final_model is not None:
        jobs.insert(0, FoldJob("all-subjects", len(folds), seeds[0], None, Path(final_model)))
    return jobs


def fold_workers_wanted(recipe: Recipe) -> bool:
    """Whether a run of ``recipe`` in this process would train its folds in workers: a single CPU process (no
    ``accelerate launch`` of several, no GPU) with ``finetune.fold_workers`` (or ``MOODREADER_FOLD_WORKERS``)
    allowing two or more."""
    single_cpu_process = int(os.environ.get("WORLD_SIZE", "1")) == 1 and not torch.cuda.is_available()
    return worker_count(recipe.finetune.fold_workers, available_cpus(), single_cpu_process=single_cpu_process) > 0


def prepare_fold_workers(recipe: Recipe) -> None:
    """Start the fold workers' fork server now (:func:`.fold_pool.prepare_workers`) when a run of ``recipe``
    would use workers (:func:`fold_workers_wanted`), so their imports overlap the work before the folds."""
    if fold_workers_wanted(recipe):
        prepare_workers()


def _workers(recipe: Recipe, jobs: int, accelerator: Accelerator, shared: list[torch.Tensor | None]) -> int:
    """Fold workers for this run (:func:`.fold_pool.worker_count`), 0 when the shared tensors do not fit in
    shared memory (said once)."""
    workers = worker_count(recipe.finetune.fold_workers, jobs,
                           single_cpu_process=accelerator.num_processes == 1 and accelerator.device.type == "cpu")
    if workers and not shared_memory_fits(shared_bytes(shared)):
        accelerator.print(f"note: folds run one after the other: {SHARED_MEMORY} has less room than the "
                          f"{shared_bytes(shared) / 2**20:.0f} MiB of tensors {workers} fold workers would share")
        return 0
    return workers


def run_finetuning(
    recipe: Recipe,
    dataset_path: str | Path,
    output_dir: str | Path,
    *,
    protocol: str | None = None,
    seeds: list[int] | None = None,
    split_file: str | Path | None = None,
    pretrained: str | Path | None = None,
    mixed_precision: str | None = None,
    gradient_accumulation_steps: int | None = None,
    progress: bool = True,
    callback: BatchCallback | None = None,
    final_model: str | Path | None = None,
) -> dict[str, Any]:
    """Run every fold of ``protocol`` (default: the recipe's) for every seed of ``seeds`` (default: the recipe's
    ``finetune.seeds``, else its ``seed``) on the built dataset, fit the baselines on the same folds, and write
    the results. On a single-process CPU run the folds train side by side in ``finetune.fold_workers`` worker
    processes (:mod:`.fold_pool`) while the baselines are fitted.

    Writes ``output_dir/folds/<fold>/model`` (``save_pretrained`` + feature extractor) and ``.../predictions.csv``
    (``folds/<fold>/seed-<seed>/...`` with several seeds), and ``output_dir/report.json``, ``report.md``,
    ``confusion_matrix.png``. With ``final_model`` (a folder) it also trains the model to publish: every subject,
    early stopping on a share of their trials (:func:`all_subjects_split`), saved there. Returns the report
    (``None`` on processes other than the main one).
    """
    output_dir = Path(output_dir)
    settings = recipe.finetune
    protocol = protocol or settings.protocol
    seeds = list(seeds or settings.seeds or [recipe.seed])
    steps = accumulation_steps(gradient_accumulation_steps, settings.gradient_accumulation_steps)
    accelerator = make_accelerator(mixed_precision=mixed_precision, recipe_mixed_precision=settings.mixed_precision,
                                   gradient_accumulation_steps=steps)
    check_batch_size(settings.batch_size, accelerator, "finetune.batch_size")
    prepare_fold_workers(recipe)
    tensors = load_fold_tensors(recipe, dataset_path)
    config = finetune_config(recipe, tensors, str(dataset_path))
    label_names = [config.id2label[index] for index in range(config.num_labels)]
    folds = make_folds(protocol, Rows(tensors.subjects, tensors.sessions, tensors.trials, tensors.tail),
                       split_settings(recipe, tensors.metadata, split_file))
    check_fold_electrodes(tensors, config, folds, str(dataset_path))
    overlap = check_pretraining_overlap(recipe, tensors, folds, pretrained, accelerator)
    main_progress = progress and accelerator.is_local_main_process
    signal_states = frozen_signal_states(recipe, config, tensors, pretrained, progress=main_progress)
    jobs = _fold_jobs(folds, seeds, output_dir, final_model)
    if signal_states is not None:
        signal_states, jobs = _states_of_fold_tests(recipe, config, tensors, pretrained, signal_states, jobs)
        tensors = replace(tensors, signal=None)
    workers = _workers(recipe, len(jobs), accelerator,
                       [tensors.de, tensors.channel_mask, tensors.labels, tensors.eye, tensors.signal, signal_states])
    state = _RunState(recipe, config, tensors, signal_states, pretrained, output_dir, label_names,
                      progress=main_progress and not workers, quiet_libraries=bool(workers),
                      record_batches=callback is not None,
                      mixed_precision=mixed_precision, gradient_accumulation_steps=steps,
                      accelerator=None if workers else accelerator)
    windows: dict[int, list[WindowPredictions]] = {seed: [] for seed in seeds}
    rows: dict[int, list[RowPredictions]] = {seed: [] for seed in seeds}
    entries = []
    transfer = None
    bar = tqdm(total=len(jobs), desc=f"models on {workers} workers", unit="model",
               disable=not (main_progress and workers))
    with JobRunner(run_job, jobs, state, workers, on_done=bar.update) as runner:
        baselines = _baselines(recipe, tensors, folds, config.num_labels) if accelerator.is_main_process else None
        for job, result in zip(jobs, runner.results()):
            if callback is not None:
                for fold_name, phase, batch_rows in result.batches:
                    callback(fold_name, phase, torch.from_numpy(batch_rows))
            if transfer is None:
                transfer = result.transfer
                accelerator.print(f"pre-training: {transfer.note} ({len(transfer.loaded)} tensors loaded, "
                                  f"{len(transfer.fresh)} fresh)")
            if result.entry is not None:
                entries.append(result.entry)
                windows[job.seed].append(result.windows)
                rows[job.seed].append(result.rows)
        bar.close()
    report = None
    if accelerator.is_main_process:
        summary = summarise(windows, rows, *baselines, num_classes=config.num_labels, eye=settings.use_eye)
        report = build_report(
            recipe=recipe, protocol=protocol, seeds=seeds, dataset_path=dataset_path, tensors=tensors,
            folds=entries, summary=summary, num_classes=config.num_labels,
            pretraining={**transfer.summary(), "overlap": overlap,
                         "signal_encoder": "frozen" if signal_states is not None else "fine-tuned"},
            runtime={**runtime_info(accelerator), "fold_workers": workers})
        write_report(output_dir, report, summary["confusion_matrix_counts"], label_names)
        for entry in entries:
            write_evaluation_pointer(output_dir / entry["model"], output_dir / "report.json", fold=entry["name"],
                                     seed=entry["seed"])
    accelerator.wait_for_everyone()
    return report


def _test_fold(accelerator: Accelerator, tensors: EEGTensors, fold: Fold, trained: TrainedFold, folder: Path,
               output_dir: Path, label_names: list[str], callback: BatchCallback | None, *, name: str,
               use_eye: bool, batch_size: int, signal_states: torch.Tensor | None, state_rows: np.ndarray | None
               ) -> tuple[dict[str, Any], WindowPredictions, RowPredictions]:
    channel_mask = fitted_channel_mask(tensors.channel_mask, trained.extractor.channel_names,
                                       trained.extractor.unfitted_channels)
    de = normalize(tensors.de, channel_mask, trained.extractor.de_mean, trained.extractor.de_std)
    eye = normalize_eye(tensors.eye, trained.extractor.eye_mean, trained.extractor.eye_std) if use_eye else None
    loader = accelerator.prepare(batch_loader(
        fold_inputs(tensors, fold.test, de, eye, use_signal=tensors.signal is not None or signal_states is not None,
                    use_eye=use_eye, signal_states=signal_states, channel_mask=channel_mask, state_rows=state_rows),
        batch_size=batch_size, shuffle=False, seed=0, drop_last=False))
    result = evaluate(trained.model, loader, accelerator, fold=name, phase="test", callback=callback)
    predictions = result["logits"].argmax(axis=1)
    scored = scored_windows(tensors, result)
    save_fold_model(trained, accelerator, folder / "model")
    if accelerator.is_main_process:
        write_text(folder / "predictions.csv", _predictions_csv(tensors, result, label_names))
    num_classes = len(label_names)
    entry = {
        "name": fold.name,
        "test_subject": fold.test_subject,
        "test_subjects": list(fold.test_subjects),
        "session": fold.session,
        "train_subjects": list(fold.train_subjects),
        "validation_subjects": list(fold.validation_subjects),
        "validation_by": fold.validation_by,
        **scores(scored.labels, scored.predictions, num_classes),
        "row_accuracy": accuracy(result["labels"], predictions),
        "row_macro_f1": macro_f1(result["labels"], predictions, num_classes),
        "n_test": int(len(predictions)),
        "n_test_windows": int(len(scored)),
        "n_train": int(len(fold.train)),
        "n_validation": int(len(fold.validation)),
        "best_epoch": trained.best_epoch,
        "validation_accuracy": trained.validation_accuracy,
        "model": (folder / "model").relative_to(output_dir).as_posix(),
        "predictions": (folder / "predictions.csv").relative_to(output_dir).as_posix(),
        "isolation": isolation_record(fold, tensors.subjects, trial_keys(tensors.subjects, tensors.sessions,
                                                                         tensors.trials),
                                      normalisation=trained.normalisation),
    }
    rows = result["row"]
    return entry, scored, RowPredictions(subjects=tensors.subjects[rows], sessions=tensors.sessions[rows],
                                         labels=result["labels"], predictions=predictions)


def _baselines(recipe: Recipe, tensors: EEGTensors, folds: list[Fold], num_classes: int
               ) -> tuple[dict[str, list[WindowPredictions]], dict[str, list[dict[str, Any]]]]:
    """Every baseline of :data:`.baseline.BASELINES` on every fold (they do not depend on the seed), on one
    BLAS/OpenMP thread: the fits are small enough that a second thread only waits (logistic regression on the
    demo's folds took 0.29 s per fit on one thread, 0.70 s on two), and the fold workers use the other CPUs."""
    from threadpoolctl import threadpool_limits

    predictions: dict[str, list[WindowPredictions]] = {kind: [] for kind in BASELINES}
    records: dict[str, list[dict[str, Any]]] = {kind: [] for kind in BASELINES}
    with threadpool_limits(limits=1):
        for kind in BASELINES:
            for fold in folds:
                scored, record = baseline_fold(kind, tensors, fold, num_classes, grid=recipe.finetune.baseline_c,
                                               use_eye=recipe.finetune.use_eye)
                predictions[kind].append(scored)
                records[kind].append({"fold": fold.name, **record})
    return predictions, records
