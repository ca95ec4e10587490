"""Does the ONNX model compute what the brain computes? Run it in onnxruntime beside
PyTorch: a chunked stream with state fed back, a batch, and chunk lengths probed one by
one, so the metadata claims only what was seen to match."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta

EXAMPLE_BATCH = 2
# More steps than any pool window, few enough to keep tracing cheap (torch.export runs a
# recurrent unit's decomposition once per step). What the trace assumed about a free length
# (a pool's min(size, T), a Python loop over steps) is found by running the model at
# PROBE_LENGTHS against PyTorch: the metadata claims only the lengths that matched.
EXAMPLE_TIME = 5
PROBE_LENGTHS = (1, 2, 3, 4, 5, 8, 13)
PARITY_LIMIT = 1e-4  # an export whose numbers drift further is refused


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


def open_session(model: bytes) -> Any:
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
    sess = open_session(model)
    worst, _ = run_stream(sess, brain, meta, stream_chunks(meta))
    if not meta.states and all(p.time is not None for p in meta.inputs):
        b = EXAMPLE_BATCH if sess.get_inputs()[0].shape[0] != 1 else 1
        xs = example_inputs(brain, b)
        with torch.no_grad():
            ref = brain(*xs)
        refs = ref if isinstance(ref, tuple) else (ref,)
        got = sess.run(None, {p.name: x.numpy() for p, x in zip(meta.inputs, xs)})
        worst = max(worst, *(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, refs)))
    return worst
