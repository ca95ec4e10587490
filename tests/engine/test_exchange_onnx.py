"""brain.onnx beside brain.graph: published when the brain exports, listed with its sha256 in
the card, pulled byte for byte (folder and loopback Hub) and checked like brain.graph; a
brain the exporter refuses is published without it, and its card says why in a sentence."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.exchange.actions import publish, pull
from openbrains.engine.exchange.card import parse
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD, ONNX
from openbrains.engine.exchange.package import PublishRequest
from openbrains.engine.format import load, save_brain
from openbrains.engine.graph import Graph
from tests.engine.exporting import OpaqueUnit
from tests.exchange_kit import make_brain
from tests.hubserver import fake_hub

TOKEN = "hf_test_token"


@pytest.fixture(scope="module")
def brain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_brain(tmp_path_factory.mktemp("brains") / "xor.graph")


@pytest.fixture(scope="module")
def published(brain: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One brain published once to a folder (the export is the slow part)."""
    share = tmp_path_factory.mktemp("share")
    ref, package = publish(PublishRequest(brain, name="xor-onnx", license="mit"), share)
    assert package.missing == {}
    return ref, share / "xor-onnx"


def test_the_onnx_is_published_listed_in_the_card_and_runs_the_brain(
    brain: Path, published: tuple[str, Path]
) -> None:
    _ref, folder = published
    assert sorted(p.name for p in folder.iterdir()) == sorted([CARD, BRAIN, ONNX])
    onnx = (folder / ONNX).read_bytes()
    card = parse((folder / CARD).read_bytes())
    assert card.files[ONNX] == hashlib.sha256(onnx).hexdigest()
    assert card.files[BRAIN] == hashlib.sha256(brain.read_bytes()).hexdigest()
    assert "xor-onnx.onnx" in card.body and "onnxruntime.InferenceSession" in card.body
    assert "No `brain.onnx`" not in card.body
    # it is the same brain: onnxruntime gives what PyTorch gives on the XOR table
    doc = load(brain)
    torch_brain = compile_graph(doc.graph)
    torch_brain.load_weights(doc.weights, strict=True)
    x = torch.tensor([[[0.0, 0.0]], [[0.0, 1.0]], [[1.0, 0.0]], [[1.0, 1.0]]])
    with torch.no_grad():
        expected = torch_brain.eval()(x)
    expected = expected[0] if isinstance(expected, tuple) else expected
    session = onnxruntime.InferenceSession(onnx)
    [got] = session.run(None, {session.get_inputs()[0].name: x.numpy()})[:1]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-5)


def test_a_folder_pull_writes_both_files_byte_for_byte(
    tmp_path: Path, brain: Path, published: tuple[str, Path]
) -> None:
    ref, folder = published
    out = tmp_path / "mine.graph"
    pulled = pull(ref, out)
    assert out.read_bytes() == brain.read_bytes()
    assert (tmp_path / "mine.onnx").read_bytes() == (folder / ONNX).read_bytes()
    assert pulled.onnx == (folder / ONNX).read_bytes()
    # a second pull to the same name is refused before either file is touched
    with pytest.raises(ExchangeError, match="exists"):
        pull(ref, out)


def test_a_tampered_onnx_is_refused_and_nothing_is_written(
    tmp_path: Path, published: tuple[str, Path]
) -> None:
    _ref, folder = published
    copy = tmp_path / "copy" / "xor-onnx"
    copy.mkdir(parents=True)
    for p in folder.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    data = bytearray((copy / ONNX).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / ONNX).write_bytes(bytes(data))
    out = tmp_path / "pulled.graph"
    with pytest.raises(ExchangeError, match=r"brain\.onnx does not match the sha256") as err:
        pull(copy, out)
    assert "\n" not in str(err.value)
    (copy / ONNX).unlink()  # the card lists it, the folder lost it
    with pytest.raises(ExchangeError, match=r"lists brain\.onnx but the download has none"):
        pull(copy, out)
    assert not out.exists() and not (tmp_path / "pulled.onnx").exists()


def test_the_hub_round_trip_carries_the_onnx(
    tmp_path: Path,
    brain: Path,
    published: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with fake_hub(TOKEN) as (endpoint, state):
        ref, package = publish(PublishRequest(brain, license="mit"), "hf:alice", endpoint)
        repo = state.repos[f"alice/{package.name}"]
        assert sorted(repo.files) == sorted([CARD, BRAIN, ONNX])
        out = tmp_path / "from-hub.graph"
        pulled = pull(ref, out, endpoint=endpoint)
        assert out.read_bytes() == brain.read_bytes()
        assert (tmp_path / "from-hub.onnx").read_bytes() == repo.files[ONNX] == pulled.onnx
        assert ("GET", f"/alice/{package.name}/resolve/main/{ONNX}") in state.requests


def test_a_brain_the_exporter_refuses_is_published_without_it(tmp_path: Path) -> None:
    with OpaqueUnit():
        g = Graph()
        x = g.add_node("input", {"name": "x", "channels": 3})
        u = g.add_node("opaque_test_unit", {})
        y = g.add_node("output", {"name": "y", "channels": 2})
        g.connect(x.uid, u.uid)
        g.connect(u.uid, y.uid)
        path = tmp_path / "opaque.graph"
        save_brain(path, g, compile_graph(g, seed=0).weights())
        ref, package = publish(PublishRequest(path, name="opaque"), tmp_path / "share")
        assert sorted(package.files) == [CARD, BRAIN]
        assert "cannot be traced" in package.missing[ONNX]
        folder = tmp_path / "share" / "opaque"
        assert not (folder / ONNX).exists()
        card = parse((folder / CARD).read_bytes())
        assert ONNX not in card.files
        [sentence] = [line for line in card.body.splitlines() if "brain.onnx" in line]
        assert sentence.startswith("No `brain.onnx` is published: the ONNX exporter refused")
        assert sentence.endswith(").")
        out = tmp_path / "back.graph"
        pulled = pull(ref, out)
        assert pulled.onnx is None and out.read_bytes() == path.read_bytes()
        assert not (tmp_path / "back.onnx").exists()
