"""Content ids (docs/format.md, "Content id"): stable across save, load and convert; changed
by one weight; blind to what only shows a brain; computable from the spec alone."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import torch

from openbrains.engine.format import load, save
from openbrains.engine.format.identity import content_id
from openbrains.engine.graph import Graph

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format"
ROOT = Path(__file__).resolve().parents[2]


def _brain() -> tuple[Graph, dict[str, torch.Tensor]]:
    doc = load(ROOT / "sample_graphs" / "digits.graph")
    assert doc.graph is not None and doc.weights
    return doc.graph, doc.weights


def test_stable_across_save_load_and_convert(tmp_path: Path) -> None:
    graph, weights = _brain()
    cid = content_id(graph, weights)
    doc = load(ROOT / "sample_graphs" / "digits.graph")
    save(tmp_path / "a.graph", doc)
    again = load(tmp_path / "a.graph")
    assert content_id(again.graph, again.weights) == cid

    # a format-version-0 file and its current twin are the same brain, and converting the
    # old one on the command line keeps its id
    old, new = load(FIXTURES / "tiny_v0.graph"), load(FIXTURES / "tiny_v1.graph")
    assert content_id(old.graph, old.weights) == content_id(new.graph, new.weights)
    out = tmp_path / "converted.graph"
    done = subprocess.run(
        [sys.executable, "-m", "openbrains", "convert", str(FIXTURES / "tiny_v0.graph"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    converted = load(out)
    assert content_id(converted.graph, converted.weights) == content_id(old.graph, old.weights)


def test_one_weight_changes_it_and_showing_a_brain_does_not() -> None:
    graph, weights = _brain()
    cid = content_id(graph, weights)
    key = sorted(weights)[0]
    nudged = dict(weights)
    t = weights[key].clone()
    t.view(-1)[0] = torch.nextafter(t.view(-1)[0], torch.tensor(float("inf")))
    nudged[key] = t
    assert content_id(graph, nudged) != cid

    shown = graph.copy()  # moved on the canvas, renamed, frozen, scored, given codecs
    for node in shown.nodes.values():
        node.pos = (1.0, 2.0)
        node.label = "mine"
        node.frozen = True
    shown.scores = {"x": 1}
    shown.lineage = {"run": "elsewhere"}
    shown.codecs = {"image": {"kind": "image"}}
    assert content_id(shown, weights) == cid

    changed = graph.copy()  # what it computes: a param
    dense = next(n for n in changed.nodes.values() if "channels" in n.params and n.unit != "input")
    dense.params["channels"] = int(dense.params["channels"]) + 1
    assert content_id(changed, weights) != cid


def test_the_spec_alone_computes_it() -> None:
    """An implementation of docs/format.md's definition, written without our code."""
    graph = Graph.from_dict(
        {
            "nodes": [
                {
                    "uid": "in",
                    "unit": "input",
                    "version": 1,
                    "params": {"name": "x", "channels": 2},
                },
                {
                    "uid": "h",
                    "unit": "dense",
                    "version": 2,
                    "params": {"channels": 3},
                    "pos": [5, 6],
                },
                {"uid": "out", "unit": "output", "params": {"name": "y", "channels": 2}},
            ],
            "edges": [
                {"uid": "e1", "src": "in", "dst": "h"},
                {"uid": "e2", "src": "h", "dst": "out", "dst_port": "in"},
            ],
        }
    )
    weights = {
        "node/h/linear.weight": torch.arange(6, dtype=torch.float32).reshape(3, 2),
        "node/h/linear.bias": torch.tensor([1.5, -2.0, 0.25]),
        "edge/e2/weight": torch.ones(2, 3, dtype=torch.float64),
    }

    def frame(b: bytes) -> bytes:
        return struct.pack("<Q", len(b)) + b

    def canon(v: object) -> bytes:
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    structure = {
        "causal": False,
        "edges": [
            {"uid": "e1", "src": "in", "src_port": "out", "dst": "h", "dst_port": "in"},
            {"uid": "e2", "src": "h", "src_port": "out", "dst": "out", "dst_port": "in"},
        ],
        "nodes": [
            {"uid": "in", "unit": "input", "version": 1, "params": {"name": "x", "channels": 2}},
            {"uid": "h", "unit": "dense", "version": 2, "params": {"channels": 3}},
            {"uid": "out", "unit": "output", "version": 1, "params": {"name": "y", "channels": 2}},
        ],
    }
    h = hashlib.sha256(b"openbrains-content-id/1\n" + frame(canon(structure)))
    raw = {
        "edge/e2/weight": ("F64", [2, 3], struct.pack("<6d", *[1.0] * 6)),
        "node/h/linear.bias": ("F32", [3], struct.pack("<3f", 1.5, -2.0, 0.25)),
        "node/h/linear.weight": ("F32", [3, 2], struct.pack("<6f", *range(6))),
    }
    for name in sorted(raw, key=lambda n: n.encode()):
        dtype, shape, data = raw[name]
        h.update(frame(canon({"dtype": dtype, "name": name, "shape": shape})) + frame(data))
    assert content_id(graph, weights) == h.hexdigest()
