"""Cheap files must stay cheap to open: every cost bomb is refused (or read) within a
memory and CPU ceiling that the kernel enforces on a child process (``bounded_child.py``),
never by timing anything here. The ceilings: 200 MB of address space and 2 s of CPU time
beyond what opening a sample file already took (the limits aim at under 1 s; a shared
test machine gets one more second). All bombs go through one child, one command each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import safetensors.torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.format import DEFAULT_LIMITS
from openbrains.engine.graph import Graph
from tests.security import hostile

CHILD = Path(__file__).with_name("bounded_child.py")
MEGABYTES = 200
CPU_SECONDS = 2
LIMITS = DEFAULT_LIMITS

Bomb = Callable[[Path], bytes]
BOMBS: dict[str, Bomb] = {}


def bomb(fn: Bomb) -> Bomb:
    BOMBS[fn.__name__] = fn
    return fn


@bomb
def nodes_200k(_: Path) -> bytes:
    """The issue's file: 200,000 nodes in a couple of megabytes."""
    return hostile.graph_file(hostile.chain_graph(200_000))


@bomb
def nodes_over_limit(_: Path) -> bytes:
    return hostile.graph_file(hostile.chain_graph(LIMITS.max_nodes - 1))  # + input, output


@bomb
def nodes_at_limit(_: Path) -> bytes:
    """The largest graph allowed, with real weights: it must open and evaluate cheaply."""
    graph = hostile.chain_graph(LIMITS.max_nodes - 2)
    weights = compile_graph(Graph.from_dict(graph), seed=0).weights()
    return hostile.graph_file(graph, safetensors.torch.save(weights))


@bomb
def edges_over_limit(_: Path) -> bytes:
    graph = hostile.chain_graph(2)
    graph["edges"] += [{"uid": f"x{i}", "src": "in", "dst": "n1"} for i in range(LIMITS.max_edges)]
    return hostile.graph_file(graph)


@bomb
def object_soup(_: Path) -> bytes:
    """15 MB of ``[{},{},…]`` in project.json (under 1 MB deflated): gigabytes as Python
    objects, refused from a count of its commas before it is parsed."""
    members = hostile.sample_members()
    members["project.json"] = hostile.object_soup(15 << 20)
    return hostile.zip_members(members)


