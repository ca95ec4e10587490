"""The roles against the loopback server and real run archives: ``label`` turns a folder
of unlabelled images into training samples with their origin (unsure ones left out),
``pairs`` writes call-and-response pairs that join the task, ``rate`` stores ratings that
count less than a person's, ``tag`` turns typed messages into ratings, and asking again
sends no request."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openbrains.engine.compile import compile_graph
from openbrains.engine.format import load
from openbrains.engine.graph import Graph
from openbrains.engine.interactions import add_interaction, interactions
from openbrains.engine.recorded import recording_plan, with_samples
from openbrains.engine.store import Archive, Rating, Record
from openbrains.engine.tasks.rating import RatingBook
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers import HttpPolicy, TeacherError, TeacherSpec, open_teacher
from openbrains.engine.teachers.cache import AnswerCache
from openbrains.engine.teachers.roles import label as label_role
from openbrains.engine.teachers.roles import pairs as pairs_role
from openbrains.engine.teachers.roles.items import read_folder
from openbrains.engine.teachers.roles.rate import rate_round
from openbrains.engine.teachers.roles.tag import tag_interactions
from openbrains.engine.teachers.session import TeacherSession
from openbrains.engine.weights import encode_weights
from tests.engine import feedback_data as fd
from tests.engine.openai_server import FakeOpenAI, user_image, user_text

ROOT = Path(__file__).resolve().parents[2]
FAST = HttpPolicy(timeout_s=2.0, retries=1, backoff_s=0.01)


def vision(body: dict[str, Any]) -> Any:
    """A 'vision model': where is the bright square? Unsure when it is near the middle."""
    system = body["messages"][0]["content"]
    img = user_image(body)
    if "rate" in system:
        return {"score": 8 if "'left'" in user_text(body) else 3, "reason": "looked"}
    cols = np.nonzero(img.max(axis=(0, 2)) > 128)[0]
    centre = cols.mean() / img.shape[1]
    label = "left" if centre < 0.5 else "right"
    return {"label": label, "confidence": 0.95 if abs(centre - 0.5) > 0.2 else 0.5}


def session_for(server: FakeOpenAI, archive: Archive, role: str) -> TeacherSession:
    t = open_teacher(TeacherSpec.parse(f"openai:eyes@{server.url}"), FAST)
    return TeacherSession(t, role, AnswerCache(archive))


def unlabelled_images(tmp_path: Path) -> Path:
    """The left/right squares of the recording tests without their class folders, plus an
    unsure one in the middle and a file that is not an image."""
    labelled = fd.image_folder(tmp_path / "labelled", per_class=4)
    folder = tmp_path / "unlabelled"
    folder.mkdir()
    for cls in fd.IMAGE_CLASSES:
        for f in sorted((labelled / cls).glob("*.png")):
            shutil.copy(f, folder / f"{cls}-{f.name}")
    import cv2

    middle = np.zeros((16, 16, 3), np.uint8)
    middle[5:9, 6:10] = 255
    cv2.imwrite(str(folder / "middle.png"), middle)
    (folder / "notes.png").write_bytes(b"not an image")
    return folder


def test_label_role_stores_sure_labels_with_their_origin(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "data")
    task = load_task("images", data=str(data), size=16)
    plan = recording_plan(task)
    folder = unlabelled_images(tmp_path)
    items, problems = read_folder(folder, plan)
    assert len(items) == 9 and len(problems) == 1 and "notes.png" in problems[0]
    with FakeOpenAI(vision) as server:
        archive = Archive(tmp_path / "run")
        session = session_for(server, archive, "label")
        kept, report = label_role.label_items(session, items, task.classes)
        assert (report.kept, report.unsure, report.skipped) == (8, 1, 0)
        assert all(it.source.startswith(lab.label) for it, lab in kept)  # right labels
        ids = label_role.store_labels(archive, session, kept)
        assert len(ids) == 8 and len(server.requests) == 9
        sample = archive.samples()[0]
        assert sample.split == "train" and sample.meta["origin"] == "teacher"
        assert sample.meta["teacher"] == f"openai:eyes@{server.url}"
        assert sample.meta["file"] and 0.9 < sample.meta["confidence"] <= 1
        grown = with_samples(task, archive.samples(), max(ids))
        assert len(grown.train) == len(task.train) + 8 and len(grown.val) == len(task.val)
        # again (a resumed run): the cache answers, nothing is stored twice
        kept2, _ = label_role.label_items(session, items, task.classes)
        assert label_role.store_labels(archive, session, kept2) == []
        assert len(server.requests) == 9
        archive.close()


def test_label_role_with_a_teacher_that_answers_garbage_skips_it(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "data")
    task = load_task("images", data=str(data), size=16)
    items, _ = read_folder(unlabelled_images(tmp_path), recording_plan(task))
    with FakeOpenAI(lambda body: {"label": "up", "confidence": 1.0}) as server:
        archive = Archive(tmp_path / "run")
        session = session_for(server, archive, "label")
        kept, report = label_role.label_items(session, items, task.classes)
        assert kept == [] and report.skipped == 9
        assert session.status().skipped == 9 and session.status().state == "idle"
        archive.close()
    with pytest.raises(TeacherError, match="needs a classification task"):
        label_role.check_task(load_task("text", data=str(ROOT / "README.md")))


def test_pairs_role_writes_pairs_that_join_the_task(tmp_path: Path) -> None:
    task = load_task("callresponse", data=str(ROOT / "data" / "samples" / "callresponse.tsv"))
    context = pairs_role.check_task(task)
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text("rev abc\nrev xyz\n\nrev abc\nnext abc\n")
    prompts = pairs_role.read_prompts(prompts_file)
    assert prompts == ["rev abc", "rev xyz", "next abc"]

    def answer(body: dict[str, Any]) -> str:
        word = user_text(body).split()[-1]
        return "" if user_text(body).startswith("next") else word[::-1]

    with FakeOpenAI(answer) as server:
        archive = Archive(tmp_path / "run")
        session = session_for(server, archive, "pairs")
        pairs, report = pairs_role.write_pairs(session, prompts, context)
        assert pairs == [("rev abc", "cba"), ("rev xyz", "zyx")] and report.skipped == 1
        ids = pairs_role.store_pairs(archive, session, pairs)
        grown = with_samples(task, archive.samples(), max(ids))
        assert len(grown.train) == len(task.train) + 2
        assert grown.train.inputs["text"].shape[1:] == task.train.inputs["text"].shape[1:]
        pairs_role.write_pairs(session, prompts, context)
        assert pairs_role.store_pairs(archive, session, pairs) == []
        assert len(server.requests) == 3  # each prompt asked once, ever
        archive.close()
    with pytest.raises(TeacherError, match="call-and-response"):
        pairs_role.check_task(load_task("digits"))


def _add_brain(archive: Archive, graph: Graph, weights: bytes) -> int:
    rec = Record(0, "random", [], graph.to_json().decode(), graph.structure_hash(), "done")
    rec.fitness, rec.val_metric = 0.5, 0.5
    return archive.add(rec, weights, {})


def test_rate_role_scores_candidates_below_a_persons_weight(tmp_path: Path) -> None:
    task = load_task("digits")
    graph = load(ROOT / "sample_graphs" / "digits.graph").graph
    archive = Archive(tmp_path / "run")
    for seed in (1, 2, 3):
        brain = compile_graph(graph, inputs=task.inputs, outputs=task.outputs, seed=seed)
        _add_brain(archive, brain.graph, encode_weights(brain.weights()))
    with FakeOpenAI(vision) as server:
        session = session_for(server, archive, "rate")
        ids = rate_round(session, task, archive, n=3, rng=random.Random(0))
        assert len(ids) == 3 and len(server.requests) == 3
        ratings = archive.ratings()
        assert {r.rater for r in ratings} == {f"teacher:openai:eyes@{server.url}"}
        assert len({r.batch for r in ratings}) == 1  # side by side: preference pairs too
    # a teacher's rating counts less than a person's (0.3 of one by default)
    book = RatingBook(k=1.0)
    book.add(
        [
            Rating(1, 1, "val:0", 10.0, "teacher:x"),
            Rating(2, 2, "val:0", 10.0, ""),
            Rating(3, 3, "val:0", 0.0, ""),
        ]
    )
    assert book.estimate(2) > book.estimate(1) > book.mean
    assert book.counts[1] == pytest.approx(0.3) and book.total == 3
    archive.close()


def test_tag_role_turns_typed_reactions_into_ratings(tmp_path: Path) -> None:
    task = load_task("text", data=str(ROOT / "README.md"))
    archive = Archive(tmp_path / "run")
    graph = load(ROOT / "sample_graphs" / "text.graph").graph
    a = _add_brain(archive, graph, b"")
    b = _add_brain(archive, graph, b"")
    add_interaction(archive, "s1", a, "hello", {"text": "hi"})
    add_interaction(archive, "s1", b, "I love that answer", {"text": "yes"})
    add_interaction(archive, "s1", b, "no, that is wrong", {"text": "?"})
    add_interaction(archive, "s2", b, "love it", {"text": "!"})  # first of its session
    new = interactions(archive)

    def sentiment(body: dict[str, Any]) -> Any:
        text = user_text(body)
        return {"score": 9 if "love" in text else (1 if "wrong" in text else 5), "reason": "tone"}

    with FakeOpenAI(sentiment) as server:
        session = session_for(server, archive, "tag")
        report = tag_interactions(session, task, recording_plan(task), archive, new)
        got = [(r.individual, r.input_id, r.score) for r in archive.ratings()]
        # each message rates the answer before it, in its own session only
        assert got == [(a, f"live:{new[0].id}", 9.0), (b, f"live:{new[1].id}", 1.0)]
        assert report.ratings == 2 and report.skipped == 2
        assert len(server.requests) == 4
        tag_interactions(session, task, recording_plan(task), archive, new)
        assert len(server.requests) == 4  # asked once, ever
    archive.close()
