"""Where jobs train (engine.backends.base.Backend), by name.

``BACKENDS`` maps a name to a factory taking a ``BackendConfig``; ``open_backend`` picks
``inline`` for ``workers <= 0`` and otherwise the named one (``local`` by default). A new
backend registers here with a factory that imports its module only when chosen, so its
optional dependencies are never needed by anyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openbrains.engine.backends.base import Backend, BackendConfig
from openbrains.engine.errors import OpenBrainsError


def _local(config: BackendConfig) -> Backend:
    from openbrains.engine.backends.local import LocalBackend

    return LocalBackend(config)


def _inline(config: BackendConfig) -> Backend:
    from openbrains.engine.backends.inline import InlineBackend

    return InlineBackend(config)


def _ray(config: BackendConfig) -> Backend:
    from openbrains.engine.backends.ray_backend import RayBackend

    return RayBackend(config)


BACKENDS: dict[str, Callable[[BackendConfig], Backend]] = {
    "local": _local,
    "inline": _inline,
    "ray": _ray,  # the optional [ray] extra; options: {"address": None | "auto" | "HOST:PORT"}
}
CHOICES = ("local", "ray")  # what a user picks (inline is --workers 0)


def check_backend(name: str, options: dict[str, Any] | None = None) -> None:
    """Refuse now, in one line, a backend that cannot open (Ray missing, no cluster at the
    address), before a run opens its archive."""
    if name not in BACKENDS:
        raise OpenBrainsError(f"unknown backend {name!r}; known: {', '.join(CHOICES)}")
    if name == "ray":
        from openbrains.engine.backends.ray_cluster import check

        check((options or {}).get("address"))


def open_backend(name: str, config: BackendConfig) -> Backend:
    """The backend called ``name`` (``inline`` whenever ``config.workers`` is 0)."""
    if config.workers <= 0:
        name = "inline"
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise OpenBrainsError(f"unknown backend {name!r}; known: {sorted(BACKENDS)}") from None
    return factory(config)


__all__ = ["BACKENDS", "CHOICES", "Backend", "BackendConfig", "check_backend", "open_backend"]
