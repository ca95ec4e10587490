"""A teacher at work on a run: answers come from the cache first, the rest are asked in
batches, every batch's answers are stored as soon as they arrive, and a teacher that stops
answering is marked down after a few failures (or at once when asking again is useless)
while the run goes on with what it has.

``status()`` is what the window's run bar and ``openbrains status`` show: the spec, the
role, the state, how many answers are cached and how many were asked, hit or skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from openbrains.engine.teachers.answers import Answer, Skip
from openbrains.engine.teachers.base import Teacher
from openbrains.engine.teachers.cache import AnswerCache
from openbrains.engine.teachers.errors import TeacherDown

T = TypeVar("T")
MAX_FAILURES = 3  # failed batches in a row before the teacher is taken for down
Log = Callable[[str, str], None]  # (level "info"|"skip"|"error", one line)


@dataclass
class TeacherStatus:
    """What a person sees of a teacher at work."""

    spec: str
    role: str
    state: str = "ready"  # ready | asking | idle | down
    message: str = ""
    cached: int = 0  # answers of this teacher in the run archive
    asked: int = 0  # inputs sent to the teacher this session
    hits: int = 0  # inputs answered from the cache this session
    skipped: int = 0  # answers that could not be used (logged)
    requests: int = 0  # HTTP requests sent (openai: teachers)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TeacherSession:
    def __init__(
        self,
        teacher: Teacher,
        role: str,
        cache: AnswerCache | None = None,
        log: Log | None = None,
        max_failures: int = MAX_FAILURES,
    ) -> None:
        self.teacher = teacher
        self.role = role
        self.cache = cache
        self.log = log or (lambda level, line: None)
        self.max_failures = max_failures
        self.failures = 0
        self.lock = threading.Lock()
        self._status = TeacherStatus(teacher.describe(), role)
        self._refresh_cached()

    @property
    def down(self) -> bool:
        return self._status.state == "down"

    def status(self) -> TeacherStatus:
        with self.lock:
            self._status.requests = int(getattr(self.teacher, "requests", 0))
            return TeacherStatus(**asdict(self._status))

    def ask(
        self,
        question: str,
        items: Sequence[T],
        digest: Callable[[T], str],
        fn: Callable[[list[T]], list[Answer]],
    ) -> list[Answer | None]:
        """An answer per item (``None``: the teacher is down and never answered it)."""
        keys = [digest(it) for it in items]
        got: dict[str, Answer] = (
            self.cache.get(self.teacher.identity, question, keys) if self.cache else {}
        )
        # each distinct input is asked once, even if it appears twice in ``items``
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in got:
                first.setdefault(k, i)
        todo = list(first.values())
        with self.lock:
            self._status.hits += sum(k in got for k in keys)
        size = max(1, int(self.teacher.batch_size))
        for start in range(0, len(todo), size):
            if self.down:
                break
            batch = todo[start : start + size]
            self._set_state("asking")
            try:
                answers = fn([items[i] for i in batch])
            except TeacherDown as exc:
                self._failed(exc)
                continue
            if len(answers) != len(batch):  # a teacher bug must not shift answers onto inputs
                answers = [Skip("the teacher gave a wrong number of answers")] * len(batch)
            self.failures = 0
            fresh = {keys[i]: a for i, a in zip(batch, answers)}
            got.update(fresh)
            if self.cache is not None:
                self.cache.put(self.teacher.identity, question, fresh)
            with self.lock:
                self._status.asked += len(batch)
                self._status.skipped += sum(isinstance(a, Skip) for a in answers)
            for a in answers:
                if isinstance(a, Skip):
                    self.log("skip", f"teacher skipped an input: {a.reason}")
        if not self.down:
            self._set_state("idle")
        self._refresh_cached()
        return [got.get(k) for k in keys]

    # ----- internals -----------------------------------------------------------------
    def _failed(self, exc: TeacherDown) -> None:
        self.failures += 1
        if exc.fatal or self.failures >= self.max_failures:
            with self.lock:
                self._status.state, self._status.message = "down", str(exc)
            self.log(
                "error",
                f"teacher {self.teacher.describe()} is down: {exc}; the run goes on without it",
            )
        else:
            with self.lock:
                self._status.message = str(exc)
            self.log("error", f"teacher {self.teacher.describe()} did not answer: {exc}")

    def _set_state(self, state: str) -> None:
        with self.lock:
            if self._status.state != "down":
                self._status.state = state
                if state == "idle":
                    self._status.message = ""

    def _refresh_cached(self) -> None:
        n = self.cache.count(self.teacher.identity) if self.cache else 0
        with self.lock:
            self._status.cached = n
