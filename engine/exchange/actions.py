"""Publish, browse and pull, whatever the place: the three verbs of the exchange.

A place is ``hf:…`` (the Hub) or anything else, read as a folder path. The command line
and the window both call these.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.folder import Entry, FolderExchange
from openbrains.engine.exchange.folder import fetch as fetch_folder
from openbrains.engine.exchange.hub import PREFIX, HubExchange, parse_ref
from openbrains.engine.exchange.package import Package, PublishRequest, build
from openbrains.engine.exchange.pull import Pulled, verify, write_pulled

Place = FolderExchange | HubExchange


def is_hub(text: str) -> bool:
    return str(text).startswith(PREFIX)


def place(text: str | Path, endpoint: str | None = None) -> Place:
    """The exchange ``text`` names: ``hf:``, ``hf:OWNER[/NAME]``, or a folder."""
    text = str(text)
    if not text.strip():
        raise ExchangeError("name an exchange: a folder or hf:OWNER[/NAME]")
    return parse_ref(text, endpoint) if is_hub(text) else FolderExchange(Path(text).expanduser())


def publish(
    req: PublishRequest, dest: str | Path, endpoint: str | None = None
) -> tuple[str, Package]:
    """Publish the brain ``req`` names to ``dest``; returns what ``pull`` takes, and what
    was published."""
    where = place(dest, endpoint)
    if isinstance(where, HubExchange):
        if not where.owner:
            raise ExchangeError("publish to the Hub as hf:OWNER/NAME or hf:OWNER")
        if where.name and req.name and where.name != req.name:
            raise ExchangeError(f"{dest} already names the brain; drop --name {req.name}")
        req = replace(req, name=req.name or where.name)
    package = build(req, source_for=where.ref)
    return where.publish(package), package


def browse(
    src: str | Path,
    task: str | None = None,
    modality: str | None = None,
    plan: str | None = None,
    limit: int = 50,
    endpoint: str | None = None,
) -> list[Entry]:
    """What an exchange holds, newest first, narrowed to a task, a modality or a plan."""
    where = place(src, endpoint)
    tags = [f"task:{task}"] if task else []
    tags += [f"modality:{modality}"] if modality else []
    tags += [f"plan:{plan}"] if plan else []
    if isinstance(where, HubExchange):
        if where.name:
            raise ExchangeError(f"{src} is one brain; browse hf: or hf:OWNER")
        entries = where.entries(tags, limit)
    else:
        entries = where.entries()

    def keep(e: Entry) -> bool:
        if e.card is None:
            return not tags
        return set(tags) <= set(e.card.tags())

    kept = [e for e in entries if keep(e)]
    kept.sort(key=lambda e: e.created, reverse=True)
    return kept[:limit]


def fetch(
    src: str | Path, endpoint: str | None = None, with_brain: bool = True, extras: bool = True
) -> dict[str, bytes]:
    """The card (and brain, and with ``extras`` the other files its card lists, such as
    ``brain.onnx``) of one published brain, unchecked (``pull`` checks)."""
    where = place(src, endpoint)
    if isinstance(where, HubExchange):
        where.repo_id()
        return where.fetch(with_brain, extras)
    return fetch_folder(where.root, with_brain, extras)


def pull(
    src: str | Path,
    out: Path | None,
    expect_id: str | None = None,
    overwrite: bool = False,
    endpoint: str | None = None,
) -> Pulled:
    """Download, verify, and (when ``out`` is given) write the brain at ``src`` (with its
    ``brain.onnx`` beside it, as ``pull.onnx_path(out)``, when one was published)."""
    pulled = verify(fetch(src, endpoint), str(src), expect_id)
    if out is not None:
        write_pulled(out, pulled, overwrite)
    return pulled
