"""The engine's ``breed`` command (the window's "Breed with champion"): what it refuses, in
one line and without touching the run — no champion yet, weights that are not base64
safetensors, an untrained brain, a brain whose inputs and outputs are not the task's.
(The crossing itself, through the real window, is in tests/app/test_exchange_window.py.)"""

from __future__ import annotations

import base64
from pathlib import Path

from openbrains.engine.format import load
from openbrains.engine.weights import encode_weights
from tests.engine.test_service import Client

ROOT = Path(__file__).resolve().parents[2]


def _brain(name: str) -> tuple[str, str]:
    doc = load(ROOT / "sample_graphs" / f"{name}.graph")
    assert doc.graph is not None
    return doc.graph.to_json().decode(), base64.b64encode(encode_weights(doc.weights)).decode()


def test_breed_refuses_in_one_line_and_the_run_goes_on(tmp_path: Path) -> None:
    xor, xor_weights = _brain("xor")
    digits, digits_weights = _brain("digits")
    c = Client()
    try:
        opened = c.call(
            "open_run",
            run_dir=str(tmp_path / "run"),
            settings={"task": {"name": "xor"}, "workers": 0, "population": 2},
        )
        assert opened["ok"], opened

        def refused(**args: object) -> str:
            reply = c.call("breed", name="theirs", **args)
            assert not reply["ok"] and "\n" not in reply["error"], reply
            assert "Traceback" not in reply["error"]
            return str(reply["error"])

        assert "no champion yet" in refused(graph=xor, weights=xor_weights)
        assert c.call("start")["ok"]
        [first] = c.wait_for("individual", 1)
        champion = first["data"]["id"]
        assert c.call("pause")["ok"]
        assert "not base64" in refused(graph=xor, weights="%%", champion=champion)
        junk = base64.b64encode(b"not safetensors").decode()
        assert "cannot be read" in refused(graph=xor, weights=junk, champion=champion)
        assert "holds no weights" in refused(graph=xor, weights="", champion=champion)
        wrong = refused(graph=digits, weights=digits_weights, champion=champion)
        assert "task 'xor' gives inputs" in wrong, wrong
        # a brain that fits is taken: crossed with the champion, it trains next
        taken = c.call("breed", name="theirs", graph=xor, weights=xor_weights, champion=champion)
        assert taken["ok"] and taken["champion"] == champion, taken
        assert taken["detail"].startswith("bred with theirs (")
        assert c.call("resume")["ok"]
        arrived = c.wait_for("individual", 2)
        while not any("bred with theirs" in str(e["data"].get("detail")) for e in arrived):
            arrived = c.wait_for("individual", len(arrived) + 1)
        child = next(e["data"] for e in arrived if "bred with" in str(e["data"].get("detail")))
        assert child["parents"] == [champion] and child["origin"] == "crossover"
        assert c.call("stop")["ok"]
        assert c.call("quit")["ok"]
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()
