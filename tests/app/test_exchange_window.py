"""The Exchange dock in the real window (offscreen): a real exchange folder browsed as cards,
Open and Use as seed through checked pulls, File → Publish…, and a tampered brain shown as
a plain dialog, never opened."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openbrains.app.main import MainWindow
from openbrains.app.project import Project
from openbrains.app.publishdialog import PublishChoice, publish_choice
from openbrains.canvas.exchange import ExchangeDock, card_text
from openbrains.engine.exchange.actions import browse, publish
from openbrains.engine.exchange.layout import BRAIN
from openbrains.engine.exchange.package import PublishRequest
from openbrains.engine.format import load
from openbrains.engine.format.identity import content_id
from PySide6.QtWidgets import QMessageBox

from tests.exchange_kit import make_brain

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("OPENBRAINS_HOME", str(folder))
    return folder


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    project_path = tmp_path / "digits.graph"
    shutil.copy(ROOT / "sample_graphs" / "digits.graph", project_path)
    w = MainWindow(Project.open(project_path), start_engine=False)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.project.dirty = False
    w.close()
    w.deleteLater()


@pytest.fixture
def exchange(tmp_path: Path) -> tuple[Path, list[str]]:
    share = tmp_path / "share"
    refs = [
        publish(
            PublishRequest(make_brain(tmp_path / f"{n}.graph", shift=s), name=n, license="mit"),
            share,
        )[0]
        for n, s in (("xor-one", 0.0), ("xor-two", 0.01))
    ]
    return share, refs


def _browse(qtbot: Any, w: MainWindow, place: Path) -> None:
    link = w.exchange
    link.widget.place.setEditText(str(place))
    link.widget.request_browse()
    qtbot.waitUntil(lambda: link.busy == 0 and link.widget.count() > 0, timeout=60_000)


def test_cards_open_and_use_as_seed(
    qtbot: Any, window: MainWindow, exchange: tuple[Path, list[str]]
) -> None:
    share, _refs = exchange
    link = window.exchange
    assert link.dock.windowTitle() == "Exchange"
    _browse(qtbot, window, share)
    assert link.widget.count() == 2
    texts = [link.widget.cards.item(i).text() for i in range(2)]
    assert all("xor (vector) · accuracy" in t and "mit" in t for t in texts)
    assert "individual #7 of run 'xor'" in texts[0]
    assert not link.widget.cards.item(0).icon().isNull()  # the topology thumbnail

    task_before = dict(window.project.task)
    link.widget.cards.setCurrentRow(0)
    ref = link.widget.selected_ref()
    link.widget.seed_button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and window.project.dirty, timeout=60_000)
    pulled = load(Path(ref) / BRAIN)
    assert window.project.graph.to_dict() == pulled.graph.to_dict()
    assert content_id(window.project.graph, window.project.weights) == content_id(
        pulled.graph, pulled.weights
    )
    assert window.project.task == task_before  # continue on this project's task
    assert "is this project's seed" in window.statusBar().currentMessage()

    window.project.dirty = False
    link.widget.open_button.click()
    qtbot.waitUntil(
        lambda: (
            link.busy == 0
            and window.project.path is not None
            and "pulled" in str(window.project.path)
        ),
        timeout=60_000,
    )
    assert window.project.path.name == f"{content_id(pulled.graph, pulled.weights)}.graph"
    assert window.project.path.read_bytes() == (Path(ref) / BRAIN).read_bytes()


def test_a_tampered_brain_is_a_plain_dialog_and_is_not_opened(
    qtbot: Any, window: MainWindow, exchange: tuple[Path, list[str]], home: Path
) -> None:
    share, _refs = exchange
    link = window.exchange
    _browse(qtbot, window, share)
    target = Path(link.widget.selected_ref())
    data = bytearray((target / BRAIN).read_bytes())
    data[100] ^= 0xFF
    (target / BRAIN).write_bytes(bytes(data))
    before = window.project.path
    link.widget.open_button.click()
    qtbot.waitUntil(lambda: link.busy == 0 and link.last_message is not None, timeout=60_000)
    assert "does not match the sha256" in link.last_message.text()
    assert link.last_message.icon() == QMessageBox.Icon.Warning
    assert "does not match" in link.widget.status.text()
    assert window.project.path == before
    assert not (home / "pulled").exists() or list((home / "pulled").iterdir()) == []
    link.last_message.close()


def test_file_publish_puts_a_brain_in_the_exchange(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    assert "Publish…" in [
        a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()
    ]
    brain = make_brain(tmp_path / "mine.graph")
    ref, _package = publish_choice(
        PublishChoice(None, brain, "mine", "cc-by-4.0", "grown on a laptop"), str(tmp_path / "ex")
    )
    [entry] = browse(tmp_path / "ex")
    assert entry.ref == ref and entry.card.description == "grown on a laptop"
    assert (Path(ref) / BRAIN).read_bytes() == brain.read_bytes()


def test_the_dock_alone(qtbot: Any) -> None:
    dock = ExchangeDock()
    qtbot.addWidget(dock)
    asked: list[tuple[str, str]] = []
    dock.browseRequested.connect(lambda place, task: asked.append((place, task)))
    dock.hub_button.click()
    assert asked == [("hf:", "")]
    assert not dock.open_button.isEnabled()
    card = {
        "name": "digits-3fa2", "params": 4521, "nodes": 9, "modality": "image", "license": "mit",
        "tasks": [{"name": "digits", "metric": "accuracy", "test": 0.97, "validation": 0.98}],
        "lineage": "individual #812 of run 'digits'", "base_models": ["alice/digits-small"],
        "plan": {"id": "mnist-10k", "version": 1, "sha256": "0" * 64},
    }  # fmt: skip
    entries = [
        {"ref": "hf:bob/digits-3fa2", "name": "digits-3fa2", "card": card},
        {
            "ref": "hf:eve/broken",
            "name": "broken",
            "card": None,
            "problem": "not an Open Brains card",
        },
    ]
    dock.set_entries("hf:", entries)
    assert dock.count() == 2 and dock.selected_ref() == "hf:bob/digits-3fa2"
    assert "4,521 params" in card_text(entries[0]) and "plan mnist-10k v1" in card_text(entries[0])
    assert "from alice/digits-small" in card_text(entries[0])
    opened: list[str] = []
    dock.openRequested.connect(opened.append)
    dock.open_button.click()
    assert opened == ["hf:bob/digits-3fa2"]
    dock.cards.setCurrentRow(1)  # a card that could not be read opens nothing
    assert not dock.open_button.isEnabled() and not dock.seed_button.isEnabled()