@bomb
def soup_at_limit(_: Path) -> bytes:
    """Just under the value budget: read, within the ceilings."""
    members = hostile.sample_members()
    count = LIMITS.max_json_values - 2_000  # the other members' share
    members["project.json"] = b'{"soup":[' + b",".join([b"{}"] * (count // 2)) + b"]}"
    return hostile.zip_members(members)


@bomb
def soup_in_many_members(_: Path) -> bytes:
    """The value budget is per file: a population of small soups adds up."""
    members = hostile.sample_members()
    manifest = orjson.loads(members["manifest.json"])
    members["manifest.json"] = orjson.dumps({**manifest, "kind": "population"})
    graph = orjson.loads(members.pop("graph.json"))
    members.pop("weights.safetensors")
    soup = orjson.loads(hostile.object_soup(1 << 20))
    for i in range(40):
        members[f"population/{i:04d}.json"] = orjson.dumps({"graph": graph, "soup": soup})
        members[f"population/{i:04d}.safetensors"] = hostile.empty_weights()
    return hostile.zip_members(members)


@bomb
def deep_nesting(_: Path) -> bytes:
    members = hostile.sample_members()
    members["project.json"] = hostile.nested(1000)
    return hostile.zip_members(members)


@bomb
def many_small_members(_: Path) -> bytes:
    """Each member under the 1 MiB where the ratio rule starts; together far over."""
    members = hostile.sample_members()
    for i in range(100):
        members[f"extra/{i}.txt"] = bytes(1 << 20)
    return hostile.zip_members(members)


@bomb
def tensor_count(_: Path) -> bytes:
    header = {
        f"node/n{i}/w": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
        for i in range(LIMITS.max_tensors + 1)
    }
    return hostile.graph_file(hostile.chain_graph(1), hostile.safetensors_bytes(header))


@bomb
def wide_layers(_: Path) -> bytes:
    """Forty dense layers 4096 wide: 650 M weights asked for by 2 KB."""
    return hostile.graph_file(hostile.chain_graph(40, width=4096))


@bomb
def wide_adapter(_: Path) -> bytes:
    """An input and an output of a million channels each: one edge adapter of 10^12."""
    million = 1 << 20
    return hostile.graph_file(
        {
            "nodes": [
                {"uid": "in", "unit": "input", "params": {"name": "x", "channels": million}},
                {"uid": "out", "unit": "output", "params": {"name": "y", "channels": million - 1}},
            ],
            "edges": [{"uid": "e", "src": "in", "dst": "out"}],
        }
    )


@bomb
def wide_merge(_: Path) -> bytes:
    """300 wires into one concat: 1.2 M channels into a dense layer of 4096 (5 G weights)."""
    graph = hostile.chain_graph(1, width=4096)
    graph["nodes"][-1:-1] = [
        {"uid": "cat", "unit": "concat", "params": {}},
        {"uid": "big", "unit": "dense", "params": {"width": 4096}},
    ]
    graph["edges"] = [graph["edges"][0]]
    graph["edges"] += [{"uid": f"w{i}", "src": "n0", "dst": "cat"} for i in range(300)]
    graph["edges"] += [
        {"uid": "c1", "src": "cat", "dst": "big"},
        {"uid": "c2", "src": "big", "dst": "out"},
    ]
    return hostile.graph_file(graph)


def class_folders(root: Path, files: dict[str, dict[str, bytes]]) -> str:
    """``root/<class>/<name>`` for each class and file; returns ``root``."""
    for label, named in files.items():
        (root / label).mkdir(parents=True)
        for name, data in named.items():
            (root / label / name).write_bytes(data)
    return str(root)


def small_pngs(n: int) -> dict[str, bytes]:
    import cv2
    import numpy as np

    return {
        f"{i}.png": cv2.imencode(".png", np.full((8, 8), i * 20, np.uint8))[1].tobytes()
        for i in range(n)
    }


def silent_clips(n: int, seconds: float, rate: int = 8000) -> dict[str, bytes]:
    import io

    import numpy as np
    import soundfile as sf

    out = {}
    for i in range(n):
        buf = io.BytesIO()
        with sf.SoundFile(
            buf, "w", samplerate=rate, channels=1, subtype="PCM_16", format="FLAC"
        ) as f:
            second = np.full(rate, i, dtype=np.int16)
            for _ in range(int(seconds)):
                f.write(second)
        out[f"{i}.flac"] = buf.getvalue()
    return out


def media_commands(folder: Path) -> dict[str, list[str]]:
    """Task data with a bomb among ordinary files, loaded by `eval` (the sample's graph
    then does not fit the task: reaching that message means the data was read)."""
    xor = str(hostile.SAMPLES / "xor.graph")
    images = class_folders(
        folder / "images",
        {
            "a": {**small_pngs(6), "bomb.png": hostile.png_header_bomb(20_000, 20_000)},
            "b": small_pngs(7),
        },
    )
    audio = class_folders(
        folder / "audio",
        {
            "a": {**silent_clips(6, 1), "hour.flac": silent_clips(1, 3600)["0.flac"]},
            "b": silent_clips(7, 1),
        },
    )
    return {
        "image_bomb": ["eval", xor, "--task", "images", "--data", images],
        "hour_of_audio": ["eval", xor, "--task", "audio", "--data", audio],
    }


COMMANDS = {
    "inspect": lambda path: ["inspect", path],
    "eval": lambda path: ["eval", path, "--task", "xor"],
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict[str, Any]]:
    """Every bomb through every command, in one child under the ceilings."""
    folder = tmp_path_factory.mktemp("bombs")
    keys, commands = [], []
    for name, build in BOMBS.items():
        path = folder / f"{name}.graph"
        path.write_bytes(build(folder))
        for command, args in COMMANDS.items():
            keys.append((name, command))
            commands.append(args(str(path)))
    for name, args in media_commands(folder).items():
        keys.append((name, "eval"))
        commands.append(args)
    env = {
        "PATH": "/usr/bin:/bin",
        "OMP_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MB of address space per thread arena
    }
    proc = subprocess.run(
        [
            sys.executable,
            str(CHILD),
            str(MEGABYTES),
            str(CPU_SECONDS),
            str(hostile.SAMPLES / "xor.graph"),
        ],
        input=json.dumps(commands),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=hostile.ROOT,
    )
    assert proc.returncode == 0, f"the child died (rc {proc.returncode}): {proc.stderr[-3000:]}"
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for key, result in zip(keys, results, strict=True):  # the figures, for -s and reports
        print(f"{key[0]:>22} {key[1]:>8}: {result['cpu_s']:.2f} s CPU, {result['vm_after_mb']} MB")
    return dict(zip(keys, results, strict=True))


def refused(result: dict[str, Any], *words: str) -> str:
    assert result["code"] == 2, result
    err = result["stderr"]
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("nodes_200k", ("graph.json", "limit")),
        (
            "nodes_over_limit",
            (f"{LIMITS.max_nodes + 1:,} nodes, over the limit of {LIMITS.max_nodes:,}",),
        ),
        ("edges_over_limit", ("edges, over the limit",)),
        ("object_soup", ("project.json", "JSON values")),
        ("soup_in_many_members", ("JSON values",)),
        ("deep_nesting", ("nests deeper than",)),
        ("many_small_members", ("once inflated", "zip bomb")),
        ("tensor_count", ("weights.safetensors", "tensors, over the limit")),
    ],
)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_refused_within_the_ceilings(
    outcomes: dict, name: str, words: tuple[str, ...], command: str
) -> None:
    refused(outcomes[(name, command)], *words)


