"""Brains exported to ONNX and run with onnxruntime give PyTorch's numbers (max |Δ| ≤ 1e-5),
stateful ones over a chunked stream with their state fed back; the metadata says what each
input and output means."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta, describe
from openbrains.engine.exporters.onnx import (
    StepModel,
    _dynamic_shapes,
    _state_leaves,
    _trace,
    _zero_states,
    export_onnx,
)
from openbrains.engine.exporters.onnx_check import EXAMPLE_TIME, example_inputs
from openbrains.engine.format import load_brain
from openbrains.engine.graph import Graph
from openbrains.engine.taskrecord import record_of
from tests.engine.exporting import ROOT, OpaqueUnit, catalog, graph_with
from tests.engine.test_random_graphs import draw

LIMIT = 1e-5
BUNDLE = 10  # random graphs per trace: the exporter's fixed cost is most of a small brain's
# every FREE_EVERY-th bundle is traced with free batch and time instead of at batch 1 and one
# length: three times as long (at two in four, the 200 graphs took a quarter of the suite's CPU)
FREE_EVERY = 4
# random graph 168 cannot be traced with free time (the fallback's own test, below): its
# bundle's free trace would fail and be redone at fixed shapes, so that bundle is traced at
# fixed shapes at once and the next one with free shapes in its place
ONE_LENGTH = 168
SAMPLES = sorted((ROOT / "sample_graphs").glob("*.graph"))


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def stream_difference(sess: ort.InferenceSession, brain, meta: BrainMeta, lengths) -> float:
    """Feed one stream chunk by chunk to onnxruntime (state outputs fed back as inputs,
    zeros first) and to ``brain.step`` (state carried); the largest difference."""
    gen = torch.Generator().manual_seed(5)
    feeds_state = {
        s.input: np.zeros([1 if d == "batch" else d for d in s.shape], np.float32)
        for s in meta.states
    }
    state, worst = None, 0.0
    for length in lengths:
        xs = []
        for p in meta.inputs:
            t = p.time or length
            if p.vocab:
                xs.append(torch.randint(0, p.vocab, (1, t, 1), generator=gen).float())
            else:
                xs.append(torch.randn(1, t, p.channels, generator=gen))
        with torch.no_grad():
            want, state = brain.step(xs, state)
        got = sess.run(None, {p.name: x.numpy() for p, x in zip(meta.inputs, xs)} | feeds_state)
        for p, y in zip(meta.outputs, got):
            worst = max(worst, float(np.abs(y - want[p.signal].numpy()).max()))
        n = len(meta.outputs)
        feeds_state = {s.input: got[n + i] for i, s in enumerate(meta.states)}
    return worst


def chunk_lengths(meta: BrainMeta) -> list[int]:
    free = [p for p in meta.inputs if p.time is None]
    if not free:
        return [1, 1, 1]
    lo, hi = free[0].min_time, free[0].max_time or 64
    return [min(hi, lo + k) for k in (0, 3, 1, 6)]


def check(graph, brain) -> tuple[float, BrainMeta]:
    ex = export_onnx(brain, describe(brain, graph))
    sess = session(ex.model)
    worst = stream_difference(sess, brain, ex.meta, chunk_lengths(ex.meta))
    if ex.batch == "any" and not ex.meta.states:
        xs = example_inputs(brain, 3, chunk_lengths(ex.meta)[1])
        with torch.no_grad():
            ref = brain(*xs)
        refs = ref if isinstance(ref, tuple) else (ref,)
        got = sess.run(None, {p.name: x.numpy() for p, x in zip(ex.meta.inputs, xs)})
        worst = max(worst, *(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, refs)))
    return worst, ex.meta


@pytest.mark.parametrize("name", ["digits", "text"])
def test_sample_graphs_match_pytorch_in_onnxruntime(name: str) -> None:
    graph, brain = load_brain(ROOT / "sample_graphs" / f"{name}.graph")
    worst, meta = check(graph, brain)
    assert worst <= LIMIT, (name, worst)
    assert bool(meta.states) == bool(brain.state_nodes)


@pytest.mark.slow
@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_sample_graph_matches_pytorch_in_onnxruntime(path: Path) -> None:
    graph, brain = load_brain(path)
    worst, _ = check(graph, brain)
    assert worst <= LIMIT, (path.name, worst)


def test_a_recurrent_stream_fed_in_chunks_equals_the_whole_sequence() -> None:
    """The step model carries memory exactly: a causal GRU brain fed 3 + 1 + 5 steps through
    onnxruntime answers what PyTorch answers for all 9 steps at once."""
    graph, brain = load_brain(ROOT / "sample_graphs" / "text.graph")
    ex = export_onnx(brain, describe(brain, graph))
    sess = session(ex.model)
    ids = torch.randint(0, 256, (1, 9, 1), generator=torch.Generator().manual_seed(3)).float()
    with torch.no_grad():
        whole = brain(ids).numpy()
    (st,) = ex.meta.states
    state = np.zeros([1 if d == "batch" else d for d in st.shape], np.float32)
    outs = []
    for a, b in ((0, 3), (3, 4), (4, 9)):
        y, state = sess.run(None, {"text": ids[:, a:b].numpy(), st.input: state})
        outs.append(y)
    assert np.abs(np.concatenate(outs, axis=1) - whole).max() <= LIMIT


@pytest.mark.parametrize("scope", ["global", "window"])
def test_a_causal_running_max_exports(scope: str) -> None:
    """A causal max pool is torch.cummax or a sliding max; ONNX's table lacks cummax, the
    exporter adds it (onnx_ops.py)."""
    g = Graph(causal=True)
    x = g.add_node("input", {"name": "text", "modality": "text", "channels": 1, "time": 0,
                             "vocab": 256})  # fmt: skip
    e = g.add_node("embedding", {"width": 6})
    p = g.add_node("pool", {"kind": "max", "size": 3, "scope": scope})
    y = g.add_node("output", {"name": "next", "modality": "text", "channels": 256, "time": 0})
    for a, b in ((x, e), (e, p), (p, y)):
        g.connect(a.uid, b.uid)
    brain = compile_graph(g, seed=1).eval()
    worst, meta = check(g, brain)
    assert worst <= LIMIT and meta.inputs[0].min_time == 1


def test_random_graphs_of_every_modality_match_pytorch() -> None:
    for i in range(6):  # one per modality, stateful ones among them
        graph, kind = draw(i)
        brain = compile_graph(graph, seed=i).eval()
        worst, _ = check(graph, brain)
        assert worst <= LIMIT, (i, kind, worst)


def test_metadata_says_what_inputs_and_outputs_mean() -> None:
    graph, brain = load_brain(ROOT / "sample_graphs" / "digits.graph")
    classes = [str(k) for k in range(10)]
    graph.tasks = {"digits": record_of("digits", {"kind": "classification", "classes": classes,
                   "metric": "accuracy", "outputs": {"label": {}}}, graph)}  # fmt: skip
    model = onnx.load_from_string(export_onnx(brain, describe(brain, graph, "x.graph")).model)
    props = {p.key: p.value for p in model.metadata_props}
    info = json.loads(props["openbrains"])
    (image,) = info["inputs"]
    assert image["name"] == "image" and image["grid"] == [8, 8] and image["time"] == 64
    assert image["codec"] == graph.codecs["image"]
    (label,) = info["outputs"]
    assert label["classes"] == classes and label["task"] == "digits"
    assert props["classes.digits"] == ",".join(classes)
    assert [i.name for i in model.graph.input] == ["image"]
    assert [o.name for o in model.graph.output] == ["label"]
    text_graph, text_brain = load_brain(ROOT / "sample_graphs" / "text.graph")
    text = json.loads(
        {
            p.key: p.value
            for p in onnx.load_from_string(
                export_onnx(text_brain, describe(text_brain, text_graph)).model
            ).metadata_props
        }["openbrains"]
    )
    (st,) = text["states"]
    assert st["shape"][1] == "batch" and st["initial"] == "zeros" and st["unit"] == "gru"
    assert text["inputs"][0]["vocab"] == 256 and text["inputs"][0]["time"] is None


def test_a_unit_torch_cannot_trace_is_refused_in_one_line() -> None:
    from openbrains.engine.graph import Graph

    with OpaqueUnit():
        g = Graph()
        x = g.add_node("input", {"name": "x", "channels": 3})
        u = g.add_node("opaque_test_unit", {})
        y = g.add_node("output", {"name": "y", "channels": 2})
        g.connect(x.uid, u.uid)
        g.connect(u.uid, y.uid)
        brain = compile_graph(g, seed=0).eval()
        with pytest.raises(ExportError) as err:
            export_onnx(brain, describe(brain, g))
    assert "cannot be traced" in str(err.value) and "\n" not in str(err.value)


# ----- 200 random graphs, traced ten at a time ------------------------------------------
class Bundle(nn.Module):
    """Several step models side by side in one module: one trace for all of them (the
    exporter's fixed cost per trace is most of its time on brains this small)."""

    def __init__(self, models: list[StepModel], arity: list[int]) -> None:
        super().__init__()
        self.models = nn.ModuleList(models)
        self.arity = arity

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out: list[torch.Tensor] = []
        at = 0
        for model, n in zip(self.models, self.arity):
            out.extend(model(*args[at : at + n]))
            at += n
        return tuple(out)


def bundle_differences(
    items: list[tuple[str, Graph, int]], free_shapes: bool = True
) -> dict[str, float]:
    """Trace the brains of ``items`` (label, graph, seed) as one model, feed each a stream of
    three chunks with state carried on both sides, and give each label's largest |Δ|.
    ``free_shapes``: batch and time left free in the trace, as ``export_onnx`` does first;
    without, the trace is of batch 1 and the example's length (a third of the time)."""
    batch = 2 if free_shapes else 1
    brains, models, arity, names_in, names_out, dyn, args = [], [], [], [], [], [], []
    for k, (_label, graph, seed) in enumerate(items):
        brain = compile_graph(graph, seed=seed).eval()
        leaves, specs = _state_leaves(brain)
        models.append(StepModel(brain, leaves, specs).eval())
        brains.append((brain, leaves))
        arity.append(len(brain.input_names) + len(leaves))
        names_in += [f"b{k}_in{j}" for j in range(len(brain.input_names))]
        names_in += [f"b{k}_state{j}" for j in range(len(leaves))]
        names_out += [f"b{k}_out{j}" for j in range(len(brain.output_names))]
        names_out += [f"b{k}_state{j}_out" for j in range(len(leaves))]
        dyn += list(_dynamic_shapes(brain, leaves, free_shapes, dynamic_time=free_shapes))
        args += [*example_inputs(brain, batch), *_zero_states(leaves, batch)]
    # the bundle skips onnxscript's optimiser (a third of its time): this checks what torch
    # traces; export_onnx's optimised models are checked on every sample graph
    names = (names_in, names_out)
    program = _trace(Bundle(models, arity), tuple(args), names, tuple(dyn), optimize=False)
    sess = session(program.model_proto.SerializeToString())
    gen = torch.Generator().manual_seed(len(items))
    states = {k: _zero_states(leaves, 1) for k, (_, leaves) in enumerate(brains)}
    torch_states: dict[int, dict | None] = dict.fromkeys(range(len(brains)))
    worst = {label: 0.0 for label, _, _ in items}
    for _chunk in range(3):
        feed, inputs = {}, []
        for k, (brain, _leaves) in enumerate(brains):
            xs = []
            for name in brain.input_names:
                spec = brain.input_specs[name]
                t = spec.time or EXAMPLE_TIME
                xs.append(
                    torch.randint(0, spec.meta.vocab, (1, t, 1), generator=gen).float()
                    if spec.meta.vocab
                    else torch.randn(1, t, spec.channels, generator=gen)
                )
            inputs.append(xs)
            feed |= {f"b{k}_in{j}": x.numpy() for j, x in enumerate(xs)}
            feed |= {f"b{k}_state{j}": s.numpy() for j, s in enumerate(states[k])}
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed)))
        for k, (brain, leaves) in enumerate(brains):
            with torch.no_grad():
                want, torch_states[k] = brain.step(inputs[k], torch_states[k])
            label = items[k][0]
            for j, name in enumerate(brain.output_names):
                diff = float(np.abs(got[f"b{k}_out{j}"] - want[name].numpy()).max())
                worst[label] = max(worst[label], diff)
            states[k] = [torch.from_numpy(got[f"b{k}_state{j}_out"]) for j in range(len(leaves))]
    return worst


