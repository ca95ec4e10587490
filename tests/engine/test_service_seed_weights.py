"""The window's Start sends a seed's trained weights with its graph (``open_run``'s
``seed_weights``): the engine keeps them beside the archive and the seed individual starts
from them; weights that are not base64 safetensors are refused in one line, before any
run folder is made."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import pytest
import torch

from openbrains.engine.format import load
from openbrains.engine.weights import encode_weights
from tests.engine.test_service import Client

ROOT = Path(__file__).resolve().parents[2]


def test_open_run_keeps_the_seeds_weights(tmp_path: Path) -> None:
    doc = load(ROOT / "sample_graphs" / "xor.graph")
    assert doc.graph is not None and doc.weights
    # all zeros: a seed that starts from them outputs even odds, a loss of exactly ln 2
    blob = encode_weights({k: torch.zeros_like(v) for k, v in doc.weights.items()})
    settings = {
        "task": {"name": "xor"},
        "workers": 0,
        "population": 3,
        "seeds": [doc.graph.to_json().decode()],
    }
    c = Client()
    try:
        bad = c.call(
            "open_run", run_dir=str(tmp_path / "bad"), settings=settings, seed_weights=["%%"]
        )
        assert not bad["ok"] and bad["error"] == "a seed's weights are not base64"
        junk = base64.b64encode(b"not safetensors").decode()
        bad = c.call(
            "open_run", run_dir=str(tmp_path / "bad"), settings=settings, seed_weights=[junk]
        )
        assert not bad["ok"] and "cannot be read" in bad["error"]
        assert "\n" not in bad["error"] and not (tmp_path / "bad").exists()

        run = tmp_path / "run"
        sent = [base64.b64encode(blob).decode()]
        opened = c.call("open_run", run_dir=str(run), settings=settings, seed_weights=sent)
        assert opened["ok"], opened
        assert (run / "seeds" / "0.safetensors").read_bytes() == blob
        assert c.call("start")["ok"]
        [first] = c.wait_for("individual", 1)
        assert first["data"]["origin"] == "seed"
        detail = c.call("individual", individual=first["data"]["id"])
        assert detail["curve"][0][0] == 1
        assert detail["curve"][0][1] == pytest.approx(math.log(2), abs=1e-6)
        assert c.call("stop")["ok"]
        assert c.call("quit")["ok"]
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
