"""What a graph records about each task it learned (format version 2, ``graph.tasks``).

A multi-task brain shares one body between several tasks; each task names its own input
nodes and its own head (output nodes), what kind of task it is, its classes, codecs and
options, the score it had when it was saved, and how big its *probe* is: a few hundred of
its inputs with the brain's own outputs on them, stored as tensors in
``probes.safetensors``, so the file keeps a memory of the task even where its data is not.

Plain data, no torch: the file reader checks types here, the engine uses the records to
compile one task's view of a graph (``engine.multitask``). Keys this version does not know
are kept in ``extra`` and written back.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from openbrains.engine.errors import GraphError

TASK_NAME_RE = re.compile(r"^[A-Za-z0-9_.:+-]{1,128}$")
PORT_NAME_RE = re.compile(r"^[^/\x00-\x1f]{1,128}$")
# what a head's output means, so a reader knows how to turn it into an answer
ROLES = ("classifier", "regressor", "tokens", "policy", "value", "signal")
ROLE_OF_KIND = {"classification": "classifier", "regression": "regressor", "completion": "tokens"}


def check_task_name(name: Any, where: str = "task") -> str:
    if not isinstance(name, str) or not TASK_NAME_RE.match(name):
        raise GraphError(
            f"{where}: task name {name!r} must be 1–128 characters of letters, digits and _.:+-"
        )
    return name


def _port_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not PORT_NAME_RE.match(name):
        raise GraphError(f"{where}: port name {name!r} must be 1–128 characters, no '/'")
    return name


def _typed(d: dict[str, Any], key: str, types: type | tuple[type, ...], where: str) -> Any:
    value = d[key]
    if not isinstance(value, types) or (isinstance(value, bool) and types in (int, float)):
        names = "/".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise GraphError(f"{where}: key {key!r} must be {names}, got {type(value).__name__}")
    return value


@dataclass
class Port:
    """One input or head of a task: the graph node it is (``node``, a uid; when absent, the
    I/O node whose ``params.name`` is the port's name), the Signal it carries, and for a
    head its ``role``."""

    node: str | None = None
    signal: dict[str, Any] = field(default_factory=dict)
    role: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    KEYS = ("node", "channels", "time", "meta", "role")

    def to_dict(self) -> dict[str, Any]:
        d = copy.deepcopy(self.extra)
        d.update(copy.deepcopy(self.signal))
        if self.node is not None:
            d["node"] = self.node
        if self.role is not None:
            d["role"] = self.role
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str, head: bool) -> Port:
        if not isinstance(d, dict):
            raise GraphError(f"{where}: expected an object, got {type(d).__name__}")
        node = _typed(d, "node", str, where) if "node" in d else None
        role = _typed(d, "role", str, where) if "role" in d else None
        if role is not None and role not in ROLES:
            raise GraphError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        if role is not None and not head:
            raise GraphError(f"{where}: only a head has a role")
        signal: dict[str, Any] = {}
        if "channels" in d:
            channels = _typed(d, "channels", int, where)
            if channels < 1:
                raise GraphError(f"{where}: 'channels' must be >= 1, got {channels}")
            signal["channels"] = channels
        if "time" in d:
            time = d["time"]
            if time is not None and (not isinstance(time, int) or isinstance(time, bool)):
                raise GraphError(f"{where}: 'time' must be a whole number or null")
            signal["time"] = time
        if "meta" in d:
            signal["meta"] = _typed(d, "meta", dict, where)
        extra = {k: v for k, v in d.items() if k not in cls.KEYS}
        return cls(node=node, signal=signal, role=role, extra=extra)


@dataclass
class Probe:
    """How many examples the task's probe holds, and which ports they cover (the tensors
    are ``<task>/in/<port>`` and ``<task>/out/<port>`` in ``probes.safetensors``)."""

    count: int
    inputs: list[str]
    heads: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = copy.deepcopy(self.extra)
        d.update(count=self.count, inputs=list(self.inputs), heads=list(self.heads))
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str) -> Probe:
        if not isinstance(d, dict):
            raise GraphError(f"{where}: expected an object, got {type(d).__name__}")
        for key in ("count", "inputs", "heads"):
            if key not in d:
                raise GraphError(f"{where}: missing key {key!r}")
        count = _typed(d, "count", int, where)
        if count < 1:
            raise GraphError(f"{where}: 'count' must be >= 1, got {count}")
        ports = {}
        for key in ("inputs", "heads"):
            names = _typed(d, key, list, where)
            ports[key] = [_port_name(n, f"{where}: {key}") for n in names]
        extra = {k: v for k, v in d.items() if k not in ("count", "inputs", "heads")}
        return cls(count, ports["inputs"], ports["heads"], extra)


@dataclass
class TaskRecord:
    """One task a graph learned. ``kind`` and ``metric`` as the task defines them
    (``engine.tasks``); ``score``: what it measured when saved (``metric``, ``validation``,
    ``test``…); ``data_id``: a fingerprint of the data it was trained on, so a run can tell
    "the same task again" from "another task of the same name"."""

    name: str
    kind: str = ""
    metric: str = ""
    inputs: dict[str, Port] = field(default_factory=dict)
    heads: dict[str, Port] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    codecs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    score: dict[str, Any] = field(default_factory=dict)
    probe: Probe | None = None
    data_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    KEYS = (
        "kind",
        "metric",
        "inputs",
        "heads",
        "classes",
        "codecs",
        "options",
        "settings",
        "score",
        "probe",
        "data_id",
    )

    def to_dict(self) -> dict[str, Any]:
        d = copy.deepcopy(self.extra)
        d.update(
            kind=self.kind,
            metric=self.metric,
            inputs={k: p.to_dict() for k, p in self.inputs.items()},
            heads={k: p.to_dict() for k, p in self.heads.items()},
            classes=list(self.classes),
            codecs=copy.deepcopy(self.codecs),
            options=copy.deepcopy(self.options),
            settings=copy.deepcopy(self.settings),
            score=copy.deepcopy(self.score),
        )
        if self.probe is not None:
            d["probe"] = self.probe.to_dict()
        if self.data_id is not None:
            d["data_id"] = self.data_id
        return d

    @classmethod
    def from_dict(cls, name: str, d: Any) -> TaskRecord:
        where = f"task {check_task_name(name)!r}"
        if not isinstance(d, dict):
            raise GraphError(f"{where}: expected an object, got {type(d).__name__}")
        rec = cls(name=name, extra=copy.deepcopy({k: v for k, v in d.items() if k not in cls.KEYS}))
        for key in ("kind", "metric"):
            if key in d:
                setattr(rec, key, _typed(d, key, str, where))
        for key, head in (("inputs", False), ("heads", True)):
            if key in d:
                ports = _typed(d, key, dict, where)
                setattr(
                    rec,
                    key,
                    {
                        _port_name(p, f"{where}: {key}"): Port.from_dict(
                            v, f"{where}: {key} {p!r}", head
                        )
                        for p, v in ports.items()
                    },
                )
        if "classes" in d:
            classes = _typed(d, "classes", list, where)
            if not all(isinstance(c, str) for c in classes):
                raise GraphError(f"{where}: 'classes' must be a list of strings")
            rec.classes = list(classes)
        for key in ("codecs", "options", "settings", "score"):
            if key in d:
                setattr(rec, key, copy.deepcopy(_typed(d, key, dict, where)))
        if "probe" in d:
            rec.probe = Probe.from_dict(d["probe"], f"{where}: probe")
            for key, ports in (("inputs", rec.inputs), ("heads", rec.heads)):
                unknown = [p for p in getattr(rec.probe, key) if p not in ports]
                if unknown:
                    raise GraphError(f"{where}: probe {key} {unknown} are not the task's {key}")
        if "data_id" in d and d["data_id"] is not None:
            rec.data_id = _typed(d, "data_id", str, where)
        return rec

    # ----- what the engine asks -------------------------------------------------------
    def input_node(self, graph: Any, port: str) -> str | None:
        """The uid of the graph input that is this task's ``port`` (None if it has none)."""
        return _resolve(graph, self.inputs[port], port, "input")

    def head_node(self, graph: Any, port: str) -> str | None:
        return _resolve(graph, self.heads[port], port, "output")

    def head_role(self, port: str) -> str:
        role = self.heads[port].role
        return role or ROLE_OF_KIND.get(self.kind) or (port if port in ROLES else "signal")


