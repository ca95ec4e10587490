"""A teacher at work beside a run (``openbrains run ... --teacher SPEC --teach ROLE``).

``TeacherOrder`` is what the user asked for on the command line or in the window's teacher
dialog; it is kept in memory only and never stored as settings, so a run folder can never
make a teacher run (DESIGN §12.1). ``TeacherWork`` opens the teacher, then works in a
background thread with its own connection to the run archive, the way a person recording
or rating does: labels and pairs become samples, ratings and tags become ratings, soft
targets go into the answer cache. The run picks all of it up between births through the
paths it already has for recordings and ratings, so the run loop only has to ask
``soft_version`` (distillation) and ``status()`` (the run bar). Anything that goes wrong
is a logged line and a status, never an exception in the run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.recorded import SOFT_KEY
from openbrains.engine.store import Archive
from openbrains.engine.teachers import HttpPolicy, TeacherSpec, check_role, open_teacher
from openbrains.engine.teachers.base import Teacher
from openbrains.engine.teachers.brain import BrainTeacher
from openbrains.engine.teachers.cache import AnswerCache
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.roles.label import DEFAULT_MIN_CONFIDENCE
from openbrains.engine.teachers.session import TeacherSession

EventSink = Callable[[str, dict[str, Any]], None]
RESCAN_S = 60.0  # label/pairs: look for new files or prompts this often
TAG_POLL_S = 5.0  # tag: look for new interactions this often
TAG_SEEN_KEY = "teacher_tagged"  # archive meta: the newest interaction tagged, per teacher


@dataclass(frozen=True)
class TeacherOrder:
    """What the user asked of a teacher (their own hands only; never read from a file)."""

    spec: str
    role: str
    key_env: str = ""
    unlabelled: str = ""  # label: a folder of files
    prompts: str = ""  # pairs: a file of prompts, one per line
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    rate_every_s: float = 30.0
    rate_n: int = 3
    timeout_s: float = 60.0
    requests_per_s: float = 4.0

    def checked(self) -> TeacherOrder:
        """This order if it is complete, else a ``TeacherError`` naming what is missing."""
        TeacherSpec.parse(self.spec, self.key_env).key()  # the named variable must be set
        role = check_role(self.role)
        if role == "label" and not self.unlabelled:
            raise TeacherError("--teach label needs --unlabelled DIR (the files to label)")
        if role == "pairs" and not self.prompts:
            raise TeacherError("--teach pairs needs --prompts FILE (one prompt per line)")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise TeacherError("--teacher-min-confidence is a number from 0 to 1")
        return self

    def policy(self) -> HttpPolicy:
        rate = max(0.01, float(self.requests_per_s))
        return HttpPolicy(timeout_s=float(self.timeout_s), min_interval_s=1.0 / rate)

    def describe(self) -> dict[str, Any]:
        """What the run bar and the archive's log show (the key is never in an order)."""
        return {"spec": self.spec, "role": self.role}


