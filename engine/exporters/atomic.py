"""Nothing half-written: an export is built in a hidden sibling folder and renamed into
place only when every file in it is complete, and an existing output is never replaced."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openbrains.engine.exporters.errors import ExportError


def refuse_existing(target: Path) -> None:
    if target.exists() or target.is_symlink():
        raise ExportError(f"{target} already exists; choose a new name or remove it first")
    if not target.parent.is_dir():
        raise ExportError(f"{target.parent} is not a folder")


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``target``; renamed to ``target`` on success,
    removed on any failure. For a single-file export, write ``stage / target.name`` and the
    file alone is moved."""
    target = Path(target)
    refuse_existing(target)
    stage = target.parent / f".{target.name}.{secrets.token_hex(6)}.partial"
    stage.mkdir()
    try:
        yield stage
        single = stage / target.name
        if single.is_file() and len(list(stage.iterdir())) == 1:
            _place(single, target)
            stage.rmdir()
        else:
            _place(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _place(src: Path, target: Path) -> None:
    """Rename without replacing: a target that appeared meanwhile is an error, not lost."""
    if target.exists():
        raise ExportError(f"{target} appeared while exporting; nothing was replaced")
    if src.is_dir():
        os.rename(src, target)  # fails if a non-empty folder appeared meanwhile
    else:
        os.link(src, target)  # fails if the name exists; then drop the staged name
        src.unlink()
