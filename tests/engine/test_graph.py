"""Graph data, validation messages and the compiled Brain's contract."""

from __future__ import annotations

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import GraphError, MissingUnitError, ParamError
from openbrains.engine.graph import Graph


def chain(*units: tuple[str, dict], inputs: dict | None = None, out: dict | None = None) -> Graph:
    g = Graph()
    prev = g.add_node("input", inputs or {"name": "x", "channels": 8, "time": 1}, uid="in")
    for i, (unit, params) in enumerate(units):
        node = g.add_node(unit, params, uid=f"h{i}")
        g.connect(prev.uid, node.uid, uid=f"e{i}")
        prev = node
    o = g.add_node("output", out or {"name": "y", "channels": 3, "time": 1}, uid="out")
    g.connect(prev.uid, o.uid, uid="eout")
    return g


def test_connect_refuses_a_cycle_and_names_the_nodes() -> None:
    g = chain(("dense", {}), ("dense", {}))
    with pytest.raises(GraphError, match="cycle") as err:
        g.connect("h1", "h0")
    assert err.value.node == "h0"


def test_cycle_read_from_data_is_rejected_naming_a_node() -> None:
    d = chain(("dense", {}), ("dense", {})).to_dict()
    d["edges"].append({"uid": "back", "src": "h1", "dst": "h0"})
    g = Graph.from_dict(d)  # loads as data
    with pytest.raises(GraphError, match="cycle") as err:
        g.validate()
    assert err.value.node in {"h0", "h1"}


def test_dangling_node_on_the_output_path_is_named() -> None:
    g = chain(("dense", {}))
    g.add_node("dense", {}, uid="lonely")
    g.connect("lonely", "out", uid="e9")
    with pytest.raises(GraphError, match=r"'lonely'.*nothing connected") as err:
        g.validate()
    assert err.value.node == "lonely"


def test_dead_branches_are_left_out_not_fatal() -> None:
    g = chain(("dense", {}))
    g.add_node("dense", {}, uid="dead")
    g.connect("h0", "dead", uid="e9")
    brain = compile_graph(g)
    assert "dead" in brain.plan.dead and "dead" not in brain.plan.nodes


def test_unknown_unit_names_unit_and_package() -> None:
    d = chain(("dense", {})).to_dict()
    d["nodes"][1]["unit"] = "quantum_dense"
    g = Graph.from_dict(d)
    g.packages["quantum_dense"] = "openbrains-quantum"
    with pytest.raises(MissingUnitError, match=r"quantum_dense.*openbrains-quantum") as err:
        g.validate()
    assert err.value.node == "h0" and err.value.package == "openbrains-quantum"


def test_newer_unit_version_is_refused() -> None:
    g = chain(("dense", {}))
    g.nodes["h0"].version = 7
    with pytest.raises(MissingUnitError, match="v7"):
        g.validate()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"width": "wide"}, "expected an integer"),
        ({"width": 0}, "below the minimum"),
        ({"width": 10**9}, "above the maximum"),
        ({"activation": "swish9"}, "not one of"),
        ({"bias": 1}, "true or false"),
        ({"colour": "red"}, "no param 'colour'"),
    ],
)
def test_bad_params_name_node_and_param(params: dict, match: str) -> None:
    with pytest.raises(ParamError, match=match) as err:
        chain(("dense", params)).validate()
    assert "h0" in str(err.value)


def test_float_wire_into_token_port_is_refused() -> None:
    with pytest.raises(GraphError, match="token ids") as err:
        chain(("embedding", {})).validate()
    assert err.value.edge == "e0"


def test_io_names_must_be_unique_and_reachable() -> None:
    g = chain(("dense", {}))
    g.add_node("output", {"name": "y", "channels": 2}, uid="out2")
    g.connect("h0", "out2", uid="e7")
    with pytest.raises(GraphError, match="two output nodes are called 'y'"):
        g.validate()
    g = chain(("dense", {}))
    g.add_node("output", {"name": "z", "channels": 2}, uid="out2")
    g.add_node("dense", {}, uid="floating")
    with pytest.raises(GraphError, match="nothing connected"):
        g.connect("floating", "out2", uid="e7")
        g.validate()


