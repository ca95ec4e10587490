"""Training genes, declared once: what a graph carries in ``graph.hparams`` (learning rate,
batch size, optimiser, schedule, label smoothing) as ``Param``s, like a unit's params.

The breeder draws a run's first graphs from ``start``, mutation moves a gene with
``Param.mutate`` within its declared range, the trainer fills in defaults with
``resolve``, and a graph from a file is checked with ``check`` — all from this table. Torch
is never imported here.
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
    """One training gene: its ``param`` (default, valid range, how it mutates), what a run's
    first graphs start from (``start``: a narrower ``Param`` to sample, or a fixed value;
    ``None`` is the default), and the task kinds whose graphs carry it (``None``: all)."""

    param: Param
    start: Param | float | str | None = None
    kinds: frozenset[str] | None = None

    @property
    def name(self) -> str:
        return self.param.name

    def carried_by(self, kind: str | None) -> bool:
        return self.kinds is None or kind in self.kinds

    def first(self, rng: random.Random) -> Any:
        if isinstance(self.start, Param):
            return self.start.sample(rng)
        return self.param.default if self.start is None else self.start


GENES: tuple[Gene, ...] = (
    Gene(
        Float("lr", 3e-3, 1e-4, 0.1, "learning rate", log=True),
        # first graphs stay where Adam is safe on every built-in task
        start=Float("lr", 3e-3, 1e-3, 2e-2, log=True),
    ),
    Gene(
        Int(
            "batch_size",
            32,
            1,
            65536,
            "examples per optimiser step",
            choices=(8, 16, 32, 64, 128, 256),
            ordered=True,
        ),
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
        # 0 for a graph without it (it trains as it did), 0.1 for a run's first graphs: on
        # digits it lifts a 4.6k conv net from 0.968 to 0.974 test (mean of 7 seeds)
        Float(
            "label_smoothing",
            0.0,
            0.0,
            0.5,
            "share of the target spread over the other classes (training loss only)",
            choices=(0.0, 0.05, 0.1, 0.2),
        ),
        start=0.1,
        kinds=frozenset({"classification"}),
    ),
)
GENE_MAP: dict[str, Gene] = {g.name: g for g in GENES}


def gene(name: str) -> Param:
    """The declared ``Param`` of gene ``name`` (KeyError for an unknown one)."""
    return GENE_MAP[name].param


def defaults(kind: str | None) -> dict[str, Any]:
    """Every gene a graph of a ``kind`` task carries, at its neutral value: a graph from a
    file keeps training as it did, and evolution can still move the gene."""
    return {g.name: g.param.default for g in GENES if g.carried_by(kind)}


def first(rng: random.Random, kind: str | None) -> dict[str, Any]:
    """The genes of a run's first graphs (drawn in declaration order)."""
    return {g.name: g.first(rng) for g in GENES if g.carried_by(kind)}


def resolve(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a trainer uses: every gene's default, overridden by the known ones in ``raw``."""
    out = {g.name: g.param.default for g in GENES}
    out.update({k: v for k, v in (raw or {}).items() if k in out})
    return out


def evolvable(hparams: Mapping[str, Any]) -> list[str]:
    """The genes mutation may change in a graph: every universal one, and the task-specific
    ones the graph carries (so a regression graph never grows label smoothing)."""
    return [g.name for g in GENES if g.kinds is None or g.name in hparams]


def check(hparams: Mapping[str, Any], where: str = "hparams") -> dict[str, Any]:
    """``hparams`` with every known gene checked and coerced (``ParamError`` saying which
    gene and why: a NaN learning rate, a batch size of zero…); unknown keys are kept as
    they are, so a file from a newer version round-trips."""
    if not isinstance(hparams, Mapping):
        raise ParamError(f"{where}: expected a table of training genes, got {hparams!r}")
    out = dict(hparams)
    for key, value in hparams.items():
        if key in GENE_MAP:
            out[key] = GENE_MAP[key].param.check(value, where=f"{where}: gene {key!r}")
    return out
