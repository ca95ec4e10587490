"""Every bad value a user or a stranger's file can give is one line and exit status 2:
numbers on the command line, a run folder that is a file, a project whose task is not an
object, ill-typed params, a run archive with a strange schema version, NaN weights and
genes, seed weights of the wrong shape. Most go through ``openbrains.app.cli.main`` in
this process (the same code as the command, without paying a torch import per case); the
runs that train go through real subprocesses."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import safetensors.torch
import torch

from openbrains.app.cli import main
from tests.security import hostile


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit code and stderr of ``openbrains ARGS`` run in this process."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse exits by itself
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


def one_line(code: int, err: str, *words: str) -> None:
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--population", "0"], ["--population", "at least 1", "got 0"]),
        (["--population", "-3"], ["--population", "got -3"]),
        (["--population", "many"], ["--population", "expected a whole number"]),
        (["--max-params", "-1"], ["--max-params", "at least 0"]),
        (["--max-params", "99999999999"], ["--max-params", "at most 20,000,000"]),
        (["--minutes", "-1"], ["--minutes", "more than 0"]),
        (["--minutes", "0"], ["--minutes", "more than 0"]),
        (["--minutes", "nan"], ["--minutes", "finite"]),
        (["--minutes", "inf"], ["--minutes", "finite"]),
        (["--workers", "-1"], ["--workers", "at least 0"]),
        (["--cpu-cap", "-5"], ["--cpu-cap", "at least 0"]),
        (["--cpu-cap", "nan"], ["--cpu-cap", "finite"]),
        (["--tradeoff", "nan"], ["--tradeoff", "finite"]),
        (["--rating-weight", "2"], ["--rating-weight", "at most 1"]),
        (["--budget-steps", "-5"], ["--budget-steps", "at least 0"]),
        (["--individuals", "0"], ["--individuals", "at least 1"]),
        (["--until", "accuracy>=nan"], ["--until"]),
    ],
)
def test_bad_run_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], words: list[str]
) -> None:
    code, err = cli(capsys, "run", "--task", "xor", "--run-dir", str(tmp_path / "r"), *args)
    one_line(code, err, "openbrains run:", *words)
    assert not (tmp_path / "r").exists()  # refused before anything was made


XOR = str(hostile.SAMPLES / "xor.graph")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sample", XOR, "--temperature", "nan"], ["--temperature", "finite"]),
        (["sample", XOR, "--count", "-1"], ["--count", "at least 1"]),
        (["sample", XOR, "--length", "-5"], ["--length", "at least 0"]),
        (["rate", "runs/x", "--n", "0"], ["--n", "at least 1"]),
        (["record", "runs/x", "--seconds", "-1"], ["--seconds", "more than 0"]),
        (["live", XOR, "--chunk-ms", "0"], ["--chunk-ms", "at least 1"]),
        (
            ["arena", XOR, "--game", "tictactoe", "--opponent", "random", "--games", "-5"],
            ["--games"],
        ),
    ],
)
def test_bad_numbers_elsewhere(
    capsys: pytest.CaptureFixture[str], args: list[str], words: list[str]
) -> None:
    code, err = cli(capsys, *args)
    one_line(code, err, f"openbrains {args[0]}:", *words)


def test_run_dir_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    code, err = cli(capsys, "run", "--task", "xor", "--run-dir", str(afile), "--individuals", "1")
    one_line(code, err, "is a file, not a run folder")
    assert afile.read_text() == "mine"


def project_with(tmp_path: Path, name: str, change: dict[str, object]) -> Path:
    members = hostile.sample_members()
    project = orjson.loads(members["project.json"])
    project.update(change)
    members["project.json"] = orjson.dumps(project)
    path = tmp_path / name
    path.write_bytes(hostile.zip_members(members))
    return path


@pytest.mark.parametrize(
    ("task", "kind"),
    [(["xor"], "a list"), ("xor", "a string"), (7, "a number"), (1.5, "a number")],
)
def test_project_task_of_the_wrong_type(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, task: object, kind: str
) -> None:
    path = project_with(tmp_path, "p.graph", {"task": task})
    code, err = cli(
        capsys, "run", str(path), "--run-dir", str(tmp_path / "r"), "--individuals", "1"
    )
    one_line(code, err, "project.json's 'task' must be an object", kind)


def graph_with(tmp_path: Path, name: str, edit) -> Path:
    members = hostile.sample_members()
    graph = orjson.loads(members["graph.json"])
    edit(graph)
    members["graph.json"] = orjson.dumps(graph)
    path = tmp_path / name
    path.write_bytes(hostile.zip_members(members))
    return path


def test_a_rate_that_is_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """inspect shows the file as it is (it used to crash formatting it as a number);
    eval takes the task's own input shape, so the stray text does not matter there."""

    def text_rate(graph: dict) -> None:
        graph["nodes"][0]["params"]["rate"] = "fast"

    path = graph_with(tmp_path, "rate.graph", text_rate)
    code = main(["inspect", str(path)])
    out = capsys.readouterr()
    assert code == 0 and "rate 'fast'" in out.out and not out.err
    code, err = cli(capsys, "eval", str(path), "--task", "xor")
    assert code == 0 and not err, err


