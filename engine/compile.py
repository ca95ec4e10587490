"""Graph → Brain: straight-line code generated from the topological order (torch.fx).

Micro-models spend their time in Python overhead per node, so the compiled forward is a
flat sequence of module calls with no dict lookups or loops. Weights are keyed
``node/<uid>/<name>`` and ``edge/<uid>/<name>`` so that children can inherit them.
Recurrent state is explicit: ``Brain.step`` takes and returns it, chunk by chunk.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import torch
from torch import fx, nn

from openbrains.engine import ops
from openbrains.engine.errors import GraphError
from openbrains.engine.graph import INPUT_UNIT, Graph
from openbrains.engine.shapes import Plan, infer_specs
from openbrains.engine.signal import SignalSpec
from openbrains.engine.views import image_views
from openbrains.engine.weight_budget import WeightBudget

BrainState = dict[str, Any]


def node_module_name(uid: str) -> str:
    return f"n_{uid}"


def edge_module_name(uid: str) -> str:
    return f"e_{uid}"


def bind_io(
    graph: Graph,
    inputs: Mapping[str, SignalSpec] | None = None,
    outputs: Mapping[str, SignalSpec] | None = None,
) -> Graph:
    """A copy of ``graph`` whose input/output nodes carry the given Signal specs."""
    if not inputs and not outputs:
        return graph
    g = graph.copy()
    for specs, nodes, kind in (
        (inputs, g.input_nodes(), "input"),
        (outputs, g.output_nodes(), "output"),
    ):
        if not specs:
            continue
        by_name = {n.params.get("name"): n for n in nodes}
        for name, spec in specs.items():
            if name not in by_name:
                raise GraphError(
                    f"the graph has no {kind} called {name!r} (it has {sorted(by_name)})"
                )
            p = by_name[name].params
            p.update(channels=spec.channels, time=spec.time or 0, modality=spec.meta.modality)
            if kind == "input":
                grid = spec.meta.grid or (0, 0)
                p.update(
                    grid_h=grid[0],
                    grid_w=grid[1],
                    vocab=spec.meta.vocab or 0,
                    rate=spec.meta.rate or 0.0,
                )
    return g


class Brain(nn.Module):
    """A compiled graph with its weights.

    ``forward(*inputs)`` takes one ``[B, T, C]`` tensor per graph input (in
    ``input_names`` order) and returns one tensor, or a tuple when there are several
    outputs. ``step`` runs a stream chunk by chunk, carrying recurrent state.
    """

    def __init__(
        self,
        graph: Graph,
        plan: Plan,
        core: fx.GraphModule,
        state_nodes: list[str],
        absent: frozenset[str] = frozenset(),
    ):
        super().__init__()
        self.graph = graph
        self.plan = plan
        self.core = core
        self.state_nodes = state_nodes
        given = [p for p in plan.inputs if p.node.uid not in absent]
        self.input_names = [p.params["name"] for p in given]
        self.output_names = [p.params["name"] for p in plan.outputs]
        self.input_specs = {p.params["name"]: p.out for p in given}
        self.output_specs = {p.params["name"]: p.out for p in plan.outputs}
        self._no_state = (None,) * len(state_nodes)
        # an image brain's answer in eval mode: the mean over shifted views (engine.views)
        self.views = image_views([p.node.params for p in given], bool(state_nodes))
        # nodes that do not train keep their statistics too (batch norm's running means)
        held = getattr(core, "nodes", None)
        self._fixed = [
            node_module_name(p.node.uid)
            for p in plan.nodes.values()
            if not p.node.trainable and hasattr(held, node_module_name(p.node.uid))
        ]

    def hold_statistics(self, uids: Iterable[str]) -> None:
        """Keep these nodes in eval mode while the rest trains: their weights may still
        learn, but their running statistics (batch norm) stay what they were."""
        held = getattr(self.core, "nodes", None)
        names = [node_module_name(u) for u in uids if hasattr(held, node_module_name(u))]
        self._fixed = list(dict.fromkeys([*self._fixed, *names]))
        self.train(self.training)

    def train(self, mode: bool = True) -> Brain:
        super().train(mode)
        if mode:
            for name in self._fixed:
                getattr(self.core.nodes, name).eval()
        return self

    def forward(self, *inputs: torch.Tensor) -> Any:
        if self.views is not None and not self.training:
            return self.views.merge(self.core(*self.views.expand(inputs)))
        if not self.state_nodes:
            return self.core(*inputs)
        result = self.core(*inputs, *self._no_state)
        outs = result[: len(self.output_names)]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def step(
        self,
        inputs: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
        state: BrainState | None = None,
    ) -> tuple[dict[str, torch.Tensor], BrainState]:
        """One chunk of a stream: outputs by name, and the state to pass to the next chunk."""
        if isinstance(inputs, Mapping):
            missing = [n for n in self.input_names if n not in inputs]
            if missing:
                raise KeyError(f"missing inputs {missing}; the brain takes {self.input_names}")
            args = [inputs[n] for n in self.input_names]
        else:
            args = list(inputs)
        state = state or {}
        states = [state.get(uid) for uid in self.state_nodes]
        if self.views is not None and not self.training:  # views only where there is no state
            result = self.views.merge(self.core(*self.views.expand(args)))
        else:
            result = self.core(*args, *states)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.output_names)
        outs = dict(zip(self.output_names, result[:n]))
        return outs, dict(zip(self.state_nodes, result[n:]))

    # ----- weights -------------------------------------------------------------------
    def weights(self) -> dict[str, torch.Tensor]:
        """All parameters and persistent buffers, keyed as DESIGN §3.2 says."""
        out: dict[str, torch.Tensor] = {}
        for key, tensor in self.core.state_dict().items():
            out[_to_gene_key(key)] = tensor
        return out

    def load_weights(self, tensors: Mapping[str, torch.Tensor], strict: bool = True) -> list[str]:
        """Copy matching tensors in; returns the keys of this brain that were not given.

        With ``strict``, any missing, unexpected or mis-shaped key raises ``GraphError``.
        """
        own = self.core.state_dict()
        mapping = {_to_gene_key(k): k for k in own}
        unexpected = sorted(set(tensors) - set(mapping))
        missing = sorted(set(mapping) - set(tensors))
        bad = [
            f"{k}: file {tuple(tensors[k].shape)} vs graph {tuple(own[mapping[k]].shape)}"
            for k in tensors
            if k in mapping and tuple(tensors[k].shape) != tuple(own[mapping[k]].shape)
        ]
        if strict and (unexpected or missing or bad):
            parts = []
            if missing:
                parts.append(f"missing {missing[:5]}")
            if unexpected:
                parts.append(f"unexpected {unexpected[:5]}")
            if bad:
                parts.append(f"wrong shapes {bad[:5]}")
            raise GraphError("weights do not fit the graph: " + "; ".join(parts))
        with torch.no_grad():
            for k, t in tensors.items():
                if k in mapping and tuple(t.shape) == tuple(own[mapping[k]].shape):
                    own[mapping[k]].copy_(t)
        return missing

    # ----- size ----------------------------------------------------------------------
    def param_count(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    def example_inputs(self, batch: int = 1, time: int = 16) -> list[torch.Tensor]:
        """Random inputs of the right shapes (token inputs get valid ids)."""
        xs = []
        for name in self.input_names:
            spec = self.input_specs[name]
            t = spec.time or time
            if spec.meta.vocab:
                xs.append(torch.randint(0, spec.meta.vocab, (batch, t, 1)).float())
            else:
                xs.append(torch.randn(batch, t, spec.channels))
        return xs

    def flops(self, time: int = 16) -> int:
        """Floating point operations of one forward pass for one example."""
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        was_training = self.training
        self.eval()
        with torch.no_grad(), counter:
            self(*self.example_inputs(1, time))
        self.train(was_training)
        return int(counter.get_total_flops())


def _to_gene_key(module_key: str) -> str:
    kind, name, rest = module_key.split(".", 2)
    if kind == "nodes":
        return f"node/{name[2:]}/{rest}"
    if kind == "edges":
        return f"edge/{name[2:]}/{rest}"
    raise KeyError(module_key)


def compile_graph(
    graph: Graph,
    inputs: Mapping[str, SignalSpec] | None = None,
    outputs: Mapping[str, SignalSpec] | None = None,
    seed: int | None = None,
    max_weights: int | None = None,
    absent: frozenset[str] = frozenset(),
) -> Brain:
    """Validate, resolve shapes and build the Brain. ``seed`` makes fresh weights reproducible.

    A graph needing more than ``max_weights`` weights (default ``Limits.max_weights``) is
    refused with ``GraphError`` before the module that goes over is allocated. ``absent``:
    uids of input nodes the brain is not given (another task's inputs, in one task's view
    of a multi-task graph): they carry zeros of their declared shape.
    """
    graph = bind_io(graph, inputs, outputs)
    plan = infer_specs(graph)
    rng = torch.random.fork_rng() if seed is not None else nullcontext()
    with rng:
        if seed is not None:
            torch.manual_seed(seed)
        return _build(graph, plan, WeightBudget(max_weights), frozenset(absent))


def _build(graph: Graph, plan: Plan, budget: WeightBudget, absent: frozenset[str]) -> Brain:
    root = nn.Module()
    root.nodes = nn.ModuleDict()
    root.edges = nn.ModuleDict()
    g = fx.Graph()
    values: dict[str, fx.Node] = {}
    given = [p for p in plan.inputs if p.node.uid not in absent]
    if plan.inputs and not given:
        raise GraphError("every input of the graph is absent: nothing to run it on")
    placeholders = {p.node.uid: g.placeholder(f"in_{i}") for i, p in enumerate(given)}
    for p in plan.inputs:
        if p.node.uid in absent:
            ref = placeholders[given[0].node.uid]
            args = (ref, p.out.time or 0, p.out.channels)
            placeholders[p.node.uid] = g.call_function(ops.absent_input, args)
    state_nodes = [uid for uid in plan.order if plan.nodes[uid].unit.stateful]
    state_ph = {
        uid: g.placeholder(f"state_{i}", default_value=None) for i, uid in enumerate(state_nodes)
    }
    new_states: list[fx.Node] = []

    for uid in plan.order:
        np_ = plan.nodes[uid]
        if np_.node.unit == INPUT_UNIT:
            values[uid] = placeholders[uid]
            continue
        port_values: list[Any] = []
        for pp in np_.ports:
            vs: list[fx.Node] = []
            for ep in pp.edges:
                v = values[ep.edge.src]
                if ep.time in ("static", "broadcast"):
                    fn = ops.broadcast_time if ep.time == "broadcast" else ops.resize_time
                    v = g.call_function(fn, (v, ep.time_target))
                elif ep.time == "dynamic" and vs:
                    v = g.call_function(ops.align_like, (v, vs[0]))
                if ep.adapter is not None:
                    budget.spend(ep.adapter[0] * ep.adapter[1], edge=ep.edge.uid)
                    name = edge_module_name(ep.edge.uid)
                    root.edges[name] = nn.Linear(*ep.adapter, bias=False)
                    if not np_.node.trainable:  # a wire's adapter belongs to the node it enters
                        root.edges[name].requires_grad_(False)
                    v = g.call_module(f"edges.{name}", (v,))
                vs.append(v)
            if np_.unit.merge == "list":
                port_values.append(vs)
            elif len(vs) == 1:
                port_values.append(vs[0])
            elif np_.unit.merge == "concat":
                port_values.append(g.call_function(ops.concat_channels, tuple(vs)))
            else:
                acc = vs[0]
                for v in vs[1:]:
                    acc = g.call_function(operator.add, (acc, v))
                port_values.append(acc)
        build = np_.unit.build
        module = (
            budget.build(build, plan.context(uid), uid, np_.out.channels)
            if build is not None
            else None
        )
        if module is None:
            if np_.unit.merge == "list":
                raise GraphError(
                    f"unit {np_.unit.name!r} takes a list but builds no module", node=uid
                )
            values[uid] = port_values[0]
            continue
        if not np_.node.trainable:
            module.requires_grad_(False)
        name = node_module_name(uid)
        root.nodes[name] = module
        target = f"nodes.{name}"
        if np_.unit.stateful:
            result = g.call_module(target, (*port_values, state_ph[uid]))
            values[uid] = g.call_function(operator.getitem, (result, 0))
            new_states.append(g.call_function(operator.getitem, (result, 1)))
        else:
            values[uid] = g.call_module(target, tuple(port_values))
    outs = [values[p.node.uid] for p in plan.outputs]
    if len(outs) == 1 and not new_states:
        g.output(outs[0])
    else:
        g.output((*outs, *new_states))
    core = fx.GraphModule(root, g, class_name="CompiledGraph")
    return Brain(graph, plan, core, state_nodes, absent)
