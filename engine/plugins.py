"""Code the engine finds by entry point, never by name (DESIGN §2: the engine never names
``nodes``). The built-in library registers through the same groups a third-party package
uses, in its ``pyproject.toml``:

- ``openbrains.units``: a hook taking the unit registry (engine.units);
- ``openbrains.games``: a game or scored environment by the name users type
  (``tictactoe = "openbrains.nodes.games.tictactoe:TicTacToe"``);
- ``openbrains.sources``: a live source by the prefix of its spec (``mic``, ``camera``…),
  a callable ``(spec, **options) -> Source``.

Entry points are installed code the user chose to install; a name from a file only picks
among them, so a file never makes the engine import anything new.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from openbrains.engine.errors import OpenBrainsError

UNITS = "openbrains.units"
GAMES = "openbrains.games"
SOURCES = "openbrains.sources"


class PluginError(OpenBrainsError):
    """A name no installed package provides, or a provider that fails to load."""


@functools.cache
def installed(group: str) -> dict[str, EntryPoint]:
    """Name → entry point of ``group`` (the first package to claim a name keeps it)."""
    out: dict[str, EntryPoint] = {}
    for ep in entry_points(group=group):
        out.setdefault(ep.name, ep)
    return out


def load(group: str, name: str, what: str) -> Any:
    """The object entry point ``name`` of ``group`` names; ``what`` words the errors."""
    ep = installed(group).get(name)
    if ep is None:
        known = ", ".join(sorted(installed(group))) or "none"
        raise PluginError(f"unknown {what} {name!r}; installed: {known}")
    try:
        return ep.load()
    except Exception as exc:
        raise PluginError(
            f"{what} {name!r} from {ep.value!r} failed to load: {type(exc).__name__}: {exc}"
        ) from exc


def open_source(spec: str, **options: Any) -> Any:
    """The live source a spec names (``mic``, ``camera:2``, ``file:PATH``…), built by the
    installed package that provides its prefix; not yet opened."""
    name = spec.strip().partition(":")[0].lower() if isinstance(spec, str) else ""
    return load(SOURCES, name, "source")(spec, **options)
