"""Brains exported to C99, compiled with the system compiler (-std=c99 -Wall -Werror
-pedantic), give PyTorch's numbers within 1e-4; int8 keeps a trained digits champion within
one point of accuracy; the flash and RAM figures are what the compiler lays out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.c import emit_c, harness, program, refusal
from openbrains.engine.exporters.c.lower import UNITS
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import describe
from openbrains.engine.format import load_brain
from openbrains.engine.graph import Graph
from openbrains.engine.units import REGISTRY
from tests.engine.exporting import (
    ROOT,
    OpaqueUnit,
    c_vs_torch,
    catalog,
    graph_with,
    train_digits_champion,
    write_c,
)
from tests.engine.test_random_graphs import draw

LIMIT = 1e-4
SAMPLES = sorted((ROOT / "sample_graphs").glob("*.graph"))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_every_sample_graph_in_c_matches_pytorch(path: Path, tmp_path: Path) -> None:
    graph, brain = load_brain(path)
    assert c_vs_torch(graph, brain, tmp_path) <= LIMIT


def c_ready_draws(start: int, count: int) -> list[tuple[int, object, str, object]]:
    """The first ``count`` random graphs from draw ``start`` on that have a C form; those
    without (a research unit has none yet) must be refused naming the node and unit."""
    found, i = [], start
    while len(found) < count:
        assert i < start + 20 * count, "too few random graphs have a C form"
        graph, kind = draw(i)
        brain = compile_graph(graph, seed=i)
        why = refusal(brain)
        if why is None:
            found.append((i, graph, kind, brain))
        else:
            assert re.search(r"node '\w+' \(unit '\w+'\) has no C form", why), why
        i += 1
    return found


def test_random_graphs_in_c_match_pytorch(tmp_path: Path) -> None:
    for i, graph, kind, brain in c_ready_draws(0, 12):  # streams, grids, several inputs/outputs
        assert c_vs_torch(graph, brain, tmp_path / str(i)) <= LIMIT, (i, kind)


@pytest.mark.slow
def test_sixty_more_random_graphs_in_c_match_pytorch(tmp_path: Path) -> None:
    seen: set[str] = set()
    for i, graph, kind, brain in c_ready_draws(1000, 60):
        assert c_vs_torch(graph, brain, tmp_path / str(i)) <= LIMIT, (i, kind)
        seen |= {n.unit for n in graph.nodes.values()}
    assert {"gru", "lstm", "reservoir", "attention", "conv2d", "embedding", "gate"} <= seen


@pytest.mark.parametrize("name", catalog())
def test_each_unit_of_the_catalog_runs_in_c_or_is_refused_by_name(
    name: str, tmp_path: Path
) -> None:
    """Units with a C form match PyTorch; any other (a new or third-party unit) is refused
    with a line naming its node and unit, never a wrong answer."""
    graph, seed = graph_with(name)
    brain = compile_graph(graph, seed=seed)
    if name in UNITS and REGISTRY.get(name).package == "openbrains":
        assert c_vs_torch(graph, brain, tmp_path) <= LIMIT
        return
    why = refusal(brain)
    assert why is not None and f"unit {name!r}" in why
    node = next(n.uid for n in graph.nodes.values() if n.unit == name)
    assert node in why


def test_a_unit_without_a_c_form_is_refused_naming_node_and_unit() -> None:
    with OpaqueUnit():
        g = Graph()
        x = g.add_node("input", {"name": "x", "channels": 3})
        u = g.add_node("opaque_test_unit", {})
        y = g.add_node("output", {"name": "y", "channels": 2})
        g.connect(x.uid, u.uid)
        g.connect(u.uid, y.uid)
        brain = compile_graph(g, seed=0)
        why = refusal(brain)
        with pytest.raises(ExportError) as err:
            emit_c(brain, describe(brain, g))
    assert why is not None and u.uid in why and "opaque_test_unit" in why
    assert str(err.value) == why


def test_the_c_files_need_no_heap_and_nothing_beyond_math_h(tmp_path: Path) -> None:
    graph, brain = load_brain(ROOT / "sample_graphs" / "text.graph")
    files = emit_c(brain, describe(brain, graph)).files
    source = files["brain.c"] + files["brain.h"]
    assert set(re.findall(r"#include\s+[<\"]([^>\"]+)", source)) == {"math.h", "brain.h"}
    for word in ("malloc", "calloc", "realloc", "free(", "printf", "stdio"):
        assert word not in source
    assert re.search(r"static const float \w+\[\d+\]", files["brain.c"])


def _sections(obj: Path) -> dict[str, int]:
    out = subprocess.run(["size", "-A", str(obj)], capture_output=True, text=True, check=True)
    sizes: dict[str, int] = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


@pytest.mark.parametrize("name", ["digits", "text", "spoken_digits"])
def test_flash_and_ram_are_what_the_compiler_lays_out(name: str, tmp_path: Path) -> None:
    """RAM (arena + state) is exactly the object's zeroed static data; the constant arrays
    are in read-only data; the code estimate covers what gcc -Os makes on x86-64."""
    graph, brain = load_brain(ROOT / "sample_graphs" / f"{name}.graph")
    for int8 in (False, True):
        xs = [x[:64] for x in brain.example_inputs(64, 8)] if int8 else None
        ex = emit_c(brain, describe(brain, graph), int8=int8, calibration=xs)
        folder = write_c(ex, tmp_path / f"{name}{int8}")
        subprocess.run(
            [harness.compiler(), *harness.CFLAGS, "-Os", "-c", "brain.c", "-o", "brain.o"],
            cwd=folder,
            check=True,
        )
        s = _sections(folder / "brain.o")
        fp = ex.footprint
        assert s.get(".bss", 0) == fp.arena + fp.state
        rodata = sum(v for k, v in s.items() if k.startswith(".rodata"))
        assert fp.weights <= rodata <= fp.weights + 512
        assert s[".text"] <= fp.code
        specs = [*brain.input_specs.values(), *brain.output_specs.values()]
        assert fp.io == 4 * sum(p.channels * (p.time or 1) for p in specs)


def test_a_conv_then_pool_never_holds_the_full_map() -> None:
    """The digits seed's 8×8×16 feature map is pooled as it is computed: its RAM is the input,
    the pooled map and what follows, not 4 KB of full-size map."""
    _graph, brain = load_brain(ROOT / "sample_graphs" / "digits.graph")
    prog, _ = program(brain)
    conv = next(op for op in prog.ops if op.kind == "conv")
    assert "pool" in conv.attrs
    assert prog.arena * 4 < 8 * 8 * 16 * 4


@pytest.mark.slow
def test_int8_keeps_a_trained_digits_champion_within_one_point(tmp_path: Path) -> None:
    from openbrains.engine.exporters.calibration import calibration
    from openbrains.engine.tasks.registry import load_task

    champion = train_digits_champion(tmp_path / "run", 3)
    graph, brain = load_brain(champion)
    cal = calibration(brain, graph, None)
    ex = emit_c(brain, describe(brain, graph), int8=True, calibration=cal.inputs)
    assert ex.quant is not None and ex.quant.matrices >= 1
    meta = describe(brain, graph)
    exe = harness.build(write_c(ex, tmp_path / "c"), meta)
    test = load_task("digits").test
    images = test.inputs["image"]
    got = harness.run(exe, [[x.numpy()] for x in images], [10], reset=True)
    c_pred = np.array([int(np.argmax(g[0])) for g in got])
    with torch.no_grad():
        torch_pred = brain(images).reshape(len(images), -1).argmax(-1).numpy()
    target = test.target.numpy()
    c_acc, torch_acc = float((c_pred == target).mean()), float((torch_pred == target).mean())
    assert torch_acc > 0.8, torch_acc  # a real champion, not noise
    assert abs(torch_acc - c_acc) <= 0.01, (torch_acc, c_acc)


def test_the_harness_times_single_calls_and_leaves_the_answer_alone(tmp_path: Path) -> None:
    """What the bench's C latency rests on: a median of single calls, in nanoseconds, from
    the same executable that answers the parity checks."""
    graph, brain = load_brain(ROOT / "sample_graphs" / "digits.graph")
    meta = describe(brain, graph)
    exe = harness.build(write_c(emit_c(brain, meta), tmp_path), meta)
    x = torch.rand(1, 64, 1)
    ns = harness.time_call(exe, [x[0].numpy()], 200, reset=True)
    assert 0 < ns < 1e8
    (got,) = harness.run(exe, [[x[0].numpy()]], [10], reset=True)
    with torch.no_grad():
        want = brain(x)[0].numpy().reshape(-1)
    assert np.abs(got[0] - want).max() <= LIMIT
