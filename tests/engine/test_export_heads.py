"""A brain with several outputs exports every head: each is an output of the ONNX model
with its own metadata and of the C build with its own buffer, and each matches PyTorch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.c import emit_c
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import describe
from openbrains.engine.exporters.onnx import export_onnx
from openbrains.engine.exporters.onnx_check import example_inputs
from openbrains.engine.taskrecord import record_of
from tests.engine.exporting import c_vs_torch
from tests.engine.specs import MODALITIES
from tests.engine.test_export_onnx import LIMIT, chunk_lengths, session, stream_difference
from tests.engine.test_random_graphs import draw

TWO_HEADS = list(MODALITIES).index("image_and_vector")
STATEFUL = {
    "gru",
    "lstm",
    "hebbian",
    "reservoir",
    "ssm",
    "mamba",
    "rwkv",
    "cfc",
    "lif",
}  # their step models add state outputs


def two_headed(k: int):
    """The k-th two-headed random graph whose every unit has a C form and keeps no state
    (the generator draws from the whole catalog: research units have neither)."""
    found = 0
    for i in range(TWO_HEADS, TWO_HEADS + 200 * len(MODALITIES), len(MODALITIES)):
        graph, kind = draw(i)
        assert kind == "image_and_vector" and sorted(graph.output_names) == ["label", "value"]
        if STATEFUL & {n.unit for n in graph.nodes.values()}:
            continue
        brain = compile_graph(graph, seed=k).eval()
        try:
            emit_c(brain, describe(brain, graph))
        except ExportError:  # a unit with no C form yet
            continue
        if found == k:
            return graph, brain
        found += 1
    raise AssertionError("no two-headed graph of C-ready units among 200 draws")


def test_every_head_is_an_onnx_output_with_its_meaning() -> None:
    graph, brain = two_headed(0)
    graph.tasks = {"pair": record_of("pair", {"kind": "classification", "classes": list("abcd"),
                   "outputs": {"label": {}}}, graph)}  # fmt: skip
    ex = export_onnx(brain, describe(brain, graph))
    model = onnx.load_from_string(ex.model)
    assert sorted(o.name for o in model.graph.output) == ["label", "value"]
    info = json.loads({p.key: p.value for p in model.metadata_props}["openbrains"])
    outs = {o["signal"]: o for o in info["outputs"]}
    assert outs["label"]["channels"] == 4 and outs["label"]["classes"] == list("abcd")
    assert outs["value"]["channels"] == 1 and not outs["value"].get("classes")
    sess = session(ex.model)
    worst = stream_difference(sess, brain, ex.meta, chunk_lengths(ex.meta))
    xs = example_inputs(brain, 3, 1)
    with torch.no_grad():
        want = brain(*xs)
    got = sess.run(None, {p.name: x.numpy() for p, x in zip(ex.meta.inputs, xs)})
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):  # every head compared, batch of 3
        worst = max(worst, float(np.abs(g - w.numpy()).max()))
    assert worst <= LIMIT, worst


def test_every_head_has_its_own_buffer_in_c_and_matches(tmp_path: Path) -> None:
    for k in range(2):
        graph, brain = two_headed(k)
        header = emit_c(brain, describe(brain, graph)).files["brain.h"]
        assert "BRAIN_OUT_LABEL_SIZE 4" in header and "BRAIN_OUT_VALUE_SIZE 1" in header
        assert c_vs_torch(graph, brain, tmp_path / str(k)) <= 1e-4
