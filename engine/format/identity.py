"""A brain's content id: one sha256 that names what a brain computes, whatever file holds it.

The id covers the graph's structure (each node's uid, unit, version and params; each edge;
``causal``) and every tensor (name, dtype, shape, raw little-endian bytes), in a fixed
order with explicit lengths, so equal brains get equal ids however they were saved,
loaded, migrated or renamed on a canvas. Positions, labels, flags for evolution, codecs,
genes, tasks, scores and lineage are left out on purpose: they describe how a brain was
made or is shown, not what it computes. ``docs/format.md`` ("Content id") defines it
exactly, so that another language can compute it; the prefix names the version of that
definition.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import torch

from openbrains.engine.graph import Graph

PREFIX = b"openbrains-content-id/1\n"
ID_RE = re.compile(r"^[0-9a-f]{64}$")

NODE_FIELDS = ("uid", "unit", "version", "params")
EDGE_FIELDS = ("uid", "src", "src_port", "dst", "dst_port")

# torch dtype → the safetensors name used in the id (docs/format.md, "Dtypes")
DTYPE_NAMES: dict[torch.dtype, str] = {
    torch.bool: "BOOL",
    torch.uint8: "U8",
    torch.int8: "I8",
    torch.int16: "I16",
    torch.int32: "I32",
    torch.int64: "I64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float32: "F32",
    torch.float64: "F64",
}
for _name, _attr in (("U16", "uint16"), ("U32", "uint32"), ("U64", "uint64")):
    if hasattr(torch, _attr):
        DTYPE_NAMES[getattr(torch, _attr)] = _name
for _name, _attr in (("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2")):
    if hasattr(torch, _attr):
        DTYPE_NAMES[getattr(torch, _attr)] = _name


def canonical_json(value: Any) -> bytes:
    """Compact JSON with keys sorted by code point, UTF-8, numbers as orjson writes them."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def structure(graph: Graph) -> dict[str, Any]:
    """The part of a graph the id covers: what it computes, in file order."""
    nodes = [{k: node.to_dict()[k] for k in NODE_FIELDS} for node in graph.nodes.values()]
    edges = [{k: edge.to_dict()[k] for k in EDGE_FIELDS} for edge in graph.edges.values()]
    return {"causal": graph.causal, "edges": edges, "nodes": nodes}


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data


def tensor_bytes(tensor: torch.Tensor) -> bytes:
    """The tensor's elements, row-major, each little-endian (as safetensors stores them)."""
    t = tensor.detach().to("cpu").contiguous()
    data = t.reshape(-1).view(torch.uint8).numpy().tobytes()
    if sys.byteorder == "big" and t.element_size() > 1:  # pragma: no cover - little-endian CI
        data = np.frombuffer(data, dtype=f">u{t.element_size()}").byteswap().tobytes()
    return data


def content_id(graph: Graph, weights: Mapping[str, torch.Tensor]) -> str:
    """The content id of a brain: 64 lowercase hex digits (docs/format.md, "Content id")."""
    h = hashlib.sha256(PREFIX)
    h.update(_frame(canonical_json(structure(graph))))
    for name in sorted(weights, key=lambda n: n.encode("utf-8")):
        tensor = weights[name]
        dtype = DTYPE_NAMES.get(tensor.dtype)
        if dtype is None:
            raise ValueError(
                f"tensor {name!r} has dtype {tensor.dtype}, which a .graph cannot hold"
            )
        header = {"dtype": dtype, "name": name, "shape": list(tensor.shape)}
        h.update(_frame(canonical_json(header)))
        h.update(_frame(tensor_bytes(tensor)))
    return h.hexdigest()


def short(cid: str) -> str:
    """The first 12 hex digits: enough for people to tell brains apart in a list."""
    return cid[:12]


def is_content_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_RE.match(value))


__all__ = ["PREFIX", "canonical_json", "content_id", "is_content_id", "short", "structure"]
