"""Training genes, declared once: what a graph carries in ``graph.hparams`` (learning rate,
batch size, optimiser, schedule, label smoothing, and a distilling run's α, T and inputs),
each as ``Param``s like a unit's params.

A gene has three ranges, side by side here and nowhere else: the values a graph may hold
(``param``: what a file is checked against, with the default a graph without it trains
with), where evolution moves it (``evolve``: mutation and the sibling sweep stay in a range
where training works), and what a run's first graphs draw (``start``). The breeder, the
mutation operator, the trainer (``resolve``) and the file checks (``check``) all read this
table. Torch is never imported here.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openbrains.engine.errors import ParamError
from openbrains.engine.units import Choice, Float, Int, Param


@dataclass(frozen=True)
class Gene:
    """One training gene: its valid range and default (``param``), where evolution moves
    it (``evolve``; None: anywhere valid), what a run's first graphs start from
    (``start``: a ``Param`` to sample, or a fixed value; None: the default) and the task
    kinds whose graphs carry it (``kinds``; None: every task; empty: none by itself, a
    run adds it, as a distilling teacher adds α and T)."""

    param: Param
    evolve: Param | None = None
    start: Param | float | str | None = None
    kinds: frozenset[str] | None = None

    @property
    def name(self) -> str:
        return self.param.name

    @property
    def evolves(self) -> Param:
        return self.evolve or self.param

    def carried_by(self, kind: str | None) -> bool:
        return self.kinds is None or kind in self.kinds

    def first(self, rng: random.Random) -> Any:
        if isinstance(self.start, Param):
            return self.start.sample(rng)
        return self.param.default if self.start is None else self.start

    def mutate(self, value: Any, rng: random.Random) -> Any:
        """A different value within the evolution range (a neighbour, another choice)."""
        return self.evolves.mutate(value, rng)


GENES: tuple[Gene, ...] = (
    Gene(
        # any finite rate above 0 is valid: a huge one diverges, as designed
        Param("lr", "float", 3e-3, low=0.0, open_low=True, log=True, doc="learning rate"),
        evolve=Float("lr", 3e-3, 1e-4, 0.1, log=True),
        # first graphs stay where Adam is safe on every built-in task
        start=Float("lr", 3e-3, 1e-3, 2e-2, log=True),
    ),
    Gene(
        # larger is refused: the indices of one batch alone would cost gigabytes
        Int("batch_size", 32, 1, 65536, "examples per optimiser step"),
        # a leap on this scale costs more than it teaches: mutation steps to a neighbour
        evolve=Choice("batch_size", 32, (8, 16, 32, 64, 128, 256), ordered=True),
        start=Choice("batch_size", 32, (16, 32, 64)),
    ),
    Gene(Choice("optimizer", "adam", ("adam", "adamw", "sgd"), "optimiser")),
    Gene(
        Choice(
            "schedule",
            "cosine",
            ("cosine", "constant"),
            "learning-rate schedule over a job's budget (cosine anneals to zero)",
        )
    ),
    Gene(
        Float(
            "label_smoothing",
            0.0,
            0.0,
            1.0,
            "share of the target spread over the other classes (training loss only)",
            open_high=True,
        ),
        evolve=Choice("label_smoothing", 0.0, (0.0, 0.05, 0.1, 0.2)),
        # 0 for a graph without it (it trains as it did), 0.1 for a run's first graphs: on
        # digits it lifts a 4.6k conv net from 0.968 to 0.974 test (mean of 7 seeds)
        start=0.1,
        kinds=frozenset({"classification"}),
    ),
    # distillation (engine.teachers.roles.distill): no task carries these by itself; a run
    # with a distilling teacher adds them to its graphs (DISTILLING). α 0.7, T 2 to start:
    # the 796-parameter digits student from a 0.969 teacher, 1,500 steps, mean of 3 seeds:
    # 0.9470 test at α 0.7, 0.9444 at 0.5, 0.9433 at 0.3, 0.9344 at α 0.9 with T 4, 0.9407
    # on hard labels
    Gene(
        Float(
            "distill_alpha",
            0.7,
            0.0,
            1.0,
            "share α of the loss α·T²·KL(teacher_T ‖ student_T) + (1 − α)·task loss",
        ),
        # 1: the teacher's beliefs alone, best for a student with few labels of its own
        evolve=Choice("distill_alpha", 0.7, (0.3, 0.5, 0.7, 0.9, 1.0), ordered=True),
        kinds=frozenset(),
    ),
    Gene(
        Param(
            "distill_temperature",
            "float",
            2.0,
            low=0.0,
            open_low=True,
            doc="temperature T both outputs are softened at (distillation)",
        ),
        evolve=Choice("distill_temperature", 2.0, (1.0, 2.0, 4.0, 8.0), ordered=True),
        kinds=frozenset(),
    ),
    # mixes to start (engine.train.mixup): on 50 labelled digits an 810-parameter student,
    # 2,000 steps from a 0.989 teacher at α 0.7, T 2, 4 seeds: 0.904 test asked about mixes,
    # 0.864 about views, 0.830 on hard labels. Only a brain teacher can be asked about a
    # mix; an API teacher's cached answers are about the examples as they are.
    Gene(
        Choice(
            "distill_inputs",
            "mixup",
            ("mixup", "views"),
            "what a brain teacher is asked about: mixes of two training views (function "
            "matching) or each view as it is",
        ),
        kinds=frozenset(),
    ),
)
# the genes a distilling run adds
DISTILLING = ("distill_alpha", "distill_temperature", "distill_inputs")
GENE_MAP: dict[str, Gene] = {g.name: g for g in GENES}


def distilling() -> dict[str, Any]:
    """The genes a run with a distilling teacher adds to its graphs, at their defaults."""
    return {name: GENE_MAP[name].param.default for name in DISTILLING}


def gene(name: str) -> Gene:
    """The declaration of gene ``name`` (KeyError for an unknown one)."""
    return GENE_MAP[name]


def defaults(kind: str | None) -> dict[str, Any]:
    """Every gene a graph of a ``kind`` task carries, at its neutral value: a graph from a
    file keeps training as it did, and evolution can still move the gene."""
    return {g.name: g.param.default for g in GENES if g.carried_by(kind)}


def first(rng: random.Random, kind: str | None) -> dict[str, Any]:
    """The genes of a run's first graphs (drawn in declaration order)."""
    return {g.name: g.first(rng) for g in GENES if g.carried_by(kind)}


