"""Lineage across files: content ids that only a weight or a gene moves, global ids that
survive copies and line genes up across files (breed), and the family tree a file carries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from openbrains.engine.breed import align_by_gid, breed
from openbrains.engine.compile import compile_graph
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.format.identity import content_id
from openbrains.engine.gids import stamp_gids, structure_key
from openbrains.engine.graph import Graph
from openbrains.engine.lineage import (
    MAX_ANCESTORS,
    Parent,
    child_lineage,
    family,
)
from openbrains.engine.taskrecord import TaskRecord
from openbrains.engine.tasks.builtin import xor_task

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format"


def xor_graph(width: int = 8, uid: str = "h") -> Graph:
    t = xor_task()
    g = Graph(hparams={"lr": 0.03})
    ((name, spec),) = t.inputs.items()
    ((out, ospec),) = t.outputs.items()
    g.add_node("input", {"name": name, "channels": spec.channels, "time": spec.time or 0}, uid="in")
    g.add_node("dense", {"width": width, "activation": "tanh"}, uid=uid)
    g.add_node("output", {"name": out, "channels": ospec.channels, "time": 1}, uid="out")
    g.connect("in", uid, uid="e1")
    g.connect(uid, "out", uid="e2")
    return g


def test_content_ids_survive_migration_and_ignore_what_only_describes_a_brain(
    tmp_path: Path,
) -> None:
    v1, v2 = load(FIXTURES / "digits_v1.graph"), load(FIXTURES / "digits_v2.graph")
    cid = content_id(v2.graph, v2.weights)  # type: ignore[arg-type]
    assert content_id(v1.graph, v1.weights) == cid  # type: ignore[arg-type]
    g = v2.graph.copy()  # type: ignore[union-attr]
    g.tasks["other"] = TaskRecord("other", "regression")
    for node in g.nodes.values():
        node.owner = ("other",)
        node.gid = "f" * 32
    g.lineage = {"parents": [{"id": "0" * 64, "relation": "hand"}]}
    assert content_id(g, v2.weights) == cid
    save(tmp_path / "again.graph", GraphFile(graph=g, weights=v2.weights))
    again = load(tmp_path / "again.graph")
    assert content_id(again.graph, again.weights) == cid  # type: ignore[arg-type]
    nudged = dict(v2.weights)
    key = sorted(nudged)[0]
    nudged[key] = nudged[key].clone()
    nudged[key].view(-1)[0] += 1e-6
    assert content_id(g, nudged) != cid


def test_gids_survive_copies_and_line_genes_up_across_files() -> None:
    a = xor_graph(8, "h")
    stamp_gids(a, structure_key(a))
    b = xor_graph(8, "q")  # the same gene under another uid, as another person's file has it
    b.nodes["q"].gid = a.nodes["h"].gid
    b.nodes["in"].gid = a.nodes["in"].gid
    b.nodes["out"].gid = a.nodes["out"].gid
    b.add_node("dense", {"width": 4}, uid="h")  # a different gene that happens to be called h
    b.connect("in", "h", uid="e9")
    b.connect("h", "out", uid="e8")
    wb = compile_graph(b, seed=1).weights()
    aligned, weights, nodes, edges = align_by_gid(a, b, wb)
    assert nodes == 3 and edges == 2  # in, q→h, out; the wires in→q and q→out
    assert "h" in aligned.nodes and aligned.nodes["h"].gid == a.nodes["h"].gid
    other = [u for u in aligned.nodes if u not in a.nodes]
    assert len(other) == 1 and aligned.nodes[other[0]].params["width"] == 4
    assert torch.equal(weights["node/h/linear.weight"], wb["node/q/linear.weight"])
    assert torch.equal(weights[f"node/{other[0]}/linear.weight"], wb["node/h/linear.weight"])


def test_breed_crosses_two_files_and_records_both_parents(tmp_path: Path) -> None:
    task = xor_task()
    docs = []
    for seed, width in ((1, 8), (2, 8)):
        g = xor_graph(width)
        stamp_gids(g, "shared-ancestor")  # both descend from one brain: same gids
        brain = compile_graph(g, seed=seed)
        docs.append(GraphFile(graph=g, weights=brain.weights()))
    bred = breed(docs[0], docs[1], task, steps=60, seed=0)
    assert bred.matched_nodes == 3 and bred.matched_edges == 2
    child = bred.doc.graph
    assert child is not None
    assert [p["relation"] for p in child.lineage["parents"]] == ["crossover", "crossover"]
    ids = {content_id(d.graph, d.weights) for d in docs}  # type: ignore[arg-type]
    assert {p["id"] for p in child.lineage["parents"]} == ids
    rec = child.tasks["xor"]
    assert rec.probe is not None and rec.score["validation"] == bred.val["accuracy"]
    save(tmp_path / "child.graph", bred.doc)
    out = subprocess.run(
        [sys.executable, "-m", "openbrains", "lineage", str(tmp_path / "child.graph")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("crossover") == 2


def test_a_family_tree_is_carried_and_cut_at_its_limit() -> None:
    lineage: dict = {}
    ids = [f"{i:064x}" for i in range(MAX_ANCESTORS + 20)]
    for i, cid in enumerate(ids):
        lineage = child_lineage([(Parent(cid, "mutation"), lineage, ["t"])])
        if i == 2:
            third = lineage
    lines = family(third)
    assert [(d, c[-1], r) for d, c, r, _t in lines] == [
        (1, "2", "mutation"),
        (2, "1", "mutation"),
        (3, "0", "mutation"),
    ]
    assert len(lineage["tree"]) == MAX_ANCESTORS and ids[-1] in lineage["tree"]
    assert ids[0] not in lineage["tree"]  # the farthest ancestors go first


def test_breed_and_lineage_commands(tmp_path: Path) -> None:
    for name, seed in (("a.graph", 1), ("b.graph", 2)):
        g = xor_graph(8)
        stamp_gids(g, "shared-ancestor")
        save(tmp_path / name, GraphFile(graph=g, weights=compile_graph(g, seed=seed).weights()))

    def ob(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "openbrains", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )

    done = ob("breed", "a.graph", "b.graph", "--task", "xor", "--steps", "30", "-o", "c.graph")
    assert done.returncode == 0, done.stderr
    assert "3 node(s) and 2 wire(s) lined up by global id" in done.stdout
    tree = json.loads(ob("lineage", "c.graph", "--json").stdout)
    assert [p["relation"] for p in tree["parents"]] == ["crossover", "crossover"]
    for args, message in (
        (("breed", "a.graph", "none.graph", "--task", "xor", "-o", "d.graph"), "none.graph"),
        (("breed", "a.graph", "b.graph", "--task", "my.game:Game", "-o", "d.graph"), "games"),
        (("lineage", "none.graph"), "none.graph"),
    ):
        bad = ob(*args)
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d.graph").exists()
