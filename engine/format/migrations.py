"""Format versions and the chain that upgrades old `.graph` files to the current one.

Each step is a pure function on the raw members (name → bytes) of an archive that turns
version N into version N+1, including a fresh manifest. ``MIGRATIONS[n]`` upgrades n → n+1;
a file of version v goes through ``MIGRATIONS[v:]``. Steps never see torch: tensors are
renamed by rewriting the safetensors header, so the data block is carried over untouched.
Every step has a committed fixture in ``tests/fixtures/format/``.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from typing import Any

import orjson

from openbrains.engine.errors import FormatError
from openbrains.engine.format.container import MANIFEST, dump_json
from openbrains.engine.format.jsoncheck import parse_json

FORMAT_ID = "openbrains.graph"
CURRENT = 2

Members = dict[str, bytes]
Migration = Callable[[Members], Members]


class MigrationError(ValueError):
    """A step could not make sense of an old file; says which member."""

    def __init__(self, member: str, message: str) -> None:
        super().__init__(f"member {member!r}: {message}")
        self.member = member


def detect_version(manifest: dict[str, Any]) -> int:
    """The format version a manifest claims: ``format_version`` (v1+) or ``version`` (v0)."""
    if "format_version" in manifest:
        v = manifest["format_version"]
    elif "version" in manifest:  # the v0 pre-release manifests
        v = manifest["version"]
    else:
        raise MigrationError(MANIFEST, "has no 'format_version'")
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise MigrationError(MANIFEST, f"'format_version' must be a whole number >= 0, got {v!r}")
    return v


def check_readable(version: int, file: str, created_by: Any = None) -> None:
    """Refuse files from a newer Open Brains, saying which version reads them."""
    if version > CURRENT:
        raise FormatError(
            f"{file} was written by a newer Open Brains (format version {version}); "
            f"this version reads up to {CURRENT} — upgrade openbrains"
            + (
                f" (the file says it was made by {created_by})"
                if isinstance(created_by, str)
                else ""
            )
        )


def upgrade(members: Members, version: int, file: str) -> Members:
    """Run ``MIGRATIONS[version:]``; errors become ``FormatError`` naming file and member."""
    check_readable(version, file)
    for step_from, step in enumerate(MIGRATIONS[version:], start=version):
        try:
            members = step(dict(members))
        except MigrationError as exc:
            raise FormatError(
                f"{file}: cannot upgrade from format version {step_from} to {step_from + 1}: {exc}"
            ) from None
    return members


def sha256_table(members: Members) -> dict[str, str]:
    return {n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != MANIFEST}


# ----- v0 → v1 --------------------------------------------------------------------------
# v0 (openbrains 0.0.x pre-releases, kind "graph" only):
#   manifest.json      {"format": "openbrains.graph", "version": 0, "kind": "graph",
#                       "created_by": "...", "units": {name: version}}   (no hashes)
#   model.json         the graph, with "links" for edges, links use "from"/"to" (and
#                      optional "from_port"/"to_port"), nodes use "type" for the unit name
#   weights.safetensors   keys "node.<uid>.<name>" and "edge.<uid>.<name>"
#   thumbnail.png and other members: as in v1
def migrate_v0_to_v1(members: Members) -> Members:
    manifest = _json(members, MANIFEST)
    if "model.json" not in members:
        raise MigrationError("model.json", "is missing (a v0 file keeps its graph there)")
    model = _json(members, "model.json")
    if "graph.json" in members:
        raise MigrationError("graph.json", "is not expected next to a v0 model.json")

    graph = {k: v for k, v in model.items() if k != "links"}
    nodes = model.get("nodes", [])
    if not isinstance(nodes, list):
        raise MigrationError("model.json", "key 'nodes' must be an array")
    graph["nodes"] = [_v0_node(n, i) for i, n in enumerate(nodes)]
    links = model.get("links", [])
    if not isinstance(links, list):
        raise MigrationError("model.json", "key 'links' must be an array")
    graph["edges"] = [_v0_link(e, i) for i, e in enumerate(links)]

    out = {n: b for n, b in members.items() if n not in (MANIFEST, "model.json")}
    out["graph.json"] = dump_json(graph)
    if "weights.safetensors" in out:
        out["weights.safetensors"] = _rename_tensors(out["weights.safetensors"], _v0_key)

    units = manifest.get("units", {})
    if not isinstance(units, dict):
        raise MigrationError(MANIFEST, "key 'units' must be an object")
    new_manifest = {k: v for k, v in manifest.items() if k not in ("version", "units", "sha256")}
    new_manifest.update(
        format=FORMAT_ID,
        format_version=1,
        kind=manifest.get("kind", "graph"),
        created_by=manifest.get("created_by", "openbrains 0.0"),
        units={
            name: {"version": v, "package": "openbrains"} if isinstance(v, int) else v
            for name, v in units.items()
        },
        sha256=sha256_table(out),
    )
    out[MANIFEST] = dump_json(new_manifest)
    return out


def _v0_node(n: Any, i: int) -> Any:
    if not isinstance(n, dict):
        raise MigrationError("model.json", f"nodes[{i}] must be an object")
    n = dict(n)
    if "type" in n:
        n["unit"] = n.pop("type")
    return n


def _v0_link(e: Any, i: int) -> Any:
    if not isinstance(e, dict):
        raise MigrationError("model.json", f"links[{i}] must be an object")
    renames = {"from": "src", "to": "dst", "from_port": "src_port", "to_port": "dst_port"}
    return {renames.get(k, k): v for k, v in e.items()}


def _v0_key(key: str) -> str:
    kind, sep, rest = key.partition(".")
    uid, sep2, name = rest.partition(".")
    if kind not in ("node", "edge") or not sep or not sep2 or not uid or not name:
        raise MigrationError(
            "weights.safetensors",
            f"tensor key {key!r} is not 'node.<uid>.<name>' or 'edge.<uid>.<name>'",
        )
    return f"{kind}/{uid}/{name}"


# ----- v1 → v2 --------------------------------------------------------------------------
# v2 (multi-task brains) changes graph.json, in graph.json and every population/NNNN.json:
#   tasks     a list of {"name": …, "inputs", "outputs", …} becomes an object keyed by task
#             name; "outputs" is called "heads"; each input and head names its node
#             ("node": uid) and each head its "role"
#   scores    an entry named like a task moves into that task's "score"
#   nodes     get "owner" (the tasks recorded, if any) and "gid", derived from the node's
#             uid and the sha256 of the graph's structure (the canonical JSON of each node's
#             uid, unit, version and params, each edge, and causal: the first part of the
#             content id), so equal genes give equal gids however the file was written
#   lineage   v1 "parents" were structure hashes of run parents, not content ids: they move
#             to "structure_parents", and "parents" starts empty
GID_PREFIX = b"openbrains-gid/1\n"
ROLE_OF_KIND = {"classification": "classifier", "regression": "regressor", "completion": "tokens"}


def migrate_v1_to_v2(members: Members) -> Members:
    manifest = _json(members, MANIFEST)
    out = dict(members)
    if "graph.json" in members:
        out["graph.json"] = dump_json(_v1_graph(_json(members, "graph.json")))
    for name in sorted(members):
        if name.startswith("population/") and name.endswith(".json"):
            record = _json(members, name)
            if isinstance(record.get("graph"), dict):
                record["graph"] = _v1_graph(record["graph"])
                out[name] = dump_json(record)
    out.pop(MANIFEST)
    new_manifest = dict(manifest)
    new_manifest.update(format_version=2, sha256=sha256_table(out))
    out[MANIFEST] = dump_json(new_manifest)
    return out


def upgrade_graph_json(text: str) -> str:
    """A graph's JSON as a run archive stored it, in the current shape: archives written
    before version 2 hold v1 graphs (``tasks`` a list), which resumed runs, exports and
    reports still read. Graphs already in the current shape come back unchanged."""
    graph = orjson.loads(text)
    if not isinstance(graph, dict) or not isinstance(graph.get("tasks"), list):
        return text
    return orjson.dumps(_v1_graph(graph)).decode()


def _v1_graph(graph: dict[str, Any]) -> dict[str, Any]:
    graph = dict(graph)
    nodes = graph.get("nodes")
    tasks_v1 = graph.get("tasks", [])
    if not isinstance(tasks_v1, list):  # not a v1 graph; the v2 reader will say what is wrong
        return graph
    io_nodes = {}
    if isinstance(nodes, list):
        for n in nodes:
            if isinstance(n, dict) and n.get("unit") in ("input", "output"):
                params = n.get("params") if isinstance(n.get("params"), dict) else {}
                io_nodes.setdefault((n["unit"], params.get("name")), n.get("uid"))
    tasks: dict[str, Any] = {}
    unkeyed: list[Any] = []
    for entry in tasks_v1:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name or name in tasks:
            unkeyed.append(entry)
            continue
        tasks[name] = _v1_task(entry, io_nodes)
    graph["tasks"] = tasks
    if unkeyed:
        graph["tasks_v1"] = unkeyed
    scores = graph.get("scores")
    if isinstance(scores, dict):
        for name in tasks:
            if isinstance(scores.get(name), dict) and "score" not in tasks[name]:
                tasks[name]["score"] = scores.pop(name)
    if isinstance(nodes, list):
        digest = hashlib.sha256(_structure_json(graph)).hexdigest().encode()
        graph["nodes"] = [_v1_node(n, digest, sorted(tasks)) for n in nodes]
    lineage = graph.get("lineage")
    if isinstance(lineage, dict) and "parents" in lineage:
        lineage = dict(lineage)
        lineage["structure_parents"] = lineage.pop("parents")
        lineage["parents"] = []
        graph["lineage"] = lineage
    return graph


def _structure_json(graph: dict[str, Any]) -> bytes:
    """The canonical JSON of what a graph computes (as ``engine.format.identity.structure``
    makes it for the content id), from the raw graph object, defaults filled in."""
    nodes = [
        {
            "uid": n.get("uid"),
            "unit": n.get("unit"),
            "version": n.get("version", 1),
            "params": n.get("params", {}),
        }
        for n in graph.get("nodes") or []
        if isinstance(n, dict)
    ]
    edges = [
        {
            "uid": e.get("uid"),
            "src": e.get("src"),
            "src_port": e.get("src_port", "out"),
            "dst": e.get("dst"),
            "dst_port": e.get("dst_port", "in"),
        }
        for e in graph.get("edges") or []
        if isinstance(e, dict)
    ]
    structure = {"causal": graph.get("causal", False), "edges": edges, "nodes": nodes}
    return orjson.dumps(structure, option=orjson.OPT_SORT_KEYS)


def _v1_task(entry: dict[str, Any], io_nodes: dict[tuple[Any, Any], Any]) -> dict[str, Any]:
    task = {k: v for k, v in entry.items() if k not in ("name", "outputs")}
    if "outputs" in entry:
        task["heads"] = entry["outputs"]
    for key, unit in (("inputs", "input"), ("heads", "output")):
        ports = task.get(key)
        if not isinstance(ports, dict):
            continue
        task[key] = {p: _v1_port(p, v, unit, task.get("kind"), io_nodes) for p, v in ports.items()}
    return task


def _v1_port(port: str, value: Any, unit: str, kind: Any, io_nodes: dict) -> Any:
    if not isinstance(value, dict):
        return value
    value = dict(value)
    uid = io_nodes.get((unit, port))
    if isinstance(uid, str) and "node" not in value:
        value["node"] = uid
    if unit == "output" and "role" not in value:
        value["role"] = ROLE_OF_KIND.get(kind) or (
            port if port in ("policy", "value") else "signal"
        )
    return value


def _v1_node(node: Any, digest: bytes, tasks: list[str]) -> Any:
    if not isinstance(node, dict) or not isinstance(node.get("uid"), str):
        return node
    node = dict(node)
    if "gid" not in node:
        node["gid"] = hashlib.sha256(
            GID_PREFIX + digest + b"\n" + node["uid"].encode()
        ).hexdigest()[:32]
    if tasks and "owner" not in node:
        node["owner"] = tasks
    return node


# ----- helpers --------------------------------------------------------------------------
def _json(members: Members, name: str) -> dict[str, Any]:
    if name not in members:
        raise MigrationError(name, "is missing")
    try:  # the same bounded, duplicate-free parse as every current member
        value = parse_json(members[name], "", name)
    except FormatError as exc:
        raise MigrationError(name, str(exc).split(f"{name!r} ", 1)[-1]) from None
    if not isinstance(value, dict):
        raise MigrationError(name, "must hold a JSON object")
    return value


def _rename_tensors(data: bytes, rename: Callable[[str], str]) -> bytes:
    """Rename the tensors of a safetensors blob by rewriting its header only.

    The offsets do not change, so the data block is copied as it is; the result is checked
    in full by the v1 reader like any other file.
    """
    member = "weights.safetensors"
    if len(data) < 8:
        raise MigrationError(member, "is too short to be safetensors")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise MigrationError(member, "has a header longer than the file")
    try:
        header = orjson.loads(data[8 : 8 + n])
    except orjson.JSONDecodeError as exc:
        raise MigrationError(member, f"has a header that is not JSON: {exc}") from None
    if not isinstance(header, dict):
        raise MigrationError(member, "has a header that is not a JSON object")
    new = {k if k == "__metadata__" else rename(k): v for k, v in header.items()}
    if len(new) != len(header):
        raise MigrationError(member, "two tensors map to the same new key")
    raw = orjson.dumps(new)
    raw += b" " * (-len(raw) % 8)  # keep the data block 8-byte aligned, like safetensors
    return struct.pack("<Q", len(raw)) + raw + data[8 + n :]


MIGRATIONS: tuple[Migration, ...] = (migrate_v0_to_v1, migrate_v1_to_v2)
assert len(MIGRATIONS) == CURRENT, "one migration per older version"
