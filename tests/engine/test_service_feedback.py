"""The service's feedback commands through a real engine process: samples added and
recorded, live mode on a video, rating batches and ratings, and devices that are not
there answered with a clear error while the search goes on."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import numpy as np

from tests.engine import feedback_data as fd
from tests.engine.test_service import Client
from tests.nodes import media


def events(c: Client, kind: str) -> list[dict]:
    return [e["data"] for e in c.events if e["event"] == kind]


def wait_event(c: Client, kind: str, pred=lambda d: True, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [d for d in events(c, kind) if pred(d)]
        if found:
            return found[0]
        c.wait_for(kind, len(events(c, kind)) + 1, timeout=deadline - time.monotonic())
    raise AssertionError(f"no {kind} event")


def test_feedback_commands_while_the_search_runs(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG", frames=60, fps=20)
    c = Client()
    try:
        opened = c.call(
            "open_run", run_dir=str(tmp_path / "run"), settings=fd.images_settings(data)
        )
        assert opened["ok"]
        assert c.call("start")["ok"]
        c.wait_for("individual", 3)
        info = c.call("samples")
        assert info["ok"] and info["version"] == 0 and info["plan"]["classes"] == ["left", "right"]

        # examples the GUI already holds
        img = np.zeros((16, 16, 3), np.uint8)
        img[4:8, 2:6] = 255
        item = {"image": base64.b64encode(img.tobytes()).decode(), "width": 16, "height": 16}
        added = c.call("add_samples", label="left", items=[item, item])
        assert added["ok"] and added["ids"] == [1, 2]
        assert not c.call("add_samples", label="up", items=[item])["ok"]

        # devices that are not there: a clear error, and the search goes on
        missing = c.call("record", label="left", source="camera:7")
        assert not missing["ok"] and "camera 7 could not be opened" in missing["error"]
        assert "camera 7" in c.call("live_start", source="camera:7")["error"]

        # recording a source in the background
        rec = c.call("record", label="right", source=f"camera:{video}", chunks=6)
        assert rec["ok"] and "cam.avi" in rec["source"]
        done = wait_event(c, "recorded")
        assert done["count"] == 6 and not done["error"] and len(events(c, "recording")) == 6

        # live mode on the champion, and recording what it sees
        live = c.call("live_start", source=f"camera:{video}", real_time=True)
        assert live["ok"], live
        step = wait_event(c, "live", lambda d: d.get("input") is not None)
        assert step["input"]["kind"] == "image" and step["latency_ms"] > 0
        assert step["outputs"]["label"]["label"] in ("left", "right")
        assert c.call("record", label="left", chunks=3)["ok"]  # no source: the live one
        shared = wait_event(c, "recorded", lambda d: d["label"] == "left")
        assert shared["count"] == 3
        assert c.call("live_stop")["ok"]
        wait_event(c, "live_stopped")

        # the run took it all in and kept going
        wait_event(c, "data", lambda d: d["version"] == 11)
        born = len(events(c, "individual"))
        c.wait_for("individual", born + 2)

        # ratings
        batch = c.call("rating_batch", n=2)
        assert batch["ok"] and len(batch["candidates"]) == 2
        assert batch["input"]["kind"] == "image"
        scores = [
            {"individual": x["individual"], "score": s} for x, s in zip(batch["candidates"], (9, 1))
        ]
        rated = c.call("rate", batch=batch["batch"], input_id=batch["input_id"], ratings=scores)
        assert rated["ok"] and len(rated["ids"]) == 2
        assert not c.call("rate", ratings=[{"individual": 999, "score": 5}])["ok"]
        assert c.call("set", rating_weight=0.3)["ok"]
        wait_event(c, "ratings")
        history = c.call("history")["individuals"]
        assert history and c.call("stop")["ok"]
        assert c.call("quit")["ok"]
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
