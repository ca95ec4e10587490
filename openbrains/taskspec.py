"""A task as a Python caller names it, made into the plain task spec the engine takes.

A built-in task is its name (``"digits"``). A caller's own game or environment is the class
itself (``task=MyGame``) or a ``CodeRef`` it made: passing it is the caller's own hands, so
it is granted here (``engine.trust``). A bare ``"package.module:Class"`` string is refused
unless this process already granted it, because such a string may have come from a file,
and a file never runs code (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.trust import CodeRef, grant, is_code_name, is_granted

GIVEN_BY = "the Python API"
NOT_OPTIONS = ("name", "data", "label", "recorded")
"""Keys of a task spec that are arguments of their own, never options."""

TaskLike = str | type | CodeRef


def task_name(task: TaskLike) -> str:
    """The spec's ``name`` for ``task``, granting the code a caller passed by hand."""
    if isinstance(task, CodeRef):
        return grant(task).entry
    if isinstance(task, type):
        return grant(code_ref_of(task)).entry
    if not isinstance(task, str) or not task:
        raise OpenBrainsError(
            f"task must be a task name, a class or a CodeRef, not {type(task).__name__}"
        )
    if is_code_name(task) and not is_granted(task):
        raise OpenBrainsError(
            f"task {task!r} names Python code; a name may come from a file, so pass the class "
            f"itself (task=YourClass) or openbrains.CodeRef({task!r}, 'me') to run it"
        )
    return task


def code_ref_of(cls: type) -> CodeRef:
    """A grant for ``cls``: its ``module:QualName``, found from the folder its top package
    sits in (so worker processes import the same file)."""
    module = cls.__module__
    entry = f"{module}:{cls.__qualname__}"
    if "<" in cls.__qualname__:
        raise OpenBrainsError(
            f"{entry} is defined inside a function; define it at the top of a module"
        )
    import sys

    file = getattr(sys.modules.get(module), "__file__", None)
    folder = ""
    if file:
        path = Path(file).resolve()
        depth = len(module.split(".")) + (1 if path.name == "__init__.py" else 0)
        folder = str(path.parents[depth - 1])
    return CodeRef(entry, GIVEN_BY, folder)


def task_spec(
    task: TaskLike,
    data: str | Path | None = None,
    label: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The plain spec ``load_task`` and ``RunSettings`` take: name, data (an absolute
    path), label and options."""
    spec: dict[str, Any] = {"name": task_name(task)}
    if data is not None and str(data) != "":
        spec["data"] = str(Path(data).resolve())
    if label is not None:
        spec["label"] = label
    for key, value in (options or {}).items():
        if key in NOT_OPTIONS:
            raise OpenBrainsError(f"{key} is not a task option; pass it as {key}=")
        spec[str(key)] = value
    return spec
