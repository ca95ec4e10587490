"""The Hugging Face Hub as an exchange, against a loopback server speaking the endpoints
used (tests/hubserver.py): ``huggingface_hub`` is pointed at it with its ``endpoint=``
argument here and with ``HF_ENDPOINT`` on the command line. No test touches the network."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from openbrains.engine.exchange.actions import browse, publish, pull
from openbrains.engine.exchange.card import PlanRef
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD
from openbrains.engine.exchange.package import PublishRequest
from tests.exchange_kit import closed_port_url, make_brain, ob
from tests.hubserver import fake_hub

TOKEN = "hf_test_token"


@pytest.fixture(scope="module")
def brains(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("brains")
    return make_brain(folder / "a.graph"), make_brain(folder / "b.graph", shift=0.02)


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The token as huggingface_hub finds it (the environment); no login of the machine's."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


def test_publish_browse_pull_round_trip(
    tmp_path: Path, brains: tuple[Path, Path], hub_env: None
) -> None:
    a, b = brains
    with fake_hub(TOKEN) as (endpoint, state):
        ref, package = publish(
            PublishRequest(a, license="apache-2.0", onnx=False), "hf:alice", endpoint
        )
        assert ref == f"hf:alice/{package.name}"
        repo = state.repos[f"alice/{package.name}"]
        assert sorted(repo.files) == [CARD, BRAIN]
        assert repo.files[BRAIN] == a.read_bytes()
        assert "task:xor" in repo.tags()
        plan = PlanRef(id="xor-quick", version=2, sha256="c" * 64)
        ref_b, _ = publish(
            PublishRequest(b, name="xor-second", plan=plan, onnx=False), "hf:bob", endpoint
        )

        listed = browse("hf:", endpoint=endpoint)
        assert [e.ref for e in listed] == [ref_b, ref]  # newest first
        assert all(e.card is not None and e.card.task.name == "xor" for e in listed)
        assert [e.ref for e in browse("hf:alice", endpoint=endpoint)] == [ref]
        assert browse("hf:", task="digits", endpoint=endpoint) == []
        [by_plan] = browse("hf:", plan="xor-quick", endpoint=endpoint)  # the Hub filters tags
        assert by_plan.ref == ref_b and by_plan.card.plan == plan
        assert browse("hf:", plan="another", endpoint=endpoint) == []
        assert ("GET", "/api/models") in state.requests

        out = tmp_path / "pulled.graph"
        pull(ref, out, endpoint=endpoint)
        assert out.read_bytes() == a.read_bytes()  # byte for byte
        assert [(m, p) for m, p in state.requests if m == "POST"] == [
            ("POST", "/api/repos/create"),
            ("POST", "/api/validate-yaml"),
            ("POST", f"/api/models/alice/{package.name}/preupload/main"),
            ("POST", f"/api/models/alice/{package.name}/commit/main"),
            ("POST", "/api/repos/create"),
            ("POST", "/api/validate-yaml"),
            ("POST", "/api/models/bob/xor-second/preupload/main"),
            ("POST", "/api/models/bob/xor-second/commit/main"),
        ]


def test_tampered_and_cut_downloads_are_refused(
    tmp_path: Path, brains: tuple[Path, Path], hub_env: None
) -> None:
    a, b = brains
    out = tmp_path / "pulled.graph"
    with fake_hub(TOKEN) as (endpoint, state):
        ref, package = publish(PublishRequest(a, onnx=False), "hf:alice", endpoint)
        repo = state.repos[f"alice/{package.name}"]
        repo.files[BRAIN] = b.read_bytes()  # someone swapped the brain
        with pytest.raises(ExchangeError, match="does not match the sha256 its card gives"):
            pull(ref, out, endpoint=endpoint)
        assert not out.exists()

        repo.files[BRAIN] = a.read_bytes()
        state.cut.add(f"alice/{package.name}/{BRAIN}")
        with pytest.raises(ExchangeError, match="broke off"):
            pull(ref, out, endpoint=endpoint)
        assert not out.exists()
        assert list(tmp_path.iterdir()) == []  # no half-written file, no cache of ours left


def test_no_network_and_no_token_are_one_line(tmp_path: Path, brains: tuple[Path, Path]) -> None:
    nowhere = closed_port_url()
    env = {"HF_ENDPOINT": nowhere, "HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": TOKEN}
    for args in (["browse", "hf:"], ["pull", "hf:alice/x", "-o", "x.graph"]):
        done = ob(*args, cwd=tmp_path, env=env)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "cannot reach" in done.stderr and "no network?" in done.stderr
    assert not (tmp_path / "x.graph").exists()

    with fake_hub(TOKEN) as (endpoint, state):
        env = {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": ""}
        done = ob(
            "publish", str(brains[0]), "--to", "hf:alice/x", "--no-onnx", cwd=tmp_path, env=env
        )
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "401" in done.stderr and "HF_TOKEN" in done.stderr
        assert state.repos == {}


def test_the_command_line_against_hf_endpoint(tmp_path: Path, brains: tuple[Path, Path]) -> None:
    a, _ = brains
    with fake_hub(TOKEN) as (endpoint, state):
        env = {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf-home"), "HF_TOKEN": TOKEN}
        done = ob(
            "publish",
            str(a),
            "--to",
            "hf:alice/xor-mine",
            "--license",
            "mit",
            "--no-onnx",
            cwd=tmp_path,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert "published xor-mine to hf:alice/xor-mine" in done.stdout
        listed = ob("browse", "hf:", "--task", "xor", "--json", cwd=tmp_path, env=env)
        assert listed.returncode == 0, listed.stderr
        [entry] = orjson.loads(listed.stdout)
        assert entry["ref"] == "hf:alice/xor-mine"
        assert entry["card"]["license"] == "mit"
        got = ob("pull", "hf:alice/xor-mine", "-o", "mine.graph", cwd=tmp_path, env=env)
        assert got.returncode == 0, got.stderr
        assert (tmp_path / "mine.graph").read_bytes() == a.read_bytes()
        assert "alice/xor-mine" in state.repos