def resolve(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a trainer uses: every gene's default, overridden by the known ones in ``raw``
    (checked again: a run folder is a file too; ``ParamError`` for a bad one)."""
    out = {g.name: g.param.default for g in GENES}
    out.update({k: v for k, v in check(raw or {}).items() if k in out})
    return out


def evolvable(hparams: Mapping[str, Any]) -> list[str]:
    """The genes mutation may change in a graph: every universal one, and the task-specific
    ones the graph carries (so a regression graph never grows label smoothing)."""
    return [g.name for g in GENES if g.kinds is None or g.name in hparams]


def check(hparams: Any, where: str = "") -> dict[str, Any]:
    """``hparams`` with every known gene checked and coerced (``ParamError`` saying which
    gene and why: a NaN learning rate, a batch size of zero…); unknown keys are kept as
    they are, so a file from a newer version round-trips."""
    if not isinstance(hparams, Mapping):
        kind = type(hparams).__name__
        raise ParamError(
            f"{where + ': ' if where else ''}the training genes must be an object, not {kind}"
        )
    out = dict(hparams)
    for key, value in hparams.items():
        if key in GENE_MAP:
            at = f"{where}: gene {key!r}" if where else f"gene {key!r}"
            out[key] = GENE_MAP[key].param.check(value, where=at)
    return out


def problem(hparams: Any) -> str | None:
    """Why these genes cannot train a brain (one line), or None: what a file's graph is
    checked with when it is read (engine.format.document)."""
    try:
        check(hparams)
    except ParamError as exc:
        return str(exc)
    return None