def free_shapes(start: int) -> bool:
    """Whether the bundle of graphs ``start``… is traced with free batch and time."""
    index, holder = start // BUNDLE, ONE_LENGTH // BUNDLE
    if index == holder:
        return False
    return index % FREE_EVERY == 0 or (index == holder + 1 and holder % FREE_EVERY == 0)


@pytest.mark.slow
@pytest.mark.parametrize("start", range(0, 200, BUNDLE))
def test_two_hundred_random_graphs_match_pytorch_over_chunked_streams(start: int) -> None:
    """Every graph's translation is checked; every fourth bundle (50 graphs) also with
    free batch and time, the tracer's slow path (each unit and sample graph is checked
    that way too)."""
    items = [(str(i), draw(i)[0], i) for i in range(start, start + BUNDLE)]
    try:
        worst = bundle_differences(items, free_shapes=free_shapes(start))
    except ExportError:
        try:  # a graph whose time arithmetic needs one chunk length (the test below)
            worst = bundle_differences(items, free_shapes=False)
        except ExportError:  # each alone, as a user would export it
            worst = {}
            for label, graph, seed in items:
                brain = compile_graph(graph, seed=seed).eval()
                worst[label] = export_onnx(brain, describe(brain, graph)).max_error
    for label, diff in worst.items():
        assert diff <= LIMIT, (label, diff)


