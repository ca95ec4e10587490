"""``--teach pairs``: the teacher answers the user's prompts (``--prompts FILE``, one per
line); each answer becomes a prompt → response pair of the run's call-and-response task,
stored as a training sample with its origin like a recording."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.record import RecordError, pack_pair
from openbrains.engine.store import Archive
from openbrains.engine.teachers.answers import Reply
from openbrains.engine.teachers.cache import question_key
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.roles.label import ORIGIN, stored_items
from openbrains.engine.teachers.session import TeacherSession

CONTROL = (b"\x02", b"\x03")


@dataclass
class PairsReport:
    prompts: int = 0
    answered: int = 0
    skipped: int = 0
    unanswered: int = 0
    stored: int = 0

    def line(self) -> str:
        return (
            f"teacher pairs: {self.answered} of {self.prompts} prompts answered, "
            f"{self.skipped} skipped, {self.unanswered} unanswered; {self.stored} new pairs"
        )


def check_task(task: Any) -> int:
    """The task's context in bytes; only call-and-response tasks take pairs."""
    context = int((getattr(task, "settings", None) or {}).get("context") or 0)
    if not hasattr(task, "pairs") or context < 2:
        raise TeacherError(
            f"--teach pairs is for call-and-response tasks (--task callresponse); "
            f"{getattr(task, 'name', '?')!r} is not one"
        )
    return context


def read_prompts(path: Path) -> list[str]:
    """One prompt per non-empty line of a UTF-8 file (or of every .txt file of a folder)."""
    path = Path(path)
    if not path.exists():
        raise TeacherError(f"--prompts {path} does not exist")
    files = sorted(path.rglob("*.txt")) if path.is_dir() else [path]
    prompts: list[str] = []
    for f in files:
        try:
            text = f.read_bytes().decode("utf-8-sig")
        except OSError as exc:
            raise TeacherError(f"cannot read {f}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise TeacherError(f"--prompts {f} is not UTF-8 text ({exc.reason})") from None
        for line in text.splitlines():
            line = line.strip()
            if line and not any(c.decode() in line for c in CONTROL):
                prompts.append(line)
    prompts = list(dict.fromkeys(prompts))
    if not prompts:
        raise TeacherError(f"--prompts {path} holds no prompts (one per line)")
    return prompts


def room_for(prompt: str, context: int) -> int:
    """Bytes a response may take so that it fits the context with some of its prompt."""
    return max(1, min(context - 1, context - 2 - len(prompt.encode("utf-8")) // 2))


def write_pairs(
    session: TeacherSession, prompts: Sequence[str], context: int
) -> tuple[list[tuple[str, str]], PairsReport]:
    report = PairsReport(prompts=len(prompts))
    by_room: dict[int, list[str]] = {}
    for p in prompts:
        by_room.setdefault(room_for(p, context), []).append(p)
    got: dict[str, Reply] = {}
    for room, group in by_room.items():
        answers = session.ask(
            question_key("pairs", str(room)),
            group,
            lambda p: question_key("prompt", p),
            lambda batch, room=room: session.teacher.respond(batch, room),
        )
        for p, a in zip(group, answers):
            if a is None:
                report.unanswered += 1
            elif isinstance(a, Reply) and a.text and len(a.text.encode()) + 1 <= context:
                got[p] = a
            else:
                report.skipped += 1
    pairs = [(p, got[p].text) for p in prompts if p in got]
    report.answered = len(pairs)
    return pairs, report


def store_pairs(
    archive: Archive, session: TeacherSession, pairs: Sequence[tuple[str, str]]
) -> list[int]:
    have = stored_items(archive)
    rows = []
    for prompt, response in pairs:
        digest = question_key("pair", prompt, response)
        if digest in have:
            continue
        have.add(digest)
        try:
            data, meta = pack_pair(prompt, response)
        except RecordError as exc:
            session.log("skip", f"teacher pair left out: {exc}")
            continue
        meta |= {
            "origin": ORIGIN,
            "teacher": session.teacher.describe(),
            "teacher_id": session.teacher.identity,
            "item": digest,
        }
        rows.append(("pair", "pair", data, meta))
    return archive.add_samples(rows, split="train") if rows else []
