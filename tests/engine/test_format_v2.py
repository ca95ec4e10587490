"""Format version 2: multi-task records, probes, owners and global ids, the v1 → v2
migration (committed fixtures) and the limits on tasks and probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import safetensors.torch
import torch

from openbrains.engine.errors import FormatError, GraphError
from openbrains.engine.format import GraphFile, Limits, dumps, load, load_brain, loads
from openbrains.engine.graph import Graph
from openbrains.engine.multitask import compile_tasks, make_probe
from openbrains.engine.taskrecord import Port, TaskRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format"


def two_task_graph() -> Graph:
    """An image task and an audio task sharing a hidden node."""
    g = Graph()
    g.add_node("input", {"name": "image", "channels": 1, "time": 64}, uid="img")
    g.add_node("input", {"name": "audio", "channels": 8, "time": 20}, uid="aud")
    g.add_node("dense", {"width": 8}, uid="h", gid="a" * 32)
    g.add_node("dense", {"width": 6}, uid="k")
    g.add_node("output", {"name": "label", "channels": 10, "time": 1}, uid="y1")
    g.add_node("output", {"name": "audio.label", "channels": 4, "time": 1}, uid="y2")
    g.connect("img", "h", uid="e1")
    g.connect("h", "y1", uid="e2")
    g.connect("aud", "k", uid="e3")
    g.connect("h", "k", uid="e4")
    g.connect("k", "y2", uid="e5")
    g.nodes["h"].owner = ("digits",)
    g.nodes["k"].owner = ("audio",)
    g.tasks = {
        "digits": TaskRecord(
            "digits",
            "classification",
            "accuracy",
            inputs={"image": Port("img")},
            heads={"label": Port("y1", role="classifier")},
            classes=[str(i) for i in range(10)],
        ),
        "audio": TaskRecord(
            "audio",
            "classification",
            "accuracy",
            inputs={"audio": Port("aud")},
            heads={"label": Port("y2", role="classifier")},
        ),
    }
    return g


def two_task_doc() -> GraphFile:
    g = two_task_graph()
    brains = compile_tasks(g, seed=0)
    probes = {}
    for task, port, shape in (("digits", "image", (5, 64, 1)), ("audio", "audio", (5, 20, 8))):
        g.tasks[task].probe, tensors = make_probe(brains, task, {port: torch.randn(*shape)})
        probes.update(tensors)
    return GraphFile(graph=g, weights=brains.weights(), probes=probes)


def test_a_two_task_brain_round_trips_with_owners_gids_and_probes() -> None:
    doc = two_task_doc()
    data = dumps(doc)
    again = loads(data)
    assert again.graph is not None
    assert again.graph.to_dict() == doc.graph.to_dict()  # type: ignore[union-attr]
    assert again.graph.nodes["h"].gid == "a" * 32 and again.graph.nodes["k"].owner == ("audio",)
    assert sorted(again.probes) == sorted(doc.probes)
    assert again.graph.tasks["digits"].probe.count == 5  # type: ignore[union-attr]
    assert dumps(again) == data  # equal content, equal bytes


def test_the_v1_digits_export_migrates_to_a_one_task_v2_brain() -> None:
    old = load(FIXTURES / "digits_v1.graph")
    new = load(FIXTURES / "digits_v2.graph")
    assert (old.format_version_read, old.migrated_from, new.format_version_read) == (1, 1, 2)
    g = old.graph
    assert g is not None and new.graph is not None
    assert g.to_dict() == new.graph.to_dict()
    rec = g.tasks["digits"]
    assert (rec.kind, rec.metric, rec.classes[:2]) == ("classification", "accuracy", ["0", "1"])
    assert rec.inputs["image"].node == "in" and rec.heads["label"].node == "out"
    assert rec.head_role("label") == "classifier"
    assert rec.score["validation"] == 0.5 and "digits" not in g.scores  # moved into the task
    assert rec.codecs["image"]["kind"] == "image"
    assert all(
        n.owner == ("digits",) and re.fullmatch("[0-9a-f]{32}", n.gid) for n in g.nodes.values()
    )
    assert g.lineage["parents"] == [] and g.lineage["structure_parents"] == ["0" * 64]
    assert g.lineage["run"] == "fixture-run"  # other keys kept
    io_ = safetensors.torch.load((FIXTURES / "digits_v1_io.safetensors").read_bytes())
    # the stored outputs were computed on another CPU, whose kernels may round differently:
    # equal to float32 rounding here, and the v1 and v2 brains bit-identical to each other
    outs = []
    for path in ("digits_v1.graph", "digits_v2.graph"):
        _, brain = load_brain(FIXTURES / path)
        with torch.no_grad():
            outs.append(brain(io_["x"]))
        torch.testing.assert_close(outs[-1], io_["y"], rtol=0, atol=1e-5, msg=path)
    assert torch.equal(outs[0], outs[1])
    view = compile_tasks(g)
    view.load_weights(old.weights)
    with torch.no_grad():
        assert torch.equal(view.run("digits", {"image": io_["x"]})["label"], outs[0])


def test_unknown_keys_of_tasks_ports_and_probes_survive() -> None:
    doc = two_task_doc()
    assert doc.graph is not None
    d = doc.graph.to_dict()
    d["tasks"]["digits"]["future"] = {"x": 1}
    d["tasks"]["digits"]["heads"]["label"]["calibration"] = [1, 2]
    d["tasks"]["digits"]["probe"]["note"] = "kept"
    doc.graph = Graph.from_dict(d)
    again = loads(dumps(doc)).graph
    assert again is not None
    out = again.to_dict()["tasks"]["digits"]
    assert out["future"] == {"x": 1} and out["heads"]["label"]["calibration"] == [1, 2]
    assert out["probe"]["note"] == "kept"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["tasks"].update({"a/b": {}}), "task name 'a/b'"),
        (
            lambda d: d["tasks"]["digits"].update(heads={"label": {"role": "oracle"}}),
            "role 'oracle'",
        ),
        (lambda d: d["tasks"]["digits"].update(inputs=[1]), "'inputs' must be dict"),
        (lambda d: d["nodes"][2].update(gid="XYZ"), "'gid' must be 32 lowercase hex"),
        (lambda d: d["nodes"][2].update(owner="digits"), "'owner' must be list"),
        (lambda d: d["lineage"].update(parents=["abc"]), "parents\\[0\\] must be an object"),
        (
            lambda d: d["lineage"].update(parents=[{"id": "x", "relation": "seed"}]),
            "must be a content id",
        ),
        (lambda d: d["tasks"]["digits"]["probe"].update(count=0), "'count' must be >= 1"),
        (lambda d: d["tasks"]["digits"]["probe"].update(heads=["nope"]), "are not the task's"),
    ],
)
def test_bad_records_are_one_line_refusals(change, message) -> None:  # type: ignore[no-untyped-def]
    doc = two_task_doc()
    assert doc.graph is not None
    d = doc.graph.to_dict()
    d["lineage"] = {}
    change(d)
    with pytest.raises(GraphError, match=message):
        Graph.from_dict(d)


def _members(doc: GraphFile) -> bytes:
    return dumps(doc)


def test_probes_must_match_their_records_and_the_limits() -> None:
    doc = two_task_doc()
    data = dumps(doc)
    with pytest.raises(FormatError, match="over the limit of 4"):
        loads(data, limits=Limits(max_probe_examples=4))
    with pytest.raises(FormatError, match="2 tasks, over the limit of 1"):
        loads(data, limits=Limits(max_tasks=1))
    with pytest.raises(FormatError, match="over the limit for probes"):
        loads(data, limits=Limits(max_probe_values=100))
    missing = GraphFile(graph=doc.graph, weights=doc.weights, probes={})
    with pytest.raises(FormatError, match="declares in its probe"):
        dumps(missing)
    extra = dict(doc.probes)
    extra["digits/in/other"] = torch.zeros(5, 1, 1)
    with pytest.raises(FormatError, match="no task's probe declares"):
        dumps(GraphFile(graph=doc.graph, weights=doc.weights, probes=extra))
    wrong = dict(doc.probes)
    wrong["digits/in/image"] = torch.zeros(3, 64, 1)
    with pytest.raises(FormatError, match=re.escape("must be float [5, T, C]")):
        dumps(GraphFile(graph=doc.graph, weights=doc.weights, probes=wrong))


def test_a_task_view_runs_one_task_and_feeds_the_others_inputs_zeros() -> None:
    doc = two_task_doc()
    assert doc.graph is not None
    brains = compile_tasks(doc.graph)
    brains.load_weights(doc.weights)
    assert brains.brains["digits"].input_names == ["image"]
    assert brains.brains["audio"].input_names == ["audio"]
    assert brains.brains["audio"].output_names == ["label"]  # the task's own port name
    x = torch.randn(3, 64, 1)
    with torch.no_grad():
        digits = brains.run("digits", {"image": x})["label"]
    # the shared node h is one module: a step on audio's loss moves digits' head
    loss = brains.run("audio", {"audio": torch.randn(3, 20, 8)})["label"].square().sum()
    loss.backward()
    with torch.no_grad():
        for p in brains.parameters():
            if p.grad is not None:
                p -= 0.1 * p.grad
        assert not torch.equal(brains.run("digits", {"image": x})["label"], digits)
    # with the image absent (zeros), audio's head reads h of zeros: what the full brain
    # computes for a zero image
    from openbrains.engine.compile import compile_graph

    full = compile_graph(doc.graph)
    full.load_weights(brains.weights())
    a = torch.randn(2, 20, 8)
    with torch.no_grad():
        _y1, y2 = full(torch.zeros(2, 64, 1), a)
        assert torch.equal(brains.run("audio", {"audio": a})["label"], y2)


def test_a_task_naming_a_missing_node_says_which() -> None:
    g = two_task_graph()
    g.tasks["audio"].heads["label"].node = "gone"
    with pytest.raises(
        GraphError, match=re.escape("task 'audio': its head 'label' names no output")
    ):
        compile_tasks(g)
