"""Masked brain signal modelling (MBSM) pre-training on raw-signal rows streamed from corpora and built datasets,
with accelerate, checkpointed and resumable.

The encoder is the raw-signal stream of a ``MoodReaderForMaskedEEGModeling`` built with ``streams=["signal"]``:
batches carry their own electrodes (vocabulary ids), so corpora of any montage feed one encoder. Each process
streams its own part of every source (:mod:`moodreader_hf.training.stream`); an optimiser step sees
``pretrain.batch_size`` rows over all processes.

State. Every ``checkpoint_every`` steps ``accelerator.save_state`` writes the model, optimiser, scheduler and random
generators, and ``trainer_state.json`` the step, each process's stream position and the log. ``--resume`` restores
them and ends with the weights of an uninterrupted run on the same number of processes. Runs on different numbers
of processes read different rows per step (each process its own shards), so their weights differ; each is
reproducible on its own process count.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
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
from .recipe import Recipe
from .runtime import (accumulation_steps, check_batch_size, compile_if_asked, make_accelerator, package_versions,
                      runtime_info)
from .stream import SignalBatches, SignalSource, StreamPosition, check_sources, open_corpus, open_signal_dataset

CHECKPOINTS = "checkpoints"
STATE_FILE = "trainer_state.json"
PROVENANCE_FILE = "pretraining.json"
TRAINED_PREFIXES: tuple[str, ...] = ("moodreader.signal_embeddings.", "moodreader.signal_encoder.")
"""The weights MBSM on raw signal trains: the raw-signal stream's embeddings and encoder (the poolers are not
trained by reconstruction and are left to fine-tuning)."""


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the message names the step and the batch, and the last good checkpoint."""


def check_loss(loss: torch.Tensor, accelerator: Accelerator, *, what: str, step: int, epoch: int, batch: int,
               rows: torch.Tensor | None, checkpoint: Path | None) -> float:
    """Mean ``loss`` over processes; raise :class:`TrainingDivergedError` on every process if it is not finite."""
    value = float(accelerator.reduce(loss.detach().float(), reduction="mean"))
    if not torch.isfinite(torch.tensor(value)):
        kept = f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was written yet"
        where = "" if rows is None else f", dataset rows {rows.tolist()[:8]}{' ...' if len(rows) > 8 else ''}"
        raise TrainingDivergedError(
            f"{what}: loss is {value} at step {step} (epoch {epoch}, batch {batch} of the epoch{where}); "
            f"stopped, {kept}."
        )
    return value


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder under ``output_dir/checkpoints``, or ``None``."""
    folder = Path(output_dir) / CHECKPOINTS
    found = sorted(path for path in folder.glob("step-*") if (path / STATE_FILE).is_file()) if folder.is_dir() else []
    return found[-1] if found else None


def run_fingerprint(recipe: Recipe, sources: Sequence[SignalSource]) -> str:
    """A hash of what decides a run's result: the recipe and its sources (paths and sizes)."""
    described = {"recipe": recipe.to_dict(), "sources": [(s.path, s.kind, s.rows) for s in sources]}
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]


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


def _check_output_dir(output_dir: Path, *, resume: bool, overwrite: bool, fingerprint: str,
                      num_processes: int) -> Path | None:
    """The checkpoint to resume from, after refusing a folder that holds another run's checkpoints."""
    if output_dir.exists() and not output_dir.is_dir():
        fail(str(output_dir), "--output-dir", "a folder (or a path to create)", "an existing file")
    checkpoint = latest_checkpoint(output_dir)
    if resume:
        if checkpoint is None:
            fail(str(output_dir / CHECKPOINTS), "step-*", "a checkpoint to resume from (--resume)", "none")
        state = json.loads((checkpoint / STATE_FILE).read_text())
        if state.get("fingerprint") != fingerprint:
            fail(str(checkpoint), "fingerprint", f"a checkpoint of this recipe and these sources ({fingerprint})",
                 f"one of another run ({state.get('fingerprint')}); start afresh with --overwrite")
        if state.get("num_processes") != num_processes:
            fail(str(checkpoint), "num_processes", f"{num_processes} processes, as the run being resumed",
                 f"a run on {state.get('num_processes')} (each process's stream position is its own)")
        return checkpoint
    if (output_dir / CHECKPOINTS).exists() and any((output_dir / CHECKPOINTS).iterdir()):
        if not overwrite:
            fail(str(output_dir / CHECKPOINTS), "checkpoints", "an output folder without another run's checkpoints "
                 "(--resume continues that run, --overwrite replaces it)", "checkpoints of an earlier run")
    return None


def open_sources(corpora: Sequence[str | Path], datasets: Sequence[str | Path]) -> list[SignalSource]:
    """Describe every corpus and built dataset (with raw signal) to pre-train on."""
    return [open_corpus(path) for path in corpora] + [open_signal_dataset(path) for path in datasets]


def provenance(sources: Sequence[SignalSource], *, steps: int, rows_seen: int, hours_seen: float) -> dict:
    """The ``pretraining.json`` record of a pre-trained folder: what it was trained on and which weights."""
    return {
        "objective": "mbsm-signal",
        "streams": ["signal"],
        "trained_weights": list(TRAINED_PREFIXES),
        "sources": [source.record() for source in sources],
        "steps": steps,
        "rows_seen": rows_seen,
        "hours_seen": hours_seen,
    }


