"""What every training entry point shares: the accelerator, the record of where it ran, atomic file writes."""

from __future__ import annotations

import functools
import os
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs

from .fold_pool import THREADS_VARIABLE, available_cpus  # the variable fixes the CPU threads per process

VERSIONED_PACKAGES: tuple[str, ...] = (
    "moodreader-hf", "torch", "transformers", "accelerate", "datasets", "numpy", "scipy", "mne",
)  # fmt: skip


def make_accelerator(
    *, mixed_precision: str | None, recipe_mixed_precision: str, gradient_accumulation_steps: int
) -> Accelerator:
    """The accelerator of a run. Mixed precision comes from the flag, else the accelerate config, else the recipe.

    Batches are split across processes (``split_batches=True``), so one optimiser step sees the same rows on any
    number of processes; without CUDA the processes run on CPU (gloo), also when launched with a multi-GPU config.
    Parameters unused in a step (the raw-signal encoder when no signal is fed) are allowed. On CPU the threads
    per process come from :func:`cpu_threads`.
    """
    if mixed_precision is None and "ACCELERATE_MIXED_PRECISION" not in os.environ:
        mixed_precision = recipe_mixed_precision
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),
        mixed_precision=mixed_precision,
        gradient_accumulation_steps=gradient_accumulation_steps,
        dataloader_config=DataLoaderConfiguration(split_batches=True),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    if accelerator.device.type == "cpu":
        torch.set_num_threads(cpu_threads(accelerator.num_processes))
    return accelerator


def compile_if_asked(model: torch.nn.Module, enabled: bool) -> torch.nn.Module:
    """``model.compile()`` (in place: the module, its class and its state-dict keys stay) when ``enabled``.

    Compiled, the forward and backward passes run as fused kernels (inductor); outputs equal the eager ones up to
    float rounding. Under DDP the compiled module is wrapped as usual by ``accelerator.prepare``.
    """
    if enabled:
        model.compile()
    return model


def cpu_threads(num_processes: int = 1) -> int:
    """CPU threads per process: ``MOODREADER_NUM_THREADS`` if set, otherwise the CPUs this process may use that
    other jobs leave idle (measured over a fifth of a second when first asked, :func:`idle_cpus`), shared among
    ``num_processes``; at least 1.

    More threads than free cores make every thread wait for the others (a 2-thread pre-training beside one other
    CPU-heavy job ran five times slower than with 1 thread), so a busy machine gets fewer threads. The load average
    would tell too late: it follows a job that started a few seconds ago by a minute."""
    fixed = os.environ.get(THREADS_VARIABLE)
    if fixed:
        try:
            return max(1, int(fixed))
        except ValueError:
            from ..validation import fail

            fail("environment", THREADS_VARIABLE, "a positive whole number of threads", repr(fixed))
    return max(1, round(min(available_cpus(), idle_cpus()) / max(1, num_processes)))


@functools.lru_cache(maxsize=1)
def idle_cpus(seconds: float = 0.2) -> float:
    """How many CPUs were idle over ``seconds`` when this process first asked (``/proc/stat``: idle and I/O-wait
    time over all time), i.e. before its own work weighs on them; where ``/proc/stat`` is missing, the CPUs less
    the 1-minute load average."""
    try:
        first = _cpu_times()
        time.sleep(seconds)
        second = _cpu_times()
    except (OSError, ValueError, IndexError):
        cpus = os.cpu_count() or 1
        return max(0.0, cpus - (os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0))
    idle = (second[3] + second[4]) - (first[3] + first[4])
    total = sum(second) - sum(first)
    return (os.cpu_count() or 1) * idle / total if total > 0 else float(os.cpu_count() or 1)


def _cpu_times() -> list[int]:
    """The aggregate ``cpu`` line of ``/proc/stat``: user, nice, system, idle, iowait, irq, softirq, steal ticks."""
    with open("/proc/stat") as handle:
        fields = handle.readline().split()
    if fields[0] != "cpu":
        raise ValueError("/proc/stat: no aggregate cpu line")
    return [int(value) for value in fields[1:9]]


def accumulation_steps(given: int | None, recipe_value: int) -> int:
    """Batches per optimiser step: ``given`` (a flag or argument) unless it is ``None``, else the recipe's; a value
    below 1 is refused, never replaced."""
    steps = recipe_value if given is None else given
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        from ..validation import fail

        fail("training", "gradient_accumulation_steps", "a whole number of at least 1", repr(steps))
    return steps


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
        "cpu_threads": torch.get_num_threads(),
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
