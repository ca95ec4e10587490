"""What travels through a run, typed (DESIGN §12.2): a ``Birth`` (what the breeder made
and why) stays with the coordinator; a ``JobSpec`` (everything a worker needs) goes to a
backend; a ``JobResult`` (scores, weights, timings, errors) comes back and becomes archive
records in one place (engine.run.records).

All three are plain dataclasses, picklable as they are (a distributed backend may ship
them whole); ``to_wire``/``from_wire`` turn a spec or a result into an orjson-able header
plus a list of safetensors blobs, which is what the local worker pipes carry (nothing is
pickled between our own processes). ``JOB_FORMAT`` is checked on arrival, so a worker
from another version says so instead of misreading a job. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import orjson

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.graph import Graph

JOB_FORMAT = 1
STATUSES = ("done", "diverged", "failed")


class JobFormatError(OpenBrainsError):
    """A job or result written by another version of Open Brains."""


def _check_format(header: dict[str, Any], what: str) -> None:
    got = header.get("format")
    if got != JOB_FORMAT:
        raise JobFormatError(
            f"this Open Brains reads {what} format {JOB_FORMAT}, got {got!r}: "
            "install the same version on every machine of a run"
        )


@dataclass(frozen=True)
class Birth:
    """A new individual as the breeder made it, before training: its graph, the tensors
    it inherits, and why it exists (the archive keeps all of that)."""

    graph: Graph
    weights: bytes = b""  # inherited tensors (safetensors); b"": fresh weights
    origin: str = "?"  # seed, seed-mutation, template, random, mutation, crossover, promotion, hand
    parents: tuple[int, ...] = ()
    mutation: str = ""
    detail: str = ""
    rung: int = 0
    steps: int | None = None  # a budget of its own (promotions); None: its rung's
    prior_steps: int = 0  # steps its weights already had (a promotion continues them)
    preserving: bool = False  # the child computes what its parent did until it trains
    lineage: dict[str, Any] | None = None  # parents outside the run, by content id (a
    # shared brain crossed with the champion: engine.run.crossing); kept in its graph


@dataclass(frozen=True)
class TaskRef:
    """Which task (and which data) a job trains on: the spec workers rebuild it from
    (engine.recorded.load_task_with_samples) and a generation that moves whenever the run's
    data changed (new recordings, a grown stream), so a worker knows to reload."""

    spec: dict[str, Any]
    generation: int = 0

    def key(self) -> bytes:
        return orjson.dumps([self.spec, self.generation], option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class Sibling:
    """One of K candidates trained together: same topology, its own seed and genes."""

    seed: int
    genes: dict[str, Any]


@dataclass(frozen=True)
class Opponent:
    """A living member a game candidate meets in the arena, at its current rating."""

    id: int
    graph: str
    rating: float
    weights: bytes = b""


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to train and measure one candidate (or a sibling group)."""

    job: int
    task: TaskRef
    graph: str  # graph JSON; its hparams are the candidate's training genes
    seed: int
    steps: int
    weights: bytes = b""  # inherited tensors, safetensors
    seconds: float | None = None  # time cap (engine.run.pace): stop here even if steps remain
    siblings: tuple[Sibling, ...] = ()
    opponents: tuple[Opponent, ...] = ()
    # a continued run (engine.continual): how the graph's old tasks are kept, and their
    # probes (safetensors); "" for a plain one-task job
    keep: str = ""
    probes: bytes = b""
    # a refit (engine.refits): train on the training and validation data together
    refit: bool = False
    format: int = JOB_FORMAT

    @property
    def candidates(self) -> int:
        """How many individuals this job yields."""
        return len(self.siblings) or 1

    def sibling_graph(self, i: int) -> Graph:
        """Sibling ``i``'s graph: the job's, with its own genes."""
        graph = Graph.from_json(self.graph)
        graph.hparams = {**graph.hparams, **self.siblings[i].genes}
        return graph

    def with_(self, **changes: Any) -> JobSpec:
        return replace(self, **changes)

    def to_wire(self) -> tuple[dict[str, Any], list[bytes]]:
        header = {
            "format": self.format,
            "job": self.job,
            "task": {"spec": self.task.spec, "generation": self.task.generation},
            "graph": self.graph,
            "seed": self.seed,
            "steps": self.steps,
            "seconds": self.seconds,
            "siblings": [{"seed": s.seed, "genes": s.genes} for s in self.siblings],
            "opponents": [
                {"id": o.id, "graph": o.graph, "rating": o.rating} for o in self.opponents
            ],
            "keep": self.keep,
            "refit": self.refit,
        }
        return header, [self.weights, *(o.weights for o in self.opponents), self.probes]

    @classmethod
    def from_wire(cls, header: dict[str, Any], blobs: list[bytes]) -> JobSpec:
        _check_format(header, "job")
        opponents = header.get("opponents") or []
        if len(blobs) != 2 + len(opponents):
            raise JobFormatError(f"job {header.get('job')}: {len(blobs)} weight blobs")
        return cls(
            job=int(header["job"]),
            task=TaskRef(dict(header["task"]["spec"]), int(header["task"]["generation"])),
            graph=str(header["graph"]),
            seed=int(header["seed"]),
            steps=int(header["steps"]),
            weights=blobs[0],
            seconds=None if header.get("seconds") is None else float(header["seconds"]),
            siblings=tuple(
                Sibling(int(s["seed"]), dict(s["genes"])) for s in header.get("siblings") or []
            ),
            opponents=tuple(
                Opponent(int(o["id"]), str(o["graph"]), float(o["rating"]), w)
                for o, w in zip(opponents, blobs[1:-1])
            ),
            keep=str(header.get("keep") or ""),
            probes=blobs[-1],
            refit=bool(header.get("refit", False)),
        )


