"""`openbrains run --seed-from FILE.graph --keep …` through real subprocesses: a digits
brain continued on xor keeps its old head bit-identical (protect) or within 2 % (share,
through worker processes), `eval` prints every task's score, `status` the old task's, the
file's lineage names the seed; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import torch

from openbrains.engine.format import GraphFile, load, save
from openbrains.engine.format.identity import content_id
from openbrains.engine.multitask import compile_tasks, probe_inputs
from tests.cli_kit import ob, one_line_error
from tests.continual_kit import SEED


def _continue(tmp_path: Path, keep: str, workers: str = "0") -> tuple[Path, Path]:
    run_dir, out = tmp_path / f"xor-{keep}", tmp_path / f"xor-{keep}.graph"
    done = ob(
        "run", "--task", "xor", "--seed-from", str(SEED), "--keep", keep, "--run-dir",
        str(run_dir), "--workers", workers, "--individuals", "5", "--population", "2",
        "--budget-steps", "60", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = ob("export", str(run_dir), "--best", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    return run_dir, out


def _digits_outputs(doc: GraphFile, probes: dict) -> torch.Tensor:  # type: ignore[type-arg]
    brains = compile_tasks(doc.graph, ["digits"])
    brains.load_weights(doc.weights, strict=False)
    brains.eval()
    with torch.no_grad():
        inputs = probe_inputs(probes, "digits", doc.graph.tasks["digits"].probe)
        return brains.run("digits", inputs)["label"]


def test_protect_keeps_the_old_head_bit_identical_through_a_run(tmp_path: Path) -> None:
    run_dir, out = _continue(tmp_path, "protect")  # a population of 2: children are bred
    seed, child = load(SEED), load(out)
    st = json.loads(ob("status", str(run_dir), "--json").stdout)
    assert st["best"]["tasks"]["digits"]["probe"] == 1.0
    with sqlite3.connect(f"file:{run_dir / 'run.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT origin, status FROM individuals").fetchall()
    assert len(rows) == 5 and {s for _o, s in rows} == {"done"}, rows
    assert {"mutation", "crossover"} & {o for o, _s in rows}, rows
    assert list(child.graph.tasks) == ["digits", "xor"]
    for key, value in seed.weights.items():
        assert torch.equal(child.weights[key], value), key
    assert torch.equal(_digits_outputs(child, seed.probes), _digits_outputs(seed, seed.probes))
    # the file carries both tasks' probes, and names the seed as the brain it continued
    assert {"digits/in/image", "xor/in/x"} <= set(child.probes)
    assert {
        "id": content_id(seed.graph, seed.weights),
        "relation": "continue",
    } in child.graph.lineage["parents"]
    lines = ob("eval", str(out)).stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["digits", "xor"]
    assert "probe agreement 1.0000" in lines[0] and "accuracy=" in lines[0]
    scores = json.loads(ob("eval", str(out), "--json").stdout)["tasks"]
    saved = seed.graph.tasks["digits"].score["test"]
    assert scores[0]["test"] == pytest.approx(saved) and scores[1]["test"] == 1.0
    one = ob("eval", str(out), "--task", "digits").stdout.strip().splitlines()
    assert len(one) == 1 and one[0].startswith("digits:")
    status = ob("status", str(run_dir))
    assert "old task digits (protect): probe 1.0000" in status.stdout
    assert "continue" in ob("lineage", str(out)).stdout


@pytest.mark.slow
def test_share_keeps_the_old_task_within_two_percent_through_workers(tmp_path: Path) -> None:
    _run_dir, out = _continue(tmp_path, "share", workers="1")
    seed, child = load(SEED), load(out)
    assert any(not torch.equal(child.weights[k], v) for k, v in seed.weights.items())
    scores = {s["task"]: s for s in json.loads(ob("eval", str(out), "--json").stdout)["tasks"]}
    before = seed.graph.tasks["digits"].score["test"]
    assert scores["digits"]["test"] >= 0.98 * before
    assert scores["digits"]["probe"] >= 0.98 and scores["xor"]["test"] == 1.0


def test_bad_continuations_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    bare = tmp_path / "bare.graph"
    doc = load(SEED)
    doc.graph.tasks = {}
    save(bare, GraphFile(graph=doc.graph, weights=doc.weights))
    other = tmp_path / "other.graph"
    doc = load(SEED)
    doc.graph.tasks["digits"].settings = {"validation": 0.5, "seed": 7}
    save(other, doc)
    for args, message in (
        (("--task", "xor", "--seed-from", str(bare)), "records no task"),
        (("--task", "digits", "--seed-from", str(other)), "trained on other data"),
        (("--task", "xor", "--seed-from", str(tmp_path / "none.graph")), "none.graph"),
        (("--task", "xor", "--keep", "share"), "--keep goes with --seed-from"),
        (("--seed-from", str(SEED)), "give --task NAME"),
    ):
        one_line_error(ob("run", *args, "--run-dir", str(run_dir), "--workers", "0"), message)
        assert not run_dir.exists()
    one_line_error(ob("eval", str(SEED), "--task", "nope"), "unknown task 'nope'")
