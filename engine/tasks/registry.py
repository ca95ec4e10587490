"""Task names for `--task` (temporary: xor and digits only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.tasks.base import DatasetTask, TaskError
from engine.tasks.builtin import digits_task, xor_task

TASK_NAMES = ("xor", "digits")


def load_task(
    name: str,
    data: str | Path | None = None,
    label: str | None = None,
    seed: int = 0,
    **options: Any,
) -> DatasetTask:
    if name == "xor":
        return xor_task()
    if name == "digits":
        return digits_task(seed)
    raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(TASK_NAMES)}")
