"""Writing outputs so that nobody ever sees them half-written: into a temporary sibling, then renamed into place."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling of the file ``path`` to write to (it keeps the extension, for writers that go by it);
    renamed onto ``path`` when the block ends without error, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
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


def replace_folder(stage: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move the completely written folder ``stage`` to ``target``; a folder already at ``target`` is set aside
    first and deleted only once the move has succeeded (restored if it fails)."""
    stage, target = Path(stage), Path(target)
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    if target.exists():
        target.rename(old)
    try:
        stage.rename(target)
    except BaseException:
        if old.exists():
            old.rename(target)
        raise
    if old.exists():
        shutil.rmtree(old)


@contextmanager
def atomic_folder(target: str | os.PathLike) -> Iterator[Path]:
    """A new temporary sibling folder of ``target`` to fill; it replaces ``target`` (:func:`replace_folder`) when
    the block ends without error and is removed otherwise, leaving what was at ``target`` untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
    stage.mkdir()
    try:
        yield stage
        replace_folder(stage, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
