"""`openbrains plan run | report` end to end on a tiny task: a table served from a loopback
URL with its sha256, downloaded once into the cache, evolved for a few individuals,
its result card written, published tagged with the plan, and listed by plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from openbrains.engine.exchange.plandata import resolve
from openbrains.engine.exchange.plans import read_plan
from tests.exchange_kit import closed_port_url, file_server, ob


def _table() -> bytes:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    rows = [f"{a:.4f},{b:.4f},{c:.4f},{label}" for (a, b, c), label in zip(x, y)]
    return ("a,b,c,label\n" + "\n".join(rows) + "\n").encode()


def _plan(url: str, sha256: str, extra: str = "") -> str:
    return f"""
[plan]
id = "tiny-table"
version = 1
title = "A tiny table"

[task]
name = "csv"
label = "label"
{extra}
[data]
url = "{url}"
sha256 = "{sha256}"

[run]
population = 4
budget_steps = 20
workers = 0

[budget]
individuals = 3
minutes = 5

[report]
metric = "accuracy"
max_params = 5000
"""


def test_a_plan_runs_end_to_end_and_its_result_is_shared(tmp_path: Path) -> None:
    env = {"OPENBRAINS_HOME": str(tmp_path / "home")}
    with file_server({"table.csv": _table()}) as served:
        plan_file = tmp_path / "tiny.toml"
        plan_file.write_text(_plan(f"{served.url}/table.csv", served.sha256("table.csv")))
        done = ob("plan", "run", "tiny.toml", "--run-dir", "run", "--quiet", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert "plan tiny-table v1: test accuracy" in done.stdout

        run = tmp_path / "run"
        assert (run / "plan.toml").read_bytes() == plan_file.read_bytes()
        result = orjson.loads((run / "result.json").read_bytes())
        assert result["plan"]["id"] == "tiny-table" and result["individuals"] == 3
        assert result["data"] == [
            {"url": f"{served.url}/table.csv", "sha256": served.sha256("table.csv")}
        ]
        assert result["qualifies"] is (result["params"] <= 5000)
        card = (run / "result.md").read_text()
        assert "plan:tiny-table" in card and "# Result of plan tiny-table v1" in card

        # the data came once, and come from the cache now
        cache = tmp_path / "home" / "cache" / "data"
        assert [p.name for p in cache.iterdir()] == [served.sha256("table.csv")]
        plan, _ = read_plan(plan_file)
        assert resolve(plan, None, lambda _p: False, cache).path == str(
            cache / served.sha256("table.csv")
        )
        assert served.hits == {"table.csv": 1}

    shared = ob(
        "plan", "report", "run", "--to", "share", "--license", "cc0-1.0", "--no-onnx",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert shared.returncode == 0, shared.stderr
    assert "tagged plan:tiny-table" in shared.stdout
    listed = ob("browse", "share", "--plan", "tiny-table", "--json", cwd=tmp_path, env=env)
    [entry] = orjson.loads(listed.stdout)
    assert entry["card"]["plan"]["id"] == "tiny-table"
    assert entry["card"]["content_id"] == result["content_id"]
    assert entry["card"]["license"] == "cc0-1.0"
    none = ob("browse", "share", "--plan", "another", "--json", cwd=tmp_path, env=env)
    assert orjson.loads(none.stdout) == []


def test_bad_plans_stop_before_anything_is_made(tmp_path: Path) -> None:
    env = {"OPENBRAINS_HOME": str(tmp_path / "home")}
    with file_server({"table.csv": _table(), "cut.csv": _table()}) as served:
        url = f"{served.url}/table.csv"
        served.cut.add("cut.csv")
        cases = {
            "wrong.toml": (_plan(url, "f" * 64), "not the plan's ffff"),
            "unknown.toml": (
                _plan(url, served.sha256("table.csv"), 'flavour = "x"\n'),
                "unknown key 'task.flavour'",
            ),
            "cut.toml": (_plan(f"{served.url}/cut.csv", served.sha256("cut.csv")), "broke off"),
            "offline.toml": (
                _plan(f"{closed_port_url()}/table.csv", served.sha256("table.csv")),
                "(no network?)",
            ),
        }
        for name, (text, words) in cases.items():
            (tmp_path / name).write_text(text)
            done = ob("plan", "run", name, "--run-dir", "run", cwd=tmp_path, env=env)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and words in lines[0], done.stderr
    assert not (tmp_path / "run").exists()
    cache = tmp_path / "home" / "cache" / "data"
    assert not cache.exists() or list(cache.iterdir()) == []  # no .part left behind either
    report = ob("plan", "report", str(tmp_path), "--to", "share", cwd=tmp_path, env=env)
    assert report.returncode == 2 and "not a finished plan run" in report.stderr


def test_a_plans_seed_brain_is_pulled_by_its_content_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openbrains.engine.exchange.actions import publish
    from openbrains.engine.exchange.package import PublishRequest
    from openbrains.engine.format import load
    from openbrains.engine.format.identity import content_id
    from openbrains.engine.weights import encode_weights
    from tests.exchange_kit import make_brain
    from tests.hubserver import fake_hub

    brain = make_brain(tmp_path / "seed.graph")
    doc = load(brain)
    cid = content_id(doc.graph, doc.weights)

    def plan(pinned: str) -> str:
        return (
            '[plan]\nid = "xor-seeded"\nversion = 1\ntitle = "XOR from a seed"\n'
            '[task]\nname = "xor"\n'
            f'[seed]\nfrom = "hf:alice/xor-seed"\ncontent_id = "{pinned}"\n'
            "[run]\npopulation = 3\nbudget_steps = 20\nworkers = 0\n"
            "[budget]\nindividuals = 2\nminutes = 5\n"
        )

    with fake_hub("hf_test") as (endpoint, _state):
        env = {
            "OPENBRAINS_HOME": str(tmp_path / "home"),
            "HF_ENDPOINT": endpoint,
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_TOKEN": "hf_test",
        }
        for key in ("HF_TOKEN", "HF_HOME"):  # the token as huggingface_hub finds it
            monkeypatch.setenv(key, env[key])
        publish(PublishRequest(brain, name="xor-seed", onnx=False), "hf:alice", endpoint)
        (tmp_path / "wrong.toml").write_text(plan("1" * 64))
        done = ob("plan", "run", "wrong.toml", "--run-dir", "bad", cwd=tmp_path, env=env)
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "not the expected 111111111111" in done.stderr
        assert not (tmp_path / "bad").exists()

        (tmp_path / "seeded.toml").write_text(plan(cid))
        done = ob(
            "plan", "run", "seeded.toml", "--run-dir", "run", "--quiet", cwd=tmp_path, env=env
        )
        assert done.returncode == 0, done.stderr
    # the run starts from the pulled brain: its graph is the seed, its weights kept beside
    assert (tmp_path / "run" / "seeds" / "0.safetensors").read_bytes() == encode_weights(
        doc.weights
    )
    result = orjson.loads((tmp_path / "run" / "result.json").read_bytes())
    assert result["plan"]["id"] == "xor-seeded" and result["individuals"] == 2


def test_ctrl_c_in_a_terminal_stops_a_plan_and_still_writes_its_result(tmp_path: Path) -> None:
    """Ctrl+C reaches the whole process group (the workers too): one clean stop, the
    champion's result card written, no traceback."""
    import os
    import signal
    import sqlite3
    import subprocess
    import time

    from tests.exchange_kit import CLI

    plan = (
        '[plan]\nid = "xor-long"\nversion = 1\ntitle = "XOR, stopped by hand"\n'
        '[task]\nname = "xor"\n'
        "[run]\npopulation = 4\nbudget_steps = 20\nworkers = 1\n"
        "[budget]\nindividuals = 500\nminutes = 5\n"
    )
    (tmp_path / "long.toml").write_text(plan)
    env = {**os.environ, "OPENBRAINS_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [*CLI, "plan", "run", "long.toml", "--run-dir", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    db = tmp_path / "run" / "run.sqlite"
    deadline = time.monotonic() + 120
    counted = 0
    while time.monotonic() < deadline and counted < 2:
        time.sleep(0.3)
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                    counted = con.execute("SELECT COUNT(*) FROM individuals").fetchone()[0]
            except sqlite3.OperationalError:
                counted = 0
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "plan xor-long v1: test accuracy" in out
    assert (tmp_path / "run" / "result.md").exists()
