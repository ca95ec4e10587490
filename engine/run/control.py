"""Steering a running search from another thread (the service's command thread, a
window): stop, pause, resume, change runtime settings, inject a hand-made graph, put a
teacher to work. Every
change to the archive or the population is queued with ``call_soon`` and made by the
loop's own thread between jobs."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.neighbour import PolicySettings
from openbrains.engine.run.settings import RunSettings
from openbrains.engine.settings_check import check_run_settings

if TYPE_CHECKING:
    from openbrains.engine.jobs import Birth
    from openbrains.engine.neighbour import Neighbour
    from openbrains.engine.run.breeder import Breeder
    from openbrains.engine.run.feedback import Feedback
    from openbrains.engine.run.teaching import Teaching
    from openbrains.engine.store import Archive

EventSink = Callable[[str, dict[str, Any]], None]


class Controls:
    """The thread-safe half of ``Run`` (engine.run.loop)."""

    settings: RunSettings
    archive: Archive
    breeder: Breeder
    feedback: Feedback
    teaching: Teaching
    neighbour: Neighbour
    on_event: EventSink
    stop_event: threading.Event
    paused: threading.Event
    _calls: queue.SimpleQueue[Callable[[], None]]
    _backend_dirty: bool

    def stop(self) -> None:
        self.stop_event.set()

    def pause(self) -> None:
        """Finish what is in flight, start nothing new (workers stay warm)."""
        self.paused.set()
        self.on_event("paused", {})

    def resume(self) -> None:
        self.paused.clear()
        self.on_event("resumed", {})

    def _on_neighbour(self, kind: str, data: dict[str, Any]) -> None:
        """The good-neighbour rules held the search back or let it go: tell and log it."""
        self.archive.log_event(kind, data)
        self.on_event(kind, data)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the loop's thread between jobs (archive and population are its own)."""
        self._calls.put(fn)

    def update(self, **changes: Any) -> None:
        """Change runtime settings (workers, cpu_cap, tradeoff, rating_weight) of a running
        search."""
        unknown = set(changes) - set(RunSettings.RUNTIME)
        if unknown:
            raise OpenBrainsError(
                f"cannot change {sorted(unknown)} while running; only {RunSettings.RUNTIME}"
            )
        check_run_settings(changes)
        PolicySettings.from_mapping({**self.settings.to_dict(), **changes})  # refuse bad rules now

        def apply() -> None:
            s = self.settings
            if changes.get("workers", s.workers) != s.workers or (
                changes.get("cpu_cap", s.cpu_cap) != s.cpu_cap
            ):
                self._backend_dirty = True
            refit = changes.get("rating_weight", s.rating_weight) != s.rating_weight
            for key, value in changes.items():
                setattr(s, key, value)
            self.archive.set_meta("settings", s.to_dict())
            if refit:
                self.feedback.refit()
            self.neighbour.update(PolicySettings.from_mapping(s))
            self.on_event("settings", {k: getattr(s, k) for k in RunSettings.RUNTIME})

        self.call_soon(apply)

    def inject(
        self,
        graph: Graph,
        weights: bytes = b"",
        parents: list[int] | None = None,
        detail: str = "edited by hand",
    ) -> None:
        """Add a hand-made graph to the population: it is trained next, like any child."""
        graph.validate()
        if self.breeder.device is not None:  # --device-budget: a hard limit, hand edits too
            self.breeder.device.check(graph, "this graph")
        graph = graph.copy()
        self.call_soon(lambda: self.breeder.inject(graph, weights, list(parents or []), detail))

    def add_birth(self, birth: Birth) -> None:
        """A child made outside the breeder (``engine.run.crossing``) is trained next."""
        birth.graph.validate()
        if self.breeder.device is not None:  # --device-budget: a hard limit for it too
            self.breeder.device.check(birth.graph, "the bred child")
        self.call_soon(lambda: self.breeder.injections.append(birth))

    def use_teacher(self, order: Any) -> dict[str, Any] | None:
        """Put a teacher (a ``TeacherOrder``) to work on this run, or with None send it
        home (engine.run.teaching); a bad order raises ``TeacherError`` here."""
        return self.teaching.use(order)

    def _drain_calls(self) -> None:
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                return
            fn()
