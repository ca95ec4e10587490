"""Graft: a piece of one brain copied into another with its weights, behind a closed gate,
computes exactly what the target computed (100 random pairs), keeps the piece's weights,
and refuses what cannot be done in one line, writing nothing."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.evolve.random import SizeBounds, random_graph
from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.graft import graft
from openbrains.engine.graph import Graph
from openbrains.engine.signal import SignalMeta, SignalSpec

SPECS = [
    ({"x": SignalSpec(6, 5)}, {"y": SignalSpec(3, 1)}),
    ({"image": SignalSpec(1, 16, SignalMeta("image", grid=(4, 4)))}, {"label": SignalSpec(4, 1)}),
    (
        {"a": SignalSpec(3, 1), "b": SignalSpec(5, 7)},
        {"y": SignalSpec(2, 1), "z": SignalSpec(2, 3)},
    ),
]
BOUNDS = SizeBounds(max_nodes=4, max_width=12)


def _inputs(brain, batch: int = 3) -> list[torch.Tensor]:  # type: ignore[no-untyped-def]
    gen = torch.Generator().manual_seed(0)
    return [
        torch.randn(
            batch, brain.input_specs[n].time or 4, brain.input_specs[n].channels, generator=gen
        )
        for n in brain.input_names
    ]


def _outs(brain, xs):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        out = brain.eval()(*xs)
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.slow
def test_graft_preserves_the_target_for_100_random_pairs() -> None:
    copied = 0
    for i in range(100):
        rng = random.Random(i)
        src = random_graph(rng, *rng.choice(SPECS), BOUNDS)
        dst_io = rng.choice(SPECS)
        dst = random_graph(rng, *dst_io, BOUNDS)
        sb, db = compile_graph(src, seed=i), compile_graph(dst, seed=10_000 + i)
        hidden = [u for u, n in src.nodes.items() if n.unit not in ("input", "output")]
        pick = rng.sample(hidden, rng.randint(1, len(hidden)))
        at = rng.choice([None, *[u for u, n in dst.nodes.items() if n.unit != "output"]])
        done = graft(src, sb.weights(), pick, dst, db.weights(), at=at, seed=i)
        out = compile_graph(done.graph)
        out.load_weights(done.weights, strict=True)
        xs = _inputs(db)
        for a, b in zip(_outs(db, xs), _outs(out, xs), strict=True):
            torch.testing.assert_close(b, a, rtol=0, atol=1e-5)
        # the piece came with its weights: every tensor that still fits holds SRC's values
        sw = sb.weights()
        for key in done.copied:
            kind, uid, rest = key.split("/", 2)
            old = {v: k for k, v in done.uids.items()}.get(uid)
            if kind == "node" and old is not None:
                assert torch.equal(done.weights[key], sw[f"node/{old}/{rest}"])
        copied += len(done.copied)
        assert len(set(n.gid for n in done.graph.nodes.values())) == len(done.graph.nodes)
    assert copied > 100


def test_once_trained_the_gate_opens_and_the_piece_counts() -> None:
    rng = random.Random(5)
    io = SPECS[0]
    src, dst = random_graph(rng, *io, BOUNDS), random_graph(rng, *io, BOUNDS)
    sb, db = compile_graph(src, seed=1), compile_graph(dst, seed=2)
    hidden = [u for u, n in src.nodes.items() if n.unit not in ("input", "output")]
    done = graft(src, sb.weights(), hidden, dst, db.weights())
    out = compile_graph(done.graph)
    out.load_weights(done.weights)
    xs = _inputs(out, 8)
    opt = torch.optim.SGD(out.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        y = out(*xs)
        (y[0] if isinstance(y, tuple) else y).square().mean().backward()
        opt.step()
    assert float(out.weights()[f"node/{done.gate}/alpha"]) != 0.0


def _chain() -> Graph:
    g = Graph()
    g.add_node("input", {"name": "x", "channels": 4, "time": 1}, uid="in")
    for uid, w in (("h1", 6), ("h2", 5)):
        g.add_node("dense", {"width": w}, uid=uid)
    g.add_node("dense", {"width": 3}, uid="k")
    g.add_node("output", {"name": "y", "channels": 2, "time": 1}, uid="out")
    g.connect("in", "h1", uid="e1")
    g.connect("h1", "h2", uid="e2")
    g.connect("h2", "k", uid="e3")
    g.connect("k", "out", uid="e4")
    from openbrains.engine.gids import stamp_gids, structure_key

    stamp_gids(g, structure_key(g))
    return g


def test_refusals_name_what_is_wrong() -> None:
    src = _chain()
    dst = src.copy()
    dst.remove_node("k")
    dst.connect("h2", "out", uid="e5")
    w = compile_graph(src, seed=0).weights()
    dw = compile_graph(dst, seed=0).weights()
    with pytest.raises(GraphError, match="the source graph has no node 'zz'"):
        graft(src, w, ["zz"], dst, dw)
    with pytest.raises(GraphError, match="'in' is an input node; graft copies hidden nodes"):
        graft(src, w, ["in"], dst, dw)
    with pytest.raises(GraphError, match="has no node 'nope' \\(--at\\)"):
        graft(src, w, ["k"], dst, dw, at="nope")
    # k reads h2, which dst also has (same global id); attached at h1, k's result would
    # flow back into h2 through the gate: a cycle
    with pytest.raises(GraphError, match="would make a cycle"):
        graft(src, w, ["k"], dst, dw, at="h1")
    done = graft(src, w, ["k"], dst, dw, at="h2")  # reading h2 where h2 is: fine
    assert any(e.src == "h2" for e in done.graph.edges.values() if e.dst in done.adapters)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openbrains", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_the_graft_command_writes_a_file_and_refuses_in_one_line(tmp_path: Path) -> None:
    src, dst = _chain(), _chain()
    dst.remove_node("k")
    dst.connect("h2", "out", uid="e5")
    for name, g in (("src.graph", src), ("dst.graph", dst)):
        save(tmp_path / name, GraphFile(graph=g, weights=compile_graph(g, seed=3).weights()))
    bad = _cli(
        "graft",
        "src.graph",
        "--nodes",
        "k",
        "dst.graph",
        "-o",
        "out.graph",
        "--at",
        "h1",
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "would make a cycle" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "out.graph").exists()
    ok = _cli("graft", "src.graph", "--nodes", "k", "dst.graph", "-o", "out.graph", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    doc = load(tmp_path / "out.graph")
    assert [p["relation"] for p in doc.graph.lineage["parents"]] == ["graft", "graft"]  # type: ignore[union-attr]
