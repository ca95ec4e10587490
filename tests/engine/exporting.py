"""Shared by the export tests: C builds compared with PyTorch, a real trained digits
champion (a short `openbrains run`), and a test unit with no exporter of any kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from openbrains.engine.compile import Brain
from openbrains.engine.exporters.c import CExport, emit_c, harness
from openbrains.engine.exporters.meta import BrainMeta, describe
from openbrains.engine.exporters.onnx_check import example_inputs
from openbrains.engine.graph import Graph
from openbrains.engine.units import REGISTRY, Unit

ROOT = Path(__file__).resolve().parents[2]


def write_c(ex: CExport, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ex.files.items():
        (folder / name).write_text(text)
    return folder


def c_vs_torch(graph: Graph, brain: Brain, folder: Path, examples: int = 3) -> float:
    """Largest |C − PyTorch| for ``brain`` built in ``folder``: whole examples one per call,
    or, for a stream brain, one step per call with memory carried (PyTorch: ``step`` on
    one-step chunks)."""
    brain.eval()
    meta = describe(brain, graph)
    ex = emit_c(brain, meta)
    exe = harness.build(write_c(ex, folder), meta)
    names = [p.signal for p in meta.outputs]
    if ex.stream:
        xs = example_inputs(brain, 1, 6)
        chunks = [[x[:, t : t + 1] for x in xs] for t in range(6)]
        refs, state = [], None
        with torch.no_grad():
            for chunk in chunks:
                out, state = brain.step(chunk, state)
                refs.append([out[n].numpy().reshape(-1) for n in names])
        feed = [[x.numpy() for x in chunk] for chunk in chunks]
    else:
        xs = example_inputs(brain, examples)
        with torch.no_grad():
            y = brain(*xs)
        ys = y if isinstance(y, tuple) else (y,)
        refs = [[t[k].numpy().reshape(-1) for t in ys] for k in range(examples)]
        feed = [[x[k].numpy() for x in xs] for k in range(examples)]
    got = harness.run(exe, feed, [r.size for r in refs[0]], reset=not ex.stream)
    return max(float(np.abs(a - r).max()) for ga, ra in zip(got, refs) for a, r in zip(ga, ra))


def train_digits_champion(run_dir: Path, individuals: int, *extra: str) -> Path:
    """A real short search on one worker (the suite's other tests share the cores; three
    individuals reach about 0.95); returns the champion exported as a .graph."""
    cmd = [sys.executable, "-m", "openbrains", "run", "--task", "digits"]
    cmd += ["--individuals", str(individuals), "--workers", "1"]
    cmd += ["--run-dir", str(run_dir), "--quiet", *extra]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
    out = run_dir.parent / f"{run_dir.name}-champion.graph"
    subprocess.run(
        [sys.executable, "-m", "openbrains", "export", str(run_dir), "--best", "-o", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


class _Opaque(nn.Module):
    """Values through a Python list: no tracer can follow them."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tensor(sorted(x.detach().reshape(-1).tolist())[-1])


OPAQUE = Unit(
    name="opaque_test_unit",
    version=1,
    category="activation",
    doc="A unit with no exporter (tests only).",
    build=lambda ctx: _Opaque(),
    package="tests",
)


class OpaqueUnit:
    """``with OpaqueUnit():`` the registry knows the test unit; afterwards it does not."""

    def __enter__(self) -> Unit:
        REGISTRY.ensure_loaded()
        REGISTRY.register(OPAQUE, replace=True)
        return OPAQUE

    def __exit__(self, *exc: object) -> None:
        REGISTRY._units.pop(OPAQUE.name, None)


def meta_of(brain: Brain, graph: Graph) -> BrainMeta:
    return describe(brain, graph, "test")


def catalog() -> list[str]:
    """Every registered unit a graph can hold between its inputs and outputs."""
    return [u.name for u in REGISTRY.units() if u.name not in ("input", "output")]


def graph_with(name: str) -> tuple[Graph, int]:
    """A small random graph that holds unit ``name`` (and nothing else but I/O, where the
    generator allows), found over the test modalities; with its seed."""
    import random

    from openbrains.engine.errors import GraphError
    from openbrains.engine.evolve.random import SizeBounds, random_graph
    from tests.engine.specs import MODALITIES

    bounds = SizeBounds(min_nodes=1, max_nodes=2, max_width=16)
    allowed = ["activation"] if name == "embedding" else [name]  # embeddings come with text
    kinds = sorted(MODALITIES, key=lambda k: "text" in k)  # grids and audio first
    for seed in range(60):
        for kind in kinds:
            ins, outs = MODALITIES[kind]
            for causal in (False, True) if kind == "text" else (False,):
                try:
                    g = random_graph(random.Random(seed), ins, outs, bounds, causal, allowed)
                except (IndexError, GraphError):
                    continue  # the unit cannot go here (not causal, needs a grid…)
                if any(n.unit == name for n in g.nodes.values()):
                    return g, seed
    raise AssertionError(f"no random graph holds unit {name!r}")
