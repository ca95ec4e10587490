"""ONNX translations for the few torch operations the exporter's own table lacks, so every
unit of the catalog exports (written with onnxscript's opset, traced at export time)."""

from __future__ import annotations

import math
from typing import Any

import torch


def cummax_over_time(self: Any, dim: int) -> tuple[Any, Any]:
    """``torch.cummax(x, dim=1)`` of ``[batch, time, channels]`` (the causal running max of
    ``pool``): for each step, the max over a mask of itself and every earlier step. ONNX has
    no running max; the mask costs time² per chunk, which streams keep small."""
    from onnxscript import opset18 as op

    if dim not in (1, -2):
        raise ValueError(f"cummax is exported along time (dim 1) only, not dim {dim}")
    steps = op.Squeeze(op.Shape(self, start=1, end=2))
    index = op.Range(op.Constant(value_int=0), steps, op.Constant(value_int=1))
    seen = op.LessOrEqual(op.Unsqueeze(index, [0]), op.Unsqueeze(index, [1]))  # [out, src]
    lowest = op.CastLike(op.Constant(value_float=-math.inf), self)
    masked = op.Where(op.Unsqueeze(seen, [0, 3]), op.Unsqueeze(self, [1]), lowest)
    values = op.ReduceMax(masked, [2], keepdims=0)
    indices = op.ArgMax(masked, axis=2, keepdims=0, select_last_index=1)
    return values, indices


def translations() -> dict[Any, Any]:
    return {torch.ops.aten.cummax.default: cummax_over_time}
