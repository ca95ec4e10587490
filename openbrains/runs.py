"""An evolutionary search from Python: ``start_run`` / ``resume`` give a ``RunHandle``
over the engine's ``Run`` (engine/run/), whose events can be iterated while it runs.

Events are the engine's own (``started``, ``individual``, ``progress``, ``stopped``…), as
``Event(kind, data)`` with plain data. A run folder is data: ``resume`` runs the code its
stored task names only when this process was given it (a class or a ``CodeRef``), and reads
its stored data path only when the caller gives that path again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.brain import Brain, PathLike, load_brain
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.run import Run, RunSettings, Until, status_of
from openbrains.engine.trust import is_code_name, is_granted, safe_name
from openbrains.taskspec import TaskLike, task_spec

EVENT_POLL_S = 0.2  # how often a waiting event iterator checks that the run still runs


@dataclass(frozen=True)
class Event:
    """One thing a run reports: ``kind`` and its plain ``data`` (see docs/api.md)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Champion:
    """The best individual so far (best validation score)."""

    id: int
    metric: str
    score: float
    test_score: float
    params: int
    steps: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Champion:
        return cls(
            int(d["id"]),
            str(d.get("metric", "")),
            float(d["score"]),
            float(d["test_score"]),
            int(d["params"]),
            int(d["steps"]),
        )


@dataclass(frozen=True)
class RunSummary:
    """Where a run stands: what ``RunHandle.run`` returns when it stops."""

    run_dir: Path
    individuals: int
    births: int
    elapsed_s: float
    best: Champion | None


EventSink = Callable[[Event], None]


class Dispatch:
    """The engine Run's ``on_event``, given at its construction: each event to the
    caller's callback and, while ``events()`` reads, to its queue."""

    def __init__(self, on_event: EventSink | None) -> None:
        self.on_event = on_event
        self.queue: queue.SimpleQueue[Event] | None = None

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        event = Event(kind, data)
        if self.on_event is not None:
            self.on_event(event)
        if self.queue is not None:
            self.queue.put(event)


class RunHandle:
    """A run you started or resumed. ``run()`` searches in this thread; ``events()``
    searches in a thread of its own and yields what happens (breaking out stops it)."""

    def __init__(self, run: Run, sink: Dispatch) -> None:
        self.engine = run  # the engine's Run, for programs that steer it further (a service)
        self._sink = sink  # the Run's on_event from its construction (parts of it keep it)
        self._searching = threading.Lock()  # one search at a time over one archive

    # ----- what it is ---------------------------------------------------------------------
    @property
    def run_dir(self) -> Path:
        return self.engine.run_dir

    @property
    def settings(self) -> RunSettings:
        return self.engine.settings

    @property
    def individuals(self) -> int:
        """Individuals in its archive (all sessions)."""
        return self.engine.archive.count()

    def best(self) -> Champion | None:
        best = self.engine.progress()["best"]
        return None if best is None else Champion.from_dict(best)

    def champion(self) -> Brain | None:
        """The best individual as a ``Brain`` (None before the first one is finished)."""
        if self.engine.archive.best() is None:
            return None
        return load_individual(self.run_dir)

    def __repr__(self) -> str:
        return f"RunHandle({str(self.run_dir)!r}, task={self.settings.task.get('name')!r})"

    # ----- running ------------------------------------------------------------------------
    def run(
        self,
        minutes: float | None = None,
        until: str | Until | None = None,
        individuals: int | None = None,
    ) -> RunSummary:
        """Search in this thread until stopped (``stop()`` from another thread), out of
        ``minutes``, ``until`` the champion's metric reaches e.g. ``"accuracy>=0.97"``, or
        after ``individuals`` new ones."""
        stop_when = Until.parse(until) if isinstance(until, str) else until
        if not self._searching.acquire(blocking=False):
            raise OpenBrainsError("this run is already searching (run() or events())")
        try:
            self.engine.run(minutes=minutes, until=stop_when, max_individuals=individuals)
        finally:
            self._searching.release()
        return self.summary()

    def events(
        self,
        minutes: float | None = None,
        until: str | Until | None = None,
        individuals: int | None = None,
    ) -> Iterator[Event]:
        """Run in a background thread and yield its events, the last one ``stopped``.
        Leaving the loop early stops the run (after the jobs in flight)."""
        if self._sink.queue is not None:
            raise OpenBrainsError("this run's events are already being read")
        events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        failure: list[BaseException] = []

        def search() -> None:
            try:
                self.run(minutes, until, individuals)
            except BaseException as exc:  # handed to the reader, raised there
                failure.append(exc)

        self._sink.queue = events
        thread = threading.Thread(target=search, name="openbrains-run", daemon=True)
        thread.start()
        try:
            while thread.is_alive() or not events.empty():
                try:
                    yield events.get(timeout=EVENT_POLL_S)
                except queue.Empty:
                    continue
        finally:
            self.engine.stop()
            thread.join()
            self._sink.queue = None
        if failure:
            raise failure[0]

    def summary(self) -> RunSummary:
        p = self.engine.progress()
        best = p["best"]
        return RunSummary(
            self.run_dir,
            int(p["individuals"]),
            int(p["births"]),
            float(p["elapsed_s"]),
            None if best is None else Champion.from_dict(best),
        )

    def stop(self) -> None:
        """Stop after the jobs in flight (safe from any thread)."""
        self.engine.stop()

    def pause(self) -> None:
        self.engine.pause()

    def resume(self) -> None:
        self.engine.resume()

    def close(self) -> None:
        """Release the run folder (its lock and archive)."""
        self.engine.close()

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_run(
    task: TaskLike | None = None,
    run_dir: PathLike | None = None,
    *,
    data: PathLike | None = None,
    label: str | None = None,
    options: Mapping[str, Any] | None = None,
    seeds: Sequence[Brain] = (),
    settings: RunSettings | None = None,
    on_event: EventSink | None = None,
    backend: str = "local",
    backend_options: Mapping[str, Any] | None = None,
    engine_options: Mapping[str, Any] | None = None,
    **values: Any,
) -> RunHandle:
    """Open a run of ``task`` in ``run_dir`` (default ``runs/<task>``), or resume the one
    there (the same task; its search settings are kept, the runtime ones are these).

    ``values`` are ``RunSettings`` fields (``population=``, ``workers=``, ``seed=``…), or
    give a whole ``settings``. ``seeds`` are brains the first generation starts from.
    ``backend`` is where jobs train: ``"local"`` (worker processes here) or ``"ray"`` with
    ``backend_options={"address": "auto" | "HOST:PORT" | None}`` (docs/scale.md).
    ``engine_options`` go to the engine's ``Run`` as they are (what a command line adds
    beyond the settings). Nothing runs until ``run()`` or ``events()``.
    """
    if settings is None:
        if task is None:
            raise OpenBrainsError("start_run needs a task (a name, your class, or settings=)")
        settings = RunSettings(task=task_spec(task, data, label, options), **values)
    elif task is not None or values or data is not None or label is not None or options:
        raise OpenBrainsError("give either settings= or a task and its values, not both")
    settings.seeds = [*settings.seeds, *(b.graph.to_json().decode() for b in seeds)]
    folder = Path(run_dir) if run_dir is not None else default_run_dir(settings.task)
    where = checked_backend(backend, backend_options)
    sink = Dispatch(on_event)
    run = Run(folder, settings, on_event=sink, **dict(engine_options or {}))
    try:
        run.backend_name, run.backend_options = where
        handle = RunHandle(run, sink)
        if seeds:
            from openbrains.engine.weights import encode_weights

            run.save_seed_weights([encode_weights(b.weights) if b.trained else b"" for b in seeds])
    except BaseException:
        run.close()
        raise
    return handle


