"""What a `.graph` holds, as Python objects, and the two directions between it and bytes.

``GraphFile`` is the whole file: a graph with its weights, or a project, or a population,
plus everything this version does not understand (unknown manifest keys, unknown members),
which is written back untouched so files from newer builds survive a load + save.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

import safetensors.torch
import torch
from safetensors.torch import load as load_safetensors

from openbrains.engine import __version__
from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import FormatError, GraphError, MissingUnitError
from openbrains.engine.format.container import (
    MANIFEST,
    atomic_write,
    dump_json,
    read_archive,
    write_archive,
)
from openbrains.engine.format.jsoncheck import ReadBudget, expect_object, json_type, parse_json
from openbrains.engine.format.migrations import (
    CURRENT,
    FORMAT_ID,
    MigrationError,
    check_readable,
    detect_version,
    sha256_table,
    upgrade,
)
from openbrains.engine.format.probes import PROBES, check_probes
from openbrains.engine.format.safety import (
    DEFAULT_LIMITS,
    Limits,
    check_png,
    fail,
    is_pickle_name,
    looks_like_pickle,
    name_problem,
    pickle_error,
)
from openbrains.engine.format.tensorcheck import validate_safetensors
from openbrains.engine.graph import Graph
from openbrains.engine.train.genes import problem as gene_problem
from openbrains.engine.units import REGISTRY, upgrade_units

KINDS = ("graph", "project", "population")
GRAPH_JSON = "graph.json"
WEIGHTS = "weights.safetensors"
PROJECT_JSON = "project.json"
THUMBNAIL = "thumbnail.png"
POPULATION_RE = re.compile(r"^population/([0-9]{4,9})\.(json|safetensors)$")
MANIFEST_KEYS = ("format", "format_version", "kind", "created_by", "units", "sha256")
RESERVED = (MANIFEST, GRAPH_JSON, WEIGHTS, PROJECT_JSON, THUMBNAIL, PROBES)

Tensors = dict[str, torch.Tensor]


@dataclass
class PopulationMember:
    """One individual: its graph, its weights, and every other key of its ``NNNN.json``
    (scores, parents, age, species…) in ``record``, kept as they were read."""

    graph: Graph
    weights: Tensors = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``NNNN.json`` object: ``record`` plus ``"graph"``."""
        d = copy.deepcopy(self.record)
        d["graph"] = self.graph.to_dict()
        return d


@dataclass
class GraphFile:
    """The content of one `.graph` file.

    ``kind`` says what it is for: ``"graph"`` (one brain: ``graph`` + ``weights``),
    ``"project"`` (``project`` settings, optionally a seed ``graph``), or ``"population"``
    (``population`` individuals, optionally a ``graph``, e.g. the champion, and ``project``).
    ``format_version_read`` / ``migrated_from`` tell where a loaded file came from;
    ``created_by`` is what the file said wrote it (saving always writes this engine).
    """

    kind: str = "graph"
    graph: Graph | None = None
    weights: Tensors = field(default_factory=dict)
    project: dict[str, Any] | None = None
    population: list[PopulationMember] = field(default_factory=list)
    thumbnail: bytes | None = None
    probes: Tensors = field(default_factory=dict)  # the main graph's task probes
    extra_members: dict[str, bytes] = field(default_factory=dict)
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    format_version_read: int = CURRENT
    migrated_from: int | None = None
    created_by: str | None = None

    def graphs(self) -> list[Graph]:
        """Every graph in the file: the main one (if any), then each individual's."""
        main = [self.graph] if self.graph is not None else []
        return main + [m.graph for m in self.population]

    def missing_units(self) -> dict[str, str]:
        """Unit name → package for units the file uses that are not installed here.

        The package is what the file's manifest recorded ("" if it did not know).
        """
        out: dict[str, str] = {}
        for g in self.graphs():
            for node in g.nodes.values():
                if node.unit not in REGISTRY:
                    out[node.unit] = g.packages.get(node.unit, "") or out.get(node.unit, "")
        return out

    def units(self) -> dict[str, dict[str, Any]]:
        """The manifest's ``units`` table: name → {"version", "package"} over all graphs.

        ``version`` is the highest version any node of the unit has; ``package`` comes from
        the installed registry, or for units not installed, from ``Graph.packages``.
        """
        out: dict[str, dict[str, Any]] = {}
        for g in self.graphs():
            for node in g.nodes.values():
                entry = out.setdefault(node.unit, {"version": node.version, "package": ""})
                entry["version"] = max(entry["version"], node.version)
                if node.unit in REGISTRY:
                    entry["package"] = REGISTRY.get(node.unit).package
                elif not entry["package"]:
                    entry["package"] = g.packages.get(node.unit, "")
        return out


