"""Run many ``moodreader`` command lines in one process, each as the console script would: its own stdout and
stderr (captured at the file descriptors, so logging handlers and progress bars count too), its exit status, and a
traceback printed as Python prints one when an exception escapes.

    python -m tests.bad_inputs.runner CASES.json RESULTS.json

``CASES.json``: ``[{"id": ..., "argv": [...], "cwd": optional folder, "watch": folder}, ...]``. For each case the
result records ``code``, ``stdout``, ``stderr``, ``seconds`` and whether anything under ``watch`` changed (files
added, removed or modified, by name, size and modification time).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path


def snapshot(folder: str | None) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of everything under ``folder`` (folders with size -1)."""
    if not folder or not os.path.exists(folder):
        return {}
    found = {}
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            size = -1 if os.path.isdir(path) else info.st_size
            found[os.path.relpath(path, folder)] = (size, info.st_mtime_ns if size >= 0 else 0)
    return found


def _fresh_warnings() -> None:
    """Forget which warnings were shown, so each case shows them as a fresh process would."""
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    warnings.resetwarnings()
    for action, category in (("default", DeprecationWarning), ("ignore", DeprecationWarning),
                             ("ignore", PendingDeprecationWarning), ("ignore", ImportWarning),
                             ("ignore", ResourceWarning)):
        if action == "default":
            warnings.filterwarnings(action, category=category, module="__main__")
        else:
            warnings.simplefilter(action, category)


def run_case(main, argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with fds 1 and 2 redirected to files; returns ``(exit status, stdout, stderr)``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except BaseException:  # noqa: BLE001 - what the interpreter would print for an escaped exception
                traceback.print_exc()
                code = 1
            code = 0 if code is None else int(code)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def main(argv: list[str] | None = None) -> int:
    cases_path, results_path = (sys.argv[1:] if argv is None else argv)[:2]
    from moodreader_hf.cli import main as moodreader

    cases = json.loads(Path(cases_path).read_text())
    results = []
    home = os.getcwd()
    for case in cases:
        before = snapshot(case.get("watch"))
        os.chdir(case.get("cwd") or home)
        _fresh_warnings()
        started = time.perf_counter()
        code, stdout, stderr = run_case(moodreader, case["argv"])
        seconds = time.perf_counter() - started
        os.chdir(home)
        after = snapshot(case.get("watch"))
        changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
        results.append({"id": case["id"], "code": code, "stdout": stdout[-4000:], "stderr": stderr[-8000:],
                        "changed": changed, "seconds": seconds})
        Path(results_path).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
