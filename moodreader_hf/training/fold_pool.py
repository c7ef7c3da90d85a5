"""Folds trained side by side on CPU: one single-threaded worker process per CPU.

Why processes, not threads: the threads of one process meet at the end of every operation, so a small model
gains little from a second thread, and when another job takes a CPU every operation waits for the slowest
thread (a 2-thread fine-tuning beside one other CPU-heavy job ran several times slower than with one thread).
Separate one-thread processes never wait for each other: on a quiet 2-core machine two folds train at once, and
beside another job the operating system simply shares the CPUs among three processes.

Workers are forked from a fork server (a fork of a process whose thread pools are running can hang; the server
never runs an operation), which imports the training code once (:func:`prepare_workers`, called as early as a
run knows it will use workers, so the import overlaps the caller's loading): a worker starts in a fraction of a
second instead of the 8-10 s a spawned one spends importing torch and transformers. Where there is no fork
server (Windows) workers are spawned. Each receives the run's shared state once, its tensors through shared
memory (``torch.multiprocessing``), so the dataset is not copied per worker. A job's result does not depend on
where it ran: folds are seeded by their seed and number and run on one thread either way. Without enough shared
memory for the tensors (a container's ``/dev/shm`` is often 64 MB) the jobs run one after the other in the
calling process, and a note says why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

THREADS_VARIABLE = "MOODREADER_NUM_THREADS"
"""Environment variable that fixes the CPU threads per process (the workers: 1 unless set); as in :mod:`.runtime`,
repeated so that this module imports neither torch nor accelerate (the fork server starts before they load)."""
WORKERS_VARIABLE = "MOODREADER_FOLD_WORKERS"
"""Environment variable that fixes the number of fold workers (overrides ``finetune.fold_workers``)."""
SHARED_MEMORY = "/dev/shm"

PRELOADED_MODULES = ("moodreader_hf.training.finetune", "moodreader_hf.training.pretrain", "moodreader_hf.builders",
                     "moodreader_hf.simulation")
"""What the fork server imports once for every worker it forks."""

_shared: Any = None


def _context() -> Any:
    """The multiprocessing context of the workers: the fork server with :data:`PRELOADED_MODULES` where the
    platform has one, else spawn. (``torch.multiprocessing``, imported when tensors are sent, makes them travel
    through shared memory in either.)"""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOADED_MODULES))
    return context


def prepare_workers() -> None:
    """Start the fork server (it imports :data:`PRELOADED_MODULES` in the background) so the workers of a later
    :class:`JobRunner` fork at once; nothing where there is no fork server. Safe to call more than once."""
    context = _context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def available_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def worker_count(setting: int | str, jobs: int, *, single_cpu_process: bool) -> int:
    """Fold workers for ``jobs`` jobs: ``MOODREADER_FOLD_WORKERS`` if set, else ``setting`` (a number, or
    ``"auto"``: one per available CPU), at most one per job; 0 (run in the calling process) unless this is a
    single-process CPU run (under ``accelerate launch`` or on a GPU the processes already share the work)."""
    from ..validation import fail

    given = os.environ.get(WORKERS_VARIABLE)
    source, field = ("environment", WORKERS_VARIABLE) if given else ("recipe", "finetune.fold_workers")
    chosen = given or setting
    if chosen != "auto":
        try:
            chosen = int(chosen)
        except (TypeError, ValueError):
            fail(source, field, "a whole number of workers or 'auto'", repr(chosen))
        if chosen < 0:
            fail(source, field, "a whole number of workers from 0 or 'auto'", repr(chosen))
    if not single_cpu_process:
        return 0
    count = available_cpus() if chosen == "auto" else chosen
    return 0 if min(count, jobs) < 2 else min(count, jobs)


def shared_bytes(tensors: Sequence[torch.Tensor | None]) -> int:
    """Bytes of ``tensors`` (``None`` entries skipped) once placed in shared memory."""
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors if tensor is not None)


def shared_memory_fits(needed: int) -> bool:
    """Whether ``/dev/shm`` (where ``torch.multiprocessing`` puts shared tensors) has room for ``needed`` bytes
    and a quarter more."""
    try:
        return shutil.disk_usage(SHARED_MEMORY).free >= needed * 1.25
    except OSError:
        return False


def _start_worker(shared: Any, threads: int) -> None:
    global _shared
    import torch

    os.environ[THREADS_VARIABLE] = str(threads)
    torch.set_num_threads(threads)
    _shared = shared


def _call(function: Callable[[Any, Any], Any], job: Any) -> Any:
    return function(_shared, job)


@contextlib.contextmanager
def _main_script_hidden() -> Iterator[None]:
    """While workers start, hide the caller's ``__main__`` from :mod:`multiprocessing`'s spawn preparation: a worker
    needs nothing from it (the jobs are package functions), and a script without an ``if __name__ ==
    "__main__":`` guard would otherwise run again in every worker and never let the pool start."""
    main = sys.modules["__main__"]
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


class JobRunner:
    """``function(shared, job)`` for every job, in ``workers`` worker processes (one thread each, or
    ``MOODREADER_NUM_THREADS``) started on entering the ``with`` block, or, when ``workers`` is 0, in this
    process when :meth:`results` is read. The caller may work while the workers do (the baselines do).
    ``function`` must be a module-level function and its results picklable. A worker that dies (killed, out of
    memory) stops the run with an error instead of leaving it waiting. ``on_done()`` is called as each job ends
    (from a background thread with workers), also while the caller is busy elsewhere: a progress bar's update."""

    def __init__(self, function: Callable[[Any, Any], Any], jobs: Sequence[Any], shared: Any, workers: int, *,
                 on_done: Callable[[], Any] | None = None):
        self.function, self.jobs, self.shared, self.workers = function, list(jobs), shared, workers
        self.on_done = on_done
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Any] = []

    def __enter__(self) -> JobRunner:
        if self.workers:
            import torch.multiprocessing  # noqa: F401  (tensors in ``shared`` then travel through shared memory)

            threads = int(os.environ.get(THREADS_VARIABLE) or 1)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_context(), initializer=_start_worker,
                                             initargs=(self.shared, threads))
            with _main_script_hidden():
                self._pending = [self._pool.submit(_call, self.function, job) for job in self.jobs]
            if self.on_done is not None:
                for pending in self._pending:
                    pending.add_done_callback(lambda _: self.on_done())
        return self

    def results(self) -> Iterator[Any]:
        """The result of every job, in the order of the jobs."""
        if self._pool is None:
            for job in self.jobs:
                result = self.function(self.shared, job)
                if self.on_done is not None:
                    self.on_done()
                yield result
            return
        for pending in self._pending:
            try:
                yield pending.result()
            except BrokenProcessPool as error:
                from ..validation import MoodReaderInputError

                raise MoodReaderInputError(f"fold workers: a worker process died ({error}); run again with "
                                           f"{WORKERS_VARIABLE}=0 to train the folds in this process") from error

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is None:
            return
        failed = exc_info[0] is not None
        if failed:  # the caller stopped with an error: its jobs' work is not wanted, do not wait for it
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=not failed, cancel_futures=failed)
