"""Writing outputs so that nobody ever sees them half-written, and replacing only what this package wrote.

- Files: :func:`atomic_path` (a temporary sibling renamed into place), :func:`write_text`, :func:`write_json`.
- Folders: :func:`atomic_folder` fills a temporary sibling folder and renames it onto the target when complete.
- Ownership: every folder the package creates this way carries :data:`MARKER`, a manifest of the files it wrote.
  :func:`check_replaceable` refuses to replace a folder without one (a user's project, a git clone), a folder of
  another kind, or one holding files the package did not write; the deletion goes through it everywhere the
  package replaces a folder (model and Space repositories, built datasets, Parquet exports, simulations).
- Leftovers of killed runs: temporary siblings carry :data:`STAGE_MARKER` (process id and host);
  :func:`clean_stale_stages` deletes those whose process is gone, and only those.
"""

from __future__ import annotations

import fnmatch
import json
import os
import secrets
import shutil
import socket
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .validation import fail

MARKER = ".moodreader.json"
"""The manifest of a folder written by moodreader: ``{"written_by": "moodreader-hf", "kind": ..., "files": [...]}``
(every file and folder it wrote, relative POSIX paths). Uploads leave it out."""
STAGE_MARKER = ".moodreader-stage.json"
"""Inside a temporary sibling while it is being written: ``{"pid": ..., "host": ..., "target": ...}``."""
STAGE_PATTERNS: tuple[str, ...] = (".{name}.tmp-*", "{name}.tmp-*", "{name}.cache-*", ".{name}.old-*")
"""Names of the temporary siblings of a target ``name`` (stages, the datasets cache of a build, a set-aside old
folder)."""
LIBRARY_FILES: dict[str, tuple[str, ...]] = {"dataset": ("*/cache-*.arrow",)}
"""Files that libraries add to a folder of ours after it was written (``datasets`` caches of ``map``/``filter``)."""


def _host_tag() -> str:
    """Four hex digits of this host's name, so that a temporary file names the host of its writer."""
    return format(zlib.crc32(socket.gethostname().encode()) & 0xFFFF, "04x")


