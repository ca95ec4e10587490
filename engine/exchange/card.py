"""The model card (``README.md``): YAML front matter the Hub understands, a body for people.

The front matter carries the Hub's keys (``library_name: open-brains``, ``tags``,
``license``, ``base_model``, ``metrics``, ``model-index``) and our own under
``open_brains`` (content id, parameter count, file hashes, scores per task, plan). Read
back, a card is only *claims*: ``pull`` checks each against the brain itself. YAML is read
with ``yaml.safe_load`` (plain data, no tags that build objects) and every value is checked
for its type before use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import FILES, LIBRARY, MAX_CARD_BYTES, TAG
from openbrains.engine.format.identity import is_content_id

_LICENSE = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
_PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class TaskScore:
    """A task the brain learned and how well: its metric on validation and test data."""

    name: str
    metric: str
    validation: float | None = None
    test: float | None = None


@dataclass(frozen=True)
class PlanRef:
    """The training plan a result was made by: its id, version and the sha256 of its file."""

    id: str
    version: int
    sha256: str


@dataclass(frozen=True)
class Card:
    """What a published brain says about itself."""

    name: str
    content_id: str
    params: int
    modality: str
    tasks: tuple[TaskScore, ...]
    files: dict[str, str]  # file name (one of layout.FILES) → sha256
    license: str = "unknown"
    base_models: tuple[str, ...] = ()  # parents on the Hub, as repo ids
    parents: tuple[str, ...] = ()  # other known parents (a folder, a content id)
    lineage: str = ""  # one line for people: where in which run it was born
    plan: PlanRef | None = None
    published: str = ""  # ISO 8601, UTC
    nodes: int = 0
    description: str = ""
    body: str = field(default="", compare=False)  # the text after the front matter

    @property
    def task(self) -> TaskScore | None:
        """The task the brain was last trained on (what a listing shows)."""
        return self.tasks[-1] if self.tasks else None

    def tags(self) -> list[str]:
        out = [TAG]
        out += [f"task:{t.name}" for t in self.tasks]
        out.append(f"modality:{self.modality}")
        if self.plan is not None:
            out.append(f"plan:{self.plan.id}")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` and the window."""
        return {
            "name": self.name,
            "content_id": self.content_id,
            "params": self.params,
            "modality": self.modality,
            "tasks": [t.__dict__ for t in self.tasks],
            "files": dict(self.files),
            "license": self.license,
            "base_models": list(self.base_models),
            "parents": list(self.parents),
            "lineage": self.lineage,
            "plan": None if self.plan is None else self.plan.__dict__,
            "published": self.published,
            "nodes": self.nodes,
            "description": self.description,
        }


def check_license(value: str) -> str:
    """A licence as the Hub names them (``mit``, ``apache-2.0``, ``cc-by-4.0``, ``unknown``…)."""
    if not isinstance(value, str) or not _LICENSE.match(value):
        raise ExchangeError(
            f"licence {value!r} is not a licence identifier such as mit, apache-2.0, "
            "cc-by-4.0, cc0-1.0 or other"
        )
    return value


# ----- writing --------------------------------------------------------------------------


def front_matter(card: Card) -> dict[str, Any]:
    """The YAML front matter as a dict (keys in the order they are written)."""
    ours: dict[str, Any] = {
        "name": card.name,
        "content_id": card.content_id,
        "params": card.params,
        "nodes": card.nodes,
        "modality": card.modality,
        "files": dict(sorted(card.files.items())),
        "tasks": {
            t.name: {"metric": t.metric, "validation": t.validation, "test": t.test}
            for t in card.tasks
        },
        "published": card.published,
    }
    if card.parents:
        ours["parents"] = list(card.parents)
    if card.lineage:
        ours["lineage"] = card.lineage
    if card.plan is not None:
        ours["plan"] = dict(card.plan.__dict__)
    if card.description:
        ours["description"] = card.description
    front: dict[str, Any] = {
        "library_name": LIBRARY,
        "license": card.license,
        "tags": card.tags(),
    }
    if card.base_models:
        front["base_model"] = list(card.base_models)
    front["metrics"] = sorted({t.metric for t in card.tasks})
    front["model-index"] = [{"name": card.name, "results": _results(card)}]
    front["open_brains"] = ours
    return front


def _results(card: Card) -> list[dict[str, Any]]:
    out = []
    for t in card.tasks:
        metrics = [
            {"type": t.metric, "value": value, "name": f"{split} {t.metric}"}
            for split, value in (("test", t.test), ("validation", t.validation))
            if value is not None
        ]
        if metrics:
            out.append(
                {
                    "task": {"type": t.name, "name": t.name},
                    "dataset": {"type": t.name, "name": t.name},
                    "metrics": metrics,
                }
            )
    return out


