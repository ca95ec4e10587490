"""`openbrains report RUN_DIR`: the discovery report from a real short run (a real
subprocess, a real archive), its parts checked against what they summarise, and one clear
line with exit 2 for a folder that is no run, a damaged archive or a run with no scores."""

from __future__ import annotations

import base64
import itertools
import re
import sqlite3
from pathlib import Path

import pytest

from openbrains.engine.graph import Graph
from openbrains.engine.report import findings
from openbrains.engine.report.ablation import ablate, task_for
from openbrains.engine.report.gather import ReportError, gather
from openbrains.engine.store import Archive, Record
from openbrains.engine.tasks.registry import load_task
from tests.cli_kit import ob, one_line_error


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("report") / "xor"
    out = ob(
        "run", "--task", "xor", "--run-dir", str(run_dir), "--workers", "0",
        "--individuals", "14", "--population", "6", "--quiet",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return run_dir


def test_report_of_a_real_run_stands_alone(xor_run: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    out = ob("report", str(xor_run), "-o", str(page))
    assert out.returncode == 0, out.stderr
    html = page.read_text()
    for heading in (
        "Over-represented among the best tenth",
        "The champion's ablation",
        "The champion's lineage",
        "Plots",
    ):
        assert heading in html, heading
    # standalone: three embedded SVG figures, nothing fetched, no script
    images = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(images) == 3
    for data in images:
        assert base64.b64decode(data).startswith(b"<svg")
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html and "<script" not in html
    # the champion named is the archive's best
    run = gather(xor_run)
    assert f"Champion #{run.champion.id}" in html


def test_the_ablation_knocks_out_every_hidden_node_of_the_champion(xor_run: Path) -> None:
    run = gather(xor_run)
    task = task_for(run.task, None)
    graph = run.graphs[run.champion.id]
    result = ablate(graph, run.champion_weights, task, higher_is_better=True)
    hidden = {u for u, n in graph.nodes.items() if n.unit not in ("input", "output")}
    built = {k.uid for k in result.knockouts}
    assert built <= hidden and built  # every node with a module (merges may have none)
    # the intact champion scores what the run measured on the same validation split
    assert abs(result.intact - (run.champion.val_metric or 0.0)) < 1e-6
    for k in result.knockouts:
        assert k.how in ("identity", "zero")
        assert abs(k.cost - (result.intact - k.metric)) < 1e-12
    assert [k.cost for k in result.knockouts] == sorted(
        (k.cost for k in result.knockouts), reverse=True
    )


def test_a_task_that_is_code_or_reads_a_path_is_not_loaded_from_the_run_folder() -> None:
    with pytest.raises(Exception, match="not a built-in dataset task"):
        task_for({"name": "evil.module:Game"}, None)
    with pytest.raises(Exception, match="give --data"):
        task_for({"name": "csv", "data": "/etc/passwd"}, None)


def _rec(i: int, fitness: float, parents: list[int], metric: float, mutation: str = "") -> Record:
    return Record(
        i, "mutation" if parents else "template", parents, "{}", "s", "done",
        fitness=fitness, val_metric=metric, mutation=mutation, detail=f"step {i}",
    )  # fmt: skip


def _chain(*units: str) -> Graph:
    nodes = [{"uid": "in", "unit": "input", "params": {"name": "x"}}]
    nodes += [{"uid": f"h{i}", "unit": u, "params": {}} for i, u in enumerate(units)]
    nodes.append({"uid": "out", "unit": "output", "params": {"name": "y"}})
    ids = [n["uid"] for n in nodes]
    edges = [
        {"uid": f"e{i}", "src": a, "dst": b} for i, (a, b) in enumerate(itertools.pairwise(ids))
    ]
    return Graph.from_dict({"nodes": nodes, "edges": edges})


def test_a_planted_unit_of_the_best_tenth_is_found_with_its_counts() -> None:
    records, graphs = [], {}
    for i in range(1, 41):  # 40 individuals: the best 4 all use kan, 2 of the other 36 do
        best = i > 36
        units = ("dense", "kan") if best or i in (3, 5) else ("dense", "gru")
        records.append(_rec(i, 0.9 if best else 0.5, [], 0.0))
        graphs[i] = _chain(*units)
    found = findings.over_represented(records, graphs)
    top = found[0]
    assert (top.kind, top.feature) in {("unit", "kan"), ("motif", "dense → kan")}
    kan = next(f for f in found if (f.kind, f.feature) == ("unit", "kan"))
    assert (kan.top_count, kan.top_total, kan.all_count, kan.all_total) == (4, 4, 6, 40)
    assert kan.effect > 1.0  # share 1.0 against 0.15: a large effect
    assert all(f.feature != "gru" for f in found)  # under-represented: not listed


def test_lineage_follows_first_parents_and_gives_each_jump() -> None:
    recs = {
        1: _rec(1, 0.1, [], 0.50),
        2: _rec(2, 0.2, [1], 0.70, "add_unit"),
        3: _rec(3, 0.3, [2, 9], 0.65, "crossover"),
        4: _rec(4, 0.4, [3], 0.90, "widen"),
    }
    steps = findings.lineage(recs[4], recs)
    assert [s.id for s in steps] == [1, 2, 3, 4]
    assert [s.mutation for s in steps] == ["", "add_unit", "crossover", "widen"]
    jumps = [s.jump for s in steps]
    assert jumps[0] is None
    assert [round(j, 6) for j in jumps[1:]] == [0.2, -0.05, 0.25]


def test_bad_run_folders_get_one_clear_line(tmp_path: Path) -> None:
    one_line_error(ob("report", str(tmp_path / "missing")), "is not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(ob("report", str(empty)), "is not a run folder")
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "run.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    one_line_error(ob("report", str(corrupt)), "not a readable run archive")
    unscored = tmp_path / "unscored"
    Archive(unscored).close()  # a run folder whose run never scored anyone
    with pytest.raises(ReportError, match="no scored individuals"):
        gather(unscored)
    one_line_error(ob("report", str(unscored)), "no scored individuals")
    assert sqlite3.connect(unscored / "run.sqlite").execute("SELECT 1").fetchone() == (1,)


def test_the_built_in_task_the_report_reloads_is_the_runs(xor_run: Path) -> None:
    run = gather(xor_run)
    assert run.task["name"] == "xor"
    assert task_for(run.task, None).metric == load_task("xor").metric