# ----- public API -----------------------------------------------------------------------
def dumps(doc: GraphFile) -> bytes:
    """The bytes of a `.graph`; equal content always gives equal bytes."""
    return write_archive(encode(doc))


def loads(data: bytes, name: str = "<bytes>", limits: Limits | None = None) -> GraphFile:
    """Read a `.graph` from bytes; ``name`` is used in error messages.

    Raises ``FormatError`` (naming ``name`` and the member) for anything unsafe, damaged,
    from a newer format, or ill-typed. Runs no code from the file and writes nothing.
    """
    limits = limits or DEFAULT_LIMITS
    budget = ReadBudget(limits)
    members = read_archive(bytes(data), name, limits)
    if MANIFEST not in members:
        raise fail(name, None, "not an Open Brains .graph file: it has no manifest.json")
    manifest = expect_object(
        parse_json(members[MANIFEST], name, MANIFEST, limits, budget), name, MANIFEST
    )
    if manifest.get("format") != FORMAT_ID:
        raise fail(
            name,
            MANIFEST,
            f"is not an Open Brains .graph manifest ('format' is {manifest.get('format')!r}, "
            f"expected {FORMAT_ID!r})",
        )
    try:
        version = detect_version(manifest)
    except MigrationError as exc:
        raise FormatError(f"{name}: {exc}") from None
    check_readable(version, name, manifest.get("created_by"))
    _refuse_pickles(members, name, limits, budget)
    if version < CURRENT:
        members = upgrade(members, version, name)
    doc = decode(members, name, limits, budget)
    doc.format_version_read = version
    doc.migrated_from = version if version < CURRENT else None
    return doc


def save(path: str | os.PathLike[str], doc: GraphFile) -> None:
    """Write atomically: a temporary file beside ``path``, then a rename over it.

    On any failure (a full disk, no permission, content that cannot be serialised) the old
    file is untouched, no temporary is left behind, and ``FormatError`` says why.
    """
    atomic_write(path, dumps(doc))


def load(path: str | os.PathLike[str], limits: Limits | None = None) -> GraphFile:
    """Read a `.graph` file (see ``loads``)."""
    limits = limits or DEFAULT_LIMITS
    name = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limits.max_file_size:
                raise fail(
                    name,
                    None,
                    f"the file is {size} bytes, over the limit of {limits.max_file_size}",
                )
            # read what fstat saw (+1 to notice growth), not the limit: read(n) reserves n
            data = f.read(min(size, limits.max_file_size) + 1)
    except OSError as exc:
        raise FormatError(f"cannot read {name!r}: {exc.strerror or exc}") from exc
    return loads(data, name, limits)


