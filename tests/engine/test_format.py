"""The `.graph` format: round trips, determinism, migrations, and every way a file can lie.

Real files in tmp_path, real torch, real zips crafted byte by byte; nothing is mocked.
Adversarial files are built with plain ``zipfile`` (not our writer) so they can break rules.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
import struct
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
import safetensors.torch
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.errors import FormatError, GraphError, MissingUnitError
from openbrains.engine.format import (
    GraphFile,
    Limits,
    PopulationMember,
    dump_json,
    dumps,
    load,
    load_brain,
    loads,
    save,
    save_brain,
    schema,
    validate_safetensors,
)
from openbrains.engine.graph import Graph
from openbrains.engine.taskrecord import TaskRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


# ----- helpers ---------------------------------------------------------------------------
def tiny_graph(width: int = 8, activation: str = "tanh") -> Graph:
    g = Graph(
        lineage={"parents": [{"id": "a" * 64, "relation": "seed"}]},
        scores={"val_loss": 0.5},
        tasks={"t": TaskRecord("t", kind="regression")},
    )
    g.add_node("input", {"name": "x", "channels": 4, "time": 1}, uid="in", pos=(0.0, 1.5))
    g.add_node("dense", {"width": width, "activation": activation}, uid="h0", label="hidden")
    g.add_node("dense", {"width": 5}, uid="h1", frozen=True)
    g.add_node("output", {"name": "y", "channels": 2, "time": 1}, uid="out")
    g.connect("in", "h0", uid="e0")
    g.connect("h0", "h1", uid="e1")
    g.connect("h1", "out", uid="e2")
    g.connect("in", "out", uid="e3")  # channel adapter on the edge: edge/<uid>/ weights
    return g


def tiny_doc(seed: int = 0, **kw: object) -> GraphFile:
    brain = compile_graph(tiny_graph(), seed=seed)
    return GraphFile(graph=brain.graph, weights=brain.weights(), **kw)  # type: ignore[arg-type]


def x_batch() -> torch.Tensor:
    return torch.randn(5, 1, 4, generator=torch.Generator().manual_seed(3))


def run(graph: Graph, weights: dict[str, torch.Tensor]) -> torch.Tensor:
    brain = compile_graph(graph).eval()
    brain.load_weights(weights, strict=True)
    with torch.no_grad():
        return brain(x_batch())


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def plain_zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in members.items():
                zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return buf.getvalue()


def resign(members: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute the manifest hashes so a crafted file fails for the reason under test."""
    manifest = orjson.loads(members["manifest.json"])
    manifest["sha256"] = {
        n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"
    }
    return {**members, "manifest.json": dump_json(manifest)}


def rewrite(data: bytes, change: Callable[[dict[str, bytes]], object], sign: bool = True) -> bytes:
    members = members_of(data)
    change(members)
    return plain_zip(resign(members) if sign else members)


def edit_json(member: str, edit: Callable[[dict], object]) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        value = orjson.loads(members[member])
        edit(value)
        members[member] = dump_json(value)

    return change


def refused(data: bytes, *patterns: str, limits: Limits | None = None) -> str:
    with pytest.raises(FormatError) as err:
        loads(data, name="evil.graph", limits=limits)
    message = str(err.value)
    assert message.startswith("evil.graph"), message
    for p in patterns:
        assert re.search(p, message), f"{p!r} not in {message!r}"
    return message


