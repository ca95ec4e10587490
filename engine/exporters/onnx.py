"""Brain → ONNX by tracing its forward with ``torch.onnx.export`` (dynamo), so any unit
whose forward torch.export can trace exports without an exporter of its own.

Recurrent brains become *step* models: every recurrent state is an explicit input (zeros
at the start of a stream) and output (fed back with the next chunk), exactly as
``Brain.step`` and ``openbrains live`` carry it. Batch and stream length stay free where the
trace allows; a unit that loops over time in Python fixes the chunk length, and the
metadata says so. Every export is run once in onnxruntime and compared with PyTorch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils import _pytree as pytree

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta, StateMeta
from openbrains.engine.exporters.onnx_check import (
    EXAMPLE_BATCH,
    PARITY_LIMIT,
    example_inputs,
    free_lengths,
    max_difference,
    open_session,
)

OPSET = 18


@dataclass(frozen=True)
class OnnxExport:
    """What was written: the model's bytes, its meaning, and how far onnxruntime's numbers
    were from PyTorch's on the check at export time."""

    model: bytes
    meta: BrainMeta
    max_error: float
    batch: str  # "any" or "1"


@dataclass(frozen=True)
class _StateLeaf:
    node: str
    unit: str
    index: int
    shape: tuple[int, ...]
    batch_dims: tuple[int, ...]


class StepModel(nn.Module):
    """``(*inputs, *states) → (*outputs, *new_states)`` with states as flat tensors."""

    def __init__(self, brain: Brain, leaves: list[_StateLeaf], specs: dict[str, Any]) -> None:
        super().__init__()
        self.brain = brain
        self.n_in = len(brain.input_names)
        self.leaves = leaves
        self.specs = specs  # node uid → pytree spec of its state

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        xs, flat = args[: self.n_in], list(args[self.n_in :])
        state: dict[str, Any] = {}
        for uid in self.brain.state_nodes:
            n = sum(1 for leaf in self.leaves if leaf.node == uid)
            state[uid] = pytree.tree_unflatten(flat[:n], self.specs[uid])
            flat = flat[n:]
        outs, new = self.brain.step(list(xs), state or None)
        result = [outs[name] for name in self.brain.output_names]
        for uid in self.brain.state_nodes:
            result.extend(pytree.tree_leaves(new[uid]))
        return tuple(result)


def _state_leaves(brain: Brain) -> tuple[list[_StateLeaf], dict[str, Any]]:
    """Shapes of every state tensor, and which of their dims follow the batch size."""
    if not brain.state_nodes:
        return [], {}
    with torch.no_grad():
        _, a = brain.step(example_inputs(brain, 2))
        _, b = brain.step(example_inputs(brain, 3))
    leaves, specs = [], {}
    for uid in brain.state_nodes:
        la, spec = pytree.tree_flatten(a[uid])
        lb, _ = pytree.tree_flatten(b[uid])
        specs[uid] = spec
        unit = brain.plan.nodes[uid].node.unit
        for i, (ta, tb) in enumerate(zip(la, lb)):
            if not isinstance(ta, torch.Tensor):
                raise ExportError(f"node {uid!r} ({unit}) keeps a state that is not a tensor")
            dims = tuple(d for d in range(ta.dim()) if ta.shape[d] != tb.shape[d])
            leaves.append(_StateLeaf(uid, unit, i, tuple(ta.shape), dims))
    return leaves, specs


def _zero_states(leaves: list[_StateLeaf], batch: int) -> list[torch.Tensor]:
    return [
        torch.zeros([batch if d in leaf.batch_dims else s for d, s in enumerate(leaf.shape)])
        for leaf in leaves
    ]