def save_brain(
    path: str | os.PathLike[str],
    brain_or_graph: Brain | Graph,
    weights: Tensors | None = None,
    *,
    thumbnail: bytes | None = None,
    **meta: Any,
) -> GraphFile:
    """Save one brain (or a graph and its weights) as kind ``"graph"``.

    ``weights`` defaults to the brain's own; a bare graph without weights is saved as an
    untrained genome. ``meta`` (JSON values) goes into the manifest as extra keys.
    """
    if isinstance(brain_or_graph, Brain):
        graph = brain_or_graph.graph
        tensors = weights if weights is not None else brain_or_graph.weights()
    elif isinstance(brain_or_graph, Graph):
        graph, tensors = brain_or_graph, weights or {}
    else:
        raise TypeError(f"save_brain takes a Brain or a Graph, not {type(brain_or_graph).__name__}")
    doc = GraphFile(
        kind="graph",
        graph=graph,
        weights=dict(tensors),
        thumbnail=thumbnail,
        manifest_extra=dict(meta),
    )
    save(path, doc)
    return doc


def load_brain(path: str | os.PathLike[str], limits: Limits | None = None) -> tuple[Graph, Brain]:
    """Load a file's main graph, compile it and put its weights in (strictly).

    A file without weights (an untrained genome) gets fresh weights. Raises ``FormatError``
    for a bad file, ``MissingUnitError`` naming unit and package for units not installed,
    and ``GraphError`` naming the node for graphs that cannot compile (a cycle…). The brain
    is returned in eval mode; call ``.train()`` to keep training it.
    """
    doc = load(path, limits)
    return doc.graph, runnable(doc, str(path), limits)  # type: ignore[return-value]


def runnable(doc: GraphFile, name: str, limits: Limits | None = None) -> Brain:
    """The file's main graph compiled, with the file's weights in it, strictly: every
    tensor present and of its shape (as ``eval`` and ``run`` need them), within the weight
    limit. Raises ``FormatError`` without a graph and ``GraphError`` (prefixed with
    ``name``) when they do not fit. (Non-finite weights were refused when it was read.)"""
    limits = limits or DEFAULT_LIMITS
    if doc.graph is None:
        raise FormatError(f"{name}: this {doc.kind} file has no graph.json to run")
    try:
        brain = compile_graph(doc.graph, max_weights=limits.max_weights)
        if doc.weights:
            brain.load_weights(doc.weights, strict=True)
    except GraphError as exc:
        raise _prefixed(exc, name) from None
    return brain.eval()


# ----- GraphFile → members --------------------------------------------------------------
def encode(doc: GraphFile) -> dict[str, bytes]:
    """The members of ``doc`` (name → bytes), manifest included; raises ``FormatError``."""
    if doc.kind not in KINDS:
        raise FormatError(f"cannot save: kind {doc.kind!r} is not one of {', '.join(KINDS)}")
    if doc.kind == "graph" and doc.graph is None:
        raise FormatError("cannot save: a file of kind 'graph' needs a graph")
    if doc.graph is None and (doc.weights or doc.probes):
        raise FormatError("cannot save: weights or probes without a graph")
    if doc.kind == "project" and doc.project is None:
        raise FormatError("cannot save: a file of kind 'project' needs project settings")
    if doc.kind == "graph" and doc.project is not None:
        raise FormatError("cannot save: project.json belongs in a file of kind 'project'")
    if doc.kind != "population" and doc.population:
        raise FormatError("cannot save: individuals belong in a file of kind 'population'")

    members: dict[str, bytes] = {}
    if doc.graph is not None:
        members[GRAPH_JSON] = _dump(doc.graph.to_dict(), GRAPH_JSON)
        members[WEIGHTS] = _tensor_bytes(doc.weights, WEIGHTS)
        check_probes(doc.graph, doc.probes, "cannot save", DEFAULT_LIMITS)
        if doc.probes:
            members[PROBES] = _tensor_bytes(doc.probes, PROBES)
    if doc.project is not None:
        if not isinstance(doc.project, dict):
            raise FormatError(f"cannot save: {PROJECT_JSON} must be a dict")
        members[PROJECT_JSON] = _dump(doc.project, PROJECT_JSON)
    for i, member in enumerate(doc.population):
        stem = f"population/{i:04d}"
        members[stem + ".json"] = _dump(member.to_dict(), stem + ".json")
        members[stem + ".safetensors"] = _tensor_bytes(member.weights, stem + ".safetensors")
    if doc.thumbnail is not None:
        check_png(doc.thumbnail, "cannot save", THUMBNAIL)
        members[THUMBNAIL] = bytes(doc.thumbnail)
    for name, data in doc.extra_members.items():
        _check_extra_name(name)
        if looks_like_pickle(data):
            raise pickle_error("cannot save", name)
        members[name] = bytes(data)

    clash = sorted(set(doc.manifest_extra) & set(MANIFEST_KEYS))
    if clash:
        raise FormatError(f"cannot save: manifest_extra may not set {clash}")
    manifest = copy.deepcopy(doc.manifest_extra)
    manifest.update(
        format=FORMAT_ID,
        format_version=CURRENT,
        kind=doc.kind,
        created_by=f"openbrains {__version__}",
        units=doc.units(),
        sha256=sha256_table(members),
    )
    members[MANIFEST] = _dump(manifest, MANIFEST)
    return members