def test_a_graph_traced_at_one_length_records_it_and_matches() -> None:
    """Random graph ``ONE_LENGTH``: a text input whose time arithmetic torch.export cannot
    express for every chunk length. The free trace fails; ``export_onnx`` traces the
    example's length and the model's metadata says so."""
    graph = draw(ONE_LENGTH)[0]
    brain = compile_graph(graph, seed=ONE_LENGTH).eval()
    assert describe(brain, graph).inputs[0].time is None  # any length in PyTorch
    with pytest.raises(ExportError, match="cannot be traced"):
        bundle_differences([(str(ONE_LENGTH), graph, ONE_LENGTH)])
    exported = export_onnx(brain, describe(brain, graph))
    text = exported.meta.inputs[0]
    assert (text.time, text.min_time, text.max_time) == (EXAMPLE_TIME,) * 3
    assert exported.max_error <= LIMIT


@pytest.mark.slow
def test_each_unit_of_the_catalog_exports_to_onnx() -> None:
    """Whatever the unit (new ones included), a brain holding it traces to ONNX and
    matches PyTorch over a chunked stream."""
    items = [(name, *graph_with(name)) for name in catalog()]
    try:
        worst = bundle_differences(items)
    except ExportError:  # find the unit that stops the trace, and name it
        for name, graph, seed in items:
            try:
                export_onnx(
                    compile_graph(graph, seed=seed).eval(),
                    describe(compile_graph(graph, seed=seed), graph),
                )
            except ExportError as exc:
                pytest.fail(f"unit {name!r} does not export to ONNX: {exc}")
        raise
    for label, diff in worst.items():
        assert diff <= LIMIT, (label, diff)
