"""Lineage across files: who a brain's parents were, and the family tree it carries.

A graph's ``lineage`` object holds ``parents`` — ``[{"id": <content id>, "relation":
seed|mutation|crossover|graft|hand|continue}]`` — and ``tree``, the ancestors it knows of,
keyed by content id, each with its own ``parents`` (and the task names it knew), so a file
carries its family tree however many hands it went through. Trees are cut at
``MAX_ANCESTORS`` entries, nearest ancestors first.

Nodes carry a global id (``gid``) that survives copies, exports, grafts and crossovers, so
genes of brains from different runs and people line up. A node born in a run gets its gid
when it first leaves the run (export), derived from the run's key and its uid, so every
export of one run agrees; a node with none gets one derived from its graph's content id.
Torch-free.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from openbrains.engine.errors import GraphError

RELATIONS = ("seed", "mutation", "crossover", "graft", "hand", "continue")
ID_RE = re.compile(r"^[0-9a-f]{64}$")
RELATION_RE = re.compile(r"^[a-z_]{1,32}$")
MAX_ANCESTORS = 256  # a file's family tree keeps this many ancestors, nearest first


@dataclass(frozen=True)
class Parent:
    """One parent of a brain: its content id and how the child came from it."""

    id: str
    relation: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "relation": self.relation}


def _check_parents(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise GraphError(f"{where}: 'parents' must be a list, got {type(value).__name__}")
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            raise GraphError(f"{where}: parents[{i}] must be an object with 'id' and 'relation'")
        if not isinstance(p.get("id"), str) or not ID_RE.match(p["id"]):
            raise GraphError(f"{where}: parents[{i}] 'id' must be a content id (64 hex digits)")
        if not isinstance(p.get("relation"), str) or not RELATION_RE.match(p["relation"]):
            raise GraphError(f"{where}: parents[{i}] 'relation' must be a word like 'seed'")
    return value


def check_lineage(lineage: dict[str, Any]) -> dict[str, Any]:
    """The lineage object as read from a file, its ``parents`` and ``tree`` checked."""
    if "parents" in lineage:
        _check_parents(lineage["parents"], "lineage")
    tree = lineage.get("tree")
    if tree is not None:
        if not isinstance(tree, dict):
            raise GraphError("lineage: 'tree' must be an object of content id → ancestor")
        for cid, entry in tree.items():
            if not ID_RE.match(cid):
                raise GraphError(f"lineage: tree key {cid[:80]!r} is not a content id")
            if not isinstance(entry, dict):
                raise GraphError(f"lineage: tree entry {cid[:12]} must be an object")
            _check_parents(entry.get("parents", []), f"lineage: tree entry {cid[:12]}")
    return lineage


def parents_of(lineage: dict[str, Any]) -> list[Parent]:
    return [Parent(p["id"], p["relation"]) for p in lineage.get("parents") or []]


def child_lineage(
    parents: list[tuple[Parent, dict[str, Any], list[str]]], keep: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The lineage of a brain made from ``parents``: each is (the parent, the parent's own
    lineage, the parent's task names). The child's tree is its parents and everything their
    trees knew, nearest first, at most ``MAX_ANCESTORS``; ``keep``: other keys to carry."""
    known: dict[str, dict[str, Any]] = {}
    for parent, lineage, tasks in parents:
        known.setdefault(
            parent.id,
            {"parents": copy.deepcopy(lineage.get("parents") or []), "tasks": sorted(tasks)},
        )
        for cid, entry in (lineage.get("tree") or {}).items():
            known.setdefault(cid, copy.deepcopy(entry))
    tree: dict[str, dict[str, Any]] = {}
    queue = deque(p.id for p, _l, _t in parents)
    while queue and len(tree) < MAX_ANCESTORS:
        cid = queue.popleft()
        if cid in tree or cid not in known:
            continue
        tree[cid] = known[cid]
        queue.extend(p["id"] for p in known[cid].get("parents") or [])
    out = copy.deepcopy(keep or {})
    out["parents"] = [p.to_dict() for p, _l, _t in parents]
    out["tree"] = tree
    return out


def family(lineage: dict[str, Any]) -> list[tuple[int, str, str, list[str]]]:
    """The tree as lines to print: (depth, content id, relation to the child below, the
    tasks it knew), depth-first from the brain's own parents; an ancestor seen twice is
    listed once in full (later with no tasks and no descent)."""
    tree = lineage.get("tree") or {}
    lines: list[tuple[int, str, str, list[str]]] = []
    seen: set[str] = set()

    def walk(parents: list[dict[str, Any]], depth: int) -> None:
        for p in parents:
            cid = p["id"]
            entry = tree.get(cid)
            if cid in seen or entry is None:
                lines.append((depth, cid, p["relation"], []))
                continue
            seen.add(cid)
            lines.append((depth, cid, p["relation"], list(entry.get("tasks") or [])))
            walk(entry.get("parents") or [], depth + 1)

    walk(lineage.get("parents") or [], 1)
    return lines