def _dump(value: Any, member: str) -> bytes:
    try:
        return dump_json(value)
    except TypeError as exc:  # orjson: a value JSON cannot hold (a set, a tensor, int keys…)
        raise FormatError(f"cannot save: {member}: {exc}") from None


def _tensor_bytes(tensors: Tensors, member: str) -> bytes:
    """safetensors bytes; tensors sharing memory are copied (safetensors refuses them)."""
    clean: Tensors = {}
    seen: set[int] = set()
    for key in sorted(tensors):
        t = tensors[key]
        if not isinstance(key, str) or not isinstance(t, torch.Tensor):
            raise FormatError(f"cannot save: {member}: {key!r} is not a str → tensor pair")
        t = t.detach().to("cpu").contiguous()
        ptr = t.untyped_storage().data_ptr()
        if ptr in seen and t.numel():
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        clean[key] = t
    try:
        data = safetensors.torch.save(clean)
    except Exception as exc:  # safetensors raises plain exceptions for odd tensors
        raise FormatError(f"cannot save: {member}: {exc}") from None
    validate_safetensors(data, "cannot save", member)  # never write what a reader refuses
    return data


def _check_extra_name(name: str) -> None:
    if not isinstance(name, str):
        raise FormatError(f"cannot save: extra member name {name!r} is not a string")
    problem = name_problem(name)
    if problem or name.endswith("/"):
        raise FormatError(f"cannot save: extra member {name!r} {problem or 'is a directory'}")
    if name in RESERVED or POPULATION_RE.match(name):
        raise FormatError(f"cannot save: extra member {name!r} has a reserved name")
    if is_pickle_name(name):
        raise pickle_error("cannot save", name)


# ----- members → GraphFile --------------------------------------------------------------
def _refuse_pickles(
    members: dict[str, bytes], file: str, limits: Limits, budget: ReadBudget
) -> None:
    """By name, by content, and inside nested zips; safetensors are checked in full (and
    their tensors counted against the file's budget)."""
    for name, data in members.items():
        if is_pickle_name(name):
            raise pickle_error(file, name)
        if name.endswith(".safetensors"):
            try:
                validate_safetensors(data, file, name, limits, budget)
            except FormatError:
                if looks_like_pickle(data):
                    raise pickle_error(file, name) from None
                raise
        elif looks_like_pickle(data):
            raise pickle_error(file, name)


