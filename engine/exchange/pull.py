"""A download checked before it reaches the user's folder.

In order: the card parses; ``brain.graph`` matches the sha256 the card gives, and so does
every other file the card lists (``brain.onnx``); the file
reads as a `.graph` (its own member hashes, limits, no pickle, no code); its content id is
the one the card claims (and the one the user expects, when given); every other claim of
the card (parameters, nodes, modality, tasks and their scores) is what the file holds.
Only then is it written, atomically, under the name the user chose.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from openbrains.engine.exchange.card import Card, TaskScore, parse
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import BRAIN, CARD, ONNX
from openbrains.engine.exchange.package import BrainFacts, facts, read_brain
from openbrains.engine.format import GraphFile
from openbrains.engine.format.container import atomic_write


@dataclass(frozen=True)
class Pulled:
    """A verified download: the card, the `.graph` bytes, the file read as data, and the
    other files the card lists (``brain.onnx``), each checked against its sha256."""

    card: Card
    data: bytes
    doc: GraphFile
    facts: BrainFacts
    extras: dict[str, bytes] = field(default_factory=dict)

    @property
    def onnx(self) -> bytes | None:
        return self.extras.get(ONNX)


def verify(files: dict[str, bytes], where: str, expect_id: str | None = None) -> Pulled:
    """Check a download (``README.md``, ``brain.graph`` and what else the card lists);
    ``ExchangeError`` naming the claim that does not hold."""
    if CARD not in files or BRAIN not in files:
        raise ExchangeError(f"{where} is not a published brain (it needs {CARD} and {BRAIN})")
    card = parse(files[CARD], f"{where}/{CARD}")
    data = files[BRAIN]
    want = card.files.get(BRAIN)
    if want is None:
        raise ExchangeError(f"{where}: the card gives no sha256 for {BRAIN}")
    _check_sha(BRAIN, data, want, where)
    extras: dict[str, bytes] = {}
    for name, sha in sorted(card.files.items()):
        if name in (CARD, BRAIN):
            continue
        if name not in files:
            raise ExchangeError(
                f"{where}: the card lists {name} but the download has none; nothing was written"
            )
        _check_sha(name, files[name], sha, where)
        extras[name] = files[name]
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
    return Pulled(card, data, doc, f, extras)


def _check_sha(name: str, data: bytes, want: str, where: str) -> None:
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise ExchangeError(
            f"{where}: {name} does not match the sha256 its card gives (sha256 {got[:12]}…, "
            f"card {want[:12]}…): the download was altered or cut short; nothing was written"
        )


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


def onnx_path(out: Path) -> Path:
    """Where a pull writes ``brain.onnx``: beside the `.graph`, under its name (``X.onnx``)."""
    out = Path(out)
    return out.with_suffix(".onnx") if out.suffix != ".onnx" else out.with_name(out.name + ".onnx")


def write_pulled(out: Path, pulled: Pulled, overwrite: bool = False) -> list[Path]:
    """The checked `.graph` to ``out`` and its ``brain.onnx`` (if published) beside it, as
    ``onnx_path(out)``; either both are refused before anything is written, or both land."""
    targets = [(Path(out), pulled.data)]
    if pulled.onnx is not None:
        targets.append((onnx_path(out), pulled.onnx))
    for path, _ in targets:
        if path.exists() and not overwrite:
            raise ExchangeError(f"{path} exists; choose another -o or add --force")
    if not Path(out).parent.is_dir():
        raise ExchangeError(f"{Path(out).parent} is not a folder")
    for path, data in reversed(targets):  # the .graph last: it is what the user asked for
        atomic_write(path, data)
    return [p for p, _ in targets]
