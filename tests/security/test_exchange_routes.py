"""Exchange downloads and training plans are data (DESIGN §12.1): the code they name is never
imported, the paths they name are never read without the user's say, and a pickle in a
download is refused. Each hostile file is built here."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import orjson
import pytest

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.exchange.actions import publish, pull
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD
from openbrains.engine.exchange.package import PublishRequest
from openbrains.engine.format import load, save
from tests.exchange_kit import make_brain
from tests.security.trust_kit import CANARY_MODULE, canary_module, ob, one_line_error

PLAN_HEAD = '[plan]\nid = "p"\nversion = 1\ntitle = "P"\n[budget]\nminutes = 1\n'


def test_a_plan_naming_code_imports_nothing(tmp_path: Path) -> None:
    mark = canary_module(tmp_path)
    (tmp_path / "plan.toml").write_text(PLAN_HEAD + f'[task]\nname = "{CANARY_MODULE}:Boom"\n')
    out = ob("plan", "run", "plan.toml", cwd=tmp_path, home=tmp_path / "home")
    one_line_error(out, "is Python code", "a plan names built-in tasks only")
    assert not mark.exists()
    assert not (tmp_path / "runs").exists()


def test_a_plans_local_path_is_read_only_when_the_user_says_so(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN PRIVATE KEY-----\n")
    (tmp_path / "plan.toml").write_text(
        PLAN_HEAD + f'[task]\nname = "text"\n[data]\npath = "{secret}"\n'
    )
    out = ob("plan", "run", "plan.toml", cwd=tmp_path, home=tmp_path / "home")
    one_line_error(out, str(secret), "give --data PATH")
    assert not (tmp_path / "runs").exists()
    assert not (tmp_path / "home" / "cache").exists()


def test_a_pickle_in_a_download_is_refused_never_loaded(tmp_path: Path) -> None:
    ref, _ = publish(
        PublishRequest(make_brain(tmp_path / "a.graph"), onnx=False), tmp_path / "share"
    )
    # a stranger swaps in a zip holding a pickle and rewrites the card's sha256 to match
    evil = tmp_path / "evil.bin"
    with zipfile.ZipFile(tmp_path / "a.graph") as src:
        members = {n: src.read(n) for n in src.namelist()}
    members["weights_extra.bin"] = b"\x80\x04cos\nsystem\n."  # a pickle, hashed like the rest
    manifest = orjson.loads(members["manifest.json"])
    manifest["sha256"] = {
        n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n != "manifest.json"
    }
    members["manifest.json"] = orjson.dumps(manifest)
    with zipfile.ZipFile(evil, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    brain = Path(ref) / BRAIN
    brain.write_bytes(evil.read_bytes())
    card = (Path(ref) / CARD).read_text()
    old = hashlib.sha256((tmp_path / "a.graph").read_bytes()).hexdigest()
    (Path(ref) / CARD).write_text(card.replace(old, hashlib.sha256(evil.read_bytes()).hexdigest()))
    with pytest.raises(
        OpenBrainsError,
        match=r"'weights_extra\.bin' is a Python pickle; Open Brains never unpickles",
    ):
        pull(ref, tmp_path / "out.graph")
    assert not (tmp_path / "out.graph").exists()


def test_a_downloads_code_runs_only_when_the_user_names_it(tmp_path: Path) -> None:
    mark = canary_module(tmp_path)
    brain = make_brain(tmp_path / "a.graph")
    doc = load(brain)
    record = doc.graph.tasks.pop("xor")
    record.name = f"{CANARY_MODULE}:Boom"
    doc.graph.tasks = {record.name: record}
    save(brain, doc)
    ref, _ = publish(PublishRequest(brain, name="game", onnx=False), tmp_path / "share")
    out = ob("pull", ref, "-o", "x.graph", "--verify", cwd=tmp_path, home=tmp_path / "home")
    one_line_error(out, "a download never runs code", f"--task {CANARY_MODULE}:Boom")
    assert not mark.exists()
    assert not (tmp_path / "x.graph").exists()
    with pytest.raises(ExchangeError, match="not a published brain"):
        pull(tmp_path, tmp_path / "x.graph")  # a folder without a card is not read as one
