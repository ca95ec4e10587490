"""Hostile files, built byte by byte in the tests (nothing binary is checked in).

Each builder starts from a real sample (``sample_graphs/``), changes what it attacks, and
fixes the manifest's hashes up, so the file fails for the reason under test and no other.
Members are zipped with plain ``zipfile`` (not our writer), which lets them break rules.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"
STORED = (".safetensors", ".png")


def sample_members(name: str = "xor.graph") -> dict[str, bytes]:
    with zipfile.ZipFile(SAMPLES / name) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def resign(members: dict[str, bytes]) -> dict[str, bytes]:
    """The members with ``manifest.json``'s sha256 table recomputed (a manifest that is
    not an object has no table to fix: it is left as it is)."""
    manifest = orjson.loads(members["manifest.json"])
    if not isinstance(manifest, dict):
        return members
    manifest["sha256"] = {
        n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"
    }
    return {**members, "manifest.json": orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS)}


def zip_members(members: dict[str, bytes], sign: bool = True) -> bytes:
    members = resign(members) if sign else members
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ["manifest.json", *sorted(n for n in members if n != "manifest.json")]:
            method = zipfile.ZIP_STORED if name.endswith(STORED) else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name), members[name], compress_type=method)
    return buf.getvalue()


def empty_weights() -> bytes:
    return safetensors_bytes({})


def safetensors_bytes(header: dict[str, Any], data: bytes = b"") -> bytes:
    raw = orjson.dumps(header)
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def chain_graph(hidden: int, width: int = 4, unit: str = "dense") -> dict[str, Any]:
    """``x`` → ``hidden`` nodes in a row → ``y``: a graph whose cost grows with ``hidden``."""
    nodes: list[dict[str, Any]] = [
        {"uid": "in", "unit": "input", "params": {"name": "x", "channels": 2, "time": 1}}
    ]
    edges: list[dict[str, Any]] = []
    prev = "in"
    for i in range(hidden):
        nodes.append({"uid": f"n{i}", "unit": unit, "params": {"width": width}})
        edges.append({"uid": f"e{i}", "src": prev, "dst": f"n{i}"})
        prev = f"n{i}"
    nodes.append(
        {"uid": "out", "unit": "output", "params": {"name": "y", "channels": 2, "time": 1}}
    )
    edges.append({"uid": "elast", "src": prev, "dst": "out"})
    return {"nodes": nodes, "edges": edges}


def graph_file(graph: dict[str, Any], weights: bytes | None = None, **extra: bytes) -> bytes:
    """The xor sample with its graph replaced (and its weights, empty by default)."""
    members = sample_members()
    members["graph.json"] = orjson.dumps(graph)
    members["weights.safetensors"] = empty_weights() if weights is None else weights
    members.update(extra)
    return zip_members(members)


def object_soup(size: int, seed: int = 0) -> bytes:
    """About ``size`` bytes of JSON that parse into as many Python objects as JSON allows
    (``[{},{},…]``), salted with random strings so deflate cannot shrink it below 200:1."""
    rnd = random.Random(seed)
    parts, total = [], 0
    while total < size:
        part = "[" + ",".join(["{}"] * 500) + f'],"{rnd.getrandbits(64):016x}"'
        parts.append(part)
        total += len(part)
    return ('{"soup":[' + ",".join(parts) + "]}").encode()


def nested(depth: int) -> bytes:
    return ('{"deep":' + "[" * depth + "]" * depth + "}").encode()


def png_header_bomb(width: int, height: int) -> bytes:
    """A real, complete grey PNG of ``width``×``height`` black pixels: a few hundred
    kilobytes on disk, ``width × height`` bytes once decoded. Compressed row by row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black pixels
    block = row * max(1, (8 << 20) // len(row))
    rows_per_block = len(block) // len(row)
    out = []
    left = height
    while left > 0:
        n = min(left, rows_per_block)
        out.append(comp.compress(block if n == rows_per_block else row * n))
        left -= n
    out.append(comp.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"".join(out))
        + chunk(b"IEND", b"")
    )
