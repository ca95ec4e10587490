"""Never ask twice: every answer a teacher gave is kept in the run archive, keyed by the
teacher's identity, the question (role and what it depends on, such as the class list)
and the input's digest, so a resumed or repeated run pays for no answer twice.

The table lives in the run's ``run.sqlite`` beside what people gave the run (samples,
ratings) and belongs to this module. A ``Skip`` is kept too (a model that answered with
something that is not a label would answer it again); a teacher that did not answer at all
(``TeacherDown``) leaves nothing, so it is asked again next time.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence

import orjson

from openbrains.engine.store import Archive
from openbrains.engine.teachers.answers import Answer, from_plain, to_plain

QUESTION_VERSION = 1  # bump when a role's prompt changes what an answer means

_SCHEMA = """
CREATE TABLE IF NOT EXISTS teacher_answers (
    teacher TEXT NOT NULL,
    question TEXT NOT NULL,
    input TEXT NOT NULL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (teacher, question, input)
);
"""
_CHUNK = 500  # digests per SELECT (SQLite's variable limit is far above)


def question_key(role: str, *parts: Iterable[str] | str) -> str:
    """A short, stable name for a question: the role and a hash of what it depends on."""
    flat = [p if isinstance(p, str) else list(p) for p in parts]
    body = orjson.dumps([QUESTION_VERSION, role, flat], option=orjson.OPT_SORT_KEYS)
    return f"{role}:{hashlib.sha256(body).hexdigest()[:16]}"


class AnswerCache:
    """The answers of one archive (an ``Archive`` opened for writing, or read-only)."""

    def __init__(self, archive: Archive) -> None:
        self.db = archive.db
        self.archive = archive
        self.readonly = not archive.has_table("teacher_answers")
        try:
            self.db.executescript(_SCHEMA)
            self.readonly = False
        except sqlite3.OperationalError:  # a read-only connection: read what is there
            pass

    def get(self, teacher: str, question: str, digests: Sequence[str]) -> dict[str, Answer]:
        if not self.archive.has_table("teacher_answers"):
            return {}
        out: dict[str, Answer] = {}
        unique = list(dict.fromkeys(digests))
        for start in range(0, len(unique), _CHUNK):
            part = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT input, answer FROM teacher_answers WHERE teacher=? AND question=? "
                f"AND input IN ({marks})",
                (teacher, question, *part),
            )
            for digest, answer in rows:
                out[digest] = from_plain(orjson.loads(answer))
        return out

    def put(self, teacher: str, question: str, answers: Mapping[str, Answer]) -> None:
        """Store answers in one transaction (a crash keeps every batch already answered)."""
        if not answers:
            return
        now = time.time()
        rows = [
            (teacher, question, digest, orjson.dumps(to_plain(a)).decode(), now)
            for digest, a in answers.items()
        ]
        with self.archive.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO teacher_answers VALUES (?,?,?,?,?)", rows)

    def count(self, teacher: str | None = None) -> int:
        if not self.archive.has_table("teacher_answers"):
            return 0
        if teacher is None:
            row = self.db.execute("SELECT COUNT(*) FROM teacher_answers").fetchone()
        else:
            row = self.db.execute(
                "SELECT COUNT(*) FROM teacher_answers WHERE teacher=?", (teacher,)
            ).fetchone()
        return int(row[0])
