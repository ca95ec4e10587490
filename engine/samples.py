"""The ready-made projects in sample_graphs/, built by code so they stay true to the
engine: `python -m openbrains.engine.samples sample_graphs` rewrites them (a test checks they are
current)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

from openbrains.engine.compile import compile_graph
from openbrains.engine.evolve.random import add_io
from openbrains.engine.format import GraphFile, save
from openbrains.engine.graph import Graph
from openbrains.engine.layout import auto_layout
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.tasks.builtin import digits_task, xor_task


def _chain(
    task_io: tuple[dict, dict], layers: list[tuple[str, dict]], causal: bool = False
) -> Graph:
    """input(s) → layers → output; every input feeds the first layer."""
    inputs, outputs = task_io
    g = Graph(causal=causal)
    rng = random.Random(0)
    ins, (out,) = add_io(g, inputs, outputs, rng)
    prev = None
    for unit, params in layers:
        node = g.add_node(unit, params, rng=rng)
        for src in ins if prev is None else [prev]:
            g.connect(src, node.uid, rng=rng)
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


def _seed_project(
    io: tuple[dict, dict],
    layers: list[tuple[str, dict]],
    codecs: dict,
    task: dict,
    notes: str,
    causal: bool = False,
) -> GraphFile:
    """A project whose task reads the user's data: built from the task's signal shapes
    alone, so making the sample needs no data."""
    g = _chain(io, layers, causal=causal)
    g.codecs = codecs
    g.hparams = {"lr": 3e-3, "batch_size": 32, "optimizer": "adam"}
    brain = compile_graph(g, seed=0)
    project = {
        "task": task,
        "evolver": {"population": 16, "workers": 1, "cpu_cap": 0, "tradeoff": 0.02},
        "notes": notes,
    }
    return GraphFile(kind="project", graph=g, weights=brain.weights(), project=project)


_BYTES_IO = (
    {"text": SignalSpec(1, None, SignalMeta("text", vocab=256))},
    {"next": SignalSpec(256, None, SignalMeta("text"))},
)
_BYTES_CODECS = {
    "text": {"kind": "bytes", "length": None, "pad": 0},
    "next": {"kind": "bytes", "length": None, "pad": 0},
}


def mnist_sample() -> GraphFile:
    from openbrains.engine.codecs import ImageCodec

    codec = ImageCodec(patch=4, channels=1, height=28, width=28, scale=255.0)
    return _seed_project(
        ({"image": codec.spec()}, {"label": SignalSpec(10, 1)}),
        [
            ("conv2d", {"width": 16, "kernel": 3}),
            ("pool", {"kind": "max", "size": 2}),
            ("flatten", {}),
            ("dense", {"width": 64, "activation": "relu"}),
        ],
        {"image": codec.to_dict()},
        {"name": "mnist", "data": "data/mnist"},
        "MNIST digits (4×4 patches on a 7×7 grid): put the four idx files in data/mnist "
        "or give --task mnist --data DIR.",
    )


def spoken_digits_sample() -> GraphFile:
    from openbrains.engine.codecs import AudioCodec
    from openbrains.engine.tasks.files import AUDIO_RATE

    codec = AudioCodec(mode="logmel", rate=AUDIO_RATE, n_mels=40)
    spec = SignalSpec(40, codec.steps(AUDIO_RATE), SignalMeta("audio", rate=AUDIO_RATE / codec.hop))
    return _seed_project(
        ({"audio": spec}, {"label": SignalSpec(10, 1)}),
        [
            ("layernorm", {}),
            ("conv1d", {"width": 32, "kernel": 5, "stride": 2}),
            ("conv1d", {"width": 32, "kernel": 5, "stride": 2}),
            ("pool", {"kind": "max", "scope": "global"}),
            ("dense", {"width": 64, "activation": "relu"}),
        ],
        {"audio": codec.to_dict()},
        {"name": "audio", "data": "data/spoken_digits", "holdout": "ny-f3_"},
        "Spoken digits made by espeak-ng (scripts/setup.sh writes data/spoken_digits); "
        "the New York voice (ny-f3) is held out as the test set.",
    )


def callresponse_sample() -> GraphFile:
    return _seed_project(
        _BYTES_IO,
        [
            ("embedding", {"width": 32}),
            ("gru", {"width": 128}),
            ("dense", {"width": 64, "activation": "relu"}),
        ],
        dict(_BYTES_CODECS),
        {"name": "callresponse", "data": "data/samples/callresponse.tsv"},
        "Call and response: answers prompts (sums, reversed, upper-case and shifted "
        "letters) from a prompt<TAB>response file; scored on the responses only.",
        causal=True,
    )


def denoise_sample() -> GraphFile:
    from openbrains.engine.tasks.denoise import EMBED, SIDE

    io = (
        {
            "noisy": SignalSpec(SIDE * SIDE, 1, SignalMeta("image")),
            "step": SignalSpec(EMBED, 1),
        },
        {"noise": SignalSpec(SIDE * SIDE, 1, SignalMeta("image"))},
    )
    return _seed_project(
        io,
        [
            ("dense", {"width": 128, "activation": "gelu"}),
            ("dense", {"width": 128, "activation": "gelu"}),
        ],
        {},
        {"name": "denoise"},
        "Makes 8×8 digits from noise: predicts the noise in a noisy digit given the step; "
        "`openbrains sample` runs the denoising loop.",
    )


def stream_sample() -> GraphFile:
    return _seed_project(
        _BYTES_IO,
        [
            ("embedding", {"width": 32}),
            ("gru", {"width": 64}),
            ("dense", {"width": 64, "activation": "relu"}),
        ],
        dict(_BYTES_CODECS),
        {"name": "stream", "data": "data/stream.log"},
        "Next-byte prediction on a growing log; `python -m openbrains.engine.datasets.logs --follow` "
        "writes and appends data/stream.log.",
        causal=True,
    )


# what the window's start page says of each sample: a title and one line for a person
CARDS: dict[str, tuple[str, str]] = {
    "xor": ("XOR", "Four points, two classes: the smallest problem that needs a hidden layer."),
    "digits": ("Handwritten digits", "Tell apart 8×8 pictures of handwritten digits."),
    "text": ("Next character", "Learn to continue any text file of yours, byte by byte."),
    "mnist": ("MNIST digits", "The classic 28×28 handwritten digits (the MNIST files)."),
    "spoken_digits": ("Spoken digits", "Hear a digit said aloud, tested on a voice never heard."),
    "callresponse": ("Call and response", "Answer short prompts: sums, reversals, upper case."),
    "denoise": ("Digits from noise", "Make new 8×8 digits out of noise, step by step."),
    "stream": ("A growing log", "Predict the next byte of a log file while it grows."),
}

SAMPLES: dict[str, Callable[[], GraphFile]] = {
    "xor": xor_sample,
    "digits": digits_sample,
    "text": text_sample,
    "mnist": mnist_sample,
    "spoken_digits": spoken_digits_sample,
    "callresponse": callresponse_sample,
    "denoise": denoise_sample,
    "stream": stream_sample,
}


def write_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SAMPLES.items():
        path = folder / f"{name}.graph"
        doc = build()
        doc.project = {**(doc.project or {}), "title": CARDS[name][0], "summary": CARDS[name][1]}
        save(path, doc)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_graphs")):
        print(p)