def _clean_stale_files(path: Path) -> None:
    """Delete temporary siblings of the file ``path`` left by killed writers on this host (their process is gone)."""
    prefix = f".{path.name}.tmp-{_host_tag()}-"
    try:
        candidates = [entry for entry in path.parent.iterdir() if entry.name.startswith(prefix)]
    except OSError:
        return
    for candidate in candidates:
        pid = candidate.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)) and candidate.is_file():
            candidate.unlink(missing_ok=True)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling of the file ``path`` to write to (it keeps the extension, for writers that go by it);
    renamed onto ``path`` when the block ends without error, removed otherwise. Its name carries the writer's host
    and process id, so the next write of ``path`` removes the temporary files of killed writers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale_files(path)
    temporary = path.with_name(f".{path.name}.tmp-{_host_tag()}-{os.getpid()}-{secrets.token_hex(4)}{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def _entries(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (relative POSIX paths), without the markers."""
    found = []
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            relative = Path(parent, name).relative_to(folder).as_posix()
            if relative not in (MARKER, STAGE_MARKER):
                found.append(relative)
    return sorted(found)


def mark_folder(folder: str | os.PathLike, kind: str) -> None:
    """Write :data:`MARKER` into the completely written ``folder``: its kind and every entry it holds now."""
    folder = Path(folder)
    (folder / STAGE_MARKER).unlink(missing_ok=True)
    manifest = {"written_by": "moodreader-hf", "kind": kind, "files": _entries(folder)}
    (folder / MARKER).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def read_marker(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of a folder moodreader wrote, or ``None`` (no marker, or not one of ours)."""
    try:
        manifest = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and manifest.get("written_by") == "moodreader-hf"
            and isinstance(manifest.get("files"), list)):
        return None
    return manifest


def _check_parents(target: Path, field: str) -> None:
    """The nearest existing ancestor of ``target`` must be a writable folder."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        fail(str(target), field, "a path inside a folder", f"{ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        fail(str(target), field, "a path where this user may write", f"{ancestor} is not writable")


def check_output_file(path: str | os.PathLike, field: str = "output") -> Path:
    """Refuse, before any work, an output file path that is a folder or lies under a file or a read-only folder."""
    path = Path(path)
    if path.is_dir():
        fail(str(path), field, "a file name", "an existing folder")
    _check_parents(path, field)
    if path.exists() and not os.access(path, os.W_OK):
        fail(str(path), field, "a file this user may replace", "a read-only file")
    return path


def check_replaceable(target: str | os.PathLike, kind: str, *, field: str = "output folder",
                      overwrite: bool = True, hint: str = "") -> Path:
    """Refuse, before any work, to write the folder ``target`` of ``kind`` where that would delete anything this
    package did not write.

    Accepted: a path that does not exist yet (inside a writable folder), an empty folder, and, when ``overwrite``
    is set, a folder whose :data:`MARKER` says moodreader wrote it as ``kind`` and that holds only what it wrote.
    ``hint`` ends the message (e.g. how to ask for the replacement).
    """
    target = Path(target)
    _check_parents(target, field)
    if target.is_symlink():
        fail(str(target), field, "a folder (or a path that does not exist yet)", "a symbolic link")
    if not target.exists():
        return target
    if not target.is_dir():
        fail(str(target), field, "a folder (or a path that does not exist yet)", "an existing file")
    names = sorted(entry.name for entry in target.iterdir())
    if not names:
        return target
    manifest = read_marker(target)
    wanted = f"a new or empty folder, or a {kind} folder written by moodreader (it holds {MARKER})"
    if manifest is None:
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        fail(str(target), field, f"{wanted}; it would be replaced", f"a folder moodreader did not write ({shown})")
    if manifest.get("kind") != kind:
        fail(str(target), field, wanted, f"a {manifest.get('kind')} folder written by moodreader")
    known = set(manifest["files"])
    allowed = LIBRARY_FILES.get(kind, ())
    foreign = [name for name in _entries(target)
               if name not in known and not any(fnmatch.fnmatch(name, pattern) for pattern in allowed)]
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        fail(str(target), field, f"only the files moodreader wrote there (they would be deleted)",
             f"{len(foreign)} other entries: {shown}")
    if not overwrite:
        fail(str(target), field, f"a new or empty folder{hint}", f"a {kind} folder written before")
    return target


def _stage_alive(folder: Path) -> bool:
    """Whether the process that marked the temporary ``folder`` may still be writing it."""
    try:
        stage = json.loads((folder / STAGE_MARKER).read_text(encoding="utf-8"))
        pid, host = int(stage["pid"]), str(stage["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return True  # not one of ours (or unreadable): never delete it
    if host != socket.gethostname():
        return True
    if pid == os.getpid():
        return True  # this process's own stage: its writer removes it
    return _process_alive(pid)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_stages(target: str | os.PathLike) -> list[Path]:
    """Delete the temporary siblings of ``target`` left by killed runs of this package (those carrying
    :data:`STAGE_MARKER` whose process has ended on this host); returns what was deleted."""
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return []
    removed = []
    for pattern in STAGE_PATTERNS:
        for candidate in parent.glob(pattern.format(name=target.name)):
            if candidate.is_dir() and not candidate.is_symlink() and (candidate / STAGE_MARKER).is_file() \
                    and not _stage_alive(candidate):
                shutil.rmtree(candidate, ignore_errors=True)
                removed.append(candidate)
    return removed


def new_stage(target: str | os.PathLike, label: str = "tmp", *, hidden: bool = True) -> Path:
    """Create and mark a temporary sibling folder of ``target`` (``.<name>.<label>-<token>``, or
    ``<name>.<label>-<token>`` when not ``hidden``), after removing stale ones of killed runs."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_stages(target)
    prefix = "." if hidden else ""
    stage = target.with_name(f"{prefix}{target.name}.{label}-{secrets.token_hex(4)}")
    stage.mkdir()
    record = {"pid": os.getpid(), "host": socket.gethostname(), "target": target.name}
    (stage / STAGE_MARKER).write_text(json.dumps(record) + "\n", encoding="utf-8")
    return stage


def replace_folder(stage: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move the completely written folder ``stage`` to ``target``; a folder already at ``target`` is set aside
    first and deleted only once the move has succeeded (restored if it fails)."""
    stage, target = Path(stage), Path(target)
    (stage / STAGE_MARKER).unlink(missing_ok=True)
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    if target.exists():
        target.rename(old)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "target": target.name}
        try:  # marks the set-aside folder as a leftover to remove, should this process be killed now
            (old / STAGE_MARKER).write_text(json.dumps(record) + "\n", encoding="utf-8")
        except OSError:
            pass
    try:
        stage.rename(target)
    except BaseException:
        if old.exists():
            (old / STAGE_MARKER).unlink(missing_ok=True)
            old.rename(target)
        raise
    if old.exists():
        shutil.rmtree(old)


@contextmanager
def atomic_folder(target: str | os.PathLike, kind: str | None = None, *, overwrite: bool = True,
                  field: str = "output folder", hint: str = "") -> Iterator[Path]:
    """A new temporary sibling folder of ``target`` to fill; it replaces ``target`` (:func:`replace_folder`) when
    the block ends without error and is removed otherwise, leaving what was at ``target`` untouched.

    With ``kind``, ``target`` is first checked with :func:`check_replaceable` (``overwrite``, ``field``, ``hint``)
    and the finished folder gets its :data:`MARKER`.
    """
    target = Path(target)
    if kind is not None:
        check_replaceable(target, kind, field=field, overwrite=overwrite, hint=hint)
    stage = new_stage(target)
    try:
        yield stage
        if kind is not None:
            mark_folder(stage, kind)
        replace_folder(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def upload_ignore_patterns(extra: Sequence[str] = ()) -> list[str]:
    """``ignore_patterns`` for ``HfApi.upload_folder``: the markers, at any depth."""
    return [MARKER, f"*/{MARKER}", STAGE_MARKER, f"*/{STAGE_MARKER}", *extra]
