"""Open Brains: grow tiny neural networks by evolution, and share them as `.graph` files.

This package is the one documented way to use Open Brains from Python (docs/api.md)::

    import openbrains
    brain = openbrains.load("sample_graphs/xor.graph")
    brain([[0, 1], [1, 1]])                      # run it on raw inputs, through its codecs
    openbrains.evaluate(brain, task="xor")       # its test score, an Evaluation
    with openbrains.start_run("xor", "runs/xor", population=8) as run:
        for event in run.events(individuals=20): # the engine's events, as they happen
            ...

Importing it loads nothing heavy (no torch, no Qt): each name below is imported the first
time it is used. The layers live under it too — ``openbrains.engine`` (the headless core),
``openbrains.nodes`` (the unit library), ``openbrains.canvas`` (Qt widgets) and
``openbrains.app`` (the program); in the repository they are the top-level folders
``engine/``, ``nodes/``, ``canvas/`` and ``app/``, which ``setup.py`` maps here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from openbrains.engine import __version__

# public name -> (module, its name there); one table, read by __getattr__ and __dir__
_API = {
    "Brain": ("openbrains.brain", "Brain"),
    "Score": ("openbrains.brain", "Score"),
    "load": ("openbrains.brain", "load_brain"),
    "save": ("openbrains.brain", "save_brain"),
    "read": ("openbrains.brain", "read"),
    "write": ("openbrains.brain", "write"),
    "Evaluation": ("openbrains.evaluation", "Evaluation"),
    "evaluate": ("openbrains.evaluation", "evaluate"),
    "Event": ("openbrains.runs", "Event"),
    "Champion": ("openbrains.runs", "Champion"),
    "RunSummary": ("openbrains.runs", "RunSummary"),
    "RunHandle": ("openbrains.runs", "RunHandle"),
    "start_run": ("openbrains.runs", "start_run"),
    "resume": ("openbrains.runs", "resume"),
    "load_individual": ("openbrains.runs", "load_individual"),
    "export": ("openbrains.exporting", "export"),
    "ExportResult": ("openbrains.engine.exporters.dispatch", "ExportResult"),
    "RunSettings": ("openbrains.engine.run", "RunSettings"),
    "Until": ("openbrains.engine.run", "Until"),
    "CodeRef": ("openbrains.engine.trust", "CodeRef"),
    "OpenBrainsError": ("openbrains.engine.errors", "OpenBrainsError"),
}

if TYPE_CHECKING:
    from openbrains.brain import Brain, Score, read, write
    from openbrains.brain import load_brain as load
    from openbrains.brain import save_brain as save
    from openbrains.engine.errors import OpenBrainsError
    from openbrains.engine.exporters.dispatch import ExportResult
    from openbrains.engine.run import RunSettings, Until
    from openbrains.engine.trust import CodeRef
    from openbrains.evaluation import Evaluation, evaluate
    from openbrains.exporting import export
    from openbrains.runs import (
        Champion,
        Event,
        RunHandle,
        RunSummary,
        load_individual,
        resume,
        start_run,
    )


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'openbrains' has no attribute {name!r}")
    module, attr = _API[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # the next use is a plain lookup
    return value


def __dir__() -> list[str]:
    return list(__all__)


__all__ = [
    "Brain",
    "Champion",
    "CodeRef",
    "Evaluation",
    "Event",
    "ExportResult",
    "OpenBrainsError",
    "RunHandle",
    "RunSettings",
    "RunSummary",
    "Score",
    "Until",
    "__version__",
    "evaluate",
    "export",
    "load",
    "load_individual",
    "read",
    "resume",
    "save",
    "start_run",
    "write",
]
