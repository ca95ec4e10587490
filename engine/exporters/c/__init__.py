"""Brain → C99 for microcontrollers: ``brain.h`` and ``brain.c``, no heap, only ``<math.h>``,
weights as ``const`` float32 or int8 arrays with a scale per row. Lowered over a whitelist
of units (``lower.UNITS``); a unit without a C form is refused by name."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.c import fuse, memory, render
from openbrains.engine.exporters.c.footprint import Footprint, measure
from openbrains.engine.exporters.c.lower import lower, refusal
from openbrains.engine.exporters.c.quantize import QuantReport, quantize
from openbrains.engine.exporters.meta import BrainMeta

STEM = "brain"


@dataclass(frozen=True)
class CExport:
    files: dict[str, str]  # file name → text
    footprint: Footprint
    quant: QuantReport | None
    stream: bool


def program(brain: Brain, int8: bool = False, calibration: list[torch.Tensor] | None = None):
    """The fused, placed (and maybe quantized) program, with its quantization report."""
    prog = fuse.fuse(lower(brain))
    report = quantize(prog, brain, calibration) if int8 else None
    memory.plan(prog)
    return prog, report


def emit_c(
    brain: Brain,
    meta: BrainMeta,
    int8: bool = False,
    calibration: list[torch.Tensor] | None = None,
) -> CExport:
    prog, report = program(brain, int8, calibration)
    fp = measure(prog)
    files = {
        f"{STEM}.h": render.header(prog, meta, fp.to_dict(), STEM),
        f"{STEM}.c": render.source(prog, meta, STEM),
    }
    return CExport(files, fp, report, prog.stream)


__all__ = ["CExport", "Footprint", "emit_c", "program", "refusal"]
