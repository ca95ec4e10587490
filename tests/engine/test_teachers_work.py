"""A teacher at work beside a run archive: orders are checked in one line, the work thread
labels, distils or survives a dead teacher without raising, and workers read the soft
targets back from the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from openbrains.engine.recorded import recording_plan
from openbrains.engine.store import Archive
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers import TeacherError
from openbrains.engine.teachers.roles.distill import with_soft_targets
from openbrains.engine.teachers.work import TeacherOrder, TeacherWork
from tests.engine import feedback_data as fd
from tests.engine.openai_server import FakeOpenAI
from tests.engine.test_teachers_brain import train_digits_brain
from tests.engine.test_teachers_roles import unlabelled_images, vision


def test_orders_name_what_is_missing(tmp_path: Path) -> None:
    for order, words in [
        (TeacherOrder("openai:m@http://127.0.0.1:9/v1", "label"), "needs --unlabelled DIR"),
        (TeacherOrder("openai:m@http://127.0.0.1:9/v1", "pairs"), "needs --prompts FILE"),
        (TeacherOrder("openai:m@http://127.0.0.1:9/v1", "teach"), "give one of label, pairs"),
        (TeacherOrder("bard", "rate"), "is not a teacher"),
    ]:
        with pytest.raises(TeacherError, match=words):
            order.checked()
    task = load_task("digits")
    archive = Archive(tmp_path / "run")
    order = TeacherOrder("openai:m@http://127.0.0.1:9/v1", "pairs", prompts="p.txt")
    with pytest.raises(TeacherError, match="call-and-response"):
        TeacherWork(order, tmp_path / "run", task, recording_plan(task))
    archive.close()


def test_label_work_runs_in_its_own_thread(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "data")
    task = load_task("images", data=str(data), size=16)
    events: list[tuple[str, dict[str, Any]]] = []
    archive = Archive(tmp_path / "run")  # the run's own connection, holding the lock
    with FakeOpenAI(vision) as server:
        order = TeacherOrder(
            f"openai:eyes@{server.url}", "label", unlabelled=str(unlabelled_images(tmp_path))
        )
        work = TeacherWork(
            order, tmp_path / "run", task, recording_plan(task), lambda k, d: events.append((k, d))
        )
        work.start()
        for _ in range(200):
            if len(archive.samples(with_data=False)) == 8:
                break
            work.stop_event.wait(0.05)
        work.stop()
    assert len(archive.samples(with_data=False)) == 8
    status = work.status()
    assert status["role"] == "label" and status["cached"] == 9 and status["state"] == "idle"
    assert any(kind == "teacher" for kind, _ in events)
    logged = [e for e in archive.db.execute("SELECT data FROM events WHERE kind='teacher'")]
    assert any("8 of 9 files kept" in row[0] for row in logged)
    archive.close()


def test_a_dead_teacher_leaves_the_run_alone(tmp_path: Path) -> None:
    task = load_task("digits")
    archive = Archive(tmp_path / "run")
    order = TeacherOrder("openai:m@http://127.0.0.1:9/v1", "distill", timeout_s=0.5)
    work = TeacherWork(order, tmp_path / "run", task, recording_plan(task))
    work.teacher.client.sleep = lambda s: None
    work.start()
    assert work.first_pass.wait(60)
    work.stop()
    status = work.status()
    assert status["state"] == "down" and "unreachable" in status["message"]
    assert with_soft_targets(task, work.soft_info().to_dict()).train.soft is None
    archive.close()


def test_distill_work_fills_the_cache_that_workers_read(tmp_path: Path) -> None:
    path = tmp_path / "big.graph"
    train_digits_brain(path, steps=60)
    task = load_task("digits")
    archive = Archive(tmp_path / "run")
    work = TeacherWork(TeacherOrder(f"graph:{path}", "distill"), tmp_path / "run", task, {})
    work.start()
    assert work.first_pass.wait(60)
    work.stop()
    assert work.soft_version == 1 and work.status()["cached"] == len(task.train)
    taught = with_soft_targets(load_task("digits"), work.soft_info().to_dict())
    assert taught.train.soft is not None and torch.isfinite(taught.train.soft).all()
    assert taught.train.soft.shape == (len(task.train), 10)
    archive.close()
