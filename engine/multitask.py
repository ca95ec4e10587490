"""Multi-task brains: one compiled view per task, sharing every module, and the probes
that let a file remember a task without its data.

``TaskBrains`` compiles each task's view (``engine.taskview``) and ties their modules, so a
gradient step on one task's loss moves the shared body every other view runs; its
``weights()`` are the whole graph's. A probe is a few hundred of a task's inputs with the
brain's own outputs on them (``probes.safetensors``): distilling to it keeps the skill,
comparing with it measures how much of it is left.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.format.probes import probe_key
from openbrains.engine.graph import Graph
from openbrains.engine.taskrecord import Probe
from openbrains.engine.taskview import TaskView, task_view

Tensors = dict[str, torch.Tensor]
DISTILL_TEMPERATURE = 2.0  # softens classifier targets: the dark knowledge of Hinton et al.


class TaskBrains(nn.Module):
    """Every task's view of ``graph`` compiled, with shared modules. ``brains[task]`` takes
    the task's inputs (in its ``input_names`` order, named by the task's ports) and returns
    its heads, like any ``Brain``."""

    def __init__(self, graph: Graph, views: dict[str, TaskView], brains: dict[str, Brain]):
        super().__init__()
        self.graph = graph
        self.views = views
        self.brains = brains
        self.shared = nn.ModuleDict()
        for task, brain in brains.items():
            for group in ("nodes", "edges"):
                holder = getattr(brain.core, group, None)
                for name, module in list(holder.named_children()) if holder is not None else []:
                    key = f"{group}_{name}"
                    if key not in self.shared:
                        self.shared[key] = module
                        continue
                    _check_same_shapes(self.shared[key], module, task, name)
                    setattr(holder, name, self.shared[key])

    @property
    def tasks(self) -> list[str]:
        return list(self.brains)

    def weights(self) -> Tensors:
        out: Tensors = {}
        for brain in self.brains.values():
            out.update(brain.weights())
        return out

    def load_weights(self, tensors: Mapping[str, torch.Tensor], strict: bool = True) -> None:
        """Copy ``tensors`` in; with ``strict``, the union of the views must take exactly
        them (missing, unexpected or mis-shaped keys raise ``GraphError``)."""
        own = self.weights()
        if strict:
            missing = sorted(set(own) - set(tensors))
            unexpected = sorted(set(tensors) - set(own))
            bad = [
                k for k in own if k in tensors and tuple(own[k].shape) != tuple(tensors[k].shape)
            ]
            if missing or unexpected or bad:
                raise GraphError(
                    "weights do not fit the graph's tasks: "
                    f"missing {missing[:5]}, unexpected {unexpected[:5]}, wrong shapes {bad[:5]}"
                )
        for brain in self.brains.values():
            brain.load_weights(tensors, strict=False)

    def run(self, task: str, inputs: Mapping[str, torch.Tensor]) -> Tensors:
        """Task ``task``'s heads by port name, for its inputs by port name."""
        brain = self.brains[task]
        out = brain(*[inputs[n] for n in brain.input_names])
        outs = out if isinstance(out, tuple) else (out,)
        return dict(zip(brain.output_names, outs))


def _check_same_shapes(a: nn.Module, b: nn.Module, task: str, name: str) -> None:
    sa = {k: tuple(v.shape) for k, v in a.state_dict().items()}
    sb = {k: tuple(v.shape) for k, v in b.state_dict().items()}
    if sa != sb:
        raise GraphError(f"task {task!r}: module {name} has other shapes than in another task")


def compile_tasks(
    graph: Graph,
    tasks: list[str] | None = None,
    seed: int | None = None,
    max_weights: int | None = None,
) -> TaskBrains:
    """Compile the views of ``tasks`` (default: every task the graph records)."""
    names = list(graph.tasks) if tasks is None else list(tasks)
    if not names:
        raise GraphError("the graph records no task to compile a view of")
    views = {t: task_view(graph, t) for t in names}
    brains = {
        t: compile_graph(v.graph, seed=seed, max_weights=max_weights, absent=v.absent)
        for t, v in views.items()
    }
    return TaskBrains(graph, views, brains)


