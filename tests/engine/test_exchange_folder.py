"""A shared folder as an exchange: publish → browse → pull through a real folder, and every
way a download or a folder can be wrong refused in one line with nothing written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from openbrains.engine.exchange.actions import browse, publish, pull
from openbrains.engine.exchange.card import parse
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD, MARKER
from openbrains.engine.exchange.package import PublishRequest
from openbrains.engine.format import load, save
from openbrains.engine.format.identity import content_id
from tests.exchange_kit import make_brain


@pytest.fixture(scope="module")
def brains(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("brains")
    return make_brain(folder / "a.graph"), make_brain(folder / "b.graph", shift=0.01)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_publish_browse_pull_round_trip(tmp_path: Path, brains: tuple[Path, Path]) -> None:
    a, _ = brains
    exchange = tmp_path / "share"
    ref, package = publish(
        PublishRequest(a, license="mit", description="xor, grown here", onnx=False), exchange
    )
    assert Path(ref) == exchange / package.name
    assert sorted(p.name for p in Path(ref).iterdir()) == [CARD, BRAIN]
    assert (exchange / MARKER).is_file()

    card_text = (Path(ref) / CARD).read_text()
    front = yaml.safe_load(card_text.split("---\n")[1])
    assert front["library_name"] == "open-brains"
    assert front["license"] == "mit"
    assert front["tags"] == ["open-brains", "task:xor", "modality:vector"]
    doc = load(a)
    assert front["open_brains"]["content_id"] == content_id(doc.graph, doc.weights)
    assert front["open_brains"]["tasks"]["xor"]["test"] == doc.graph.tasks["xor"].score["test"]
    body = card_text.split("---\n", 2)[2]
    for words in (
        "## Scores",
        "## Size",
        "## Lineage",
        "## How to run it",
        f"openbrains pull {ref}",
    ):
        assert words in body
    assert "individual #7 of run 'xor', child of #3 (widen)" in body

    [entry] = browse(exchange)
    assert entry.ref == ref and entry.card is not None
    assert entry.card.task is not None and entry.card.task.name == "xor"
    assert entry.card.params == package.card.params
    assert browse(exchange, task="digits") == []
    assert [e.ref for e in browse(exchange, modality="vector")] == [ref]

    out = tmp_path / "mine" / "pulled.graph"
    out.parent.mkdir()
    pulled = pull(ref, out)
    assert out.read_bytes() == a.read_bytes()  # byte for byte
    assert pulled.card.content_id == package.card.content_id
    with pytest.raises(ExchangeError, match="exists"):
        pull(ref, out)

    # the same brain again is already there; another brain under its name is refused
    assert publish(PublishRequest(a, onnx=False), exchange)[0] == ref
    with pytest.raises(ExchangeError, match="already holds another brain"):
        publish(PublishRequest(brains[1], name=package.name, onnx=False), exchange)


def test_a_tampered_download_is_refused_and_nothing_written(
    tmp_path: Path, brains: tuple[Path, Path]
) -> None:
    a, b = brains
    ref, _ = publish(PublishRequest(a, onnx=False), tmp_path / "share")
    published = Path(ref) / BRAIN
    out = tmp_path / "out.graph"

    # a flipped byte: the card's sha256 of brain.graph no longer holds
    data = bytearray(published.read_bytes())
    data[len(data) // 2] ^= 0xFF
    published.write_bytes(bytes(data))
    with pytest.raises(ExchangeError, match="does not match the sha256 its card gives"):
        pull(ref, out)
    assert not out.exists()

    # another brain, well-formed, with the card's sha256 rewritten to match it: the
    # content id the card claims gives it away
    published.write_bytes(b.read_bytes())
    card = (Path(ref) / CARD).read_text()
    sha_a = hashlib.sha256(a.read_bytes()).hexdigest()
    (Path(ref) / CARD).write_text(card.replace(sha_a, hashlib.sha256(b.read_bytes()).hexdigest()))
    with pytest.raises(ExchangeError, match="the card does not describe this brain"):
        pull(ref, out)
    assert not out.exists()

    # the right brain, pinned by a content id it does not have
    published.write_bytes(a.read_bytes())
    (Path(ref) / CARD).write_text(card)
    other = load(b)
    with pytest.raises(ExchangeError, match="not the expected"):
        pull(ref, out, expect_id=content_id(other.graph, other.weights)[:16])
    assert not out.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"share"}


def test_a_card_whose_claims_do_not_match_the_file(
    tmp_path: Path, brains: tuple[Path, Path]
) -> None:
    ref, package = publish(PublishRequest(brains[0], onnx=False), tmp_path / "share")
    card_path = Path(ref) / CARD
    honest = card_path.read_text()
    score = package.card.task.test
    for claim, lie, words in (
        (f"params: {package.card.params}", "params: 9", "claims parameters 9"),
        (f"      test: {score}", "      test: 0.999", "claims xor test accuracy 0.999"),
        ("modality: vector", "modality: audio", "claims modality audio"),
    ):
        assert claim in honest, claim
        card_path.write_text(honest.replace(claim, lie, 1))
        with pytest.raises(ExchangeError, match=words):
            pull(ref, tmp_path / "out.graph")
        assert not (tmp_path / "out.graph").exists()
    # a card may only name our files: a path in it is refused, never opened
    card_path.write_text(honest.replace("brain.graph:", "../../etc/passwd:", 1))
    with pytest.raises(ExchangeError, match="bad entry"):
        parse(card_path.read_bytes())


def test_folders_that_are_not_exchanges(tmp_path: Path, brains: tuple[Path, Path]) -> None:
    plain = tmp_path / "documents"
    plain.mkdir()
    (plain / "letter.txt").write_text("dear")
    with pytest.raises(ExchangeError, match="not an Open Brains exchange"):
        browse(plain)
    with pytest.raises(ExchangeError, match="holds other files"):
        publish(PublishRequest(brains[0], onnx=False), plain)
    assert _files(plain) == {"letter.txt"}
    with pytest.raises(ExchangeError, match="is not a folder"):
        browse(tmp_path / "nowhere")
    with pytest.raises(ExchangeError, match="not a published brain"):
        pull(plain, tmp_path / "x.graph")

    ref, _ = publish(PublishRequest(brains[0], onnx=False), tmp_path / "share")
    with pytest.raises(ExchangeError, match="is an exchange; name one brain"):
        pull(tmp_path / "share", tmp_path / "x.graph")
    with pytest.raises(ExchangeError, match="one published brain, not an exchange"):
        browse(ref)
    # a link planted in an exchange is not followed
    (tmp_path / "share" / "elsewhere").symlink_to(plain, target_is_directory=True)
    assert [e.ref for e in browse(tmp_path / "share")] == [ref]
    assert not (tmp_path / "x.graph").exists()


def test_only_trained_brains_are_published(tmp_path: Path) -> None:
    project = load(Path(__file__).resolve().parents[2] / "sample_graphs" / "xor.graph")
    save(tmp_path / "project.graph", project)
    with pytest.raises(ExchangeError, match="is a project file"):
        publish(PublishRequest(tmp_path / "project.graph", onnx=False), tmp_path / "share")
    with pytest.raises(ExchangeError, match="licence"):
        publish(
            PublishRequest(tmp_path / "project.graph", license="Not A Licence", onnx=False),
            tmp_path / "s",
        )
    assert not (tmp_path / "share").exists()