def test_json_just_under_the_budget_is_read(outcomes: dict) -> None:
    assert outcomes[("soup_at_limit", "inspect")]["code"] == 0, outcomes[
        ("soup_at_limit", "inspect")
    ]


def test_the_largest_graph_allowed_opens_and_runs(outcomes: dict) -> None:
    assert outcomes[("nodes_at_limit", "inspect")]["code"] == 0, outcomes[
        ("nodes_at_limit", "inspect")
    ]
    assert outcomes[("nodes_at_limit", "eval")]["code"] == 0, outcomes[("nodes_at_limit", "eval")]


@pytest.mark.parametrize("name", ["wide_layers", "wide_merge", "wide_adapter"])
def test_weights_are_counted_not_allocated(outcomes: dict, name: str) -> None:
    """inspect counts them on the meta device and says the brain is too big to run; eval
    refuses before going over the limit (the adapter file's huge input and output are cut
    to the task's size by eval, so it is only refused for missing weights there)."""
    inspected = outcomes[(name, "inspect")]
    assert inspected["code"] == 0, inspected
    assert f"too big to run: over the limit of {LIMITS.max_weights:,}" in inspected["stdout"]
    if name != "wide_adapter":
        refused(outcomes[(name, "eval")], f"more than {LIMITS.max_weights:,} weights")
    else:
        refused(outcomes[(name, "eval")], "weights do not fit")


def test_the_files_are_small(tmp_path: Path) -> None:
    """What makes them bombs: each costs little to send."""
    sizes = {
        name: len(build(tmp_path)) for name, build in BOMBS.items() if name != "nodes_at_limit"
    }
    assert max(sizes.values()) < 2_000_000, sizes


def test_image_size_is_checked_before_decoding(outcomes: dict, tmp_path: Path) -> None:
    """The issue's 424 KB PNG of 20000×20000 pixels in an images folder."""
    assert len(hostile.png_header_bomb(20_000, 20_000)) < 500_000
    refused(outcomes[("image_bomb", "eval")], "bomb.png", "20000×20000 pixels, over the limit")


def test_a_long_sound_costs_what_its_clip_costs(outcomes: dict) -> None:
    """An hour of audio (tens of kilobytes of FLAC) among one-second clips: only the
    second the task keeps is decoded."""
    refused(outcomes[("hour_of_audio", "eval")], "takes inputs")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp"])
def test_image_headers_give_the_size(ext: str) -> None:
    import cv2
    import numpy as np

    from openbrains.engine.media_limits import image_size

    for shape in ((5, 7), (7, 5, 3), (300, 2)):
        data = cv2.imencode(ext, np.zeros(shape, np.uint8))[1].tobytes()
        assert image_size(data) == (shape[1], shape[0])


def test_unreadable_image_headers_are_refused() -> None:
    from openbrains.engine.media_limits import MediaError, check_image

    for data in (b"GIF89a" + bytes(20), b"\xff\xd8\xff\xe0\x00\x01", b"BM" + bytes(4), b""):
        with pytest.raises(MediaError, match="not a valid PNG, JPEG or BMP"):
            check_image(data, "x.png")
    with pytest.raises(MediaError, match="over the limit"):
        check_image(hostile.png_header_bomb(5000, 5000)[:64], "x.png")