@dataclass
class SoftInfo:
    """What a worker needs to read soft targets from the cache: data, not code."""

    run_dir: str
    identity: str
    question: str
    raw: bool
    version: int = 0
    online: str = ""  # a brain teacher's spec: workers also ask it on each augmented batch

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class TeacherWork:
    """Opens the teacher for ``order`` on ``task`` (``TeacherError``: it cannot teach this
    run) and, once ``start``ed, works in its own thread until ``stop``."""

    def __init__(
        self,
        order: TeacherOrder,
        run_dir: Path,
        task: Any,
        plan: dict[str, Any],
        on_event: EventSink | None = None,
    ) -> None:
        self.order = order.checked()
        self.role = check_role(order.role)
        self.run_dir = Path(run_dir)
        self.task = task
        self.plan = plan
        self.on_event = on_event or (lambda kind, data: None)
        self.teacher: Teacher = open_teacher(
            TeacherSpec.parse(order.spec, order.key_env), order.policy()
        )
        try:
            self.teacher.check(self.role, task)
            self._check_role_task()
        except BaseException:
            self.teacher.close()
            raise
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.session: TeacherSession | None = None
        self.soft_version = 0  # bumped when new soft targets are in the cache
        self.first_pass = threading.Event()  # the first round of work is done (or failed)
        self.rng = random.Random(0)
        self._lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _check_role_task(self) -> None:
        from openbrains.engine.teachers.roles import label, pairs

        if self.role == "label":
            label.check_task(self.task)
            if not self.plan.get("ok"):
                raise TeacherError(f"--teach label: {self.plan.get('reason', 'no new examples')}")
            if not Path(self.order.unlabelled).is_dir():
                raise TeacherError(f"--unlabelled {self.order.unlabelled} is not a folder")
        elif self.role == "pairs":
            pairs.check_task(self.task)
            pairs.read_prompts(Path(self.order.prompts))
        elif self.role == "distill" and getattr(self.task, "kind", "") != "classification":
            raise TeacherError(
                f"--teach distill needs a classification task; {self.task.name!r} is "
                f"{self.task.kind}"
            )
        elif self.role == "rate" and getattr(self.task, "kind", "") == "game":
            raise TeacherError(f"task {self.task.name!r} ranks candidates by play, not ratings")

    # ----- control -------------------------------------------------------------------
    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(
                target=self._main, name="openbrains-teacher", daemon=True
            )
            self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=timeout)
        self.teacher.close()

    def status(self) -> dict[str, Any]:
        if self.session is None:
            return {"spec": self.teacher.describe(), "role": self.role, "state": "starting"}
        return self.session.status().to_dict()

    def soft_info(self) -> SoftInfo:
        from openbrains.engine.teachers.roles.distill import question

        return SoftInfo(
            str(self.run_dir.resolve()),
            self.teacher.identity,
            question(self.task.classes),
            raw=not isinstance(self.teacher, BrainTeacher),
            version=self.soft_version,
            online=self.order.spec if isinstance(self.teacher, BrainTeacher) else "",
        )

    # ----- what the run asks between births ------------------------------------------
    @property
    def distilling(self) -> bool:
        return self.role == "distill"

    def genes(self) -> dict[str, Any]:
        """Training genes the run's graphs carry because of this teacher (α and T)."""
        from openbrains.engine.train import genes

        return genes.distilling() if self.distilling else {}

    def spec_extra(self) -> dict[str, Any]:
        """What the workers' task spec needs to read the soft targets (once there are)."""
        if not self.distilling or not self.soft_version:
            return {}
        return {SOFT_KEY: self.soft_info().to_dict()}

    def teach(self, task: Any) -> Any:
        """``task`` with the soft targets on its training split (distillation), else as is."""
        if not self.distilling or not self.soft_version:
            return task
        from openbrains.engine.teachers.roles.distill import with_soft_targets

        return with_soft_targets(task, self.soft_info().to_dict())

    @property
    def worth_waiting(self) -> bool:
        """Whether the run's first candidates should wait for this teacher's first round:
        labels and pairs are data they train on, and a brain answers a data set's soft
        targets in seconds. An API distilling a data set, or a rater, is not waited for."""
        brain = isinstance(self.teacher, BrainTeacher)
        return self.role in ("label", "pairs") or (self.distilling and brain)

    def wait_first(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the first round (see ``worth_waiting``); True when
        there is nothing more to wait for."""
        return not self.worth_waiting or self.first_pass.wait(timeout)

    # ----- the thread ----------------------------------------------------------------
    def _main(self) -> None:
        archive = None
        try:
            archive = Archive(self.run_dir, create=False, lock=False)
            self.session = TeacherSession(
                self.teacher, self.role, AnswerCache(archive), log=self._log
            )
            self._emit()
            step = {
                "label": self._label,
                "pairs": self._pairs,
                "rate": self._rate,
                "tag": self._tag,
                "distill": self._distill,
            }[self.role]
            while not self.stop_event.is_set() and not self.session.down:
                wait = self._guarded(step, archive)
                self._flush_log(archive)
                self.first_pass.set()
                self._emit()
                if self.stop_event.wait(wait):
                    break
        except Exception as exc:  # never take the run down with the teacher
            self._log("error", f"the teacher stopped: {type(exc).__name__}: {exc}")
        finally:
            self.first_pass.set()
            if archive is not None:
                self._flush_log(archive)
                archive.close()
            self._emit()

    def _guarded(self, step: Callable[[Archive], float], archive: Archive) -> float:
        try:
            return step(archive)
        except OpenBrainsError as exc:
            self._log("error", str(exc))
        except (OSError, ValueError, RuntimeError) as exc:
            self._log("error", f"{type(exc).__name__}: {exc}")
        return RESCAN_S

    def _label(self, archive: Archive) -> float:
        from openbrains.engine.teachers.roles import label
        from openbrains.engine.teachers.roles.items import encode_items, read_folder

        assert self.session is not None
        items, problems = read_folder(Path(self.order.unlabelled), self.plan)
        for line in problems:
            self._log("skip", f"unlabelled file skipped: {line}")
        if isinstance(self.teacher, BrainTeacher):
            items = encode_items(self.task, items)
        kept, report = label.label_items(
            self.session, items, self.task.classes, self.order.min_confidence
        )
        report.stored = len(label.store_labels(archive, self.session, kept))
        if report.stored or report.unanswered:
            self._log("info", report.line())
        return RESCAN_S

    def _pairs(self, archive: Archive) -> float:
        from openbrains.engine.teachers.roles import pairs

        assert self.session is not None
        context = pairs.check_task(self.task)
        prompts = pairs.read_prompts(Path(self.order.prompts))
        made, report = pairs.write_pairs(self.session, prompts, context)
        report.stored = len(pairs.store_pairs(archive, self.session, made))
        if report.stored or report.unanswered:
            self._log("info", report.line())
        return RESCAN_S

    def _rate(self, archive: Archive) -> float:
        from openbrains.engine.teachers.roles.rate import rate_round

        assert self.session is not None
        ids = rate_round(self.session, self.task, archive, self.order.rate_n, self.rng)
        if ids:
            self._log("info", f"teacher rated {len(ids)} candidates")
        return max(1.0, float(self.order.rate_every_s)) if ids else 5.0

    def _tag(self, archive: Archive) -> float:
        from openbrains.engine.interactions import interactions
        from openbrains.engine.teachers.roles.tag import tag_interactions

        assert self.session is not None
        seen = dict(archive.get_meta(TAG_SEEN_KEY) or {})
        since = int(seen.get(self.teacher.identity, 0))
        new = interactions(archive, since_id=since)
        if new:
            before = interactions(archive, since_id=max(0, since - 1))[:1] if since else []
            report = tag_interactions(
                self.session,
                self.task,
                self.plan,
                archive,
                new,
                before[0] if before and before[0].id == since else None,
                self.order.min_confidence,
            )
            if not self.session.down:
                seen[self.teacher.identity] = new[-1].id
                archive.set_meta(TAG_SEEN_KEY, seen)
            self._log("info", report.line())
        return TAG_POLL_S

    def _distill(self, archive: Archive) -> float:
        from openbrains.engine.teachers.answers import Soft
        from openbrains.engine.teachers.roles.distill import question
        from openbrains.engine.teachers.roles.items import split_items

        assert self.session is not None
        info = self.soft_info()
        items = split_items(self.task, "train", raw=info.raw)
        answers = self.session.ask(
            question(self.task.classes),
            items,
            lambda it: it.digest,
            lambda batch: self.teacher.soft(batch, self.task.classes),
        )
        answered = sum(isinstance(a, Soft) for a in answers)
        self._log("info", f"teacher soft targets: {answered} of {len(items)} training examples")
        self.soft_version += 1
        self.stop_event.set()  # one pass: the cache now holds what the teacher could give
        return 0.0

    # ----- log and events ------------------------------------------------------------
    def _log(self, level: str, line: str) -> None:
        with self._lock:
            self._lines.append((level, line))
        if level == "error":
            self._send("teacher_error", {"message": line})

    def _flush_log(self, archive: Archive) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        skips = [ln for lv, ln in lines if lv == "skip"]
        for level, line in lines:
            if level != "skip":
                archive.log_event("teacher", {"level": level, "message": line})
        if skips:  # skips can be many: one event with a count and the first few reasons
            archive.log_event("teacher", {"level": "skip", "count": len(skips), "first": skips[:5]})

    def _emit(self) -> None:
        self._send("teacher", self.status())

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        try:
            self.on_event(kind, data)
        except Exception:  # a listener's failure must not stop the teacher (or the run)
            pass
