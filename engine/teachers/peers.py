"""The run's own best brains as one teacher of a refit (engine.run.refitting).

Why: a population knows more than its champion. On nine 60 s digits searches the averaged
beliefs of each run's 8 best members tested 0.9846 on average (median 0.9855), their
champions 0.9757. A refit that learns from those beliefs as soft targets keeps much of
it, as Hinton, Vinyals & Dean (2015) distilled an ensemble into one net: 1,200 steps at
α 0.7, T 4 tested 0.9811 on average (median 0.9828, worst 0.9739) where the hard-label
refit of 400 steps gave 0.9777 (0.9785, 0.9696), and one of 1,200 steps 0.9787
(docs/decisions.md, session 22). The peers answer every shifted view of every training
example once, ahead of training (``distill.view_table``), so a step costs what a
distilling step costs; where that table would be too large the refit stays plain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.jobs import Peer
from openbrains.engine.teachers.roles.distill import TABLE_LIMIT, view_table
from openbrains.engine.train.augment import shift_specs, variants
from openbrains.engine.weights import decode_weights

REFIT_GENES = {"distill_alpha": 0.7, "distill_temperature": 4.0}
"""α and T of a refit that learns from its peers (the values measured above)."""
MIN_PEERS = 3  # fewer brains than this are no ensemble worth learning from


class PeerEnsemble:
    """The mean of the peers' class probabilities, as log-probabilities, for every shifted
    view of the training examples (the ``targets`` a distilling trainer asks for)."""

    def __init__(self, brains: Sequence[Brain]) -> None:
        self.brains = list(brains)
        self._source: torch.Tensor | None = None
        self._table: torch.Tensor | None = None

    @torch.no_grad()
    def logp(self, x: torch.Tensor) -> torch.Tensor:
        total = None
        for brain in self.brains:
            brain.eval()
            out = brain(x)
            out = out[0] if isinstance(out, tuple) else out
            p = torch.softmax(out[:, -1, :].float(), dim=-1)
            total = p if total is None else total + p
        assert total is not None
        return torch.log(total / len(self.brains)).clamp_min(-50.0)

    def targets(
        self,
        train: Any,
        index: torch.Tensor,
        views: dict[str, torch.Tensor],
        shifts: dict[str, Any],
        inputs: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        """Log-probabilities ``[B, C]`` for training examples ``index`` as shifted (``views``)."""
        name = next(iter(train.inputs))
        x = train.inputs[name]
        if self._source is not x:
            self._source = x
            self._table = view_table(self.logp, x, shifts.get(name))
        if self._table is None:  # a split that grew past the table: ask as it comes
            return self.logp(inputs[name])
        view = views.get(name)
        return self._table[view if view is not None else torch.zeros_like(index), index]


def can_teach(task: Any, examples: int) -> bool:
    """Whether peers can teach a refit of ``task`` that trains on ``examples`` examples: a
    one-input classification with no teacher of its own, whose table of answers (every
    shifted view of every example) stays within ``TABLE_LIMIT``. The run asks this before
    it sends peers (and a longer budget), the worker again before it uses them."""
    if (
        getattr(task, "kind", "") != "classification"
        or task.teacher is not None
        or task.train.soft is not None
        or len(task.train.inputs) != 1
    ):
        return False
    shift = shift_specs(task).get(next(iter(task.train.inputs)))
    return (variants(shift) if shift is not None else 1) * examples <= TABLE_LIMIT


def taught_by_peers(task: Any, peers: Sequence[Peer]) -> Any | None:
    """``task`` (a refit's view of it) with ``peers`` as its teacher, or None where they
    cannot teach it (``can_teach``), or fewer than ``MIN_PEERS`` of them load."""
    if len(peers) < MIN_PEERS or not can_teach(task, len(task.train)):
        return None
    name = next(iter(task.train.inputs))
    brains = []
    for peer in peers:
        try:
            brain = compile_graph(Graph.from_json(peer.graph))
            brain.load_weights(decode_weights(peer.weights))
        except Exception:  # a peer that does not load: the others still teach
            continue
        if list(brain.input_names) == [name]:
            brains.append(brain)
    if len(brains) < MIN_PEERS:
        return None
    return replace(task, teacher=PeerEnsemble(brains))