@dataclass(frozen=True)
class MatchTally:
    """Games the candidate played against one opponent, from the candidate's side."""

    wins: int
    draws: int
    losses: int

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses


@dataclass
class Outcome:
    """One candidate's training and measurement. ``status`` is ``done``, ``diverged`` (a
    non-finite loss: scored worst, no weights) or ``failed`` (an error, which says why)."""

    status: str = "failed"
    error: str = ""
    val: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    train_seconds: float = 0.0
    curve: list[Any] = field(default_factory=list)
    params: int = 0
    flops: int = 0
    latency_ms: float = 0.0
    weights: bytes = b""
    # game candidates: the arena's tallies by opponent ("#id" for members) and the Elo of
    # the reference players that anchor the scale
    matches: dict[str, MatchTally] = field(default_factory=dict)
    references: dict[str, float] = field(default_factory=dict)
    # what a runner reports for people to read (self-play stats, inherited tensor counts…)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status == "done"

    def pace(self, shared: int = 1) -> float | None:
        """Seconds per training step, counting a ``shared`` clock's share (batched
        siblings train together), or None when it trained no steps."""
        if not self.done or self.steps <= 0 or self.train_seconds <= 0:
            return None
        return self.train_seconds / self.steps / max(1, shared)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "weights"}
        out["matches"] = {k: vars(v) for k, v in self.matches.items()}
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], weights: bytes = b"") -> Outcome:
        known = {f.name for f in fields(cls)} - {"weights", "matches"}
        out = cls(**{k: v for k, v in d.items() if k in known}, weights=weights)
        out.matches = {k: MatchTally(**v) for k, v in (d.get("matches") or {}).items()}
        if out.status not in STATUSES:
            raise JobFormatError(f"unknown candidate status {out.status!r}")
        return out


@dataclass
class JobResult:
    """What a worker hands back for one ``JobSpec``: an outcome per candidate (siblings in
    order), the data it trained on, and how long the job took."""

    job: int
    outcomes: list[Outcome]
    data_version: int = 0  # the recorded-data version of the task it trained on
    train_size: int = 0  # training examples it saw
    batched: bool = False  # siblings trained together under vmap, sharing one clock
    wall_seconds: float = 0.0
    trace: str = ""  # a failed job's short traceback, for the log
    format: int = JOB_FORMAT

    @property
    def shared(self) -> int:
        """How many candidates shared one training clock."""
        return len(self.outcomes) if self.batched else 1

    @classmethod
    def failed(cls, spec: JobSpec, error: str, trace: str = "") -> JobResult:
        """Every candidate of ``spec`` failed with ``error`` (a lost worker, a crash)."""
        return cls(
            spec.job,
            [Outcome(status="failed", error=error) for _ in range(spec.candidates)],
            trace=trace,
        )

    def to_wire(self) -> tuple[dict[str, Any], list[bytes]]:
        header = {
            "format": self.format,
            "job": self.job,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "data_version": self.data_version,
            "train_size": self.train_size,
            "batched": self.batched,
            "wall_seconds": self.wall_seconds,
            "trace": self.trace,
        }
        return header, [o.weights for o in self.outcomes]

    @classmethod
    def from_wire(cls, header: dict[str, Any], blobs: list[bytes]) -> JobResult:
        _check_format(header, "result")
        outcomes = header.get("outcomes") or []
        if len(blobs) != len(outcomes):
            raise JobFormatError(f"result of job {header.get('job')}: {len(blobs)} weight blobs")
        return cls(
            job=int(header["job"]),
            outcomes=[Outcome.from_dict(o, w) for o, w in zip(outcomes, blobs)],
            data_version=int(header.get("data_version") or 0),
            train_size=int(header.get("train_size") or 0),
            batched=bool(header.get("batched")),
            wall_seconds=float(header.get("wall_seconds") or 0.0),
            trace=str(header.get("trace") or ""),
        )