def run_pretraining(
    recipe: Recipe,
    dataset_paths: Sequence[str | Path] = (),
    output_dir: str | Path = "runs/pretrain",
    *,
    corpus_paths: Sequence[str | Path] = (),
    resume: bool = False,
    overwrite: bool = False,
    mixed_precision: str | None = None,
    gradient_accumulation_steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Pre-train the raw-signal encoder as ``recipe.pretrain`` says and return ``output_dir/model``.

    Args:
        recipe: The recipe; its ``model`` section is the architecture (built with ``streams=["signal"]``).
        dataset_paths: Built datasets holding raw signal (``build-dataset --include-signal``); labels are ignored.
        output_dir: Receives ``checkpoints/step-*``, ``model/`` (``save_pretrained`` folder with
            ``pretraining.json``) and ``pretrain_log.json`` (loss, samples per second and hours per logging step).
        corpus_paths: Corpora written by ``moodreader build-corpus``.
        resume: Continue from the newest checkpoint of this same run.
        overwrite: Start afresh in a folder holding another run's checkpoints (they are deleted).
    """
    output_dir = Path(output_dir)
    settings = recipe.pretrain
    accumulation = accumulation_steps(gradient_accumulation_steps, settings.gradient_accumulation_steps)
    accelerator = make_accelerator(mixed_precision=mixed_precision, recipe_mixed_precision=settings.mixed_precision,
                                   gradient_accumulation_steps=accumulation)
    check_batch_size(settings.batch_size, accelerator, "pretrain.batch_size")
    config = recipe.model_config(streams=["signal"])
    sources = open_sources(corpus_paths, dataset_paths)
    samples = check_sources(sources, config)
    fingerprint = run_fingerprint(recipe, sources)
    checkpoint = _check_output_dir(output_dir, resume=resume, overwrite=overwrite, fingerprint=fingerprint,
                                   num_processes=accelerator.num_processes)
    if checkpoint is None and overwrite and accelerator.is_main_process:
        shutil.rmtree(output_dir / CHECKPOINTS, ignore_errors=True)
    accelerator.wait_for_everyone()
    torch.manual_seed(recipe.seed)
    model = compile_if_asked(MoodReaderForMaskedEEGModeling(config), recipe.compile)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, settings.warmup_steps, settings.steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    state = {"step": 0, "positions": None, "losses": [], "log": [], "rows_seen": 0, "fingerprint": fingerprint,
             "num_processes": accelerator.num_processes}
    if checkpoint is not None:
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / STATE_FILE).read_text())
    start = StreamPosition(**state["positions"][accelerator.process_index]) if state["positions"] else None
    per_process = settings.batch_size // accelerator.num_processes
    stream = SignalBatches(sources, batch_size=per_process, buffer_size=settings.shuffle_buffer, seed=recipe.seed,
                           rank=accelerator.process_index, world_size=accelerator.num_processes, start=start)
    batches = iter(stream)
    seconds_per_row = samples / config.sampling_rate
    bar = tqdm(total=settings.steps, initial=state["step"], desc="pre-training", unit="step",
               disable=not (progress and accelerator.is_local_main_process))
    window_start, window_rows, data_seconds = time.perf_counter(), 0, 0.0
    model.train()
    while state["step"] < settings.steps:
        for _ in range(accumulation):
            waited = time.perf_counter()
            batch = {name: value.to(accelerator.device) for name, value in next(batches).items()}
            data_seconds += time.perf_counter() - waited
            with accelerator.accumulate(model):
                loss = model(**batch).loss
                value = check_loss(loss, accelerator, what="pre-training", step=state["step"] + 1,
                                   epoch=stream.position.epoch, batch=stream.position.rows // per_process,
                                   rows=None, checkpoint=checkpoint)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            window_rows += settings.batch_size // accumulation
        state["step"] += 1
        state["rows_seen"] += settings.batch_size
        state["losses"].append(value)
        bar.update()
        bar.set_postfix(loss=f"{value:.4f}", hours=f"{state['rows_seen'] * seconds_per_row / 3600:.2f}")
        if state["step"] % settings.log_every == 0 or state["step"] == settings.steps:
            elapsed = time.perf_counter() - window_start
            state["log"].append({
                "step": state["step"], "loss": value, "samples_per_second": window_rows / max(elapsed, 1e-9),
                "hours_seen": state["rows_seen"] * seconds_per_row / 3600,
                "data_loading_share": data_seconds / max(elapsed, 1e-9),
            })
            window_start, window_rows, data_seconds = time.perf_counter(), 0, 0.0
        if state["step"] % settings.checkpoint_every == 0 or state["step"] == settings.steps:
            position = torch.tensor([stream.position.epoch, stream.position.rows], device=accelerator.device)
            gathered = accelerator.gather(position[None]).view(-1, 2).tolist()
            state["positions"] = [{"epoch": int(epoch), "rows": int(rows)} for epoch, rows in gathered]
            checkpoint = _save_checkpoint(accelerator, output_dir, state, settings.keep_checkpoints)
    bar.close()
    model_dir = output_dir / "model"
    if accelerator.is_main_process:
        temporary = output_dir / ".tmp-model"
        shutil.rmtree(temporary, ignore_errors=True)
        accelerator.unwrap_model(model).save_pretrained(temporary)
        MoodReaderFeatureExtractor.from_model_config(config, smoothing="none").save_pretrained(temporary)
        record = provenance(sources, steps=state["step"], rows_seen=state["rows_seen"],
                            hours_seen=state["rows_seen"] * seconds_per_row / 3600)
        write_json(temporary / PROVENANCE_FILE, record)
        replace_folder(temporary, model_dir)
        write_json(output_dir / "pretrain_log.json", {
            "steps": state["step"], "losses": state["losses"], "log": state["log"], "pretraining": record,
            "recipe": recipe.to_dict(), "versions": package_versions(), "runtime": runtime_info(accelerator),
        })
    accelerator.wait_for_everyone()
    return model_dir