def test_the_schema_states_the_same_limits() -> None:
    """docs and schema.json repeat the limits for other languages; they must not drift."""
    from openbrains.engine.format import schema
    from openbrains.engine.train.genes import gene

    defs = schema()["$defs"]
    graph = defs["graph"]["properties"]
    assert graph["nodes"]["maxItems"] == LIMITS.max_nodes
    assert graph["edges"]["maxItems"] == LIMITS.max_edges
    genes = defs["hparams"]["properties"]
    assert genes["batch_size"]["maximum"] == gene("batch_size").param.high
    assert genes["batch_size"]["minimum"] == gene("batch_size").param.low
    assert genes["optimizer"]["enum"] == list(gene("optimizer").param.choices)
    assert genes["schedule"]["enum"] == list(gene("schedule").param.choices)
    assert genes["lr"]["exclusiveMinimum"] == gene("lr").param.low and gene("lr").param.open_low
    smoothing = gene("label_smoothing").param
    assert genes["label_smoothing"]["exclusiveMaximum"] == smoothing.high and smoothing.open_high
    for name in genes:  # every gene the schema names, with the default a graph trains with
        assert genes[name]["default"] == gene(name).param.default, name
    assert genes["distill_inputs"]["enum"] == list(gene("distill_inputs").param.choices)
    docs = (hostile.ROOT / "docs" / "format.md").read_text()
    for number in (
        LIMITS.max_nodes,
        LIMITS.max_edges,
        LIMITS.max_weights,
        LIMITS.max_json_values,
        LIMITS.max_tensors,
        LIMITS.max_image_pixels,
    ):
        assert f"{number:,}" in docs, number


# ----- ambiguities: what two readers could read differently -------------------------------


def loads_sample(members: dict[str, bytes]) -> object:
    from openbrains.engine.format import loads

    return loads(hostile.zip_members(members), name="x.graph")


@pytest.mark.parametrize(
    ("member", "text"),
    [
        ("project.json", b'{"task": {"name": "xor"}, "notes": "", "task": {"name": "digits"}}'),
        ("manifest.json", None),  # "kind" twice
        ("graph.json", None),  # "causal" twice
    ],
)
def test_duplicate_json_keys_are_refused(member: str, text: bytes | None) -> None:
    """orjson would keep the last one silently; Python's json too; other readers the first."""
    from openbrains.engine.errors import FormatError

    members = hostile.sample_members()
    if member == "manifest.json":
        manifest = orjson.loads(members[member])
        manifest["sha256"] = orjson.loads(hostile.resign(members)["manifest.json"])["sha256"]
        body = orjson.dumps(manifest)
        members[member] = body[:-1] + b',"kind":"graph"}'
        data = hostile.zip_members(members, sign=False)
    else:
        if text is None:  # graph.json: "causal" twice (true, then the real false)
            raw = members[member].decode()
            text = raw.replace(
                '"causal": false,', '"causal": true,\n  "causal": false,', 1
            ).encode()
            assert text.count(b'"causal"') == 2
        members[member] = text
        data = hostile.zip_members(members)
    from openbrains.engine.format import loads

    with pytest.raises(FormatError, match=rf"member '{member}' has a duplicate key"):
        loads(data, name="x.graph")


def test_escaped_quotes_before_colons_are_not_duplicates() -> None:
    """The cheap key count over-counts a string holding \\": ; the exact check clears it."""
    members = hostile.sample_members()
    project = orjson.loads(members["project.json"])
    project["notes"] = 'say "a": 1, "b": 2'
    members["project.json"] = orjson.dumps(project)
    assert b'\\":' in members["project.json"]
    assert loads_sample(members).project["notes"] == 'say "a": 1, "b": 2'  # type: ignore[attr-defined]


def test_trailing_data_after_the_end_record_is_refused() -> None:
    from openbrains.engine.errors import FormatError
    from openbrains.engine.format import loads

    good = (hostile.SAMPLES / "xor.graph").read_bytes()
    loads(good, name="x.graph")
    for junk in (b"\x00", b"#!/bin/sh\necho hi\n", good):
        with pytest.raises(FormatError, match=r"follow the zip's end record|preceded by data"):
            loads(good + junk, name="x.graph")
