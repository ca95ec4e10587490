"""Graph inputs and outputs. The compiler turns inputs into arguments and outputs into
results; an output's adapter (learned Linear + time alignment) makes the last signal match
what the task's codec expects."""

from __future__ import annotations

from typing import Any

from openbrains.engine.footprint import Tensor
from openbrains.engine.signal import MODALITIES, SignalMeta, SignalSpec
from openbrains.engine.units import Choice, Float, Int, Str, Unit, UnitContext

_SPEC_PARAMS = (
    Choice("modality", "vector", MODALITIES, "what the signal carries", mutable=False),
    Int("channels", 1, 1, 1 << 20, "width C of the signal", mutable=False),
    Int("time", 1, 0, 1 << 24, "time steps T; 0 = variable length", mutable=False),
)


def _input_spec(ctx: UnitContext) -> SignalSpec:
    p = ctx.params
    grid = (p["grid_h"], p["grid_w"]) if p["grid_h"] and p["grid_w"] else None
    if grid and p["time"] and grid[0] * grid[1] != p["time"]:
        raise ValueError(
            f"grid {grid[0]}x{grid[1]} needs time {grid[0] * grid[1]}, not {p['time']}"
        )
    if p["vocab"] and p["channels"] != 1:
        raise ValueError("a token input carries one id per step: channels must be 1")
    meta = SignalMeta(p["modality"], grid, p["rate"] or None, p["vocab"] or None)
    return SignalSpec(p["channels"], p["time"] or None, meta)


def _output_spec(ctx: UnitContext) -> SignalSpec:
    p = ctx.params
    time = p["time"] or ctx.input.time
    grid = ctx.input.meta.grid if time == ctx.input.time else None
    return SignalSpec(p["channels"], time, SignalMeta(p["modality"], grid))


def _build_output(ctx: UnitContext) -> Any:
    """An adapter only where one is needed: a matching signal passes straight through."""
    from openbrains.nodes.modules import OutputAdapter

    time = ctx.params["time"] or None
    if ctx.in_channels == ctx.params["channels"] and (time is None or time == ctx.input.time):
        return None
    return OutputAdapter(ctx.in_channels, ctx.params["channels"], time)


INPUT = Unit(
    name="input",
    version=1,
    category="io",
    doc="A named graph input; its codec (text, audio, image, vector) fixes the signal shape.",
    params=(
        Str("name", "x", "the name tasks and codecs use for this input"),
        *_SPEC_PARAMS,
        Int("grid_h", 0, 0, 1 << 16, "image patch rows (0 = no grid)", mutable=False),
        Int("grid_w", 0, 0, 1 << 16, "image patch columns (0 = no grid)", mutable=False),
        Int("vocab", 0, 0, 1 << 24, "token vocabulary (0 = float features)", mutable=False),
        Float("rate", 0.0, 0.0, 1e7, "frames per second (0 = not a time series)", mutable=False),
        Int("patch", 1, 1, 1 << 10, "image pixels per patch side (ImageCodec)", mutable=False),
        Int(
            "views",
            0,
            0,
            1,
            "1: answer with the mean over the image and its one-pixel shifts (engine.views)",
            mutable=False,
        ),
    ),
    infer=_input_spec,
    inputs=(),
    flops="0",
)

OUTPUT = Unit(
    name="output",
    version=1,
    category="io",
    doc="A named graph output; a learned adapter maps whatever arrives to the task's shape.",
    params=(Str("name", "y", "the name tasks and codecs use for this output"), *_SPEC_PARAMS),
    infer=_output_spec,
    build=_build_output,
    outputs=(),
    causal=lambda p: p["time"] == 0,
    tensors=(
        Tensor("adapter.weight", "channels", "C", when="C != channels"),
        Tensor("adapter.bias", "channels", when="C != channels"),
    ),
    flops="2 * (time or T) * C * channels if C != channels else 0",
)

UNITS = (INPUT, OUTPUT)
