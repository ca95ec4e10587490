"""`openbrains export` through real subprocesses: every format from a run folder or a file,
the format read from OUT, flash and RAM printed, and one clear line with exit status 2 (and
nothing written) for an existing output, a unit with no exporter, or an int8 build that
loses more than --max-drop."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from openbrains.app.cli import main
from openbrains.engine.compile import compile_graph
from openbrains.engine.exporters.c import harness
from openbrains.engine.exporters.dispatch import format_for
from openbrains.engine.exporters.meta import describe
from openbrains.engine.format import GraphFile, load_brain, save
from openbrains.engine.graph import Graph
from openbrains.engine.taskrecord import record_of
from tests.cli_kit import ROOT, ob, one_line_error
from tests.engine.exporting import OpaqueUnit

XOR_RUN = ROOT / "tests" / "fixtures" / "runs" / "xor_v1"


def nothing_left(folder: Path, name: str) -> None:
    assert not (folder / name).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(f".{name}.")]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("x.graph", "graph"),
        ("x.onnx", "onnx"),
        ("x.c", "c"),
        ("x.web", "web"),
        ("c", "c"),
        ("digits_c", "c"),
        ("web", "web"),
        ("my-web", "web"),
        ("champion", "graph"),
    ],
)
def test_the_format_follows_the_output_name(name: str, fmt: str) -> None:
    assert format_for(Path("out") / name, None) == fmt
    assert format_for(Path("out") / name, "onnx") == "onnx"


def test_a_run_champion_exports_to_every_format(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(XOR_RUN, run)
    out = ob("export", str(run), "--best", "-o", str(tmp_path / "xor.graph"))
    assert out.returncode == 0, out.stderr
    graph, brain = load_brain(tmp_path / "xor.graph")
    x = torch.tensor([[[0.0, 1.0]], [[1.0, 1.0]]])
    with torch.no_grad():
        want = brain(x).numpy()

    out = ob("export", str(run), "--best", "-o", str(tmp_path / "xor.onnx"))
    assert out.returncode == 0 and "onnxruntime matches PyTorch" in out.stdout, out.stderr
    sess = ort.InferenceSession(str(tmp_path / "xor.onnx"), providers=["CPUExecutionProvider"])
    assert np.abs(sess.run(None, {"x": x.numpy()})[0] - want).max() <= 1e-5

    out = ob("export", str(run), "--best", "-o", str(tmp_path / "xor_c"))
    assert out.returncode == 0, out.stderr
    assert "flash" in out.stdout and "RAM" in out.stdout
    assert sorted(p.name for p in (tmp_path / "xor_c").iterdir()) == ["brain.c", "brain.h"]
    exe = harness.build(tmp_path / "xor_c", describe(brain, graph))
    got = harness.run(exe, [[v.numpy()] for v in x], [2], reset=True)
    assert np.abs(np.stack([g[0] for g in got]) - want.reshape(2, -1)).max() <= 1e-4

    out = ob("export", str(run), "--id", "1", "--format", "onnx", "-o", str(tmp_path / "one"))
    assert out.returncode == 0 and (tmp_path / "one").is_file(), out.stderr


def test_an_existing_output_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "brain_c"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    one_line_error(
        ob("export", str(ROOT / "sample_graphs" / "xor.graph"), "-o", str(target)),
        "already exists",
    )
    assert [p.name for p in target.iterdir()] == ["mine.txt"]


def test_a_run_folder_needs_best_or_id_and_a_file_takes_neither(tmp_path: Path) -> None:
    one_line_error(ob("export", str(XOR_RUN), "-o", str(tmp_path / "a.onnx")), "--best or --id")
    one_line_error(
        ob(
            "export",
            str(ROOT / "sample_graphs" / "xor.graph"),
            "--best",
            "-o",
            str(tmp_path / "b.onnx"),
        ),
        "not one",
    )
    one_line_error(
        ob(
            "export",
            str(ROOT / "sample_graphs" / "xor.graph"),
            "-o",
            str(tmp_path / "c.onnx"),
            "--quantize",
            "int8",
        ),
        "applies to the C export",
    )
    one_line_error(
        ob(
            "export",
            str(ROOT / "sample_graphs" / "xor.graph"),
            "-o",
            str(tmp_path / "d_c"),
            "--quantize",
            "int8",
        ),
        "--task",
    )
    nothing_left(tmp_path, "d_c")


def _outlier_brain(path: Path) -> None:
    """A linear digit reader (flatten → output) fitted for real, then given a huge weight on
    the corner pixel, which is 0 in every digit: the float brain is unchanged, but each row's
    int8 scale follows that weight and rounds every other weight of the row to zero."""
    from openbrains.engine.tasks.registry import load_task

    task = load_task("digits")
    g = Graph()
    x = g.add_node("input", {"name": "image", "modality": "image", "channels": 1, "time": 64,
                             "grid_h": 8, "grid_w": 8})  # fmt: skip
    f = g.add_node("flatten", {})
    y = g.add_node("output", {"name": "label", "channels": 10, "time": 1})
    g.connect(x.uid, f.uid)
    g.connect(f.uid, y.uid)
    g.tasks = {task.name: record_of(task.name, task.describe(), g)}
    brain = compile_graph(g, seed=0)
    images, target = task.train.inputs["image"], task.train.target
    assert float(images[:, 0].abs().max()) == 0.0
    opt = torch.optim.Adam(brain.parameters(), lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(brain(images).reshape(len(images), -1), target)
        loss.backward()
        opt.step()
    weights = brain.weights()
    key = next(k for k in weights if k.endswith("adapter.weight"))
    weights[key][:, 0] = 1e4
    save(path, GraphFile(kind="graph", graph=g, weights=weights))


def test_int8_that_loses_more_than_max_drop_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "outlier.graph"
    _outlier_brain(src)
    out = ob(
        "export", str(src), "-o", str(tmp_path / "f_c"), "--quantize", "int8", "--max-drop", "0.05"
    )
    one_line_error(out, "more than --max-drop 0.05")
    nothing_left(tmp_path, "f_c")
    fine = ob("export", str(src), "-o", str(tmp_path / "g_c"), "--quantize", "int8")
    assert fine.returncode == 0 and "int8: accuracy" in fine.stdout, fine.stderr
    floats = ob("export", str(src), "-o", str(tmp_path / "h_c"))
    assert floats.returncode == 0 and "float32 weights" in floats.stdout


def test_a_unit_without_an_exporter_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with OpaqueUnit():
        g = Graph()
        x = g.add_node("input", {"name": "x", "channels": 3})
        u = g.add_node("opaque_test_unit", {})
        y = g.add_node("output", {"name": "y", "channels": 2})
        g.connect(x.uid, u.uid)
        g.connect(u.uid, y.uid)
        brain = compile_graph(g, seed=0)
        save(tmp_path / "o.graph", GraphFile(kind="graph", graph=g, weights=brain.weights()))
        capsys.readouterr()
        for name in ("o_c", "o.onnx", "o_web"):
            assert main(["export", str(tmp_path / "o.graph"), "-o", str(tmp_path / name)]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and ("opaque_test_unit" in err[0] or "cannot be traced" in err[0])
            nothing_left(tmp_path, name)
        assert main(["export", str(tmp_path / "o.graph"), "-o", str(tmp_path / "o_c")]) == 2
        assert u.uid in capsys.readouterr().err


def test_onnx_metadata_is_readable_without_openbrains(tmp_path: Path) -> None:
    out = ob(
        "export",
        str(ROOT / "sample_graphs" / "spoken_digits.graph"),
        "-o",
        str(tmp_path / "s.onnx"),
    )
    assert out.returncode == 0, out.stderr
    code = (
        "import json, sys, onnxruntime as ort; s = ort.InferenceSession(sys.argv[1]); "
        "m = json.loads(s.get_modelmeta().custom_metadata_map['openbrains']); "
        "print(json.dumps([m['inputs'][0]['codec']['kind'], m['inputs'][0]['rate'], "
        "[i.name for i in s.get_inputs()]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s.onnx")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == ["audio", 100.0, ["audio"]]


def test_the_onnxruntime_snippets_in_the_docs_run(tmp_path: Path) -> None:
    """docs/export.md's Python runs as written against exported files."""
    import re

    for name in ("digits", "text"):
        out = ob(
            "export",
            str(ROOT / "sample_graphs" / f"{name}.graph"),
            "-o",
            str(tmp_path / f"{name}.onnx"),
        )
        assert out.returncode == 0, out.stderr
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "export.md").read_text(), re.S)
    assert len(blocks) == 2 and len(blocks[0].strip().splitlines()) <= 10
    first = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=tmp_path, capture_output=True, text=True
    )
    assert first.returncode == 0 and first.stdout.strip() in [str(k) for k in range(10)], (
        first.stderr
    )
    second = subprocess.run(
        [sys.executable, "-c", blocks[1]], cwd=tmp_path, capture_output=True, text=True
    )
    assert second.returncode == 0 and len(second.stdout.strip().splitlines()) == 2, second.stderr