def decode(
    members: dict[str, bytes],
    file: str,
    limits: Limits = DEFAULT_LIMITS,
    budget: ReadBudget | None = None,
) -> GraphFile:
    """A ``GraphFile`` from the members of a current-version archive (after migration);
    ``budget`` is what the file may still spend on JSON (the manifest was counted)."""
    budget = budget or ReadBudget(limits)
    manifest = expect_object(parse_json(members[MANIFEST], file, MANIFEST, limits), file, MANIFEST)
    kind, units, hashes = _check_manifest(manifest, file)
    _check_hashes(members, hashes, file)

    population_files: dict[int, dict[str, str]] = {}
    for name in members:
        m = POPULATION_RE.match(name)
        if m:
            slot = population_files.setdefault(int(m.group(1)), {})
            if m.group(2) in slot:
                raise fail(file, name, f"is a second {m.group(2)} for individual {int(m.group(1))}")
            slot[m.group(2)] = name

    def need(member: str, why: str) -> None:
        if member not in members:
            raise fail(file, member, f"is missing; {why}")

    def refuse(member: str, why: str) -> None:
        if member in members:
            raise fail(file, member, why)

    if kind == "graph":
        need(GRAPH_JSON, "a file of kind 'graph' must have it")
        need(WEIGHTS, "a file of kind 'graph' must have it")
        refuse(PROJECT_JSON, "only belongs in a file of kind 'project' or 'population'")
    if kind == "project":
        need(PROJECT_JSON, "a file of kind 'project' must have it")
    if kind != "population" and population_files:
        first = next(iter(next(iter(population_files.values())).values()))
        raise fail(
            file,
            first,
            f"holds an individual; those only belong in kind 'population', not {kind!r}",
        )
    if (GRAPH_JSON in members) != (WEIGHTS in members):
        need(GRAPH_JSON, "graph.json and weights.safetensors come together")
        need(WEIGHTS, "graph.json and weights.safetensors come together")

    doc = GraphFile(kind=kind, created_by=manifest["created_by"])
    doc.manifest_extra = {k: v for k, v in manifest.items() if k not in MANIFEST_KEYS}
    used = {MANIFEST}
    packages = {u: e["package"] for u, e in units.items() if e["package"]}

    if GRAPH_JSON in members:
        doc.graph = _graph(
            parse_json(members[GRAPH_JSON], file, GRAPH_JSON, limits, budget),
            file,
            GRAPH_JSON,
            limits,
        )
        doc.weights = _tensors(members[WEIGHTS], file, WEIGHTS, limits)
        used |= {GRAPH_JSON, WEIGHTS}
        if PROBES in members:
            doc.probes = _tensors(members[PROBES], file, PROBES, limits)
            used.add(PROBES)
        check_probes(doc.graph, doc.probes, file, limits)
    elif PROBES in members:
        raise fail(file, PROBES, "belongs to a graph, and this file has no graph.json")
    if PROJECT_JSON in members:
        doc.project = expect_object(
            parse_json(members[PROJECT_JSON], file, PROJECT_JSON, limits, budget),
            file,
            PROJECT_JSON,
        )
        used.add(PROJECT_JSON)
    for index in sorted(population_files):
        slot = population_files[index]
        for ext in ("json", "safetensors"):
            if ext not in slot:
                other = next(iter(slot.values()))
                raise fail(file, other, f"has no matching population/{index:04d}.{ext}")
        jname, tname = slot["json"], slot["safetensors"]
        record = expect_object(parse_json(members[jname], file, jname, limits, budget), file, jname)
        if "graph" not in record:
            raise fail(file, jname, "has no key 'graph'")
        graph = _graph(record.pop("graph"), file, jname, limits)
        doc.population.append(
            PopulationMember(graph, _tensors(members[tname], file, tname, limits), record)
        )
        used |= {jname, tname}
    if THUMBNAIL in members:
        check_png(members[THUMBNAIL], file, THUMBNAIL)
        doc.thumbnail = members[THUMBNAIL]
        used.add(THUMBNAIL)
    doc.extra_members = {n: b for n, b in members.items() if n not in used}

    for g in doc.graphs():
        g.packages = dict(packages)
        upgrade_units(g)
    return doc


