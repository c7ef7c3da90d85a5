"""What every training entry point shares: the accelerator, the record of where it ran, atomic file writes."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs

VERSIONED_PACKAGES: tuple[str, ...] = (
    "moodreader-hf", "torch", "transformers", "accelerate", "datasets", "numpy", "scipy", "mne",
)  # fmt: skip


def make_accelerator(
    *, mixed_precision: str | None, recipe_mixed_precision: str, gradient_accumulation_steps: int
) -> Accelerator:
    """The accelerator of a run. Mixed precision comes from the flag, else the accelerate config, else the recipe.

    Batches are split across processes (``split_batches=True``), so one optimiser step sees the same rows on any
    number of processes; without CUDA the processes run on CPU (gloo), also when launched with a multi-GPU config.
    Parameters unused in a step (the raw-signal encoder when no signal is fed) are allowed.
    """
    if mixed_precision is None and "ACCELERATE_MIXED_PRECISION" not in os.environ:
        mixed_precision = recipe_mixed_precision
    return Accelerator(
        cpu=not torch.cuda.is_available(),
        mixed_precision=mixed_precision,
        gradient_accumulation_steps=gradient_accumulation_steps,
        dataloader_config=DataLoaderConfiguration(split_batches=True),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


def check_batch_size(batch_size: int, accelerator: Accelerator, field: str) -> None:
    """A batch is split evenly across the processes."""
    from ..validation import fail

    if batch_size % accelerator.num_processes:
        fail("recipe", field, f"a multiple of the {accelerator.num_processes} processes", batch_size)


def runtime_info(accelerator: Accelerator) -> dict[str, Any]:
    """Where the run ran: processes, distributed type, device, mixed precision."""
    return {
        "num_processes": accelerator.num_processes,
        "distributed_type": accelerator.distributed_type.value,
        "device": str(accelerator.device),
        "mixed_precision": accelerator.mixed_precision,
        "gradient_accumulation_steps": accelerator.gradient_accumulation_steps,
    }


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on, and Python's."""
    found = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found
