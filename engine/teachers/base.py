"""The one interface every teacher kind implements.

A teacher answers questions about a batch of inputs; each answer is a typed value or a
``Skip`` with the reason (one bad input never spoils the batch). A teacher that cannot
play a role says so with a ``TeacherError`` before the run starts (``check``), and one
that stops answering raises ``TeacherDown``, which the session turns into a logged skip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from openbrains.engine.teachers.answers import Answer, Case, Item, Label, Skip, Soft
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.spec import TeacherSpec

LABEL_FLOOR = 1e-4  # the probability a label-only teacher leaves for every other class


class Teacher:
    """Base of the kinds. ``identity`` keys the cache: two teachers with one identity
    would answer alike (same model at the same server, same file content)."""

    spec: TeacherSpec
    identity: str
    roles: tuple[str, ...] = ()
    batch_size: int = 16  # inputs per ask (a brain takes many, an API one per request)

    def describe(self) -> str:
        return str(self.spec)

    def check(self, role: str, task: object) -> None:
        """Raise ``TeacherError`` if this teacher cannot play ``role`` on ``task``."""
        if role not in self.roles:
            can = ", ".join(self.roles) or "nothing"
            raise TeacherError(f"a {self.spec.kind}: teacher cannot {role} (it can {can})")

    # ----- the questions (subclasses implement the ones in ``roles``) -----------------
    def label(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        """A ``Label`` (a class of ``classes`` with a confidence 0..1) per item."""
        raise TeacherError(f"a {self.spec.kind}: teacher cannot label")

    def soft(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        """``Soft`` log-probabilities over ``classes`` per item (distillation targets).
        By default from ``label``: the confidence on the label, the rest spread evenly."""
        return [soft_from_label(a, classes) for a in self.label(items, classes)]

    def respond(self, prompts: Sequence[str], max_chars: int) -> list[Answer]:
        """A ``Reply`` per prompt (call-and-response pairs)."""
        raise TeacherError(f"a {self.spec.kind}: teacher cannot write responses")

    def rate(self, cases: Sequence[Case]) -> list[Answer]:
        """A ``Score`` 0..10 per candidate output, as a person would give on the slider."""
        raise TeacherError(f"a {self.spec.kind}: teacher cannot rate")

    def tag(self, texts: Sequence[str], classes: Sequence[str]) -> list[Answer]:
        """Per text someone typed: a ``Label`` of ``classes`` (its intent) when classes are
        given, else a ``Score`` 0..10 (its sentiment: 0 displeased, 10 delighted)."""
        raise TeacherError(f"a {self.spec.kind}: teacher cannot tag")

    def close(self) -> None:
        """Release what the teacher holds (a session, a model in memory)."""


def soft_from_label(answer: Answer, classes: Sequence[str]) -> Answer:
    """A label with confidence p as log-probabilities: p on it, (1 − p) shared by the rest."""
    if not isinstance(answer, Label):
        return answer
    k = len(classes)
    p = min(1.0 - LABEL_FLOOR, max(LABEL_FLOOR, answer.confidence))
    rest = max(LABEL_FLOOR, (1.0 - p) / max(1, k - 1))
    return Soft(tuple(math.log(p if c == answer.label else rest) for c in classes))


def label_from_soft(answer: Answer, classes: Sequence[str]) -> Answer:
    """The most likely class of soft targets, with its probability as the confidence."""
    if not isinstance(answer, Soft):
        return answer
    probs = [math.exp(v) for v in answer.logits]
    total = sum(probs) or 1.0
    best = max(range(len(probs)), key=probs.__getitem__)
    return Label(classes[best], probs[best] / total)


def skip_all(n: int, reason: str) -> list[Answer]:
    return [Skip(reason) for _ in range(n)]
