"""A plan's data on this machine: downloaded once into our cache, or the user's own path.

Downloads are stored as ``<cache>/<sha256>`` (our name, never the URL's), written to a
temporary name while they arrive and renamed only once their length and sha256 are
right; a second run finds the file and downloads nothing. A folder task's files are
linked into ``<cache>/plans/<plan id>-v<version>/`` under the names the task reads.
A local path is used only after the user confirms it (``confirm``) or gives it themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.plans import Download, Plan

MAX_DOWNLOAD = 4 << 30
CHUNK = 1 << 20
TIMEOUT_S = 60


def openbrains_home() -> Path:
    return Path(os.environ.get("OPENBRAINS_HOME", Path.home() / ".openbrains"))


def cache_dir() -> Path:
    """Where downloads are kept: ``$OPENBRAINS_HOME/cache/data``."""
    return openbrains_home() / "cache" / "data"


@dataclass(frozen=True)
class DataUsed:
    """What a run was trained on: the path given to the task and what identifies it."""

    path: str | None
    identity: list[dict[str, str]]  # [{"url"|"path": …, "sha256": …}]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_sha256(root: Path) -> str:
    """sha256 of a folder: of the lines ``<sha256 of file>  <relative path>\\n``, sorted by
    path (regular files only; links are not followed)."""
    files = sorted(
        (p.relative_to(root).as_posix(), p)
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    text = "".join(f"{sha256_file(p)}  {rel}\n" for rel, p in files)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _endpoint() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.ENDPOINT)
    except ImportError:
        return "https://huggingface.co"


def resolve_url(url: str) -> str:
    """``hf://datasets/OWNER/NAME/PATH`` → the Hub's download URL; other URLs as they are."""
    if url.startswith("hf://datasets/"):
        parts = url[len("hf://datasets/") :].split("/", 2)
        if len(parts) < 3 or not all(parts):
            raise ExchangeError(f"{url}: a Hub dataset file is hf://datasets/OWNER/NAME/PATH")
        owner, name, path = parts
        return f"{_endpoint()}/datasets/{owner}/{name}/resolve/main/{path}"
    return url


def download(item: Download, cache: Path | None = None, limit: int = MAX_DOWNLOAD) -> Path:
    """The file ``item`` names, from the cache or downloaded into it; checked by sha256."""
    cache = cache or cache_dir()
    target = cache / item.sha256
    if target.is_file() and not target.is_symlink():
        if sha256_file(target) == item.sha256:
            return target
        target.unlink()  # damaged in the cache: fetch it again
    cache.mkdir(parents=True, exist_ok=True)
    url = resolve_url(item.url)
    tmp = cache / f".{item.sha256}.{secrets.token_hex(6)}.part"
    h, got = hashlib.sha256(), 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "openbrains-plan"})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp, open(tmp, "wb") as out:
            declared = resp.headers.get("Content-Length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > limit:
                raise ExchangeError(f"{item.url} is {expected} bytes, over the limit of {limit}")
            while chunk := resp.read(CHUNK):
                got += len(chunk)
                if got > limit:
                    raise ExchangeError(f"{item.url} is over the limit of {limit} bytes")
                h.update(chunk)
                out.write(chunk)
            if expected is not None and got != expected:
                raise ExchangeError(
                    f"the download of {item.url} broke off ({got} of {expected} bytes); nothing was kept"
                )
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != item.sha256:
            raise ExchangeError(
                f"{item.url} has sha256 {h.hexdigest()}, not the plan's {item.sha256}: "
                "the file changed or the plan is wrong; nothing was kept"
            )
        os.replace(tmp, target)
        return target
    except http.client.IncompleteRead as exc:
        raise ExchangeError(
            f"the download of {item.url} broke off ({got + len(exc.partial)} bytes); nothing was kept"
        ) from None
    except urllib.error.HTTPError as exc:
        raise ExchangeError(f"cannot download {item.url}: the server answered {exc.code}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise ExchangeError(f"cannot download {item.url}: {reason} (no network?)") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _assemble(plan: Plan, files: dict[str, Path], cache: Path) -> Path:
    """A folder holding each downloaded file under the name the task reads for its role."""
    from openbrains.engine.tasks.files import MNIST_FILES

    names = {role: names[0] for role, names in MNIST_FILES.items()}
    folder = cache / "plans" / plan.key
    folder.mkdir(parents=True, exist_ok=True)
    for role, src in files.items():
        with open(src, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        link = folder / (names[role] + (".gz" if gz else ""))
        if link.exists() or link.is_symlink():
            link.unlink()
        try:
            os.link(src, link)
        except OSError:
            link.symlink_to(src)
    return folder


Confirm = Callable[[str], bool]


def resolve(
    plan: Plan, given: Path | None, confirm: Confirm, cache: Path | None = None
) -> DataUsed:
    """The data path for the plan's task: the user's ``given`` path, the plan's own path
    once confirmed, or the plan's downloads."""
    cache = cache or cache_dir()
    source = plan.data
    if given is not None:
        path = Path(given).expanduser().resolve()
        return DataUsed(str(path), [_identity_of_path(path)])
    if source is None:
        return DataUsed(None, [])
    if source.path:
        if not confirm(source.path):
            raise ExchangeError(
                f"{plan.source} wants to read {source.path!r}; a plan's paths are used only "
                "when you say so: give --data PATH"
            )
        path = Path(source.path).expanduser().resolve()
        ident = _identity_of_path(path)
        if source.sha256 and ident["sha256"] != source.sha256:
            raise ExchangeError(
                f"{path} has sha256 {ident['sha256'][:12]}…, not the plan's {source.sha256[:12]}…: "
                "these are not the plan's data, so results would not compare"
            )
        return DataUsed(str(path), [ident])
    fetched = {d.role: download(d, cache) for d in source.downloads}
    identity = [{"url": d.url, "sha256": d.sha256} for d in source.downloads]
    if len(source.downloads) == 1 and not source.downloads[0].role:
        return DataUsed(str(fetched[""]), identity)
    return DataUsed(str(_assemble(plan, fetched, cache)), identity)


def _identity_of_path(path: Path) -> dict[str, str]:
    if not path.exists():
        raise ExchangeError(f"{path} does not exist")
    sha = tree_sha256(path) if path.is_dir() else sha256_file(path)
    return {"path": str(path), "sha256": sha}


__all__ = ["DataUsed", "cache_dir", "download", "resolve", "sha256_file", "tree_sha256"]