@pytest.mark.parametrize(
    ("genes", "words"),
    [
        ({"lr": "nan"}, ["gene 'lr'", "'nan'"]),
        ({"lr": -0.1}, ["gene 'lr'"]),
        ({"lr": 0}, ["gene 'lr'"]),
        ({"lr": True}, ["gene 'lr'"]),
        ({"batch_size": 0}, ["gene 'batch_size'"]),
        ({"batch_size": 2.5}, ["gene 'batch_size'"]),
        ({"optimizer": "lion"}, ["gene 'optimizer'"]),
        ({"schedule": None}, ["gene 'schedule'"]),
        ({"label_smoothing": 1.0}, ["gene 'label_smoothing'"]),
    ],
)
@pytest.mark.parametrize("command", ["inspect", "eval", "run"])
def test_genes_are_checked_on_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, genes: dict, words: list[str], command: str
) -> None:
    path = graph_with(tmp_path, "genes.graph", lambda g: g["hparams"].update(genes))
    extra = {"inspect": [], "eval": ["--task", "xor"], "run": ["--run-dir", str(tmp_path / "r")]}
    code, err = cli(capsys, command, str(path), *extra[command])
    one_line(code, err, "graph.json", *words)


def weights_of(members: dict[str, bytes]) -> dict[str, torch.Tensor]:
    return dict(safetensors.torch.load(members["weights.safetensors"]))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("how", ["all", "one"])
@pytest.mark.parametrize("command", ["inspect", "eval", "run"])
def test_non_finite_weights_are_refused_on_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: float, how: str, command: str
) -> None:
    members = hostile.sample_members()
    weights = weights_of(members)
    key = sorted(weights)[0]
    for k in weights if how == "all" else [key]:
        weights[k] = torch.full_like(weights[k], bad) if how == "all" else weights[k].clone()
        weights[k].view(-1)[0] = bad
    members["weights.safetensors"] = safetensors.torch.save(weights)
    path = tmp_path / "nan.graph"
    path.write_bytes(hostile.zip_members(members))
    extra = {"inspect": [], "eval": ["--task", "xor"], "run": ["--run-dir", str(tmp_path / "r")]}
    code, err = cli(capsys, command, str(path), *extra[command])
    one_line(code, err, "weights.safetensors", "NaN or infinite", key)
    assert not (tmp_path / "r").exists()


def test_seed_weights_of_the_wrong_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """run refuses them as eval does, instead of training from fresh weights silently."""
    members = hostile.sample_members()
    weights = weights_of(members)
    key = next(k for k in sorted(weights) if k.endswith("weight"))
    weights[key] = torch.zeros(weights[key].shape[0] + 1, *weights[key].shape[1:])
    members["weights.safetensors"] = safetensors.torch.save(weights)
    path = tmp_path / "shape.graph"
    path.write_bytes(hostile.zip_members(members))
    for command, extra in (
        ("eval", ["--task", "xor"]),
        ("run", ["--run-dir", str(tmp_path / "r")]),
    ):
        code, err = cli(capsys, command, str(path), *extra)
        one_line(code, err, "weights do not fit the graph", "wrong shapes", key)
    assert not (tmp_path / "r").exists()


def test_archive_schema_version_that_is_not_a_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from openbrains.engine.store import Archive

    run_dir = tmp_path / "run"
    Archive(run_dir).close()
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        db.execute("UPDATE meta SET value='two' WHERE key='schema_version'")
    for args in (["status", str(run_dir)], ["run", "--task", "xor", "--run-dir", str(run_dir)]):
        code, err = cli(capsys, *args)
        one_line(code, err, "schema version is 'two', not a number")


def test_stored_settings_out_of_range(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A received run folder's settings go through the same rules as the command line."""
    from openbrains.engine.store import Archive

    run_dir = tmp_path / "run"
    with Archive(run_dir) as archive:
        archive.set_meta("settings", {"task": {"name": "xor"}, "population": 0, "workers": 0})
    code, err = cli(capsys, "run", "--run-dir", str(run_dir), "--task", "xor", "--individuals", "1")
    one_line(code, err, str(run_dir), "setting 'population' must be at least 1, got 0")


def test_a_bug_is_one_line_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception nobody meant (a bug) still reaches the user as one line, exit 1."""
    from openbrains.app import describe

    def broken(doc: object) -> list[str]:
        raise KeyError("oops")

    monkeypatch.setattr(describe, "describe_file", broken)
    code, err = cli(capsys, "inspect", str(hostile.SAMPLES / "xor.graph"))
    assert code == 1 and err.count("\n") == 1 and "KeyError" in err and "bug" in err, err


CRASHY_GAME = '''
import numpy as np
from openbrains.engine.signal import SignalSpec


class Crashy:
    """A scored environment whose every step crashes (a user's bug)."""

    name = "crashy"
    action_size = 2

    def reset(self, seed=None):
        return np.zeros((1, 3), np.float32)

    def step(self, action):
        raise IndexError("the board fell over")

    def score(self):
        return 0.0

    def spec(self):
        return SignalSpec(3, 1)
'''


def test_a_run_whose_every_candidate_fails_stops(tmp_path: Path) -> None:
    """Before: hundreds of tracebacks and exit 0 ("no champion yet"). Now: it stops after
    a bounded number of failures, with the first error in one line, exit 2."""
    (tmp_path / "crashy.py").write_text(CRASHY_GAME)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "openbrains",
            "run",
            "--task",
            "crashy:Crashy",
            "--run-dir",
            str(tmp_path / "run"),
            "--workers",
            "1",
            "--minutes",
            "5",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=400,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert out.returncode == 2, (out.returncode, out.stderr[-3000:])
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "the last 20 candidates all failed" in lines[0]
    assert "IndexError: the board fell over" in lines[0]