def _resolve(graph: Any, p: Port, port: str, unit: str) -> str | None:
    if p.node is not None:
        node = graph.nodes.get(p.node)
        return p.node if node is not None and node.unit == unit else None
    for node in graph.nodes.values():
        if node.unit == unit and node.params.get("name") == port:
            return node.uid
    return None


def latest(graph: Any) -> TaskRecord | None:
    """The task a graph learned last (records keep the order tasks were added in)."""
    return next(reversed(graph.tasks.values()), None) if graph.tasks else None


def tasks_from_dict(value: Any, where: str = "graph") -> dict[str, TaskRecord]:
    if not isinstance(value, dict):
        raise GraphError(f"{where}: key 'tasks' must be an object, got {type(value).__name__}")
    return {name: TaskRecord.from_dict(name, d) for name, d in value.items()}


def tasks_to_dict(tasks: dict[str, TaskRecord]) -> dict[str, Any]:
    return {name: rec.to_dict() for name, rec in tasks.items()}


def record_of(name: str, described: dict[str, Any], graph: Any) -> TaskRecord:
    """A task record from what a task says about itself (``DatasetTask.describe()`` or a
    game task's), bound to the graph's own input and output nodes by name."""
    d = {k: v for k, v in described.items() if k not in ("name", "outputs")}
    d["heads"] = described.get("outputs") or {}
    rec = TaskRecord.from_dict(name, _json_safe(d))
    for port, p in rec.inputs.items():
        p.node = p.node or _resolve(graph, p, port, "input")
    for port, p in rec.heads.items():
        p.node = p.node or _resolve(graph, p, port, "output")
        p.role = p.role or ROLE_OF_KIND.get(rec.kind) or (port if port in ROLES else "signal")
    return rec


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
