"""``--teach rate``: the teacher rates candidates' outputs the way a person does with the
rating sliders (0..10, several candidates side by side on one validation input), and the
scores are stored as ratings whose rater is ``teacher:<identity>``. The rating book counts
a teacher's rating as ``teacher_weight`` of a person's (``engine.tasks.rating``), so people
always have the last word."""

from __future__ import annotations

import random
from typing import Any

from openbrains.engine.store import Archive
from openbrains.engine.teachers.answers import Case, Score
from openbrains.engine.teachers.cache import question_key
from openbrains.engine.teachers.session import TeacherSession

RATER_PREFIX = "teacher:"


def rater_name(session: TeacherSession) -> str:
    return RATER_PREFIX + session.teacher.identity


def rate_round(
    session: TeacherSession,
    task: Any,
    archive: Archive,
    n: int = 3,
    rng: random.Random | None = None,
) -> list[int]:
    """One side-by-side round: ``n`` living candidates answer one validation input, the
    teacher scores each; returns the ids of the stored ratings (none when there is nothing
    to rate yet or the teacher did not answer)."""
    from openbrains.engine.tasks.rating import RatingTask, candidates_from

    candidates = candidates_from(archive)
    if not candidates:
        return []
    rating = RatingTask(task, rng=rng or random.Random())
    batch = rating.batch(candidates, n)
    index = int(str(batch["input_id"]).split(":")[1])
    x = task.val.inputs[task.input_names[0]][index : index + 1]
    cases = [
        Case(
            batch["input"],
            c["output"],
            task.name,
            task.kind,
            tuple(task.classes or ()),
            encoded=x,
        )
        for c in batch["candidates"]
    ]
    answers = session.ask(
        question_key("rate", task.name),
        cases,
        lambda c: c.digest,
        lambda chunk: session.teacher.rate(chunk),
    )
    rows = [
        (int(c["individual"]), str(batch["input_id"]), a.score, rater_name(session), batch["batch"])
        for c, a in zip(batch["candidates"], answers)
        if isinstance(a, Score)
    ]
    return archive.add_ratings(rows) if rows else []
