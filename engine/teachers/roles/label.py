"""``--teach label``: the teacher labels the files of ``--unlabelled DIR``; labels it is
sure enough of (confidence ≥ ``min_confidence``) join the run's training data as samples
whose ``meta.origin`` names the teacher, the confidence and the file, so every label in the
archive says where it came from. Teacher labels go to training only: validation and test
stay what people labelled, so scores still measure the truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openbrains.engine.store import Archive
from openbrains.engine.teachers.answers import Item, Label, Skip
from openbrains.engine.teachers.cache import question_key
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.session import TeacherSession

DEFAULT_MIN_CONFIDENCE = 0.8
ORIGIN = "teacher"


@dataclass
class LabelReport:
    files: int = 0
    kept: int = 0  # labelled with enough confidence
    unsure: int = 0  # left out: confidence below the bar
    skipped: int = 0  # the teacher's answer was not a label of the task
    unanswered: int = 0  # the teacher was down
    stored: int = 0  # new samples in the archive (kept minus those stored before)

    def line(self) -> str:
        return (
            f"teacher labels: {self.kept} of {self.files} files kept, {self.unsure} unsure, "
            f"{self.skipped} skipped, {self.unanswered} unanswered; {self.stored} new samples"
        )


def check_task(task: Any) -> list[str]:
    """The classes a label may take; a task without classes cannot be labelled."""
    if getattr(task, "kind", "") != "classification" or not getattr(task, "classes", None):
        raise TeacherError(
            f"--teach label needs a classification task; {getattr(task, 'name', '?')!r} is "
            f"{getattr(task, 'kind', '?')}"
        )
    return list(task.classes)


def label_items(
    session: TeacherSession,
    items: Sequence[Item],
    classes: Sequence[str],
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> tuple[list[tuple[Item, Label]], LabelReport]:
    """Ask for a label of every item (the cache answers what was asked before)."""
    report = LabelReport(files=len(items))
    question = question_key("label", classes)
    answers = session.ask(
        question,
        list(items),
        lambda it: it.digest,
        lambda batch: session.teacher.label(batch, classes),
    )
    kept: list[tuple[Item, Label]] = []
    for item, answer in zip(items, answers):
        if answer is None:
            report.unanswered += 1
        elif isinstance(answer, Label) and answer.label in classes:
            if answer.confidence >= min_confidence:
                kept.append((item, answer))
            else:
                report.unsure += 1
        else:
            report.skipped += 1
            if not isinstance(answer, Skip):
                session.log("skip", f"teacher gave {type(answer).__name__} for a label")
    report.kept = len(kept)
    return kept, report


def stored_items(archive: Archive) -> set[str]:
    """Digests of the items a teacher already added as samples (never added twice)."""
    return {
        str(s.meta.get("item"))
        for s in archive.samples(with_data=False)
        if s.meta.get("origin") == ORIGIN and s.meta.get("item")
    }


def store_labels(
    archive: Archive, session: TeacherSession, kept: Sequence[tuple[Item, Label]]
) -> list[int]:
    """The kept labels as training samples with their origin; returns the new sample ids."""
    have = stored_items(archive)
    rows = []
    for item, label in kept:
        if item.digest in have:
            continue
        have.add(item.digest)
        meta = {
            **item.meta,
            "origin": ORIGIN,
            "teacher": session.teacher.describe(),
            "teacher_id": session.teacher.identity,
            "confidence": round(float(label.confidence), 4),
            "file": item.source,
            "item": item.digest,
        }
        rows.append((label.label, item.modality, item.data, meta))
    return archive.add_samples(rows, split="train") if rows else []
