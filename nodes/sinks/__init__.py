"""Sinks: where a brain's decoded outputs go in a live run (DESIGN §3.11 "Real time").

Harness objects, like sources: a codec decodes the brain's output Signal and the sink keeps
or plays the result. Each sink is a context manager with ``open``/``write``/``close``,
counts what it received in ``count`` and describes itself in one line. They are plain
Python (numpy; sounddevice only for the speaker), so the engine can use them headless and
the canvas can read their state (``TextSink.text``, ``ImageSink.latest``, ``MeterSink``'s
statistics and history) to draw widgets.

Every failure a user can cause (no speaker, a full disk when saving) is a ``SinkError``
with one clear line; the run keeps going.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, Self, runtime_checkable

from openbrains.engine.errors import OpenBrainsError


class SinkError(OpenBrainsError):
    """A sink that cannot take output: one line that says what and, where known, why."""


@runtime_checkable
class Sink(Protocol):
    count: int

    def open(self) -> None: ...

    def write(self, value: Any) -> None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


class SinkBase:
    """Shared lifecycle: ``open`` is idempotent, ``close`` repeatable, ``with`` works."""

    def __init__(self) -> None:
        self.count = 0
        self._opened = False
        self._closed = False

    def open(self) -> None:
        if not self._opened:
            self._open()
            self._opened = True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    def write(self, value: Any) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__

    def _open(self) -> None:
        pass

    def _close(self) -> None:
        pass

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


def to_numpy(value: Any) -> Any:
    """A torch tensor (or Signal) → numpy, without importing torch here."""
    data = getattr(value, "data", value) if hasattr(value, "meta") else value
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    return data


def _text(**kw: Any) -> Sink:
    from openbrains.nodes.sinks.text import TextSink

    return TextSink(**kw)


def _image(**kw: Any) -> Sink:
    from openbrains.nodes.sinks.image import ImageSink

    return ImageSink(**kw)


def _audio(**kw: Any) -> Sink:
    from openbrains.nodes.sinks.audio import AudioOutSink

    return AudioOutSink(**kw)


def _meter(**kw: Any) -> Sink:
    from openbrains.nodes.sinks.meter import MeterSink

    return MeterSink(**kw)


SINKS: dict[str, Callable[..., Sink]] = {
    "text": _text,
    "image": _image,
    "audio": _audio,
    "meter": _meter,
}
"""Sink name → factory ``(**options) -> Sink`` (modules load only when used)."""


def make_sink(name: str, **options: Any) -> Sink:
    """The sink called ``name`` (not yet opened); unknown names list the known ones."""
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SINKS:
        raise SinkError(f"unknown sink {name!r}; expected one of: {', '.join(SINKS)}")
    try:
        return SINKS[key](**options)
    except (TypeError, ValueError) as e:
        raise SinkError(f"sink {name!r}: {' '.join(str(e).split())}") from e


__all__ = ["SINKS", "Sink", "SinkBase", "SinkError", "make_sink", "to_numpy"]
