"""int8 weights with a float scale per row (per output channel), chosen on data.

Every weight matrix of the C program is only ever used one row at a time in a dot
product, so ``y = scale[row] · Σ q[row, i] · x[i]``: activations stay float32, which keeps
the answer within a rounding of the brain's while weights take a quarter of the flash.
Each matrix's clipping (the fraction of its largest row value that maps to 127) is chosen
greedily, layer by layer, to keep the brain's outputs on the calibration examples (the
task's validation split) closest to the float brain's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.c.ir import Program, Weight

CLIPS = (1.0, 0.95, 0.9, 0.8, 0.7)
LEVELS = 127


@dataclass(frozen=True)
class QuantReport:
    matrices: int
    clips: dict[str, float]
    output_error: float  # mean squared difference from the float brain on calibration


def quantize_rows(data: np.ndarray, clip: float) -> tuple[np.ndarray, np.ndarray]:
    rows = data.reshape(data.shape[0], -1).astype(np.float64)
    top = np.abs(rows).max(axis=1) * clip
    scale = np.where(top > 0, top / LEVELS, 1.0)
    q = np.clip(np.rint(rows / scale[:, None]), -LEVELS, LEVELS).astype(np.int8)
    return q.reshape(data.shape), scale.astype(np.float32)


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    rows = q.reshape(q.shape[0], -1).astype(np.float32) * scale[:, None]
    return rows.reshape(q.shape)


def _fake(t: torch.Tensor, clip: float) -> torch.Tensor:
    q, s = quantize_rows(t.detach().cpu().numpy(), clip)
    return torch.from_numpy(dequantize(q, s)).to(t.dtype)


@contextmanager
def simulated(brain: Brain, clips: dict[str, float]) -> Iterator[Brain]:
    """``brain`` with the given module tensors replaced by their int8 round trip."""
    state = brain.core.state_dict()
    saved = {k: state[k].clone() for k in clips}
    try:
        with torch.no_grad():
            for k, clip in clips.items():
                state[k].copy_(_fake(saved[k], clip))
        yield brain
    finally:
        with torch.no_grad():
            for k, t in saved.items():
                state[k].copy_(t)


def _outputs(brain: Brain, inputs: list[torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        out = brain(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    return torch.cat([o.reshape(o.shape[0], -1) for o in outs], dim=1)


def quantizable(prog: Program) -> list[Weight]:
    return [w for w in prog.weights.values() if w.rows]


def calibrate(prog: Program, brain: Brain, inputs: list[torch.Tensor] | None) -> dict[str, float]:
    """Clip per matrix (keyed by the brain tensor), greedy in program order."""
    keys = list(dict.fromkeys(w.source for w in quantizable(prog) if w.source))
    if not inputs:
        return dict.fromkeys(keys, 1.0)
    brain.eval()
    want = _outputs(brain, inputs)
    chosen: dict[str, float] = {}
    for key in keys:
        best = (float("inf"), 1.0)
        for clip in CLIPS:
            with simulated(brain, {**chosen, key: clip}):
                err = float((_outputs(brain, inputs) - want).pow(2).mean())
            best = min(best, (err, clip))
        chosen[key] = best[1]
    return chosen


def quantize(prog: Program, brain: Brain, inputs: list[torch.Tensor] | None) -> QuantReport:
    """Turn every matrix of ``prog`` into int8 + row scales (in place)."""
    clips = calibrate(prog, brain, inputs)
    for w in quantizable(prog):
        w.q, w.scale = quantize_rows(w.data, clips.get(w.source, 1.0))
    error = 0.0
    if inputs:
        with simulated(brain, clips):
            got = _outputs(brain, inputs)
        error = float((got - _outputs(brain, inputs)).pow(2).mean())
    return QuantReport(len(quantizable(prog)), clips, error)