def safetensors_blob(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.fixture(scope="module")
def good() -> bytes:
    return dumps(tiny_doc())


class _Boom:
    """Unpickling this would create the marker file: proof of execution if it ever appears."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (str(self.path), "w"))


# ----- committed fixtures and migrations ------------------------------------------------
def test_committed_v2_fixture_loads_and_its_brain_runs() -> None:
    doc = load(FIXTURES / "tiny_v2.graph")
    assert (doc.kind, doc.format_version_read, doc.migrated_from) == ("graph", 2, None)
    assert doc.missing_units() == {}
    _graph, brain = load_brain(FIXTURES / "tiny_v2.graph")
    io_ = safetensors.torch.load((FIXTURES / "tiny_io.safetensors").read_bytes())
    with torch.no_grad():
        torch.testing.assert_close(brain(io_["x"]), io_["y"])


def test_committed_v1_fixture_migrates_to_the_v2_fixture() -> None:
    doc = load(FIXTURES / "tiny_v1.graph")
    assert (doc.kind, doc.format_version_read, doc.migrated_from) == ("graph", 1, 1)
    v2 = load(FIXTURES / "tiny_v2.graph")
    assert doc.graph is not None and v2.graph is not None
    assert doc.graph.to_dict() == v2.graph.to_dict()
    assert all(torch.equal(doc.weights[k], v2.weights[k]) for k in v2.weights)
    assert doc.missing_units() == {}
    graph, brain = load_brain(FIXTURES / "tiny_v1.graph")
    io_ = safetensors.torch.load((FIXTURES / "tiny_io.safetensors").read_bytes())
    with torch.no_grad():
        torch.testing.assert_close(brain(io_["x"]), io_["y"])
    assert graph.packages == {"input": "openbrains", "dense": "openbrains", "output": "openbrains"}


def test_committed_v0_fixture_migrates_to_the_same_network() -> None:
    old = load(FIXTURES / "tiny_v0.graph")
    new = load(FIXTURES / "tiny_v1.graph")
    assert (old.format_version_read, old.migrated_from, old.created_by) == (
        0,
        0,
        "openbrains 0.0.3",
    )
    assert old.manifest_extra == {"comment": "hand-made v0 fixture"}  # unknown keys survive
    assert old.graph is not None and new.graph is not None
    assert old.graph.to_dict() == new.graph.to_dict()
    assert sorted(old.weights) == sorted(new.weights)
    assert all(torch.equal(old.weights[k], new.weights[k]) for k in new.weights)
    _, b0 = load_brain(FIXTURES / "tiny_v0.graph")
    _, b1 = load_brain(FIXTURES / "tiny_v1.graph")
    x = x_batch()
    with torch.no_grad():
        assert torch.equal(b0(x), b1(x))
    # saved again, the migrated file is a plain v1 file
    again = loads(dumps(old))
    assert (again.format_version_read, again.migrated_from) == (2, None)
    assert again.manifest_extra == {"comment": "hand-made v0 fixture"}


def test_a_file_from_a_newer_format_is_refused_naming_the_version() -> None:
    data = rewrite(
        (FIXTURES / "tiny_v1.graph").read_bytes(),
        edit_json("manifest.json", lambda m: m.update(format_version=999)),
    )
    refused(
        data,
        re.escape(
            "written by a newer Open Brains (format version 999); this version reads up to 2 "
            "— upgrade openbrains"
        ),
    )


def test_v0_with_a_bad_weight_key_says_which_step_failed() -> None:
    def change(m: dict[str, bytes]) -> None:
        m["weights.safetensors"] = safetensors.torch.save({"nodeh": torch.zeros(2)})

    data = rewrite((FIXTURES / "tiny_v0.graph").read_bytes(), change, sign=False)
    refused(data, "format version 0 to 1", "weights.safetensors", "nodeh")


# ----- round trips ----------------------------------------------------------------------
def test_graph_round_trip_is_lossless_and_byte_stable(tmp_path: Path) -> None:
    doc = tiny_doc(thumbnail=PNG, manifest_extra={"title": "mine"})
    assert any(k.startswith("edge/e3/") for k in doc.weights)
    path = tmp_path / "brain.graph"
    save(path, doc)
    back = load(path)
    assert back.graph is not None and doc.graph is not None
    assert back.graph.to_dict() == doc.graph.to_dict()
    assert sorted(back.weights) == sorted(doc.weights)
    for k, t in doc.weights.items():
        assert back.weights[k].dtype == t.dtype and torch.equal(back.weights[k], t)
    assert torch.equal(run(back.graph, back.weights), run(doc.graph, doc.weights))
    assert (back.thumbnail, back.manifest_extra) == (PNG, {"title": "mine"})
    assert dumps(back) == path.read_bytes()


def test_project_round_trip(tmp_path: Path) -> None:
    project = {
        "sources": [{"kind": "text", "path": "corpus.txt"}],
        "tasks": [{"kind": "completion", "weight": 1.0}],
        "evolver": {"population": 32, "cpu_cap": 0.25},
        "canvas": {"zoom": 1.5, "center": [10, -3]},
        "future_key": {"nested": [1, 2, {"deep": None}]},
    }
    doc = tiny_doc(kind="project", project=project)
    save(tmp_path / "p.graph", doc)
    back = load(tmp_path / "p.graph")
    assert back.kind == "project" and back.project == project
    assert back.graph is not None and back.graph.to_dict() == doc.graph.to_dict()  # type: ignore[union-attr]
    assert dumps(back) == (tmp_path / "p.graph").read_bytes()
    # a project without a seed graph is fine too
    bare = GraphFile(kind="project", project={"tasks": []})
    assert loads(dumps(bare)).graph is None


def test_population_round_trip(tmp_path: Path) -> None:
    members = []
    for i, act in enumerate(("tanh", "relu", "gelu")):
        brain = compile_graph(tiny_graph(width=3 + i, activation=act), seed=i)
        record = {"scores": {"val": 0.1 * i}, "parents": [f"p{i}"], "age": i, "species": "a"}
        members.append(PopulationMember(brain.graph, brain.weights(), record))
    champion = members[2]
    doc = GraphFile(
        kind="population",
        graph=champion.graph,
        weights=champion.weights,
        project={"evolver": {"population": 3}},
        population=members,
    )
    path = tmp_path / "pop.graph"
    save(path, doc)
    names = list(members_of(path.read_bytes()))
    assert "population/0002.json" in names and "population/0002.safetensors" in names
    back = load(path)
    assert back.kind == "population" and len(back.population) == 3
    for a, b in zip(members, back.population):
        assert b.record == a.record
        assert b.graph.to_dict() == a.graph.to_dict()
        assert all(torch.equal(b.weights[k], t) for k, t in a.weights.items())
        assert torch.equal(run(b.graph, b.weights), run(a.graph, a.weights))
    assert dumps(back) == path.read_bytes()


def test_save_brain_and_load_brain(tmp_path: Path) -> None:
    brain = compile_graph(tiny_graph(), seed=5).eval()
    save_brain(tmp_path / "b.graph", brain, author="me")
    _, loaded = load_brain(tmp_path / "b.graph")
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(x_batch()), brain(x_batch()))
    assert load(tmp_path / "b.graph").manifest_extra == {"author": "me"}
    # an untrained genome (graph, no weights) loads with fresh weights
    save_brain(tmp_path / "g.graph", tiny_graph())
    _, fresh = load_brain(tmp_path / "g.graph")
    assert fresh(x_batch()).shape == (5, 1, 2)


def test_unknown_keys_and_members_survive_load_and_save(good: bytes) -> None:
    def change(m: dict[str, bytes]) -> None:
        edit_json("manifest.json", lambda v: v.update(signed_by={"who": "x"}))(m)

        def graph_edit(g: dict) -> None:
            g["future"] = {"a": 1}
            g["nodes"][1]["colour"] = "red"
            g["edges"][0]["weight_hint"] = 0.5

        edit_json("graph.json", graph_edit)(m)
        m["notes/readme.txt"] = b"hello from a newer build\n"
        m["extra/aux.safetensors"] = safetensors.torch.save({"t": torch.arange(3.0)})

    data = rewrite(good, change)
    doc = loads(data)
    assert doc.manifest_extra == {"signed_by": {"who": "x"}}
    assert set(doc.extra_members) == {"notes/readme.txt", "extra/aux.safetensors"}
    out = members_of(dumps(doc))
    assert out["notes/readme.txt"] == b"hello from a newer build\n"
    assert out["extra/aux.safetensors"] == members_of(data)["extra/aux.safetensors"]
    graph = orjson.loads(out["graph.json"])
    assert graph["future"] == {"a": 1}
    assert graph["nodes"][1]["colour"] == "red" and graph["edges"][0]["weight_hint"] == 0.5
    manifest = orjson.loads(out["manifest.json"])
    assert manifest["signed_by"] == {"who": "x"}
    assert (
        manifest["sha256"]["notes/readme.txt"]
        == hashlib.sha256(out["notes/readme.txt"]).hexdigest()
    )
    # and the unknown member's hash is checked like any other
    tampered = rewrite(dumps(doc), lambda m: m.update({"notes/readme.txt": b"changed"}), sign=False)
    refused(tampered, "notes/readme.txt", "sha256")


def test_population_records_keep_unknown_keys() -> None:
    brain = compile_graph(tiny_graph(), seed=1)
    doc = GraphFile(
        kind="population",
        population=[PopulationMember(brain.graph, brain.weights(), {"new_thing": [1, "a"]})],
    )
    assert loads(dumps(doc)).population[0].record == {"new_thing": [1, "a"]}


# ----- determinism ----------------------------------------------------------------------
def test_equal_content_gives_identical_bytes(tmp_path: Path) -> None:
    a = tiny_doc(seed=9)
    b = tiny_doc(seed=9)
    b.weights = dict(reversed(list(b.weights.items())))  # insertion order does not matter
    assert dumps(a) == dumps(b)
    save(tmp_path / "1.graph", a)
    save(tmp_path / "2.graph", b)
    assert (tmp_path / "1.graph").read_bytes() == (tmp_path / "2.graph").read_bytes()
    with zipfile.ZipFile(tmp_path / "1.graph") as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names[0] == "manifest.json" and names[1:] == sorted(names[1:])
    for i in infos:
        assert i.date_time == (1980, 1, 1, 0, 0, 0)
        assert i.external_attr >> 16 == 0o100644
        stored = i.filename.endswith(".safetensors")
        assert i.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


# ----- atomic save ----------------------------------------------------------------------
def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_save_that_fails_to_serialise_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "p.graph"
    save(path, tiny_doc(kind="project", project={"ok": True}))
    before = path.read_bytes()
    with pytest.raises(FormatError, match=r"project\.json"):
        save(path, tiny_doc(kind="project", project={"bad": {1, 2}}))
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_during_save_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    import resource
    import signal

    path = tmp_path / "brain.graph"
    save(path, tiny_doc())
    before = path.read_bytes()
    big = tiny_doc()
    big.weights["node/h0/big"] = torch.randn(64, 256)  # 64 KiB: past the file-size cap
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, hard))
    try:
        with pytest.raises(FormatError) as err:
            save(path, big)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert "could not save" in str(err.value) and "unchanged" in str(err.value)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


def test_saving_into_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="could not save"):
        save(tmp_path / "nope" / "x.graph", tiny_doc())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_folder_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "brain.graph"
    save(path, tiny_doc())
    before = path.read_bytes()
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(FormatError, match="could not save"):
            save(path, tiny_doc(seed=1))
    finally:
        tmp_path.chmod(0o700)
    assert path.read_bytes() == before and _leftovers(tmp_path) == []


# ----- adversarial files ----------------------------------------------------------------
def test_not_a_zip() -> None:
    refused(b"hello, I am a text file", "not a zip")


@pytest.mark.parametrize("cut", [30, 0.5])
def test_truncated_zip(good: bytes, cut: float) -> None:
    end = len(good) - int(cut) if cut >= 1 else int(len(good) * cut)
    refused(good[:end], "truncated")


def test_junk_before_the_zip_is_refused(good: bytes) -> None:
    refused(b"#!/bin/sh\necho hi\n" + good, "preceded by data")


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    b = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        offset = zf.getinfo(name).header_offset
    struct.pack_into("<I", b, offset + 22, size)  # local header: uncompressed size
    pos = b.find(b"PK\x01\x02" + b[offset + 4 : offset + 10])  # its central directory entry
    while b[pos + 46 : pos + 46 + len(name)] != name.encode():
        pos = b.find(b"PK\x01\x02", pos + 4)
    struct.pack_into("<I", b, pos + 24, size)
    return bytes(b)


def test_zip_bomb_whose_declared_size_lies(good: bytes) -> None:
    members = members_of(good)
    members["notes.txt"] = bytes(20 * 1024 * 1024)
    data = _patch_declared_size(plain_zip(resign(members)), "notes.txt", 1000)
    refused(data, "'notes.txt'", "more than its declared size of 1000", "zip bomb")


def test_zip_bomb_with_a_huge_honest_ratio(good: bytes) -> None:
    members = members_of(good)
    members["notes.txt"] = bytes(5 * 1024 * 1024)
    refused(plain_zip(resign(members)), "'notes.txt'", r"expand \d+:1", "zip bomb")


def test_total_size_and_member_count_limits(good: bytes) -> None:
    refused(good, "over the limit of 1000", limits=Limits(max_total_size=1000))
    refused(good, "3 members, over the limit of 2", limits=Limits(max_members=2))


def test_ten_thousand_and_one_members_are_refused() -> None:
    members = {f"m/{i}": b"" for i in range(10_001)}
    refused(plain_zip(members, zipfile.ZIP_STORED), "10001 members, over the limit of 10000")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", r"'\.\.' component"),
        ("notes/../../evil.txt", r"'\.\.' component"),
        ("/etc/evil", "absolute path"),
        ("C:/evil.txt", "drive letter"),
        ("notes\\evil.txt", "backslash"),
        ("a//b.txt", "empty"),
        ("evil\x00.txt", "control character"),
    ],
)
def test_unsafe_member_names(good: bytes, name: str, why: str) -> None:
    # zipfile cuts names at NUL when writing, so write a stand-in and patch the raw bytes
    stand_in = name.replace("\x00", "X")
    data = rewrite(good, lambda m: m.update({stand_in: b"x"}))
    data = data.replace(stand_in.encode(), name.encode())
    refused(data, re.escape(repr(name)), why)


def test_duplicate_member_names(good: bytes) -> None:
    members = [*members_of(good).items(), ("graph.json", b"{}")]
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as zf:
            for n, d in members:
                zf.writestr(n, d)
    refused(buf.getvalue(), "'graph.json'", "twice")
    refused(rewrite(good, lambda m: m.update({"Graph.JSON": b"{}"})), "twice", "Graph.JSON")


def test_other_compression_methods_are_refused(good: bytes) -> None:
    refused(plain_zip(members_of(good), zipfile.ZIP_BZIP2), "compression method 12")


def test_tampered_member_names_the_member(good: bytes) -> None:
    data = rewrite(
        good,
        lambda m: m.update({"graph.json": m["graph.json"].replace(b"tanh", b"relu")}),
        sign=False,
    )
    refused(data, "'graph.json'", "does not match its sha256")


def test_member_missing_from_the_hash_table(good: bytes) -> None:
    data = rewrite(good, lambda m: m.update({"smuggled.txt": b"hi"}), sign=False)
    refused(data, "'smuggled.txt'", "not listed")


def test_missing_required_members(good: bytes) -> None:
    refused(
        rewrite(good, lambda m: m.pop("weights.safetensors")), "'weights.safetensors'", "missing"
    )
    refused(rewrite(good, lambda m: m.pop("manifest.json"), sign=False), "no manifest.json")
    project = rewrite(good, edit_json("manifest.json", lambda v: v.update(kind="project")))
    refused(project, "'project.json'", "missing")


def test_lying_safetensors_headers(good: bytes) -> None:
    cases = {
        "needs 128 bytes but spans 16": (
            {"node/h0/w": {"dtype": "F32", "shape": [8, 4], "data_offsets": [0, 16]}},
            bytes(16),
        ),
        "outside the 16-byte data block": (
            {"node/h0/w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4096]}},
            bytes(16),
        ),
    }
    for why, (header, blob) in cases.items():
        data = rewrite(
            good,
            lambda m, h=header, b=blob: m.update({"weights.safetensors": safetensors_blob(h, b)}),
        )
        refused(data, "'weights.safetensors'", "not a valid safetensors", why)


@pytest.mark.parametrize(
    ("header", "blob", "why"),
    [
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(12), "trailing"),
        (
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            },
            bytes(12),
            "overlaps",
        ),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8), "gap"),
        ({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}, bytes(1), "unknown dtype"),
        ({"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}}, bytes(1), "invalid shape"),
        ({"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 0]}}, bytes(1), "outside"),
        ({"a": {"dtype": "U8", "shape": [1]}}, bytes(1), "exactly"),
        ({"__metadata__": {"k": 1}}, b"", "__metadata__"),
    ],
)
def test_safetensors_validator(header: dict, blob: bytes, why: str) -> None:
    with pytest.raises(FormatError, match=why):
        validate_safetensors(safetensors_blob(header, blob), "f", "weights.safetensors")


def test_safetensors_validator_on_broken_framing() -> None:
    for data, why in [
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 1 << 40) + b"{}", "header length"),
        (struct.pack("<Q", 50) + b"{}", "runs past the end"),
        (struct.pack("<Q", 2) + b"[]", "does not start with"),
        (struct.pack("<Q", 4) + b'{"a"', "not valid UTF-8 JSON"),
        (struct.pack("<Q", 16) + b'{"a":1, "a": 2} ', "duplicate"),
    ]:
        with pytest.raises(FormatError, match=why):
            validate_safetensors(data, "f", "w.safetensors")
    assert validate_safetensors(safetensors.torch.save({}), "f", "w") == {}


def test_pickles_are_refused_and_never_run(good: bytes, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    boom = pickle.dumps(_Boom(marker), protocol=4)
    torch_zip = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, torch_zip)
    placements = {
        "data.dat": boom,  # sniffed by its protocol header
        "notes.pkl": pickle.dumps(_Boom(marker), protocol=0),  # by name
        "model.pt": b"whatever",  # by name: .pt/.pth/.ckpt/.bin/.npy… are pickle carriers
        "extra/model.weights": torch_zip.getvalue(),  # a torch.save zip holding data.pkl
        "weights.safetensors": boom,  # pretending to be the weights
        "population/0000.json": boom,
    }
    for name, payload in placements.items():
        data = rewrite(good, lambda m, n=name, p=payload: m.update({n: p}))
        path = tmp_path / "evil.graph"
        path.write_bytes(data)
        with pytest.raises(FormatError) as err:
            load(path)
        assert f"member {name!r} is a Python pickle; Open Brains never unpickles files" in str(
            err.value
        )
        with pytest.raises(FormatError):
            load_brain(path)
    assert not marker.exists()
    doc = tiny_doc(extra_members={"x.dat": boom})
    with pytest.raises(FormatError, match="pickle"):
        dumps(doc)
    assert not marker.exists()


def test_unknown_unit_loads_as_data_and_names_its_package(tmp_path: Path) -> None:
    d = tiny_graph().to_dict()
    d["nodes"][1]["unit"] = "quantum_dense"
    graph = Graph.from_dict(d)
    graph.packages["quantum_dense"] = "openbrains-quantum"
    path = tmp_path / "q.graph"
    save(path, GraphFile(graph=graph))
    manifest = orjson.loads(members_of(path.read_bytes())["manifest.json"])
    assert manifest["units"]["quantum_dense"] == {"version": 1, "package": "openbrains-quantum"}
    doc = load(path)
    assert doc.missing_units() == {"quantum_dense": "openbrains-quantum"}
    with pytest.raises(MissingUnitError, match=r"quantum_dense.*openbrains-quantum") as err:
        load_brain(path)
    assert (err.value.unit, err.value.package, err.value.node) == (
        "quantum_dense",
        "openbrains-quantum",
        "h0",
    )
    assert dumps(doc) == path.read_bytes()  # the package survives a load + save


def test_a_cycle_loads_as_data_but_does_not_compile(good: bytes, tmp_path: Path) -> None:
    edit = edit_json(
        "graph.json", lambda g: g["edges"].append({"uid": "back", "src": "h1", "dst": "h0"})
    )
    path = tmp_path / "cycle.graph"
    path.write_bytes(rewrite(good, edit))
    assert load(path).graph is not None
    with pytest.raises(GraphError, match="cycle") as err:
        load_brain(path)
    assert err.value.node in {"h0", "h1"} and str(path) in str(err.value)


@pytest.mark.parametrize(
    ("member", "edit", "patterns"),
    [
        ("graph.json", lambda g: g["nodes"][1].update(params="wide"), ["'graph.json'", "'params'"]),
        ("graph.json", lambda g: g.update(nodes={}), ["'graph.json'", "'nodes'"]),
        ("graph.json", lambda g: g["edges"][0].update(dst="ghost"), ["'graph.json'", "ghost"]),
        ("manifest.json", lambda m: m.update(kind=3), ["'manifest.json'", "'kind'"]),
        ("manifest.json", lambda m: m.update(units=[]), ["'manifest.json'", "'units'"]),
        ("manifest.json", lambda m: m.update(format="zip"), ["'manifest.json'", "'format'"]),
        ("manifest.json", lambda m: m.update(format_version="1"), ["format_version"]),
    ],
)
def test_wrong_json_types_name_member_and_key(
    good: bytes, member: str, edit: Callable, patterns: list[str]
) -> None:
    refused(rewrite(good, edit_json(member, edit)), *patterns)


def test_invalid_json_and_utf8(good: bytes) -> None:
    refused(rewrite(good, lambda m: m.update({"graph.json": b"{\xff}"})), "'graph.json'", "UTF-8")
    refused(rewrite(good, lambda m: m.update({"graph.json": b"{nope"})), "'graph.json'", "JSON")
    refused(rewrite(good, lambda m: m.update({"graph.json": b"[]"})), "'graph.json'", "object")


def test_bad_thumbnail_and_population_pairs(good: bytes) -> None:
    refused(
        rewrite(good, lambda m: m.update({"thumbnail.png": b"GIF89a"})), "'thumbnail.png'", "PNG"
    )
    pop = dumps(
        GraphFile(
            kind="population",
            population=[PopulationMember(tiny_graph(), {}, {"scores": {}})],
        )
    )
    refused(rewrite(pop, lambda m: m.pop("population/0000.safetensors")), "no matching")
    no_graph = rewrite(pop, edit_json("population/0000.json", lambda r: r.pop("graph")))
    refused(no_graph, "'population/0000.json'", "'graph'")
    refused(rewrite(good, lambda m: m.update({"population/0000.json": b"{}"})), "kind 'population'")


def test_saving_refuses_what_loading_would_refuse() -> None:
    with pytest.raises(FormatError, match="kind"):
        dumps(GraphFile(kind="zoo"))
    with pytest.raises(FormatError, match="needs a graph"):
        dumps(GraphFile(kind="graph"))
    with pytest.raises(FormatError, match="reserved"):
        dumps(tiny_doc(extra_members={"graph.json": b"{}"}))
    with pytest.raises(FormatError, match=r"'\.\.' component"):
        dumps(tiny_doc(extra_members={"../x": b""}))
    with pytest.raises(FormatError, match="manifest_extra"):
        dumps(tiny_doc(manifest_extra={"kind": "project"}))
    with pytest.raises(FormatError, match="PNG"):
        dumps(tiny_doc(thumbnail=b"not a png"))


# ----- schema ---------------------------------------------------------------------------
def test_written_json_matches_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    root = schema()
    jsonschema.Draft202012Validator.check_schema(root)

    def check(definition: str, value: object) -> None:
        jsonschema.validate(value, {**root, "$ref": f"#/$defs/{definition}"})

    brain = compile_graph(tiny_graph(), seed=0)
    doc = GraphFile(
        kind="population",
        graph=brain.graph,
        weights=brain.weights(),
        project={"tasks": []},
        population=[PopulationMember(brain.graph, brain.weights(), {"scores": {"v": 1.0}})],
    )
    m = members_of(dumps(doc))
    check("manifest", orjson.loads(m["manifest.json"]))
    check("graph", orjson.loads(m["graph.json"]))
    check("project", orjson.loads(m["project.json"]))
    check("population_member", orjson.loads(m["population/0000.json"]))
    for name in ("tiny_v2.graph",):
        fm = members_of((FIXTURES / name).read_bytes())
        check("manifest", orjson.loads(fm["manifest.json"]))
        check("graph", orjson.loads(fm["graph.json"]))
    with pytest.raises(jsonschema.ValidationError):
        check("manifest", {**orjson.loads(m["manifest.json"]), "format_version": 3})


def test_the_package_loads_what_the_document_module_exports_and_nothing_else() -> None:
    """engine.format names document's exports to load them lazily (the command line's quick
    answers skip torch); the two lists must not drift apart."""
    import openbrains.engine.format as fmt
    from openbrains.engine.format import document

    assert set(fmt._DOCUMENT) == set(document.__all__)
    assert all(getattr(fmt, name) is getattr(document, name) for name in document.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = fmt.nothing_here
