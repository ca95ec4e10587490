"""The engine service as a real process: commands in, replies and events out."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from openbrains.engine.graph import Graph
from openbrains.engine.protocol import encode_frame, read_frame

ROOT = Path(__file__).resolve().parents[2]


class Client:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openbrains.engine.service"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self.next_id += 1
        self.proc.stdin.write(encode_frame({"id": self.next_id, "cmd": cmd, **args}))
        self.proc.stdin.flush()
        while True:
            msg = read_frame(self.proc.stdout)
            assert msg is not None, "service ended"
            if "event" in msg:
                self.events.append(msg)
            elif msg.get("reply") == self.next_id:
                return msg

    def wait_for(self, kind: str, count: int, timeout: float = 120) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [e for e in self.events if e["event"] == kind]
            if len(got) >= count:
                return got
            msg = read_frame(self.proc.stdout)
            assert msg is not None
            if "event" in msg:
                self.events.append(msg)
        raise AssertionError(f"no {count} {kind} events in {timeout} s")


def test_service_runs_a_search_and_answers_the_gui(tmp_path: Path) -> None:
    c = Client()
    try:
        hello = c.call("hello")
        assert hello["ok"] and {u["name"] for u in hello["catalog"]} >= {"dense", "gru", "input"}
        bad = c.call("start")
        assert not bad["ok"] and "no run is open" in bad["error"]
        opened = c.call(
            "open_run",
            run_dir=str(tmp_path / "run"),
            settings={"task": {"name": "xor"}, "workers": 0, "population": 6},
        )
        assert opened["ok"] and opened["task"]["metric"] == "accuracy"
        assert c.call("start")["ok"]
        first = c.wait_for("individual", 4)
        assert all("graph" in e["data"] for e in first)
        assert c.call("pause")["ok"]
        c.wait_for("paused", 1)
        pop = c.call("population")
        assert pop["ok"] and pop["individuals"]
        champion = max(pop["individuals"], key=lambda r: r["fitness"] or -1)
        detail = c.call("individual", individual=champion["id"])
        assert detail["has_weights"] and detail["scores"]["val"]["accuracy"] >= 0
        # an edit checked, then injected as a hand-made individual
        graph = Graph.from_json(detail["graph"])
        check = c.call("check_graph", graph=detail["graph"])
        assert check["ok"] and check["compiles"] and check["params"] == champion["params"]
        broken = graph.copy()
        extra = broken.add_node("dense", {"width": 3})
        out = next(n for n in broken.output_nodes())
        broken.connect(extra.uid, out.uid)
        bad_check = c.call("check_graph", graph=broken.to_json().decode())
        assert (
            bad_check["ok"] and not bad_check["compiles"] and bad_check["nodes"][extra.uid]["error"]
        )
        assert c.call(
            "inject",
            graph=detail["graph"],
            weights_from=champion["id"],
            detail="tweaked on the canvas",
        )["ok"]
        assert c.call("set", cpu_cap=50, tradeoff=0.05)["ok"]
        assert c.call("resume")["ok"]
        deadline = time.monotonic() + 60
        hand = []
        while not hand and time.monotonic() < deadline:
            c.wait_for("individual", len([e for e in c.events if e["event"] == "individual"]) + 1)
            hand = [
                e for e in c.events if e["event"] == "individual" and e["data"]["origin"] == "hand"
            ]
        assert hand and hand[0]["data"]["parents"] == [champion["id"]]
        assert c.call("stop")["ok"]
        assert c.call("quit")["ok"]
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()


def test_service_survives_bad_commands(tmp_path: Path) -> None:
    c = Client()
    try:
        assert "unknown command" in c.call("fly")["error"]
        r = c.call("open_run", run_dir=str(tmp_path / "r"), settings={"task": {"name": "nope"}})
        assert not r["ok"] and "unknown task" in r["error"]
        assert c.call("hello")["ok"]
        c.proc.stdin.close()  # the GUI went away: the service ends by itself
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()


def test_frames_are_plain_json() -> None:
    frame = encode_frame({"event": "x", "data": {"a": [1, 2]}})
    assert orjson.loads(frame[4:]) == {"event": "x", "data": {"a": [1, 2]}}
