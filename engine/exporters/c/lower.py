"""Compiled Brain → C ``Program``: the same walk over the plan as the compiler's, with each
unit lowered by the whitelist in ``units.py``/``sequence.py`` (a unit without a C form is
refused by name), edges given their time alignment and channel adapter, merges made
explicit. Batch is 1; a free-length input becomes one step per call (a stream), and
recurrent state then carries across calls until ``brain_reset``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from openbrains.engine.compile import Brain, edge_module_name, node_module_name
from openbrains.engine.exporters.c.ir import Op, Program
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.graph import INPUT_UNIT
from openbrains.engine.shapes import NodePlan

BUILTIN_PACKAGE = "openbrains"


class Lowering:
    """State of one lowering: the program so far and the value each node produced."""

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.plan = brain.plan
        self.prog = Program()
        self.values: dict[str, str] = {}
        self.counter = 0
        self.prog.stream = any(s.time is None for s in brain.input_specs.values())
        views = brain.views.images if brain.views is not None else ()
        self.views = {brain.input_names[v.index]: (*v.grid, v.patch, v.channels) for v in views}
        core = brain.core
        self.keys = {id(t): k for k, t in [*core.named_parameters(), *core.named_buffers()]}

    # ----- helpers the unit lowerings use ------------------------------------------------
    def fresh(self, stem: str, time: int, channels: int) -> str:
        self.counter += 1
        return self.prog.value(f"{stem}_{self.counter}", time, channels)

    def const(
        self,
        stem: str,
        data: Any,
        rows: int = 0,
        source: torch.Tensor | None = None,
        transposed: bool = False,
    ) -> str:
        """A constant array; a matrix (``rows``) remembers the brain tensor it came from,
        so quantization can be tried out on the brain itself. ``transposed``: stored
        column-major, for kernels that loop over rows innermost."""
        self.counter += 1
        if source is None and isinstance(data, torch.Tensor):
            source = data
        if isinstance(data, torch.Tensor):
            data = data.detach().cpu().numpy()
        name = self.prog.weight(f"{stem}_{self.counter}", data, rows)
        self.prog.weights[name].transposed = transposed
        if rows and source is not None:
            self.prog.weights[name].source = self.keys.get(id(source), "")
        return name

    def shape(self, name: str) -> tuple[int, int]:
        v = self.prog.values[name]
        return v.time, v.channels

    def linear(
        self, uid: str, x: str, weight: torch.Tensor, bias: torch.Tensor | None, post: list
    ) -> str:
        """``y[t] = W x[t] + b`` for every step (dense layers, adapters, projections)."""
        t, c = self.shape(x)
        out = int(weight.shape[0])
        if int(weight.shape[1]) != c:
            raise ExportError(
                f"node {uid!r}: a weight of width {weight.shape[1]} meets {c} channels"
            )
        y = self.fresh("lin", t, out)
        w = {"w": self.const("w", weight, rows=out, transposed=True)}
        if bias is not None:
            w["b"] = self.const("b", bias)
        self.prog.add(Op("dense", uid, [x], y, {}, w, list(post)))
        return y

    def resize_time(self, uid: str, x: str, steps: int) -> str:
        """``ops.resize_time``: adaptive average down, nearest repeat up, ``T=1`` broadcast."""
        t, c = self.shape(x)
        if t == steps:
            return x
        y = self.fresh("time", steps, c)
        if t == 1:
            self.prog.add(Op("broadcast", uid, [x], y))
        elif steps < t:
            self.prog.add(Op("adaptive_avg", uid, [x], y))
        else:  # the index table PyTorch's own nearest interpolation picks
            index = torch.nn.functional.interpolate(
                torch.arange(t, dtype=torch.float32).view(1, 1, t), size=steps, mode="nearest"
            )
            table = index.view(-1).to(torch.int64).numpy()
            self.prog.add(Op("gather_time", uid, [x], y, {"index": [int(i) for i in table]}))
        return y

    # ----- the walk ---------------------------------------------------------------------
    def run(self) -> Program:
        for uid in self.plan.order:
            self._node(self.plan.nodes[uid])
        for p in self.plan.outputs:
            src = self.values[p.node.uid]
            t, c = self.shape(src)
            out = self.prog.value(f"out_{len(self.prog.outputs)}", t, c, kind="output")
            self.prog.outputs.append(out)
            self.prog.add(Op("copy", p.node.uid, [src], out))
        return self.prog

    def _node(self, np_: NodePlan) -> None:
        uid = np_.node.uid
        if np_.node.unit == INPUT_UNIT:
            spec = np_.out
            index = len(self.prog.inputs)
            name = self.prog.value(f"in_{index}", spec.time or 1, spec.channels, "input")
            self.prog.inputs.append(name)
            self.values[uid] = name
            if np_.node.params.get("name") in self.views:
                self.prog.views[name] = self.views[np_.node.params["name"]]
            return
        ports: list[Any] = []
        for pp in np_.ports:
            vs: list[str] = []
            for ep in pp.edges:
                v = self.values[ep.edge.src]
                if ep.time in ("static", "broadcast"):
                    v = self.resize_time(ep.edge.uid, v, int(ep.time_target or 1))
                elif ep.time == "dynamic" and vs:
                    v = self.resize_time(ep.edge.uid, v, self.shape(vs[0])[0])
                if ep.adapter is not None:
                    module = self.brain.core.get_submodule(f"edges.{edge_module_name(ep.edge.uid)}")
                    v = self.linear(ep.edge.uid, v, module.weight, None, [])
                vs.append(v)
            ports.append(self._merge(np_, vs))
        module = self._module(uid)
        if module is None and np_.unit.merge != "list":
            self.values[uid] = ports[0]
            return
        lower = lowering_for(np_)
        self.values[uid] = lower(self, np_, module, ports)

    def _merge(self, np_: NodePlan, vs: list[str]) -> Any:
        merge = np_.unit.merge
        if merge == "list":
            return vs
        if len(vs) == 1:
            return vs[0]
        t = self.shape(vs[0])[0]
        if merge == "concat":
            y = self.fresh("cat", t, sum(self.shape(v)[1] for v in vs))
            self.prog.add(Op("concat", np_.node.uid, vs, y))
            return y
        y = self.fresh("sum", t, self.shape(vs[0])[1])
        self.prog.add(Op("add", np_.node.uid, vs, y))
        return y

    def _module(self, uid: str) -> nn.Module | None:
        try:
            return self.brain.core.get_submodule(f"nodes.{node_module_name(uid)}")
        except AttributeError:
            return None


UnitLowering = Callable[[Lowering, NodePlan, Any, list[Any]], str]
UNITS: dict[str, UnitLowering] = {}


def c_form(*names: str) -> Callable[[UnitLowering], UnitLowering]:
    """Register the C form of built-in units (the whitelist)."""

    def wrap(fn: UnitLowering) -> UnitLowering:
        for n in names:
            UNITS[n] = fn
        return fn

    return wrap


def lowering_for(np_: NodePlan) -> UnitLowering:
    fn = UNITS.get(np_.unit.name) if np_.unit.package == BUILTIN_PACKAGE else None
    if fn is None:
        raise ExportError(
            f"node {np_.node.uid!r} (unit {np_.unit.name!r}) has no C form yet; "
            f"units with one: {', '.join(sorted(UNITS))}"
        )
    return fn


def refusal(brain: Brain) -> str | None:
    """Why this brain cannot become C (the first unit without a C form), or None."""
    _load_units()
    for uid in brain.plan.order:
        np_ = brain.plan.nodes[uid]
        if np_.node.unit == INPUT_UNIT:
            continue
        try:
            lowering_for(np_)
        except ExportError as exc:
            return str(exc)
    return None


def _load_units() -> None:
    from openbrains.engine.exporters.c import sequence, units  # noqa: F401  (register)


def lower(brain: Brain) -> Program:
    _load_units()
    brain.eval()
    with torch.no_grad():
        return Lowering(brain).run()


def as_array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32)