def test_json_round_trip_keeps_unknown_keys() -> None:
    d = chain(("dense", {"width": 5})).to_dict()
    d["future_field"] = {"a": 1}
    d["nodes"][1]["colour"] = "teal"
    d["edges"][0]["weight_hint"] = 0.5
    g = Graph.from_dict(d)
    assert g.to_dict() == d
    assert Graph.from_json(g.to_json()).to_dict() == d


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(nodes="many"), "'nodes' must be list"),
        (lambda d: d["nodes"][0].update(uid=5), "uid"),
        (lambda d: d["nodes"][0].update(uid="Bad Uid!"), "uid"),
        (lambda d: d["nodes"][1].update(params=[1, 2]), "'params' must be dict"),
        (lambda d: d["nodes"][1].update(frozen="yes"), "'frozen' must be bool"),
        (lambda d: d["nodes"][1].update(pos=[1]), "'pos' must be two numbers"),
        (lambda d: d["edges"][0].update(dst="nowhere"), "does not exist"),
        (lambda d: d["edges"].append(dict(d["edges"][0])), "used twice"),
    ],
)
def test_wrong_json_types_get_specific_errors(mutate, match: str) -> None:
    d = chain(("dense", {})).to_dict()
    mutate(d)
    with pytest.raises(GraphError, match=match):
        Graph.from_dict(d)


def test_networkx_view_and_order() -> None:
    g = chain(("dense", {}), ("activation", {"kind": "tanh"}))
    nxg = g.to_networkx()
    assert set(nxg.nodes) == {"in", "h0", "h1", "out"}
    assert g.topological_order() == ["in", "h0", "h1", "out"]


def test_channel_and_time_adapters_are_owned_by_edges() -> None:
    g = Graph()
    g.add_node("input", {"name": "x", "channels": 8, "time": 12}, uid="in")
    g.add_node("dense", {"width": 16}, uid="a")
    g.add_node("pool", {"size": 3}, uid="p")
    g.add_node("dense", {"width": 5}, uid="b")
    g.add_node("sum", {}, uid="s")
    g.add_node("output", {"name": "y", "channels": 3, "time": 1}, uid="out")
    for uid, (src, dst) in {
        "e1": ("in", "a"),
        "e2": ("a", "p"),
        "e3": ("in", "b"),
        "e4": ("p", "s"),
        "e5": ("b", "s"),
        "e6": ("s", "out"),
    }.items():
        g.connect(src, dst, uid=uid)
    brain = compile_graph(g)
    assert brain.weights()["edge/e5/weight"].shape == (16, 5)  # 5 → 16 channels
    assert brain.plan.nodes["s"].ports[0].edges[1].time == "static"  # 12 steps → 4
    assert brain(torch.randn(2, 12, 8)).shape == (2, 1, 3)
    assert brain.param_count() > 0 and brain.flops() > 0


def test_non_trainable_nodes_get_no_gradients() -> None:
    g = chain(("dense", {}), ("dense", {}))
    g.nodes["h0"].trainable = False
    brain = compile_graph(g)
    brain(torch.randn(2, 1, 8)).sum().backward()
    w = dict(brain.core.named_parameters())
    assert w["nodes.n_h0.linear.weight"].grad is None
    assert w["nodes.n_h1.linear.weight"].grad is not None


def test_stream_chunks_carry_recurrent_state() -> None:
    g = chain(
        ("dense", {"width": 8}),
        ("gru", {"width": 6}),
        ("lstm", {"width": 5}),
        ("reservoir", {"width": 12}),
        inputs={"name": "x", "channels": 4, "time": 0},
        out={"name": "y", "channels": 3, "time": 0},
    )
    g.causal = True
    brain = compile_graph(g, seed=3).eval()
    x = torch.randn(2, 20, 4)
    whole = brain(x)
    state = None
    pieces = []
    for chunk in x.split(5, dim=1):
        out, state = brain.step({"x": chunk}, state)
        pieces.append(out["y"])
    assert torch.allclose(torch.cat(pieces, dim=1), whole, atol=1e-5)
    assert set(state) == {"h1", "h2", "h3"}


def test_weights_round_trip_by_gene_key() -> None:
    g = chain(("dense", {}), ("hebbian", {"width": 7}), ("reservoir", {"width": 9}))
    a, b = compile_graph(g, seed=1), compile_graph(g, seed=2)
    assert not torch.equal(
        a.weights()["node/h0/linear.weight"], b.weights()["node/h0/linear.weight"]
    )
    b.load_weights(a.weights())
    x = torch.randn(3, 1, 8)
    assert torch.equal(a.eval()(x), b.eval()(x))
    with pytest.raises(GraphError, match="missing"):
        b.load_weights({k: v for k, v in a.weights().items() if "h0" not in k})
    bad = dict(a.weights())
    bad["node/h0/linear.weight"] = torch.zeros(2, 2)
    with pytest.raises(GraphError, match="wrong shapes"):
        b.load_weights(bad)
