"""Every role against a loopback server that fails: answers too slowly for the client's
timeout, answers HTTP 500, sends a body that is not JSON, or answers JSON whose content is
nonsense. Nothing raises, nothing wrong is stored, a failure is never cached (the next run
asks again) while a nonsense answer is (the same model would say the same), and the
session says what happened. Then ``distill`` from an ``openai:`` teacher that works: its
soft targets reach the training split a worker loads."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.format import load
from openbrains.engine.interactions import add_interaction, interactions
from openbrains.engine.recorded import recording_plan
from openbrains.engine.store import Archive
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers import HttpPolicy, TeacherSpec, open_teacher
from openbrains.engine.teachers.answers import Soft
from openbrains.engine.teachers.cache import AnswerCache
from openbrains.engine.teachers.roles import distill
from openbrains.engine.teachers.roles import label as label_role
from openbrains.engine.teachers.roles import pairs as pairs_role
from openbrains.engine.teachers.roles.items import read_folder, split_items
from openbrains.engine.teachers.roles.rate import rate_round
from openbrains.engine.teachers.roles.tag import tag_interactions
from openbrains.engine.teachers.session import TeacherSession
from openbrains.engine.weights import encode_weights
from tests.engine import feedback_data as fd
from tests.engine.openai_server import FakeOpenAI
from tests.engine.test_teachers_roles import _add_brain, unlabelled_images, vision

ROOT = Path(__file__).resolve().parents[2]
# a short timeout, one retry, almost no backoff: a failing teacher is found out quickly
QUICK = HttpPolicy(timeout_s=0.3, retries=1, backoff_s=0.01)
ROLES = ("label", "pairs", "rate", "tag", "distill")


def _label(session: TeacherSession, archive: Archive, tmp: Path) -> int:
    tmp.mkdir(exist_ok=True)
    task = load_task("images", data=str(fd.image_folder(tmp / "data")), size=16)
    items, _ = read_folder(unlabelled_images(tmp), recording_plan(task))
    kept, _ = label_role.label_items(session, items, task.classes)
    return len(label_role.store_labels(archive, session, kept))


def _pairs(session: TeacherSession, archive: Archive, tmp: Path) -> int:
    task = load_task("callresponse", data=str(ROOT / "data" / "samples" / "callresponse.tsv"))
    made, _ = pairs_role.write_pairs(session, ["rev abc", "rev xyz"], pairs_role.check_task(task))
    return len(pairs_role.store_pairs(archive, session, made))


def _rate(session: TeacherSession, archive: Archive, tmp: Path) -> int:
    task = load_task("digits")
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph
    for seed in (1, 2):
        brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=seed)
        _add_brain(archive, brain.graph, encode_weights(brain.weights()))
    return len(rate_round(session, task, archive, n=2, rng=random.Random(0)))


def _tag(session: TeacherSession, archive: Archive, tmp: Path) -> int:
    task = load_task("text", data=str(ROOT / "README.md"))
    graph = load(ROOT / "sample_graphs" / "text.graph").graph
    brain = _add_brain(archive, graph, b"")
    add_interaction(archive, "s1", brain, "hello", {"text": "hi"})
    add_interaction(archive, "s1", brain, "I love that answer", {"text": "yes"})
    report = tag_interactions(session, task, recording_plan(task), archive, interactions(archive))
    return report.ratings + report.labels


def _distill(session: TeacherSession, archive: Archive, tmp: Path) -> int:
    task = load_task("images", data=str(fd.image_folder(tmp / "data")), size=16)
    items = split_items(task, "train", raw=True)
    answers = session.ask(
        distill.question(task.classes),
        items,
        lambda it: it.digest,
        lambda batch: session.teacher.soft(batch, task.classes),
    )
    return sum(isinstance(a, Soft) for a in answers)


WORK = {"label": _label, "pairs": _pairs, "rate": _rate, "tag": _tag, "distill": _distill}


def _nonsense(body: dict[str, Any]) -> str:
    """Not the JSON asked for; for a response (free text, no format asked) nothing at all."""
    return "{this is not json" if body.get("response_format") else ""


@pytest.mark.parametrize("fault", ["slow", "500", "garbage", "nonsense"])
@pytest.mark.parametrize("role", ROLES)
def test_every_role_survives_a_failing_teacher(tmp_path: Path, role: str, fault: str) -> None:
    lines: list[tuple[str, str]] = []
    with FakeOpenAI(_nonsense) as server:
        server.always = None if fault == "nonsense" else fault
        server.slow_s = 0.6  # past the client's 0.3 s
        archive = Archive(tmp_path / "run")
        teacher = open_teacher(TeacherSpec.parse(f"openai:m@{server.url}"), QUICK)
        teacher.client.sleep = lambda s: None
        session = TeacherSession(
            teacher, role, AnswerCache(archive), log=lambda *a: lines.append(a)
        )
        stored = WORK[role](session, archive, tmp_path / "first")  # raises nothing
        assert stored == 0 and server.requests
        assert archive.samples(with_data=False) == [] and archive.ratings() == []
        status = session.status()
        if fault == "nonsense":  # an answer, though a useless one: kept, never asked again
            assert status.skipped > 0 and not session.down
            assert AnswerCache(archive).count() == status.skipped
            asked = len(server.requests)
            WORK[role](session, archive, tmp_path / "again")  # the same inputs
            assert len(server.requests) == asked
        else:  # a failure is not an answer: nothing cached, the next run asks again
            assert AnswerCache(archive).count() == 0
            assert any(level == "error" for level, _ in lines)
            assert all("\n" not in line for _, line in lines)
        archive.close()


def test_an_api_teacher_distils_through_the_cache(tmp_path: Path) -> None:
    """``distill`` from an ``openai:`` teacher: a label and a confidence per example become
    soft targets in the cache; the task a worker rebuilds carries them on its training
    split, and the teacher was asked once per example."""
    task = load_task("images", data=str(fd.image_folder(tmp_path / "data")), size=16)
    with FakeOpenAI(vision) as server:
        archive = Archive(tmp_path / "run")
        teacher = open_teacher(TeacherSpec.parse(f"openai:eyes@{server.url}"))
        session = TeacherSession(teacher, "distill", AnswerCache(archive))
        assert _distill(session, archive, tmp_path) == len(task.train)
        distinct = {it.digest for it in split_items(task, "train", raw=True)}
        assert len(server.requests) == len(distinct)  # the same image twice is asked once
        archive.close()
    info = {
        "run_dir": str(tmp_path / "run"),
        "identity": teacher.identity,
        "question": distill.question(task.classes),
        "raw": True,
    }
    taught = distill.with_soft_targets(task, info)
    assert taught.train.soft is not None and torch.isfinite(taught.train.soft).all()
    believed = taught.train.soft.argmax(dim=-1)
    assert (believed == taught.train.target).float().mean() > 0.9  # the squares' side


def test_a_wrong_key_stops_the_teacher_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP 401: asking again cannot help, so the teacher is down after one request, with
    one line that says the key was refused; nothing is cached."""
    monkeypatch.setenv("OB_TEST_TEACHER_KEY", "wrong")
    lines: list[tuple[str, str]] = []
    with FakeOpenAI(vision, key="right") as server:
        archive = Archive(tmp_path / "run")
        spec = TeacherSpec.parse(f"openai:eyes@{server.url}", "OB_TEST_TEACHER_KEY")
        session = TeacherSession(
            open_teacher(spec, QUICK), "label", AnswerCache(archive), log=lambda *a: lines.append(a)
        )
        assert _label(session, archive, tmp_path) == 0
        assert session.down and len(server.requests) == 1
        [line] = [ln for lv, ln in lines if lv == "error"]
        assert "401" in line and "key" in line and "\n" not in line
        assert AnswerCache(archive).count() == 0
        archive.close()