def _check_manifest(
    manifest: dict[str, Any], file: str
) -> tuple[str, dict[str, dict[str, Any]], dict[str, str]]:
    def bad(key: str, expected: str) -> FormatError:
        got = json_type(manifest[key]) if key in manifest else "nothing"
        return fail(file, MANIFEST, f"key {key!r} must be {expected}, got {got}")

    if manifest.get("format_version") != CURRENT:
        raise bad("format_version", str(CURRENT))
    kind = manifest.get("kind")
    if kind not in KINDS:
        raise fail(file, MANIFEST, f"key 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    if not isinstance(manifest.get("created_by"), str):
        raise bad("created_by", "a string")
    units = manifest.get("units")
    if not isinstance(units, dict):
        raise bad("units", "an object")
    for unit, entry in units.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("version"), int)
            or isinstance(entry.get("version"), bool)
            or entry["version"] < 1
            or not isinstance(entry.get("package"), str)
        ):
            raise fail(
                file,
                MANIFEST,
                f'key \'units\' entry {unit!r} must be {{"version": n >= 1, "package": string}}',
            )
    hashes = manifest.get("sha256")
    if not isinstance(hashes, dict) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) for v in hashes.values()
    ):
        raise bad("sha256", "an object of member name → 64 lowercase hex digits")
    return kind, units, hashes


def _check_hashes(members: dict[str, bytes], hashes: dict[str, str], file: str) -> None:
    if MANIFEST in hashes:
        raise fail(file, MANIFEST, "lists a sha256 for itself; it cannot")
    for name in hashes:
        if name not in members:
            raise fail(file, name, "is listed in manifest.json's sha256 but is not in the archive")
    for name, data in members.items():
        if name == MANIFEST:
            continue
        if name not in hashes:
            raise fail(file, name, "is not listed in manifest.json's sha256 (added after saving?)")
        if hashlib.sha256(data).hexdigest() != hashes[name]:
            raise fail(
                file,
                name,
                "does not match its sha256 in manifest.json (the file was altered or damaged)",
            )


def _graph(value: Any, file: str, member: str, limits: Limits) -> Graph:
    try:
        graph = Graph.from_dict(value, limits)
    except GraphError as exc:
        raise fail(file, member, f"is not a valid graph: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise fail(file, member, f"is malformed ({type(exc).__name__}: {exc})") from None
    problem = gene_problem(graph.hparams)
    if problem:
        raise fail(file, member, f"is not a valid graph: {problem}")
    return graph


def _tensors(data: bytes, file: str, member: str, limits: Limits) -> Tensors:
    validate_safetensors(data, file, member, limits)
    try:
        tensors = dict(load_safetensors(data))  # safetensors bytes only, never pickle
    except Exception as exc:  # the header was checked; anything left is the library's word
        raise fail(file, member, f"could not be read as safetensors: {exc}") from None
    bad = sorted(k for k, t in tensors.items() if not _finite(t))
    if bad:  # a brain with NaN or infinite weights computes nothing but NaN
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise fail(file, member, f"holds NaN or infinite values in tensor {bad[0]!r}{more}")
    return tensors


def _finite(t: torch.Tensor) -> bool:
    if not t.is_floating_point() or t.numel() == 0:
        return True
    try:
        return bool(t.isfinite().all())
    except (RuntimeError, NotImplementedError):  # float8 has no isfinite kernel
        return bool(t.float().isfinite().all())


def _prefixed(exc: GraphError, file: str) -> GraphError:
    """The same error with the file name in front, keeping node/unit/package attributes."""
    message = f"{file}: {exc}"
    if isinstance(exc, MissingUnitError):
        return MissingUnitError(message, exc.unit, exc.package, node=exc.node)
    try:
        return type(exc)(message, node=exc.node, edge=exc.edge)
    except TypeError:
        return GraphError(message, node=exc.node, edge=exc.edge)


__all__ = [
    "KINDS",
    "GraphFile",
    "PopulationMember",
    "dumps",
    "load",
    "load_brain",
    "loads",
    "runnable",
    "save",
    "save_brain",
]