def default_run_dir(task: Mapping[str, Any]) -> Path:
    return Path("runs") / safe_name(task.get("name"))


def resume(
    run_dir: PathLike,
    *,
    task: TaskLike | None = None,
    data: PathLike | None = None,
    on_event: EventSink | None = None,
    backend: str = "local",
    backend_options: Mapping[str, Any] | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> RunHandle:
    """Open the run stored in ``run_dir`` to go on with it. If its task is your own code,
    pass that class (or a ``CodeRef``) as ``task``; if it reads data, pass the path as
    ``data`` (a run folder's stored paths are used only when you give them again)."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise OpenBrainsError(f"no run folder at {folder}")
    stored = dict(status_of(folder)["task"])
    name = stored.get("name")
    if task is not None:
        given = task_spec(task)["name"]
        if given != name:
            raise OpenBrainsError(f"{folder} holds a run of {name!r}, not {given!r}")
    elif is_code_name(name) and not is_granted(str(name)):
        raise OpenBrainsError(
            f"{folder}'s task {name!r} is Python code; code named by a run folder never runs: "
            "pass your class as task= to go on with it"
        )
    if stored.get("data"):
        if data is None:
            raise OpenBrainsError(
                f"{folder} names the data {stored['data']!r}; a run folder's paths are used "
                "only when you give them: pass data=PATH"
            )
        if Path(data).resolve() != Path(str(stored["data"])).resolve():
            raise OpenBrainsError(f"{folder} was run on {stored['data']!r}, not {str(data)!r}")
    where = checked_backend(backend, backend_options)
    sink = Dispatch(on_event)
    run = Run(folder, None, on_event=sink, **dict(engine_options or {}))
    run.backend_name, run.backend_options = where
    return RunHandle(run, sink)


def checked_backend(name: str, options: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """Backend ``name`` (engine.backends) and its options, refused in one line before any
    run folder is opened if it cannot work (Ray not installed, no cluster at that address)."""
    from openbrains.engine.backends import check_backend

    check_backend(name, dict(options or {}))
    return name, dict(options or {})


def load_individual(run_dir: PathLike, id: int | None = None) -> Brain:
    """An individual of a run folder as a ``Brain`` (the champion when ``id`` is None),
    with the lineage, task, codecs and scores ``openbrains export`` writes."""
    import tempfile

    from openbrains.engine.export import export_individual

    with tempfile.TemporaryDirectory(prefix="openbrains-") as tmp:
        path, _record = export_individual(Path(run_dir), id, Path(tmp) / "brain.graph")
        brain = load_brain(path)
    brain.source = f"{run_dir} #{'best' if id is None else id}"
    return brain
