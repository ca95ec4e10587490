"""Ratings: the shrunk mean, preference pairs and their Bradley–Terry fit, rating batches
as plain data, ratings steering a run's fitness, and `openbrains rate` driven by stdin."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openbrains.engine.run import Run, RunSettings, status_of
from openbrains.engine.store import Archive, Rating
from openbrains.engine.tasks.rating import (
    RatingBook,
    RatingTask,
    bradley_terry,
    candidates_from,
    mix,
    preference_pairs,
    unit_score,
)
from openbrains.engine.tasks.registry import load_task
from tests.engine import feedback_data as fd

ROOT = Path(__file__).resolve().parents[2]


def rating(i: int, ind: int, score: float, batch: str = "b", input_id: str = "val:0") -> Rating:
    return Rating(i, ind, input_id, score, "", 0.0, batch)


def test_shrunk_mean_pulls_few_ratings_toward_the_prior() -> None:
    book = RatingBook(k=3)
    assert book.mean == 5.0 and book.estimate(1) == 5.0  # nothing rated: neutral
    book.add([rating(1, 1, 10), rating(2, 2, 2), rating(3, 2, 4)])
    mean = 16 / 3
    assert book.mean == pytest.approx(mean)
    assert book.estimate(1) == pytest.approx((10 + mean * 3) / (1 + 3))
    assert book.estimate(2) == pytest.approx((6 + mean * 3) / (2 + 3))
    lineage = {1: [], 2: [], 3: [1], 4: [3]}
    # an unrated child stands where its rated parent stands, and so does its child
    assert book.estimate(3, [1], lineage) == pytest.approx(book.estimate(1))
    assert book.estimate(4, [3], lineage) == pytest.approx(book.estimate(1))
    book.add([rating(4, 3, 0)])  # new ratings: estimates are computed afresh
    assert book.estimate(3, [1], lineage) < book.estimate(1)


def test_preference_pairs_and_bradley_terry_order() -> None:
    ratings = [
        rating(1, 1, 9, "a"),
        rating(2, 2, 5, "a"),
        rating(3, 3, 1, "a"),
        rating(4, 2, 8, "b"),
        rating(5, 3, 2, "b"),
        rating(6, 1, 6, "c"),
        rating(7, 3, 6, "c"),  # a tie says nothing
        rating(8, 1, 3, ""),  # rated alone: no comparison
    ]
    pairs = preference_pairs(ratings)
    assert sorted(pairs) == [(1, 2), (1, 3), (2, 3), (2, 3)]
    strength = bradley_terry(pairs)
    assert strength[1] > strength[2] > strength[3]
    assert sum(strength.values()) == pytest.approx(0.0, abs=1e-9)
    assert bradley_terry([]) == {}


def test_scores_are_mixed_on_one_scale() -> None:
    assert unit_score("accuracy", 0.8) == 0.8 and unit_score("r2", -3) == 0.0
    assert unit_score("bpc", 2.0) == pytest.approx(0.75) and unit_score("elo", 1000) == 0.5
    assert mix("accuracy", 0.8, 10.0, 0.0) == pytest.approx(0.8)
    assert mix("accuracy", 0.8, 10.0, 1.0) == pytest.approx(1.0)
    assert mix("accuracy", 0.8, 0.0, 0.25) == pytest.approx(0.6)


def test_rating_batches_are_plain_data(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data)))
    try:
        run.run(max_individuals=4)
        rt = RatingTask(run.task)
        batch = rt.batch(candidates_from(run.archive), n=3)
        assert batch["input"]["kind"] == "image" and batch["expected"] in ("left", "right")
        img = np.frombuffer(base64.b64decode(batch["input"]["data"]), np.uint8)
        assert img.size == 16 * 16 and img.max() == 255  # the white square is there
        cands = batch["candidates"]
        assert len(cands) == 3 and len({c["individual"] for c in cands}) == 3
        assert all(c["output"]["kind"] == "label" for c in cands)
        assert all(set(c["output"]["probs"]) <= {"left", "right"} for c in cands)
    finally:
        run.close()
    with pytest.raises(Exception, match="game"):
        RatingTask(load_task("tictactoe"))


def test_text_candidates_answer_with_generated_text(tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be, that is the question. " * 30)
    settings = RunSettings(
        task={"name": "text", "data": str(text), "context": 16},
        workers=0,
        population=2,
        budget_steps=10,
        sibling_rate=0.0,
    )
    run = Run(tmp_path / "run", settings)
    try:
        run.run(max_individuals=2)
        batch = RatingTask(run.task).batch(candidates_from(run.archive), n=2)
        assert batch["input"]["kind"] == "text" and len(batch["input"]["text"]) == 16
        assert all(c["output"]["kind"] == "text" for c in batch["candidates"])
        assert all(
            len(c["output"]["text"].encode(errors="replace")) > 0 for c in batch["candidates"]
        )
    finally:
        run.close()


def test_ratings_move_fitness_by_their_weight(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data)))
    try:
        run.run(max_individuals=4)
        a, b = run.members[0].record, run.members[1].record
        before = {m.record.id: m.record.fitness for m in run.members}
        people = Archive(tmp_path / "run", create=False, lock=False)  # like `openbrains rate`
        try:
            people.add_ratings([(a.id, "val:0", 10, "", "x"), (b.id, "val:0", 0, "", "x")] * 2)
        finally:
            people.close()
        run.poll_feedback()
        assert run.ratings.total == 4
        assert {m.record.id: m.record.fitness for m in run.members} == before  # weight 0
        run.update(rating_weight=0.5)
        run._drain_calls()
        mean = 5.0  # two 10s and two 0s
        estimates = {a.id: (20 + mean * 3) / (2 + 3), b.id: (0 + mean * 3) / (2 + 3)}
        for rec in (a, b):  # the task part became (1 − w)·accuracy + w·rating/10
            moved = mix("accuracy", rec.val_metric, estimates[rec.id], 0.5) - rec.val_metric
            assert rec.fitness - before[rec.id] == pytest.approx(moved)
        stored = Archive(tmp_path / "run", readonly=True)
        try:
            assert stored.get(a.id).fitness == pytest.approx(a.fitness)
        finally:
            stored.close()
        # a child of the well-rated member starts from its parent's standing
        assert run.scorer.rating(0, [a.id]) > run.ratings.mean > run.scorer.rating(0, [b.id])
        run.run(max_individuals=run.births + 3)  # the loop goes on with ratings in the fitness
        assert run.archive.count() == 7
    finally:
        run.close()


def test_openbrains_rate_reads_scores_from_stdin(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    run = Run(tmp_path / "run", RunSettings(**fd.images_settings(data)))
    try:
        run.run(max_individuals=4)
    finally:
        run.close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "openbrains",
            "rate",
            str(tmp_path / "run"),
            "--n",
            "3",
            "--seed",
            "1",
            "--data",  # a run started by a script, not recorded in the trust list
            str(data),
        ],
        cwd=ROOT,
        input="8\nnope\n2\n\n",  # a bad answer is asked again; an empty line skips
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "stored 2 ratings" in out.stdout and "@" in out.stdout  # ASCII art of the input
    assert "a number from 0 to 10" in out.stderr
    pngs = list((tmp_path / "run" / "rated").rglob("input.png"))
    assert len(pngs) == 1
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        ratings = archive.ratings()
        assert [r.score for r in ratings] == [8.0, 2.0]
        assert len({r.batch for r in ratings}) == 1 and ratings[0].input_id.startswith("val:")
        assert preference_pairs(ratings) == [(ratings[0].individual, ratings[1].individual)]
    finally:
        archive.close()
    assert status_of(tmp_path / "run")["ratings"] == 2
    bad = subprocess.run(
        [sys.executable, "-m", "openbrains", "rate", str(tmp_path / "nothing")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
