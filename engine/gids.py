"""Global ids (``gid``) of nodes: given at birth, kept through copies, exports, grafts and
crossovers, so genes of brains from different runs and people line up (a cross-file
innovation number). A node born in a run gets its gid when it first leaves the run
(export), derived from the run's key and its uid; a node with none gets one derived from
its graph's structure key (the first part of its content id)."""

from __future__ import annotations

import hashlib
from typing import Any

GID_PREFIX = b"openbrains-gid/1\n"


def derived_gid(key: str, uid: str) -> str:
    """The gid of node ``uid`` born under ``key`` (a run's key or a graph's content id)."""
    return hashlib.sha256(GID_PREFIX + key.encode() + b"\n" + uid.encode()).hexdigest()[:32]


def structure_key(graph: Any) -> str:
    """sha256 (hex) of the canonical JSON of what ``graph`` computes: the first part of its
    content id (``engine.format.identity.structure``); what a graph's own gids derive from."""
    from openbrains.engine.format.identity import canonical_json, structure

    return hashlib.sha256(canonical_json(structure(graph))).hexdigest()


def stamp_gids(graph: Any, key: str) -> int:
    """Give every node without a gid the one derived from ``key``; returns how many."""
    count = 0
    for node in graph.nodes.values():
        if not node.gid:
            node.gid = derived_gid(key, node.uid)
            count += 1
    return count