def render(card: Card, body: str) -> str:
    """The whole README.md: ``---``, the front matter, ``---``, the body."""
    yaml_text = yaml.safe_dump(
        front_matter(card), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return f"---\n{yaml_text}---\n\n{body.rstrip()}\n"


# ----- reading --------------------------------------------------------------------------


def parse(data: bytes, where: str = "README.md") -> Card:
    """A card from README.md bytes; ``ExchangeError`` naming ``where`` and the key at fault."""
    if len(data) > MAX_CARD_BYTES:
        raise ExchangeError(f"{where}: the card is {len(data)} bytes, over {MAX_CARD_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExchangeError(f"{where}: the card is not UTF-8 text") from None
    text = text.replace("\r\n", "\n")
    if not text.startswith("---\n"):
        raise ExchangeError(f"{where}: not an Open Brains card (no YAML front matter)")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise ExchangeError(f"{where}: the YAML front matter has no closing '---'")
    try:
        front = yaml.safe_load(text[4 : end + 1])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 2})" if mark is not None else ""
        raise ExchangeError(f"{where}: the front matter is not valid YAML{at}") from None
    return _card(front, text[end + 5 :].lstrip("\n"), where)


def _card(front: Any, body: str, where: str) -> Card:
    if not isinstance(front, dict):
        raise ExchangeError(f"{where}: the front matter is not a mapping")
    if front.get("library_name") != LIBRARY:
        raise ExchangeError(f"{where}: not an Open Brains card (library_name is not {LIBRARY!r})")
    ours = front.get("open_brains")
    if not isinstance(ours, dict):
        raise ExchangeError(f"{where}: the card has no 'open_brains' section")
    r = _Reader(ours, where)
    cid = r.get("content_id", str)
    if not is_content_id(cid):
        raise ExchangeError(f"{where}: open_brains.content_id is not 64 lowercase hex digits")
    files = r.get("files", dict)
    for name, sha in files.items():
        if name not in FILES or not isinstance(sha, str) or not _SHA.match(sha):
            raise ExchangeError(f"{where}: open_brains.files has a bad entry {name!r}")
    tasks = []
    for name, t in r.get("tasks", dict).items():
        tr = _Reader(t, f"{where}: open_brains.tasks.{name}")
        tasks.append(
            TaskScore(
                str(name),
                tr.get("metric", str),
                tr.number("validation"),
                tr.number("test"),
            )
        )
    license_ = front.get("license", "unknown")
    if not isinstance(license_, str):
        raise ExchangeError(f"{where}: license must be text")
    base = front.get("base_model", [])
    base = [base] if isinstance(base, str) else base
    if not isinstance(base, list) or not all(isinstance(b, str) and _REPO.match(b) for b in base):
        raise ExchangeError(f"{where}: base_model must be Hub repository ids (OWNER/NAME)")
    plan = None
    if "plan" in ours:
        pr = _Reader(ours["plan"], f"{where}: open_brains.plan")
        plan = PlanRef(pr.get("id", str), pr.get("version", int), pr.get("sha256", str))
        if not _PLAN_ID.match(plan.id) or not _SHA.match(plan.sha256) or plan.version < 1:
            raise ExchangeError(f"{where}: open_brains.plan is not a valid plan reference")
    return Card(
        name=r.get("name", str),
        content_id=cid,
        params=r.get("params", int),
        modality=r.get("modality", str),
        tasks=tuple(tasks),
        files={str(k): str(v) for k, v in files.items()},
        license=license_,
        base_models=tuple(base),
        parents=tuple(r.get("parents", list, [])),
        lineage=r.get("lineage", str, ""),
        plan=plan,
        published=str(r.get("published", object, "")),
        nodes=r.get("nodes", int, 0),
        description=r.get("description", str, ""),
        body=body,
    )


class _Reader:
    """Typed access to one mapping of the front matter, with errors naming the key."""

    def __init__(self, d: Any, where: str) -> None:
        if not isinstance(d, dict):
            raise ExchangeError(f"{where}: expected a mapping")
        self.d, self.where = d, where

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.d:
            if default is ...:
                raise ExchangeError(f"{self.where}: missing {key!r}")
            return default
        value = self.d[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise ExchangeError(f"{self.where}: {key!r} has the wrong type")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise ExchangeError(f"{self.where}: {key!r} must be a list of text")
        return value

    def number(self, key: str) -> float | None:
        value = self.d.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ExchangeError(f"{self.where}: {key!r} must be a number")
        return float(value)


def renditions_listed(data: bytes) -> list[str]:
    """The files besides ``README.md`` and ``brain.graph`` that a card's bytes list (what a
    pull downloads with the brain, to check each against its sha256). A card that does not
    parse lists none here; ``pull.verify`` then says what is wrong with it."""
    try:
        card = parse(data)
    except ExchangeError:
        return []
    return [n for n in FILES if n in card.files and n not in ("README.md", "brain.graph")]
