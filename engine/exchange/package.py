"""A `.graph` made into the files of a published brain: ``README.md``, ``brain.graph`` and,
when the brain can be exported, ``brain.onnx``.

``brain.graph`` is the user's file, byte for byte (so a pull gives back exactly what was
published); the card states what the file holds, measured from the file itself. Further
renditions of the brain (``brain.onnx``) are produced by the functions in ``RENDITIONS``;
one that cannot be made leaves its file out, and the card says why in one sentence.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.exchange import renditions
from openbrains.engine.exchange.card import Card, PlanRef, TaskScore, check_license
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD, ONNX, check_name
from openbrains.engine.exchange.prose import card_body
from openbrains.engine.format import GraphFile, loads
from openbrains.engine.format.identity import content_id, short
from openbrains.engine.graph import Graph

Rendition = Callable[[str, GraphFile], bytes]
"""Makes one more file of a published brain from the `.graph` (given the brain's published
name); raises ``OpenBrainsError`` (one line) when the brain cannot be rendered so."""

RENDITIONS: tuple[tuple[str, Rendition], ...] = ((ONNX, renditions.onnx_rendition),)
"""Files made besides brain.graph, by name: ``brain.onnx`` through the ONNX exporter."""


@dataclass(frozen=True)
class BrainFacts:
    """What a `.graph` holds, measured from the file (never taken from a card)."""

    content_id: str
    params: int
    nodes: int
    modality: str
    tasks: tuple[TaskScore, ...]
    lineage: str
    units: dict[str, int]  # unit → how many nodes use it


@dataclass(frozen=True)
class PublishRequest:
    """What the user asked to publish, and how (``--name``, ``--license``…)."""

    graph_path: Path
    name: str | None = None
    license: str = "unknown"
    description: str = ""
    base_models: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    plan: PlanRef | None = None
    onnx: bool = True  # also publish brain.onnx (``--no-onnx``: only the .graph)


@dataclass(frozen=True)
class Package:
    """The files of one published brain, ready for a folder or the Hub; ``missing``: the
    renditions left out, each with the one-line reason."""

    name: str
    card: Card
    files: dict[str, bytes]
    missing: dict[str, str] = field(default_factory=dict)


def read_brain(data: bytes, where: str) -> GraphFile:
    """A `.graph` of kind ``graph`` with weights, from bytes; one-line errors otherwise."""
    doc = loads(data, name=where)
    if doc.kind != "graph" or doc.graph is None:
        raise ExchangeError(
            f"{where} is a {doc.kind} file; publish a brain (openbrains export RUN --best -o X.graph)"
        )
    if not doc.weights:
        raise ExchangeError(
            f"{where} holds an untrained graph (no weights); publish a trained brain"
        )
    return doc


def param_count(graph: Graph, weights: dict[str, Any]) -> int:
    """Parameters as the run counts them (the compiled brain's); the number of stored
    numbers when the brain's units are not installed here."""
    from openbrains.engine.compile import compile_graph

    try:
        return compile_graph(graph).param_count()
    except OpenBrainsError:
        return sum(int(t.numel()) for t in weights.values())


def facts(doc: GraphFile) -> BrainFacts:
    graph = doc.graph
    assert graph is not None
    inputs = [str(n.params.get("modality") or "vector") for n in graph.input_nodes()]
    return BrainFacts(
        content_id=content_id(graph, doc.weights),
        params=param_count(graph, doc.weights),
        nodes=len(graph.nodes),
        modality=inputs[0] if inputs else "vector",
        tasks=_tasks(graph),
        lineage=_lineage(graph),
        units=dict(Counter(n.unit for n in graph.nodes.values())),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _tasks(graph: Graph) -> tuple[TaskScore, ...]:
    """Each task the file records, with the score the file records for it (format v2 keeps
    it in the task's record; a top-level ``scores`` entry of the same name is read too)."""
    out: list[TaskScore] = []
    for name, rec in graph.tasks.items():
        s = rec.score if rec.score else graph.scores.get(name)
        s = s if isinstance(s, dict) else {}
        metric = str(s.get("metric") or rec.metric or "score")
        out.append(TaskScore(name, metric, _number(s.get("validation")), _number(s.get("test"))))
    return tuple(out)


def _lineage(graph: Graph) -> str:
    lin = graph.lineage
    if not isinstance(lin, dict) or "id" not in lin:
        return ""
    how = lin.get("mutation") or ("a seed or a fresh graph" if not lin.get("parents") else "")
    text = f"individual #{lin.get('id')} of run {str(lin.get('run', '?'))!r}"
    parents = lin.get("run_parents") or []
    if parents:
        text += f", child of #{', #'.join(str(p) for p in parents)}"
    return text + (f" ({how})" if how else "")


def default_name(f: BrainFacts) -> str:
    """``<task>-<first 8 hex digits of the content id>``, e.g. ``digits-3fa2c1b0``."""
    task = f.tasks[-1].name if f.tasks else "brain"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in task).strip("-_") or "brain"
    return f"{safe[:80]}-{short(f.content_id)[:8]}"


def build(
    req: PublishRequest, source_for: Callable[[str], str], now: datetime | None = None
) -> Package:
    """The files to publish for ``req``; ``source_for(name)`` is where people will pull it
    from (shown in the card's "How to run it")."""
    license_ = check_license(req.license)
    if req.name:
        check_name(req.name)
    path = Path(req.graph_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"no such file: {path}") from None
    except OSError as exc:
        raise ExchangeError(f"cannot read {path}: {exc.strerror or exc}") from None
    doc = read_brain(data, str(path))
    f = facts(doc)
    name = check_name(req.name) if req.name else default_name(f)
    files = {BRAIN: data}
    missing: dict[str, str] = {}
    for file_name, rendition in RENDITIONS if req.onnx else ():
        try:
            files[file_name] = rendition(name, doc)
        except OpenBrainsError as exc:
            missing[file_name] = _first_line(str(exc))
        except ImportError as exc:  # the [export] extra is not installed here
            missing[file_name] = (
                f"the exporter is not installed where it was published ({exc.name or exc}; "
                "pip install 'openbrains[export]')"
            )
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    card = Card(
        name=name,
        content_id=f.content_id,
        params=f.params,
        modality=f.modality,
        tasks=f.tasks,
        files={n: hashlib.sha256(b).hexdigest() for n, b in files.items()},
        license=license_,
        base_models=tuple(dict.fromkeys(req.base_models)),
        parents=tuple(dict.fromkeys(req.parents)),
        lineage=f.lineage,
        plan=req.plan,
        published=stamp,
        nodes=f.nodes,
        description=req.description,
    )
    from openbrains.engine.exchange.card import render

    body = card_body(card, f.units, len(data), source_for(name), missing)
    files[CARD] = render(card, body).encode("utf-8")
    return Package(name, card, files, missing)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["no reason given"])[0]
