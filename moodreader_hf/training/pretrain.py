"""Masked brain signal modelling (MBSM) pre-training with accelerate, checkpointed and resumable.

Labels are ignored; every dataset's electrodes are mapped by name onto the model's montage. DE is normalised with
statistics of all pre-training rows (saved with the model as its feature extractor). The training state
(model, optimiser, scheduler, random generators) is saved with ``accelerator.save_state`` every
``checkpoint_every`` steps; a resumed run restores it and replays the same row order from the same epoch and batch,
so it ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from ..atomic import replace_folder, write_json
from ..feature_extraction_moodreader import MoodReaderFeatureExtractor
from ..modeling_moodreader import MoodReaderForMaskedEEGModeling
from ..validation import fail
from .data import EEGTensors, batch_loader, fit_normalization, load_tensors, normalize
from .recipe import Recipe
from .runtime import check_batch_size, make_accelerator, package_versions, runtime_info

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the batch, and the last good checkpoint."""


def check_loss(loss: torch.Tensor, accelerator: Accelerator, *, what: str, step: int, epoch: int, batch: int,
               rows: torch.Tensor, checkpoint: Path | None) -> float:
    """Mean ``loss`` over processes; raise :class:`TrainingDivergedError` on every process if it is not finite."""
    value = float(accelerator.reduce(loss.detach().float(), reduction="mean"))
    if not torch.isfinite(torch.tensor(value)):
        kept = f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was written yet"
        raise TrainingDivergedError(
            f"{what}: loss is {value} at step {step} (epoch {epoch}, batch {batch} of the epoch, dataset rows "
            f"{rows.tolist()[:8]}{' ...' if len(rows) > 8 else ''}); stopped, {kept}."
        )
    return value


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder under ``output_dir/checkpoints``, or ``None``."""
    folder = output_dir / CHECKPOINTS
    found = sorted(path for path in folder.glob("step-*") if (path / STATE_FILE).is_file()) if folder.is_dir() else []
    return found[-1] if found else None


def _save_checkpoint(accelerator: Accelerator, output_dir: Path, state: dict, keep: int) -> Path:
    folder = output_dir / CHECKPOINTS
    final = folder / f"step-{state['step']:08d}"
    temporary = folder / f".tmp-step-{state['step']:08d}"
    accelerator.save_state(str(temporary))
    if accelerator.is_main_process:
        write_json(temporary / STATE_FILE, state)
        replace_folder(temporary, final)
        for old in sorted(folder.glob("step-*"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


def pretraining_rows(
    parts: Sequence[EEGTensors], *, use_signal: bool
) -> tuple[dict[str, torch.Tensor], list[list[float]], list[list[float]]]:
    """Concatenate the rows of every dataset, normalised with statistics of all of them.

    Returns:
        ``({"de", "channel_mask", ["signal"], "row"}, de_mean, de_std)``.
    """
    windows = {part.de.shape[1] for part in parts}
    if len(windows) != 1:
        fail("pretraining", "dataset.sequence_windows", "the same number of windows per row in every dataset",
             f"{sorted(windows)}")
    de = torch.cat([part.de for part in parts])
    channel_mask = torch.cat([part.channel_mask for part in parts])
    mean, std = fit_normalization(de, channel_mask)
    rows = {"de": normalize(de, channel_mask, mean, std), "channel_mask": channel_mask, "row": torch.arange(len(de))}
    if use_signal:
        rows["signal"] = torch.cat([part.signal for part in parts])
    return rows, mean, std


def run_pretraining(
    recipe: Recipe,
    dataset_paths: Sequence[str | Path],
    output_dir: str | Path,
    *,
    resume: bool = False,
    mixed_precision: str | None = None,
    gradient_accumulation_steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Pre-train ``MoodReaderForMaskedEEGModeling`` as ``recipe.pretrain`` says and return ``output_dir/model``.

    Writes ``output_dir/checkpoints/step-*`` (full training state), ``output_dir/model`` (``save_pretrained``
    folder with the feature extractor holding the normalisation) and ``output_dir/pretrain_log.json`` (loss per
    step, recipe, versions, runtime). With ``resume`` it continues from the newest checkpoint.
    """
    output_dir = Path(output_dir)
    settings = recipe.pretrain
    accelerator = make_accelerator(
        mixed_precision=mixed_precision, recipe_mixed_precision=settings.mixed_precision,
        gradient_accumulation_steps=gradient_accumulation_steps or settings.gradient_accumulation_steps,
    )
    check_batch_size(settings.batch_size, accelerator, "pretrain.batch_size")
    checkpoint = latest_checkpoint(output_dir) if resume else None
    if resume and checkpoint is None:
        fail(str(output_dir / CHECKPOINTS), "step-*", "a checkpoint to resume from (--resume)", "none")
    if not dataset_paths:
        fail("pretraining", "datasets", "at least one built dataset", "none")
    config = recipe.model_config()
    need = ("de", "signal") if settings.use_signal else ("de",)
    parts = [load_tensors(path, channel_names=config.channel_names, need=need) for path in dataset_paths]
    rows, de_mean, de_std = pretraining_rows(parts, use_signal=settings.use_signal)
    torch.manual_seed(recipe.seed)
    model = MoodReaderForMaskedEEGModeling(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, settings.warmup_steps, settings.steps)
    loader = batch_loader(rows, batch_size=settings.batch_size, shuffle=True, seed=recipe.seed, drop_last=True)
    if len(loader) == 0:
        fail("pretraining", "pretrain.batch_size", f"at most the {len(rows['de'])} rows of the datasets",
             settings.batch_size)
    model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)
    state = {"step": 0, "epoch": 0, "batch_in_epoch": 0, "losses": []}
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / STATE_FILE).read_text())
    bar = tqdm(total=settings.steps, initial=state["step"], desc="pre-training", unit="step",
               disable=not (progress and accelerator.is_local_main_process))
    model.train()
    while state["step"] < settings.steps:
        loader.set_epoch(state["epoch"])
        for batch_index, batch in enumerate(loader):
            if batch_index < state["batch_in_epoch"]:
                continue
            with accelerator.accumulate(model):
                loss = model(de_features=batch["de"], eeg_signals=batch.get("signal"),
                             channel_mask=batch["channel_mask"]).loss
                value = check_loss(loss, accelerator, what="pre-training", step=state["step"] + 1,
                                   epoch=state["epoch"], batch=batch_index, rows=batch["row"], checkpoint=checkpoint)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            state["batch_in_epoch"] = batch_index + 1
            if not accelerator.sync_gradients:
                continue
            state["step"] += 1
            state["losses"].append(value)
            bar.update()
            bar.set_postfix(epoch=state["epoch"], loss=f"{value:.4f}")
            if state["step"] % settings.checkpoint_every == 0 or state["step"] == settings.steps:
                checkpoint = _save_checkpoint(accelerator, output_dir, state, settings.keep_checkpoints)
            if state["step"] >= settings.steps:
                break
        else:
            state["epoch"] += 1
            state["batch_in_epoch"] = 0
    bar.close()
    model_dir = output_dir / "model"
    if accelerator.is_main_process:
        temporary = output_dir / ".tmp-model"
        accelerator.unwrap_model(model).save_pretrained(temporary)
        extractor = MoodReaderFeatureExtractor.from_model_config(
            config, smoothing=recipe.dataset.smoothing, de_mean=de_mean, de_std=de_std)
        extractor.save_pretrained(temporary)
        replace_folder(temporary, model_dir)
        write_json(output_dir / "pretrain_log.json", {
            "steps": state["step"], "losses": state["losses"], "datasets": [str(path) for path in dataset_paths],
            "rows": len(rows["de"]), "recipe": recipe.to_dict(), "versions": package_versions(),
            "runtime": runtime_info(accelerator),
        })
    accelerator.wait_for_everyone()
    return model_dir
