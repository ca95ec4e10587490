"""One long-lived, resumable search (DESIGN §3.4), in files of one job each:

- ``settings``: what defines a run (``RunSettings``) and when it stops (``Until``);
- ``policy``: select, promote, age, retain, the Pareto front — pure, torch-free;
- ``population``: the living members and what successive halving remembers;
- ``breeder``: the next ``Birth`` (seeds, templates, random graphs, children, promotions);
- ``scoring``: one fitness from metric, size, latency and ratings;
- ``feedback``: recordings, growing streams and ratings that arrive while it runs;
- ``teaching``: a teacher beside the run (its genes, soft targets, the swap between jobs);
- ``pace``: the per-job time cap;
- ``records``: the archive record of an outcome, built in one place;
- ``loop``: ``Run`` — the backend, the archive, the events;
- ``control``: its thread-safe half (stop, pause, runtime settings, injections);
- ``status``: a run folder read without its lock.

Names are imported lazily, so ``engine.run.policy`` loads without torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Run": "loop",
    "EventSink": "control",
    "RunSettings": "settings",
    "Until": "settings",
    "Member": "population",
    "Population": "population",
    "pareto_front": "policy",
    "fit_seed": "breeder",
    "TIME_CAP": "pace",
    "TIME_CAP_MIN_JOBS": "pace",
    "FEEDBACK_POLL_S": "feedback",
    "status_of": "status",
    "dumps": "status",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


__all__ = sorted(_EXPORTS)
