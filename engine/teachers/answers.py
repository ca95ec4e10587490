"""What a teacher is asked about (``Item``, ``Case``) and what it answers (``Label``,
``Score``, ``Reply``, ``Soft``, or ``Skip`` with the reason). Answers cross a boundary (the
cache in the run archive), so each converts to plain JSON data and back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

SCALE = 10.0  # scores are 0..10, like people's rating sliders


@dataclass(frozen=True)
class Item:
    """One input: raw data in the run archive's sample layout (``engine.recorded``: UTF-8
    text, uint8 RGB ``[h, w, 3]`` with its ``shape``, float32 audio with its ``rate``) for
    language and vision models, and optionally the task's encoding of it (a ``[1, T, C]``
    tensor) for brains. The digest, which keys the cache, is over the raw form only."""

    modality: str
    data: bytes
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    encoded: Any = field(default=None, hash=False, compare=False)
    source: str = field(default="", compare=False)  # where it came from (a file name)

    @property
    def digest(self) -> str:
        head = orjson.dumps([self.modality, self.meta], option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(head + b"\0" + self.data).hexdigest()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace") if self.modality == "text" else ""


@dataclass(frozen=True)
class Case:
    """One output to rate: the input a candidate saw and what it answered, both as the
    plain data the rating panel shows (``engine.tasks.rating.show_input/show_output``)."""

    shown_input: dict[str, Any]
    output: dict[str, Any]
    task: str
    kind: str
    classes: tuple[str, ...] = ()
    encoded: Any = field(default=None, hash=False, compare=False)

    @property
    def digest(self) -> str:
        body = orjson.dumps(
            [self.shown_input, self.output, self.task, self.kind, list(self.classes)],
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Label:
    label: str
    confidence: float


@dataclass(frozen=True)
class Score:
    score: float  # 0..10
    reason: str = ""


@dataclass(frozen=True)
class Reply:
    text: str


@dataclass(frozen=True)
class Soft:
    """Log-probabilities over the task's classes, in the task's class order."""

    logits: tuple[float, ...]


@dataclass(frozen=True)
class Skip:
    """No usable answer for this input (the reason is logged); asking again would not help."""

    reason: str


Answer = Label | Score | Reply | Soft | Skip
_KINDS: dict[str, type] = {
    "label": Label,
    "score": Score,
    "reply": Reply,
    "soft": Soft,
    "skip": Skip,
}


def to_plain(answer: Answer) -> dict[str, Any]:
    kind = next(k for k, t in _KINDS.items() if isinstance(answer, t))
    body = dict(answer.__dict__)
    if isinstance(answer, Soft):
        body["logits"] = list(answer.logits)
    return {"kind": kind, **body}


def from_plain(data: dict[str, Any]) -> Answer:
    """An answer read back from the cache; a row this version cannot read is a ``Skip``."""
    try:
        kind = _KINDS[str(data["kind"])]
        body = {k: v for k, v in data.items() if k != "kind"}
        if kind is Soft:
            return Soft(tuple(float(v) for v in body["logits"]))
        return kind(**body)
    except (KeyError, TypeError, ValueError):
        return Skip(f"unreadable cached answer {str(data)[:60]}")


def label_from(raw: Any, classes: list[str] | tuple[str, ...]) -> Label | Skip:
    """A teacher's ``{"label", "confidence"}`` checked against the task's classes."""
    if not isinstance(raw, dict):
        return Skip(f"the answer is not an object: {str(raw)[:60]!r}")
    label = raw.get("label")
    if not isinstance(label, str):
        return Skip(f"the answer has no label: {str(raw)[:60]!r}")
    label = label.strip()
    if label not in classes:
        folded = {c.lower(): c for c in classes}
        if label.lower() not in folded:
            return Skip(f"{label[:40]!r} is not a label of the task ({', '.join(classes)})")
        label = folded[label.lower()]
    confidence = raw.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return Skip(f"confidence {confidence!r} is not a number")
    if not 0.0 <= float(confidence) <= 1.0:
        return Skip(f"confidence {confidence!r} is not between 0 and 1")
    return Label(label, float(confidence))


def score_from(raw: Any) -> Score | Skip:
    """A teacher's ``{"score", "reason"}`` checked to lie on the 0..10 slider scale."""
    if not isinstance(raw, dict):
        return Skip(f"the answer is not an object: {str(raw)[:60]!r}")
    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        return Skip(f"the answer has no numeric score: {str(raw)[:60]!r}")
    if not 0.0 <= float(score) <= SCALE:
        return Skip(f"score {score!r} is not between 0 and {SCALE:g}")
    return Score(float(score), str(raw.get("reason") or "")[:200])
