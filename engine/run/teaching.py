"""A teacher beside a run (engine.teachers): the run's side of it.

The order comes from the user's hands only (the command line, the window's dialog) and is
never stored in the run's settings, so a run folder cannot name code or a server to use.
``Teaching`` holds the ``TeacherWork`` (which works in its own thread), swaps it between
jobs, and tells the feedback path what a distilling teacher changes: the genes its graphs
carry (α and T), the soft targets on the training split, and what workers must load.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openbrains.engine.run.loop import Run
    from openbrains.engine.teachers.work import TeacherOrder, TeacherWork

FIRST_ANSWERS_S = 120.0  # the first candidates wait this long for a teacher's first round


class Teaching:
    """The run's teacher, if any, and which of its soft targets the run's task carries."""

    def __init__(self, run: Run, order: TeacherOrder | None) -> None:
        self.run = run
        self.work: TeacherWork | None = self._open(order) if order is not None else None
        self.version = 0  # the teacher's soft targets the task carries now
        self.looping = False  # the run's loop is going: a swap waits for call_soon

    def _open(self, order: TeacherOrder) -> TeacherWork:
        """The teacher for ``order``, checked against this run's task (``TeacherError``)."""
        from openbrains.engine.teachers.work import TeacherWork

        run = self.run
        return TeacherWork(order, run.run_dir, run.feedback.base_task, run.plan, run.on_event)

    # ----- what the loop asks ---------------------------------------------------------
    def genes(self) -> dict[str, Any]:
        """Genes the run's graphs carry because of this teacher (α and T when distilling)."""
        return self.work.genes() if self.work is not None else {}

    def spec_extra(self) -> dict[str, Any]:
        """What the workers' task spec needs to read the soft targets (once there are)."""
        return self.work.spec_extra() if self.work is not None else {}

    def fresh(self) -> bool:
        """New soft targets since the task last took them (or the teacher changed)."""
        now = self.work.soft_version if self.work is not None else 0
        return now != self.version

    def teach(self, task: Any) -> Any:
        """``task`` with this teacher's soft targets; without a distilling teacher, without
        any (an old teacher's targets leave with it)."""
        self.version = self.work.soft_version if self.work is not None else 0
        if self.work is not None and self.work.distilling and self.version:
            return self.work.teach(task)
        train = getattr(task, "train", None)
        if getattr(train, "soft", None) is None and getattr(task, "teacher", None) is None:
            return task
        return dataclasses.replace(task, train=dataclasses.replace(train, soft=None), teacher=None)

    def status(self) -> dict[str, Any] | None:
        return self.work.status() if self.work is not None else None

    # ----- the loop's life ------------------------------------------------------------
    def start(self) -> None:
        """The loop starts: the teacher starts working, and its first round (labels, pairs,
        a brain's soft targets) is waited for, up to ``FIRST_ANSWERS_S`` or until the run
        is stopped, so the first candidates train on what it gives."""
        self.looping = True
        if self.work is None:
            return
        self.work.start()
        deadline = time.monotonic() + FIRST_ANSWERS_S
        while not self.work.wait_first(timeout=0.2):
            if self.run.stop_event.is_set() or time.monotonic() >= deadline:
                break

    def stopped(self) -> None:
        self.looping = False

    def close(self) -> None:
        if self.work is not None:
            self.work.stop()

    def use(self, order: TeacherOrder | None) -> dict[str, Any] | None:
        """Put a teacher to work on this run (or, with None, send it home). The order is
        checked and the teacher opened here, so a bad one raises in the caller's thread
        (``TeacherError``, one line); the swap itself happens between jobs."""
        work = self._open(order) if order is not None else None

        def apply() -> None:
            if self.work is not None:
                self.work.stop()
            self.work = work
            self.version = -1  # the task takes (or drops) targets at the next poll
            if work is not None and self.looping:
                work.start()
            self.run.on_event("teacher", work.status() if work is not None else {})

        if self.looping:
            self.run.call_soon(apply)
        else:
            apply()
        return work.status() if work is not None else None
