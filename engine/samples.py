"""The ready-made projects in sample_graphs/, built by code so they stay true to the
engine: `python -m engine.samples sample_graphs` rewrites them (a test checks they are
current)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from engine.compile import compile_graph
from engine.evolve.random import add_io
from engine.format import GraphFile, save
from engine.graph import Graph
from engine.layout import auto_layout
from engine.tasks.base import DatasetTask
from engine.tasks.builtin import digits_task, xor_task


def _chain(
    task_io: tuple[dict, dict], layers: list[tuple[str, dict]], causal: bool = False
) -> Graph:
    inputs, outputs = task_io
    g = Graph(causal=causal)
    rng = random.Random(0)
    (inp,), (out,) = add_io(g, inputs, outputs, rng)
    prev = inp
    for unit, params in layers:
        node = g.add_node(unit, params, rng=rng)
        g.connect(prev, node.uid, rng=rng)
        prev = node.uid
    g.connect(prev, out, rng=rng)
    return auto_layout(g)


def _project(task: DatasetTask, graph: Graph, notes: str) -> GraphFile:
    graph.codecs = dict(task.codecs)
    graph.hparams = {"lr": 3e-3, "batch_size": 32, "optimizer": "adam"}
    brain = compile_graph(graph, seed=0)
    project = {
        "task": {"name": task.name},
        "evolver": {"population": 16, "workers": 1, "cpu_cap": 0, "tradeoff": 0.02},
        "notes": notes,
    }
    return GraphFile(kind="project", graph=graph, weights=brain.weights(), project=project)


def xor_sample() -> GraphFile:
    t = xor_task()
    g = _chain((t.inputs, t.outputs), [("dense", {"width": 8, "activation": "tanh"})])
    return _project(t, g, "XOR: the smallest problem a hidden layer is needed for.")


def digits_sample() -> GraphFile:
    t = digits_task()
    g = _chain(
        (t.inputs, t.outputs),
        [
            ("conv2d", {"width": 8, "kernel": 3}),
            ("pool", {"kind": "max", "size": 2}),
            ("flatten", {}),
            ("dense", {"width": 32, "activation": "relu"}),
        ],
    )
    return _project(t, g, "8×8 handwritten digits: a small conv seed, ~4.5k parameters.")


def text_sample() -> GraphFile:
    from engine.signal import SignalMeta, SignalSpec

    inputs = {"text": SignalSpec(1, None, SignalMeta("text", vocab=256))}
    outputs = {"next": SignalSpec(256, None, SignalMeta("text"))}
    g = _chain(
        (inputs, outputs),
        [
            ("embedding", {"width": 32}),
            ("gru", {"width": 64}),
            ("dense", {"width": 64, "activation": "relu"}),
        ],
        causal=True,
    )
    g.codecs = {
        "text": {"kind": "bytes", "length": None, "pad": 0},
        "next": {"kind": "bytes", "length": None, "pad": 0},
    }
    g.hparams = {"lr": 3e-3, "batch_size": 32, "optimizer": "adam"}
    brain = compile_graph(g, seed=0)
    project = {
        "task": {"name": "text"},
        "evolver": {"population": 16, "workers": 1, "cpu_cap": 0, "tradeoff": 0.02},
        "notes": "Byte-level next-character model: embedding → GRU → dense. Give it any text file with --data.",
    }
    return GraphFile(kind="project", graph=g, weights=brain.weights(), project=project)


SAMPLES: dict[str, Callable[[], GraphFile]] = {
    "xor": xor_sample,
    "digits": digits_sample,
    "text": text_sample,
}


def write_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SAMPLES.items():
        path = folder / f"{name}.graph"
        save(path, build())
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_graphs")):
        print(p)
