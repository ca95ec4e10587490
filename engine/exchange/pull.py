"""A download checked before it reaches the user's folder.

In order: the card parses; ``brain.graph`` matches the sha256 the card gives; the file
reads as a `.graph` (its own member hashes, limits, no pickle, no code); its content id is
the one the card claims (and the one the user expects, when given); every other claim of
the card (parameters, nodes, modality, tasks and their scores) is what the file holds.
Only then is it written, atomically, under the name the user chose.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from openbrains.engine.exchange.card import Card, TaskScore, parse
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD
from openbrains.engine.exchange.package import BrainFacts, facts, read_brain
from openbrains.engine.format import GraphFile
from openbrains.engine.format.container import atomic_write


@dataclass(frozen=True)
class Pulled:
    """A verified download: the card, the `.graph` bytes, the file read as data."""

    card: Card
    data: bytes
    doc: GraphFile
    facts: BrainFacts


def verify(files: dict[str, bytes], where: str, expect_id: str | None = None) -> Pulled:
    """Check a download (``README.md`` and ``brain.graph``); ``ExchangeError`` naming the
    claim that does not hold."""
    if CARD not in files or BRAIN not in files:
        raise ExchangeError(f"{where} is not a published brain (it needs {CARD} and {BRAIN})")
    card = parse(files[CARD], f"{where}/{CARD}")
    data = files[BRAIN]
    want = card.files.get(BRAIN)
    if want is None:
        raise ExchangeError(f"{where}: the card gives no sha256 for {BRAIN}")
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise ExchangeError(
            f"{where}: {BRAIN} does not match the sha256 its card gives (sha256 {got[:12]}…, "
            f"card {want[:12]}…): the download was altered or cut short; nothing was written"
        )
    doc = read_brain(data, f"{where}/{BRAIN}")
    f = facts(doc)
    if f.content_id != card.content_id:
        raise ExchangeError(
            f"{where}: the card claims content id {card.content_id[:12]}… but {BRAIN} is "
            f"{f.content_id[:12]}…: the card does not describe this brain"
        )
    if expect_id and not f.content_id.startswith(expect_id.lower()):
        raise ExchangeError(
            f"{where} holds brain {f.content_id[:12]}…, not the expected {expect_id[:12]}…"
        )
    _check_claims(card, f, where)
    return Pulled(card, data, doc, f)


def _check_claims(card: Card, f: BrainFacts, where: str) -> None:
    def lie(what: str, claimed: object, actual: object) -> ExchangeError:
        return ExchangeError(
            f"{where}: the card claims {what} {claimed} but {BRAIN} holds {actual}"
        )

    if card.params != f.params:
        raise lie("parameters", card.params, f.params)
    if card.nodes and card.nodes != f.nodes:
        raise lie("nodes", card.nodes, f.nodes)
    if card.modality != f.modality:
        raise lie("modality", card.modality, f.modality)
    actual = {t.name: t for t in f.tasks}
    for t in card.tasks:
        have: TaskScore | None = actual.get(t.name)
        if have is None:
            raise lie("task", repr(t.name), "no such task")
        for split in ("validation", "test"):
            claimed, real = getattr(t, split), getattr(have, split)
            if claimed is not None and (real is None or abs(claimed - real) > 1e-9):
                raise lie(f"{t.name} {split} {t.metric}", claimed, real)


def write_brain(out: Path, data: bytes, overwrite: bool = False) -> Path:
    """``data`` to ``out`` atomically (a temporary beside it, then a rename)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise ExchangeError(f"{out} exists; choose another -o or add --force")
    if not out.parent.is_dir():
        raise ExchangeError(f"{out.parent} is not a folder")
    atomic_write(out, data)
    return out