def _check_zero_start(brain: Brain, model: StepModel, leaves: list[_StateLeaf]) -> None:
    """The step model starts a stream with zero states; prove that equals no state."""
    if not leaves:
        return
    xs = example_inputs(brain, EXAMPLE_BATCH)
    with torch.no_grad():
        fresh, _ = brain.step(xs, None)
        zeroed = model(*xs, *_zero_states(leaves, EXAMPLE_BATCH))
    for name, y in zip(brain.output_names, zeroed):
        if not torch.allclose(fresh[name], y, atol=1e-6, rtol=0):
            units = sorted({f"{leaf.node} ({leaf.unit})" for leaf in leaves})
            raise ExportError(
                f"a stream cannot start from zero states for node(s) {', '.join(units)}; "
                "the step model needs zeros to mean 'no memory yet'"
            )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch.onnx reports progress, missing optional packages and, on failure, the whole
    traced graph; a user needs none of it (the failure becomes one ExportError line)."""
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in _NOISY]
    loggers = [logging.getLogger(n) for n in ("torch", "onnxscript", "onnx_ir", *names)]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


_NOISY = ("torch", "onnxscript", "onnx_ir")


def _dynamic_shapes(
    brain: Brain, leaves: list[_StateLeaf], dynamic_batch: bool, dynamic_time: bool = True
) -> tuple:
    from torch.export import Dim

    shapes: list[dict[int, Any]] = []
    for name in brain.input_names:
        dims: dict[int, Any] = {0: Dim.AUTO} if dynamic_batch else {}
        if dynamic_time and brain.input_specs[name].time is None:
            dims[1] = Dim.AUTO
        shapes.append(dims)
    for leaf in leaves:
        shapes.append({d: Dim.AUTO for d in leaf.batch_dims} if dynamic_batch else {})
    return tuple(shapes)


_REGISTRY: list[Any] = []


def _fast_export(model: nn.Module, args: tuple, **kw: Any) -> Any:
    """``torch.onnx.export(dynamo=True)`` without rebuilding the table of ONNX translations
    on every call (2.5 of its 6 seconds on a small brain): the same pipeline, with the
    table made once per process. torch is pinned; if its private module moves, the public
    call does the same work, only slower. Either way ``onnx_ops`` adds what it lacks."""
    from openbrains.engine.exporters.onnx_ops import translations

    try:
        from torch.onnx._internal.exporter import _core, _registration
    except ImportError:
        return torch.onnx.export(
            model,
            args,
            dynamo=True,
            opset_version=OPSET,
            custom_translation_table=translations(),
            **kw,
        )
    if not _REGISTRY:
        registry = _registration.ONNXRegistry.from_torchlib(opset_version=OPSET)
        for target, function in translations().items():
            registry.register_op(target, function)
        _REGISTRY.append(registry)
    return _core.export(model, args, None, registry=_REGISTRY[0], opset_version=OPSET, **kw)


def _trace(
    model: StepModel,
    args: tuple,
    names: tuple[list[str], list[str]],
    dyn: tuple,
    optimize: bool = True,  # onnxscript's rewriter: a third of the time, the same numbers
) -> Any:
    with _quiet():
        try:
            program = _fast_export(
                model,
                args,
                input_names=names[0],
                output_names=names[1],
                dynamic_shapes=(dyn,),  # forward(*args): one entry holding them all
                verbose=False,
                optimize=optimize,
            )
        except ImportError:
            raise
        except Exception as exc:  # torch.export names the unsupported operation
            cause = exc.__cause__ or exc
            text = str(cause).strip()
            first = text.splitlines()[0] if text else type(cause).__name__
            raise ExportError(f"the brain's forward cannot be traced to ONNX: {first}") from None
    return program


def _dims(value_info: Any) -> list[int | str]:
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def _trace_any_time(
    model: StepModel,
    args: tuple,
    names: tuple[list[str], list[str]],
    brain: Brain,
    leaves: list[_StateLeaf],
    dynamic_batch: bool,
) -> Any:
    """Trace with chunks of any length; where the tracer cannot express the brain's time
    arithmetic for every length (a strided conv whose output meets a step loop's, say), trace
    chunks of the example's length: the metadata then records that one length."""
    try:
        return _trace(model, args, names, _dynamic_shapes(brain, leaves, dynamic_batch))
    except ExportError as free_time:
        if all(brain.input_specs[n].time is not None for n in brain.input_names):
            raise
        try:
            dyn = _dynamic_shapes(brain, leaves, dynamic_batch, dynamic_time=False)
            return _trace(model, args, names, dyn)
        except ExportError:
            raise free_time from None


def export_onnx(brain: Brain, meta: BrainMeta) -> OnnxExport:
    """Trace ``brain`` (eval mode) to an ONNX model with ``meta`` written into it."""
    import onnx

    brain.eval()
    leaves, specs = _state_leaves(brain)
    model = StepModel(brain, leaves, specs).eval()
    _check_zero_start(brain, model, leaves)
    state_in = [f"state_{leaf.node}_{leaf.index}" for leaf in leaves]
    state_out = [f"{n}_out" for n in state_in]
    names = (
        [p.name for p in meta.inputs] + state_in,
        [p.name for p in meta.outputs] + state_out,
    )
    proto, batch = None, "any"
    for dynamic_batch in (True, False):
        b = EXAMPLE_BATCH if dynamic_batch else 1
        args = (*example_inputs(brain, b), *_zero_states(leaves, b))
        program = _trace_any_time(model, args, names, brain, leaves, dynamic_batch)
        proto = program.model_proto
        ins = {i.name: _dims(i) for i in proto.graph.input}
        if not dynamic_batch or all(
            isinstance(ins[n][0], str) for n in names[0][: len(meta.inputs)]
        ):
            batch = "any" if dynamic_batch else "1"
            break
    meta = meta.with_states(
        tuple(
            StateMeta(
                input=i,
                output=o,
                node=leaf.node,
                unit=leaf.unit,
                shape=tuple(
                    ("batch" if batch == "any" else 1) if d in leaf.batch_dims else s
                    for d, s in enumerate(leaf.shape)
                ),
            )
            for leaf, i, o in zip(leaves, state_in, state_out)
        )
    )
    meta = meta.with_time(free_lengths(open_session(proto.SerializeToString()), brain, meta))
    _name_output_dims(proto, meta, batch)
    _write_meta(proto, meta, batch)
    data = proto.SerializeToString()
    onnx.checker.check_model(onnx.load_from_string(data))
    error = max_difference(data, brain, meta)
    if error > PARITY_LIMIT:
        raise ExportError(
            f"the ONNX model does not reproduce the brain (max difference {error:.2g}); "
            "nothing was written"
        )
    return OnnxExport(data, meta, error, batch)


def _name_output_dims(proto: Any, meta: BrainMeta, batch: str) -> None:
    """Output shapes as the brain defines them (the trace can leave the example's sizes)."""
    free_time = any(p.time is None for p in meta.inputs)
    by_name = {p.name: p for p in meta.outputs}
    for out in proto.graph.output:
        port = by_name.get(out.name)
        dims = out.type.tensor_type.shape.dim
        if port is None or len(dims) != 3:
            continue
        dims[0].Clear()
        if batch == "any":
            dims[0].dim_param = "batch"
        else:
            dims[0].dim_value = 1
        if port.time is None and free_time:
            dims[1].Clear()
            dims[1].dim_param = "time"


def _write_meta(proto: Any, meta: BrainMeta, batch: str) -> None:
    del proto.metadata_props[:]
    fields = {
        "openbrains": meta.to_json(),
        "layout": meta.layout,
        "batch": batch,
        "inputs": ", ".join(f"{p.name}: {p.meaning}" for p in meta.inputs),
        "outputs": ", ".join(f"{p.name}: {p.meaning}" for p in meta.outputs),
    }
    if meta.states:
        fields["states"] = (
            "feed each *_out back as the matching state_* input with the next chunk; "
            "start a stream with zeros"
        )
    for t in meta.tasks:
        if t.get("classes"):
            fields[f"classes.{t.get('name')}"] = ",".join(str(c) for c in t["classes"])
    for key, value in fields.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name = "openbrains"
    proto.doc_string = f"Open Brains brain {meta.source}".strip()
