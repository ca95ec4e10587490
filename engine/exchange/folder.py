"""A shared folder (a network drive, a synced folder, a USB stick) as an exchange.

Layout: ``EXCHANGE/openbrains-exchange.json`` marks the folder; each published brain is a
sub-folder ``EXCHANGE/<name>/`` in the Hub's layout (``README.md``, ``brain.graph``,
optionally ``brain.onnx``). A brain appears whole or not at all: its files are written into
a hidden temporary folder beside it, flushed, and the folder is renamed into place.
Symbolic links are never followed, and only the file names of ``layout`` are read.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from openbrains.engine.exchange.card import Card, parse, renditions_listed
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.layout import (
    BRAIN,
    CARD,
    MARKER,
    MARKER_CONTENT,
    MAX_BRAIN_BYTES,
    MAX_CARD_BYTES,
)
from openbrains.engine.exchange.package import Package


@dataclass(frozen=True)
class Entry:
    """One brain an exchange lists: where to pull it from, and its card (or why not)."""

    ref: str
    name: str
    card: Card | None
    problem: str = ""
    created: str = ""

    def to_dict(self) -> dict:
        d = {"ref": self.ref, "name": self.name, "created": self.created}
        if self.card is not None:
            d["card"] = self.card.to_dict()
        if self.problem:
            d["problem"] = self.problem
        return d


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """A regular file's bytes (never through a symbolic link), refused over ``limit``."""
    if path.is_symlink():
        raise ExchangeError(
            f"{path} is a symbolic link; an exchange's files are read only as they are"
        )
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise ExchangeError(f"{path}: {what} is {size} bytes, over the limit of {limit}")
            return f.read(limit + 1)
    except FileNotFoundError:
        raise ExchangeError(f"{path.parent} has no {path.name}: not a published brain") from None
    except OSError as exc:
        raise ExchangeError(f"cannot read {path}: {exc.strerror or exc}") from None


class FolderExchange:
    """Publish into, list and pull from one exchange folder."""

    kind = "folder"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return str(self.root)

    def ref(self, name: str) -> str:
        return str(self.root / name)

    # ----- publish ---------------------------------------------------------------------
    def _prepare_root(self) -> None:
        root = self.root
        if root.exists() and not root.is_dir():
            raise ExchangeError(f"{root} is a file, not an exchange folder")
        if (root / MARKER).is_file():
            return
        if root.exists() and any(not p.name.startswith(".") for p in root.iterdir()):
            raise ExchangeError(
                f"{root} is not an Open Brains exchange (no {MARKER}) and holds other files; "
                "publish into an empty or new folder, or an exchange"
            )
        try:
            root.mkdir(parents=True, exist_ok=True)
            _write_file(root / MARKER, MARKER_CONTENT)
        except OSError as exc:
            raise ExchangeError(f"cannot make the exchange {root}: {exc.strerror or exc}") from None

    def publish(self, package: Package) -> str:
        """Write ``package`` as ``<root>/<name>``; returns what ``pull`` takes."""
        self._prepare_root()
        target = self.root / package.name
        if target.exists() or target.is_symlink():
            try:
                there = parse(read_limited(target / CARD, MAX_CARD_BYTES, "the card"), str(target))
            except ExchangeError:
                there = None
            if there is not None and there.content_id == package.card.content_id:
                return self.ref(package.name)  # the same brain is there already
            raise ExchangeError(f"{target} already holds another brain; choose another --name")
        tmp = self.root / f".{package.name}.{secrets.token_hex(6)}.tmp"
        try:
            tmp.mkdir()
            for name, data in sorted(package.files.items()):
                _write_file(tmp / name, data)
            os.replace(tmp, target)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ExchangeError(
                f"could not publish into {self.root}: {exc.strerror or exc}; nothing was left there"
            ) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with contextlib.suppress(OSError):
            _fsync_dir(self.root)
        return self.ref(package.name)

    # ----- list ------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        root = self.root
        if not root.is_dir():
            raise ExchangeError(f"{root} is not a folder")
        if not (root / MARKER).is_file():
            if (root / CARD).is_file() and (root / BRAIN).is_file():
                raise ExchangeError(
                    f"{root} is one published brain, not an exchange: openbrains pull {root} -o FILE.graph"
                )
            raise ExchangeError(f"{root} is not an Open Brains exchange (it has no {MARKER})")
        out = []
        for sub in sorted(root.iterdir()):
            if sub.name.startswith(".") or sub.is_symlink() or not sub.is_dir():
                continue
            if not (sub / CARD).is_file():
                continue
            try:
                card = parse(read_limited(sub / CARD, MAX_CARD_BYTES, "the card"), str(sub / CARD))
                out.append(Entry(self.ref(sub.name), sub.name, card, created=card.published))
            except ExchangeError as exc:
                out.append(Entry(self.ref(sub.name), sub.name, None, problem=str(exc)))
        return out


def fetch(src: Path, with_brain: bool = True, extras: bool = True) -> dict[str, bytes]:
    """The card (and ``brain.graph``, with the renditions its card lists, such as
    ``brain.onnx``) of the published brain in folder ``src``."""
    src = Path(src)
    if not src.is_dir():
        raise ExchangeError(f"{src} is not a folder holding a published brain")
    if (src / MARKER).is_file():
        raise ExchangeError(
            f"{src} is an exchange; name one brain in it (openbrains browse {src} lists them)"
        )
    files = {CARD: read_limited(src / CARD, MAX_CARD_BYTES, "the card")}
    if with_brain:
        files[BRAIN] = read_limited(src / BRAIN, MAX_BRAIN_BYTES, BRAIN)
        for name in renditions_listed(files[CARD]) if extras else []:
            if (src / name).is_file() or (src / name).is_symlink():  # verify says if missing
                files[name] = read_limited(src / name, MAX_BRAIN_BYTES, name)
    return files


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
