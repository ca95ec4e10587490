"""Where jobs train (engine.backends.base.Backend), by name.

``BACKENDS`` maps a name to a factory taking a ``BackendConfig``; ``open_backend`` picks
``inline`` for ``workers <= 0`` and otherwise the named one (``local`` by default). A new
backend registers here with a factory that imports its module only when chosen, so its
optional dependencies are never needed by anyone else.
"""

from __future__ import annotations

from collections.abc import Callable

from openbrains.engine.backends.base import Backend, BackendConfig
from openbrains.engine.errors import OpenBrainsError


def _local(config: BackendConfig) -> Backend:
    from openbrains.engine.backends.local import LocalBackend

    return LocalBackend(config)


def _inline(config: BackendConfig) -> Backend:
    from openbrains.engine.backends.inline import InlineBackend

    return InlineBackend(config)


BACKENDS: dict[str, Callable[[BackendConfig], Backend]] = {
    "local": _local,
    "inline": _inline,
}


def open_backend(name: str, config: BackendConfig) -> Backend:
    """The backend called ``name`` (``inline`` whenever ``config.workers`` is 0)."""
    if config.workers <= 0:
        name = "inline"
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise OpenBrainsError(f"unknown backend {name!r}; known: {sorted(BACKENDS)}") from None
    return factory(config)


__all__ = ["BACKENDS", "Backend", "BackendConfig", "open_backend"]
