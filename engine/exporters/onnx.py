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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from openbrains.engine.compile import Brain
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta, StateMeta
from torch import nn
from torch.utils import _pytree as pytree

OPSET = 18
EXAMPLE_BATCH = 2
# More steps than any pool window, few enough to keep tracing cheap (torch.export runs a
# recurrent unit's decomposition once per step). What the trace assumed about a free length
# (a pool's min(size, T), a Python loop over steps) is found by running the model at
# PROBE_LENGTHS against PyTorch: the metadata claims only the lengths that matched.
EXAMPLE_TIME = 5
PROBE_LENGTHS = (1, 2, 3, 4, 5, 8, 13)
PARITY_LIMIT = 1e-4  # an export whose numbers drift further is refused


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


def example_inputs(brain: Brain, batch: int, time: int = EXAMPLE_TIME) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(batch * 1009 + time)
    xs = []
    for name in brain.input_names:
        spec = brain.input_specs[name]
        t = spec.time or time
        if spec.meta.vocab:
            xs.append(torch.randint(0, spec.meta.vocab, (batch, t, 1), generator=gen).float())
        else:
            xs.append(torch.randn(batch, t, spec.channels, generator=gen))
    return xs


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


def _dynamic_shapes(brain: Brain, leaves: list[_StateLeaf], dynamic_batch: bool) -> tuple:
    from torch.export import Dim

    shapes: list[dict[int, Any]] = []
    for name in brain.input_names:
        dims: dict[int, Any] = {0: Dim.AUTO} if dynamic_batch else {}
        if brain.input_specs[name].time is None:
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
    call does the same work, only slower."""
    try:
        from torch.onnx._internal.exporter import _core, _registration
    except ImportError:
        return torch.onnx.export(model, args, dynamo=True, opset_version=OPSET, **kw)
    if not _REGISTRY:
        _REGISTRY.append(_registration.ONNXRegistry.from_torchlib(opset_version=OPSET))
    return _core.export(model, args, None, registry=_REGISTRY[0], opset_version=OPSET, **kw)


def _trace(model: StepModel, args: tuple, names: tuple[list[str], list[str]], dyn: tuple) -> Any:
    with _quiet():
        try:
            program = _fast_export(
                model,
                args,
                input_names=names[0],
                output_names=names[1],
                dynamic_shapes=(dyn,),  # forward(*args): one entry holding them all
                verbose=False,
                optimize=True,
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
        program = _trace(model, args, names, _dynamic_shapes(brain, leaves, dynamic_batch))
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
    session = _session(proto.SerializeToString())
    meta = meta.with_time(free_lengths(session, brain, meta))
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


def stream_chunks(meta: BrainMeta, chunks: int = 3) -> list[list[torch.Tensor]]:
    """A short stream for one example (batch 1): chunks of varying lengths inside what the
    model takes where the length is free, of the fixed length where it is not."""
    gen = torch.Generator().manual_seed(17)
    out = []
    for k in range(chunks):
        xs = []
        for p in meta.inputs:
            t = p.time or min(p.min_time + (0, 2, 7)[k % 3], p.max_time or 1 << 30)
            if p.vocab:
                xs.append(torch.randint(0, p.vocab, (1, t, 1), generator=gen).float())
            else:
                xs.append(torch.randn(1, t, p.channels, generator=gen))
        out.append(xs)
    return out


def run_stream(
    session: Any, brain: Brain, meta: BrainMeta, chunks: list[list[torch.Tensor]]
) -> tuple[float, int]:
    """Feed ``chunks`` to the ONNX session and to ``brain.step`` carrying state in both;
    returns the largest difference and the number of values compared."""
    state: dict[str, Any] | None = None
    feeds_state = {
        s.input: np.zeros([1 if d == "batch" else int(d) for d in s.shape], np.float32)
        for s in meta.states
    }
    worst, count = 0.0, 0
    for xs in chunks:
        with torch.no_grad():
            ref, state = brain.step(xs, state)
        feed = {p.name: x.numpy() for p, x in zip(meta.inputs, xs)} | feeds_state
        got = session.run(None, feed)
        for p, y in zip(meta.outputs, got):
            want = ref[p.signal].numpy()
            worst = max(worst, float(np.abs(y - want).max()) if want.size else 0.0)
            count += want.size
        n = len(meta.outputs)
        feeds_state = {s.input: got[n + i] for i, s in enumerate(meta.states)}
    return worst, count


def _session(model: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 4  # a probe at a length the model refuses is not news
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def _matches(session: Any, brain: Brain, meta: BrainMeta, length: int) -> bool:
    chunk = example_inputs(brain, 1, length)
    probe = replace(meta, inputs=tuple(replace(p, time=p.time or length) for p in meta.inputs))
    try:
        error, _ = run_stream(session, brain, probe, [chunk])
    except Exception:  # onnxruntime refuses a shape the trace fixed
        return False
    return error <= PARITY_LIMIT


def free_lengths(session: Any, brain: Brain, meta: BrainMeta) -> dict[str, tuple[int, int | None]]:
    """The chunk lengths the model reproduces PyTorch at, for inputs of free length: the
    longest run of probed lengths that matched, open-ended if it reaches the last probe."""
    if all(p.time is not None for p in meta.inputs):
        return {}
    ok = [n for n in PROBE_LENGTHS if _matches(session, brain, meta, n)]
    if EXAMPLE_TIME not in ok:
        raise ExportError("the ONNX model does not reproduce the brain at the traced length")
    i = PROBE_LENGTHS.index(EXAMPLE_TIME)
    lo = hi = i
    while lo > 0 and PROBE_LENGTHS[lo - 1] in ok:
        lo -= 1
    while hi + 1 < len(PROBE_LENGTHS) and PROBE_LENGTHS[hi + 1] in ok:
        hi += 1
    top = None if hi == len(PROBE_LENGTHS) - 1 else PROBE_LENGTHS[hi]
    span = (PROBE_LENGTHS[lo], top)
    if span != (EXAMPLE_TIME, EXAMPLE_TIME) and PROBE_LENGTHS[lo] == top:
        span = (top, top)
    return {p.name: span for p in meta.inputs if p.time is None}


def max_difference(model: bytes, brain: Brain, meta: BrainMeta) -> float:
    """Largest |onnxruntime − PyTorch| over a batch and, for step models, a chunked stream."""
    session = _session(model)
    worst, _ = run_stream(session, brain, meta, stream_chunks(meta))
    if not meta.states and all(p.time is not None for p in meta.inputs):
        b = EXAMPLE_BATCH if session.get_inputs()[0].shape[0] != 1 else 1
        xs = example_inputs(brain, b)
        with torch.no_grad():
            ref = brain(*xs)
        refs = ref if isinstance(ref, tuple) else (ref,)
        got = session.run(None, {p.name: x.numpy() for p, x in zip(meta.inputs, xs)})
        worst = max(worst, *(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, refs)))
    return worst


def save(path: Path, export: OnnxExport) -> None:
    Path(path).write_bytes(export.model)
