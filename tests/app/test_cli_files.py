"""`openbrains` file commands through the real console script, in real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from openbrains.engine import __version__
from openbrains.engine.catalog import catalog_markdown
from openbrains.engine.samples import write_samples
from openbrains.engine.units import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "format"
OPENBRAINS = [sys.executable, "-m", "openbrains"]


def run(
    *args: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*OPENBRAINS, *args], capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=120
    )


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"openbrains {__version__}"


def test_units_lists_the_whole_catalog() -> None:
    out = run("units")
    assert out.returncode == 0
    listed = {line.split()[0] for line in out.stdout.splitlines()}
    assert listed == set(REGISTRY.names())


def test_docs_units_md_is_current() -> None:
    doc = (ROOT / "docs" / "units.md").read_text()
    assert doc == catalog_markdown(), (
        "docs/units.md is stale: run `openbrains units --markdown > docs/units.md`"
    )


def test_sample_graphs_are_current(tmp_path: Path) -> None:
    for path in write_samples(tmp_path):
        committed = ROOT / "sample_graphs" / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `python -m openbrains.engine.samples sample_graphs`"
        )


def test_inspect_describes_a_sample() -> None:
    out = run("inspect", "sample_graphs/digits.graph")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for expected in (
        "kind: project",
        "format version: 2",
        "input  image",
        "output label",
        "parameters: 4,538",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not a zip"),
        (b"PK\x03\x04 definitely not a zip", "zip"),
        (b"hello world", "not a zip"),
    ],
)
def test_inspect_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, match: str
) -> None:
    bad = tmp_path / "bad.graph"
    bad.write_bytes(content)
    out = run("inspect", str(bad))
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and match in out.stderr.lower(), out.stderr


def test_inspect_missing_file(tmp_path: Path) -> None:
    out = run("inspect", str(tmp_path / "nope.graph"))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1


def test_convert_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a.graph", tmp_path / "b.graph"
    assert run("convert", "sample_graphs/text.graph", str(a)).returncode == 0
    assert run("convert", str(a), str(b)).returncode == 0
    assert a.read_bytes() == b.read_bytes() == (ROOT / "sample_graphs" / "text.graph").read_bytes()


def test_convert_migrates_v0(tmp_path: Path) -> None:
    out = run("convert", str(FIXTURES / "tiny_v0.graph"), str(tmp_path / "new.graph"))
    assert out.returncode == 0 and "migrated from format version 0" in out.stdout
    info = run("inspect", str(tmp_path / "new.graph"))
    assert "format version: 2" in info.stdout


PLUGIN = """
from torch import nn
from openbrains.engine.units import Float, Unit

class Scale(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

SCALE = Unit(name="scale", version=1, category="activation", doc="Multiplies by a constant.",
             params=(Float("factor", 2.0, 0.0, 10.0, "the constant"),),
             build=lambda ctx: Scale(ctx.params["factor"]), package="openbrains-scale")

def register(registry):
    registry.register(SCALE)
"""


def make_plugin(root: Path) -> None:
    (root / "openbrains_scale.py").write_text(PLUGIN)
    dist = root / "openbrains_scale-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: openbrains-scale\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[openbrains.units]\nscale = openbrains_scale:register\n"
    )


def graph_with_scale(path: Path, env: dict) -> None:
    script = textwrap.dedent(
        f"""
        from openbrains.engine.graph import Graph
        from openbrains.engine.format import save_brain
        g = Graph()
        i = g.add_node("input", {{"name": "x", "channels": 3}})
        s = g.add_node("scale", {{"factor": 3.0}})
        o = g.add_node("output", {{"name": "y", "channels": 3}})
        g.connect(i.uid, s.uid); g.connect(s.uid, o.uid)
        save_brain({str(path)!r}, g)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT, timeout=120)


def test_a_separate_package_adds_units_through_the_entry_point(tmp_path: Path) -> None:
    make_plugin(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = run("units", env=env)
    assert out.returncode == 0 and any(
        line.startswith("scale ") for line in out.stdout.splitlines()
    )
    graph = tmp_path / "scaled.graph"
    graph_with_scale(graph, env)
    with_plugin = run("inspect", str(graph), env=env)
    assert with_plugin.returncode == 0 and "parameters: 0" in with_plugin.stdout
    # without the plugin the file still loads as data and says what is missing
    without = run("inspect", str(graph))
    assert without.returncode == 0
    assert "missing unit: scale (install package 'openbrains-scale')" in without.stdout
