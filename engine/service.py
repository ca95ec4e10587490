"""The engine as its own process (DESIGN §3.8): `python -m openbrains.engine.service`.

Reads command frames on stdin, writes replies and events on stdout (engine.protocol).
The search runs in a thread of this process, training in worker processes, so the GUI
never waits on training. The archive belongs to the search thread; queries use their
own read-only connection. stdin closing (the GUI quit or died) stops everything.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from openbrains.engine import __version__
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.protocol import ProtocolError, encode_frame, read_frame
from openbrains.engine.service_feedback import COMMANDS as FEEDBACK_COMMANDS
from openbrains.engine.service_feedback import stop_all as stop_feedback
from openbrains.engine.store import Archive
from openbrains.engine.teachers.service import COMMANDS as TEACHER_COMMANDS

Handler = Callable[["Service", dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return wrap


class Service:
    """Commands to one run and its events. ``out`` is the pipe of the process that started
    this one (None when the run's own process hosts the service, `openbrains run`);
    ``listeners`` are attached clients (engine.control), which get every event too."""

    def __init__(self, out: BinaryIO | None) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.dispatch_lock = threading.RLock()  # one command at a time, from any client
        self.run: Any = None
        self.thread: threading.Thread | None = None
        self.reader: Archive | None = None
        self.listeners: list[Any] = []
        self.control: Any = None

    # ----- output ----------------------------------------------------------------------
    def send(self, message: dict[str, Any], to: Any = None) -> None:
        """To ``to`` alone (a reply), or to the pipe and every attached client (an event);
        a client that went away is dropped."""
        frame = encode_frame(message)
        with self.lock:
            if to is not None:
                targets = [to]
            else:
                targets = ([self.out] if self.out is not None else []) + list(self.listeners)
            for target in targets:
                try:
                    target.write(frame)
                    target.flush()
                except OSError:
                    if target is self.out:
                        raise
                    if target in self.listeners:
                        self.listeners.remove(target)

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.send({"event": kind, "data": data})

    # ----- loop --------------------------------------------------------------------------
    def serve(self, inp: BinaryIO) -> None:
        while True:
            try:
                msg = read_frame(inp)
            except ProtocolError as exc:
                self.event("error", {"message": f"bad command frame: {exc}"})
                break
            if msg is None:
                break
            if msg.get("cmd") == "quit":
                self.reply(msg, {"ok": True})
                break
            self.dispatch(msg)
        self.shutdown()

    def reply(self, msg: dict[str, Any], body: dict[str, Any], to: Any = None) -> None:
        target = to if to is not None else self.out
        if target is not None:
            self.send({"reply": msg.get("id"), **body}, target)

    def dispatch(self, msg: dict[str, Any], to: Any = None) -> None:
        """Run one command; its reply goes to ``to`` (an attached client) or the pipe."""
        handler = HANDLERS.get(str(msg.get("cmd")))
        if handler is None:
            self.reply(msg, {"ok": False, "error": f"unknown command {msg.get('cmd')!r}"}, to)
            return
        try:
            with self.dispatch_lock:
                body = handler(self, msg)
            self.reply(msg, {"ok": True, **body}, to)
        except OpenBrainsError as exc:
            self.reply(msg, {"ok": False, "error": str(exc)}, to)
        except Exception as exc:  # report, keep serving: the GUI must not lose its engine
            self.reply(
                msg,
                {
                    "ok": False,
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=6),
                },
                to,
            )

    def need_run(self) -> Any:
        if self.run is None:
            raise OpenBrainsError("no run is open; send open_run first")
        return self.run

    def query(self) -> Archive:
        if self.reader is None:
            self.reader = Archive(self.need_run().run_dir, readonly=True)
        return self.reader

    def listen(self) -> None:
        """Let windows attach to this run (engine.control); a run without it still runs."""
        from openbrains.engine.control import ControlServer

        try:
            self.control = ControlServer(self)
            self.control.start()
        except OSError as exc:
            self.control = None
            self.event("error", {"message": f"windows cannot attach to this run: {exc}"})

    def release(self) -> None:
        """Stop listening, stop feedback threads, close the query connection; the run
        itself is left to whoever owns it."""
        if self.control is not None:
            self.control.close()
            self.control = None
        stop_feedback(self)
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def shutdown(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        stop_feedback(self)
        if self.run is not None:
            self.run.stop()
            if self.thread is not None:
                self.thread.join(timeout=30)
            self.run.close()
            self.run = None
        if self.reader is not None:
            self.reader.close()
            self.reader = None


# ----- commands ------------------------------------------------------------------------------
@handles("hello")
def _hello(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.catalog import catalog_json
    from openbrains.engine.tasks.registry import describe_tasks

    return {
        "version": __version__,
        "pid": os.getpid(),
        "catalog": catalog_json(),
        "tasks": describe_tasks(),
    }


@handles("open_run")
def _open_run(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.run import Run, RunSettings
    from openbrains.engine.trust import restore

    if svc.run is not None:
        raise OpenBrainsError("a run is already open in this engine; close it first")
    # the code the user named in the window's own dialogs (engine.trust); a task that
    # names other code is refused when it loads, whatever its settings say
    restore(msg.get("trusted_code") or [])
    settings = RunSettings.from_dict(msg["settings"]) if msg.get("settings") else None
    seed_weights = _seed_weights(msg.get("seed_weights"), settings)
    svc.run = Run(Path(msg["run_dir"]), settings, on_event=svc.event)
    svc.run.save_seed_weights(seed_weights)  # kept once, when the run folder is new
    svc.listen()
    return {
        "settings": svc.run.settings.to_dict(),
        "task": svc.run.task.describe(),
        "individuals": svc.run.archive.count(),
        "bounds": svc.run.bounds.to_dict(),
    }


def _seed_weights(given: Any, settings: Any) -> list[bytes]:
    """The seeds' trained weights as the window sends them: one base64 safetensors blob
    (or "") per seed graph, read as data only (``engine.weights.decode_weights``)."""
    if not given:
        return []
    seeds = settings.seeds if settings is not None else []
    if not isinstance(given, list) or len(given) != len(seeds):
        raise OpenBrainsError('seed_weights needs one entry (or "") per seed graph')
    return [_weights_blob(text, "a seed's weights") for text in given]


def _weights_blob(text: Any, what: str) -> bytes:
    """Base64 safetensors from the window, checked as data (b"" for none)."""
    import base64
    import binascii

    from openbrains.engine.weights import decode_weights

    try:
        data = base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise OpenBrainsError(f"{what} are not base64") from None
    try:
        if data:
            decode_weights(data)  # safetensors, checked before it is kept
    except Exception as exc:  # safetensors says why in its own error type
        raise OpenBrainsError(f"{what} cannot be read: {exc}") from None
    return data


@handles("close_run")
def _close_run(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    svc.shutdown()
    return {}


@handles("start")
def _start(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    run = svc.need_run()
    if svc.thread is not None and svc.thread.is_alive():
        run.resume()
        return {"running": True}

    def loop() -> None:
        try:
            run.run(minutes=msg.get("minutes"))
        except Exception as exc:
            svc.event(
                "error",
                {
                    "message": f"the search stopped: {type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=6),
                },
            )

    svc.thread = threading.Thread(target=loop, name="openbrains-run", daemon=True)
    svc.thread.start()
    return {"running": True}


@handles("pause")
def _pause(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    svc.need_run().pause()
    return {}


@handles("resume")
def _resume(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    svc.need_run().resume()
    return {}


@handles("stop")
def _stop(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    run = svc.need_run()
    run.stop()
    if svc.thread is not None:
        svc.thread.join(timeout=30)
        svc.thread = None
    return {}


@handles("set")
def _set(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.run import RunSettings

    changes = {k: msg[k] for k in RunSettings.RUNTIME if k in msg}
    svc.need_run().update(**changes)
    return {"changed": changes}


@handles("inject")
def _inject(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    run = svc.need_run()
    graph = Graph.from_json(msg["graph"])
    weights = b""
    source = msg.get("weights_from")
    if source is not None:
        weights = svc.query().weights(int(source)) or b""
    run.inject(
        graph,
        weights,
        parents=msg.get("parents") or ([source] if source is not None else []),
        detail=msg.get("detail", "edited by hand"),
    )
    return {}


@handles("breed")
def _breed(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    """A brain from outside (the window's exchange) crossed with the run's champion; the
    child trains next (``engine.run.crossing``). Its graph and weights come as data: JSON
    and base64 safetensors, as seed weights do."""
    from openbrains.engine.run.crossing import cross_with_champion
    from openbrains.engine.weights import decode_weights

    run = svc.need_run()
    graph = Graph.from_json(str(msg.get("graph") or ""))
    data = _weights_blob(msg.get("weights") or "", "the brain's weights")
    champion = msg.get("champion")
    made = cross_with_champion(
        run,
        svc.query(),
        graph,
        decode_weights(data) if data else {},
        str(msg.get("name") or "a shared brain")[:200],
        None if champion is None else int(champion),
        seed=int(msg.get("seed") or 0),
    )
    run.add_birth(made.birth)
    return {"champion": made.champion, "matched": made.matched_nodes, "detail": made.detail}


def _summary(rec: Any) -> dict[str, Any]:
    return rec.summary()


@handles("population")
def _population(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    recs = svc.query().records(alive_only=True)
    return {"individuals": [{**_summary(r), "graph": r.graph_json} for r in recs]}


@handles("history")
def _history(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    archive = svc.query()
    recs = archive.records(since_id=int(msg.get("since", 0)))
    # game runs also send their reference players' Elo (PlotsView.set_references)
    return {
        "individuals": [_summary(r) for r in recs],
        "references": archive.get_meta("references") or {},
    }


@handles("individual")
def _individual(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    archive = svc.query()
    rec = archive.get(int(msg["individual"]))
    return {
        **_summary(rec),
        "graph": rec.graph_json,
        "curve": rec.curve,
        "scores": archive.scores(rec.id),
        "has_weights": archive.weights(rec.id) is not None,
    }


@handles("check_graph")
def _check_graph(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    from openbrains.engine.checks import check_graph

    return check_graph(Graph.from_json(msg["graph"]))


@handles("status")
def _status(svc: Service, msg: dict[str, Any]) -> dict[str, Any]:
    run = svc.need_run()
    return {
        "progress": run.progress(),
        "paused": run.paused.is_set(),
        "running": svc.thread is not None and svc.thread.is_alive(),
        "references": run.archive.get_meta("references") or {},  # game runs' Elo yardstick
    }


HANDLERS.update(FEEDBACK_COMMANDS)  # samples, recording, ratings, live mode
HANDLERS.update(TEACHER_COMMANDS)  # a teacher for the open run (engine.teachers.service)


def main() -> int:
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by libraries must not corrupt the frames
    svc = Service(out)
    svc.serve(sys.stdin.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
