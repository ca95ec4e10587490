"""``--teach tag``: the teacher reads what people typed to a live brain (recorded
interactions, ``engine.interactions``), so plain use teaches without sliders:

- on a classification task that reads text, a message's *intent* (one of the task's
  classes) makes it a labelled training sample, with its origin, like a recording;
- otherwise a message's *sentiment* (0 displeased … 10 delighted) is taken as the person's
  reaction to the answer just before it in the same live session, and becomes a rating of
  the brain that gave that answer (rater ``teacher:<identity>``, weighted like the
  teacher's other ratings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openbrains.engine.interactions import Interaction
from openbrains.engine.record import pack_text
from openbrains.engine.store import Archive
from openbrains.engine.teachers.answers import Label, Score
from openbrains.engine.teachers.cache import question_key
from openbrains.engine.teachers.roles.label import DEFAULT_MIN_CONFIDENCE, ORIGIN, stored_items
from openbrains.engine.teachers.roles.rate import rater_name
from openbrains.engine.teachers.session import TeacherSession

REACTION_WINDOW_S = 600.0  # a message this long after an answer no longer reacts to it


@dataclass
class TagReport:
    messages: int = 0
    labels: int = 0
    ratings: int = 0
    skipped: int = 0

    def line(self) -> str:
        return (
            f"teacher tags: {self.messages} messages, {self.labels} labels, "
            f"{self.ratings} ratings, {self.skipped} skipped"
        )


def intent_classes(task: Any, plan: dict[str, Any]) -> list[str]:
    """The classes an intent may take: a classification task that learns from text has
    them; any other task learns from sentiment (an empty list)."""
    if getattr(task, "kind", "") == "classification" and plan.get("modality") == "text":
        return list(task.classes)
    return []


def tag_interactions(
    session: TeacherSession,
    task: Any,
    plan: dict[str, Any],
    archive: Archive,
    new: Sequence[Interaction],
    before: Interaction | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> TagReport:
    """Tag ``new`` interactions (``before``: the one just before them, whose answer the
    first may react to) and store the labels or ratings they give."""
    report = TagReport(messages=len(new))
    classes = intent_classes(task, plan)
    items = [m for m in new if m.text.strip()]
    answers = session.ask(
        question_key("tag", classes),
        items,
        lambda m: question_key("message", m.text),
        lambda batch: session.teacher.tag([m.text for m in batch], classes),
    )
    labels, ratings = [], []
    have = stored_items(archive) if classes else set()
    previous = {m.id: p for p, m in zip([before, *new], new)}
    for m, a in zip(items, answers):
        if classes and isinstance(a, Label) and a.confidence >= min_confidence:
            digest = question_key("message", m.text)
            if digest in have:
                continue
            data, meta = pack_text(m.text)
            meta |= {
                "origin": ORIGIN,
                "teacher": session.teacher.describe(),
                "teacher_id": session.teacher.identity,
                "confidence": round(a.confidence, 4),
                "interaction": m.id,
                "item": digest,
            }
            labels.append((a.label, "text", data, meta))
        elif not classes and isinstance(a, Score):
            answered = previous.get(m.id)
            if (
                answered is not None
                and answered.session == m.session
                and m.time - answered.time <= REACTION_WINDOW_S
            ):
                ratings.append(
                    (
                        answered.individual,
                        f"live:{answered.id}",
                        a.score,
                        rater_name(session),
                        "tag",
                    )
                )
            else:
                report.skipped += 1
        else:
            report.skipped += 1
    if labels:
        report.labels = len(archive.add_samples(labels, split="train"))
    if ratings:
        ratings = [r for r in ratings if _exists(archive, r[0])]
        report.ratings = len(archive.add_ratings(ratings)) if ratings else 0
    return report


def _exists(archive: Archive, individual: int) -> bool:
    return (
        archive.db.execute("SELECT 1 FROM individuals WHERE id=?", (individual,)).fetchone()
        is not None
    )