# ----- probes -----------------------------------------------------------------------------
@torch.no_grad()
def make_probe(
    brains: TaskBrains, task: str, inputs: Mapping[str, torch.Tensor]
) -> tuple[Probe, Tensors]:
    """The probe record and tensors of ``task``: ``inputs`` (by port, ``[N, T, C]``) and the
    brain's own outputs on them, in eval mode."""
    brain = brains.brains[task]
    was = brain.training
    brain.eval()
    try:
        outs = brains.run(task, inputs)
    finally:
        brain.train(was)
    count = int(next(iter(inputs.values())).shape[0])
    tensors: Tensors = {}
    for port in brain.input_names:
        tensors[probe_key(task, "in", port)] = inputs[port].detach().float().contiguous()
    for port, out in outs.items():
        tensors[probe_key(task, "out", port)] = out.detach().float().contiguous()
    return Probe(count, list(brain.input_names), list(outs)), tensors


def probe_inputs(probes: Mapping[str, torch.Tensor], task: str, probe: Probe) -> Tensors:
    return {p: probes[probe_key(task, "in", p)] for p in probe.inputs}


def probe_targets(probes: Mapping[str, torch.Tensor], task: str, probe: Probe) -> Tensors:
    return {p: probes[probe_key(task, "out", p)] for p in probe.heads}


def head_loss(role: str, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """How far a head's output is from a stored one: soft cross-entropy for heads that
    give class or token scores (at temperature ``DISTILL_TEMPERATURE``, times T² so the
    gradients keep their scale), mean squared error for the rest."""
    if role in ("classifier", "policy", "tokens"):
        if role != "tokens":
            out, target = out[:, -1, :], target[:, -1, :]
        t = DISTILL_TEMPERATURE
        p = F.softmax(target.reshape(-1, target.shape[-1]) / t, dim=-1)
        log_q = F.log_softmax(out.reshape(-1, out.shape[-1]) / t, dim=-1)
        return F.kl_div(log_q, p, reduction="batchmean") * t * t
    return F.mse_loss(out, target)


@torch.no_grad()
def head_agreement(role: str, out: torch.Tensor, target: torch.Tensor) -> float:
    """How much of a stored output a head still gives, 1.0 = all of it: the share of equal
    answers (argmax) for class and token heads, 1 − MSE / variance of the stored outputs
    for the rest."""
    if role in ("classifier", "policy"):
        return float((out[:, -1, :].argmax(-1) == target[:, -1, :].argmax(-1)).float().mean())
    if role == "tokens":
        return float((out.argmax(-1) == target.argmax(-1)).float().mean())
    variance = float(target.float().var(unbiased=False).clamp_min(1e-12))
    return 1.0 - float(F.mse_loss(out, target)) / variance


def probe_score(
    brains: TaskBrains, task: str, probes: Mapping[str, torch.Tensor], batch: int = 512
) -> float:
    """The mean agreement of ``task``'s heads with its stored probe outputs."""
    rec = brains.graph.tasks[task]
    if rec.probe is None:
        raise GraphError(f"task {task!r} has no probe")
    brain = brains.brains[task]
    was = brain.training
    brain.eval()
    inputs = probe_inputs(probes, task, rec.probe)
    targets = probe_targets(probes, task, rec.probe)
    outs: dict[str, list[torch.Tensor]] = {p: [] for p in targets}
    try:
        with torch.no_grad():
            for start in range(0, rec.probe.count, batch):
                part = {k: v[start : start + batch] for k, v in inputs.items()}
                for port, out in brains.run(task, part).items():
                    if port in outs:
                        outs[port].append(out)
    finally:
        brain.train(was)
    scores = [head_agreement(rec.head_role(p), torch.cat(outs[p]), targets[p]) for p in targets]
    return sum(scores) / len(scores)
