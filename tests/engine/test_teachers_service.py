"""The window's path to a teacher through a real engine process: the ``teacher`` command
puts one to work on the open run (a bad order is a one-line error reply), what a person
types to the live brain is kept, and a ``tag`` teacher turns it into ratings."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from openbrains.engine.store import Archive
from tests.engine.openai_server import FakeOpenAI, user_text
from tests.engine.test_service import Client
from tests.engine.test_service_feedback import wait_event

ROOT = Path(__file__).resolve().parents[2]


def sentiment(body: dict[str, Any]) -> Any:
    return {"score": 9 if "love" in user_text(body) else 2, "reason": "tone"}


def test_teacher_command_and_tags_from_live_text(tmp_path: Path) -> None:
    settings = {
        "task": {"name": "text", "data": str(ROOT / "README.md")},
        "workers": 0,
        "population": 2,
        "budget_steps": 5,
        "sibling_rate": 0.0,
    }
    c = Client()
    with FakeOpenAI(sentiment) as server:
        try:
            assert c.call("open_run", run_dir=str(tmp_path / "run"), settings=settings)["ok"]
            bad = c.call("teacher", order={"spec": "gpt4", "role": "tag"})
            assert not bad["ok"] and "is not a teacher" in bad["error"]
            odd = c.call("teacher", order={"spec": "x", "role": "tag", "script": "rm"})
            assert not odd["ok"] and "has no script" in odd["error"]
            assert c.call("start")["ok"]
            c.wait_for("individual", 1)
            assert c.call("live_start", source="text")["ok"]
            for text in ("hello there", "I love that answer", "no"):
                assert c.call("live_text", text=text)["ok"]
                time.sleep(0.3)
            order = {"spec": f"openai:judge@{server.url}", "role": "tag"}
            reply = c.call("teacher", order=order)
            assert reply["ok"] and reply["teacher"]["role"] == "tag"
            wait_event(c, "teacher", lambda d: d.get("cached", 0) >= 3, timeout=60)
            assert c.call("live_stop")["ok"]
            assert c.call("teacher", order=None)["ok"]
        finally:
            c.call("quit")
            c.proc.wait(timeout=60)
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        ratings = archive.ratings()
        assert [r.score for r in ratings] == [9.0, 2.0]
        assert all(r.rater.startswith("teacher:openai:judge@") for r in ratings)
        assert archive.get_meta("settings") and "judge" not in str(archive.get_meta("settings"))
    finally:
        archive.close()
