"""The Hugging Face Hub as an exchange, through ``huggingface_hub`` (the ``[hub]`` extra).

Which Hub: ``huggingface_hub``'s own setting (``HF_ENDPOINT``), or ``endpoint=``. The
token: ``huggingface_hub``'s own (``HF_TOKEN`` or ``hf auth login``), never one of our
files. Endpoints used: ``POST /api/repos/create``, ``POST /api/validate-yaml``,
``POST /api/models/{repo}/preupload/{rev}``, ``POST /api/models/{repo}/commit/{rev}``
(publish); ``GET /api/models?filter=…`` (browse); ``HEAD``/``GET
/{repo}/resolve/{rev}/{file}`` (pull, and each listed brain's card). Downloads go into a
temporary cache of ours that is removed afterwards, so a download cut short leaves nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openbrains.engine.exchange.card import parse, renditions_listed
from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.folder import Entry
from openbrains.engine.exchange.layout import BRAIN, CARD, MAX_BRAIN_BYTES, MAX_CARD_BYTES, TAG
from openbrains.engine.exchange.package import Package

PROBE_TIMEOUT_S = 5.0
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
PREFIX = "hf:"


def _transport_errors() -> tuple[type[BaseException], ...]:
    """The HTTP client's "could not talk to the server" errors (huggingface_hub's client)."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError")):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(importlib.import_module(module), name))
    return tuple(found)


def _hub() -> Any:
    try:
        import huggingface_hub
    except ImportError:
        raise ExchangeError(
            "the Hugging Face Hub needs the [hub] extra (huggingface_hub): "
            "bash scripts/setup.sh installs it"
        ) from None
    from huggingface_hub.utils import disable_progress_bars, logging

    logging.set_verbosity_error()  # our one line says what went wrong, not its retries
    disable_progress_bars()
    return huggingface_hub


class HubExchange:
    """``hf:`` (every brain tagged open-brains), ``hf:OWNER`` or ``hf:OWNER/NAME``."""

    kind = "hub"

    def __init__(
        self, owner: str | None = None, name: str | None = None, endpoint: str | None = None
    ):
        for part in (owner, name):
            if part is not None and not _OWNER.match(part):
                raise ExchangeError(f"{part!r} is not a Hugging Face user or repository name")
        self.owner, self.name = owner, name
        self._endpoint = endpoint
        self._reached = False

    @property
    def endpoint(self) -> str:
        if self._endpoint:
            return self._endpoint.rstrip("/")
        return _hub().constants.ENDPOINT

    def describe(self) -> str:
        return PREFIX + "/".join(p for p in (self.owner, self.name) if p)

    def ref(self, name: str) -> str:
        return f"{PREFIX}{self.owner}/{name}"

    def repo_id(self, name: str | None = None) -> str:
        name = name or self.name
        if not self.owner or not name:
            raise ExchangeError(f"name a repository: hf:OWNER/NAME (got {self.describe()})")
        return f"{self.owner}/{name}"

    def _api(self) -> Any:
        return _hub().HfApi(endpoint=self.endpoint)

    def _probe(self, what: str) -> None:
        """Fail at once when nothing answers at the endpoint (``huggingface_hub`` would
        retry for half a minute first). Skipped behind a proxy, which a direct try misses."""
        if self._reached or any(os.environ.get(v) for v in _PROXY_VARS):
            return
        url = urlsplit(self.endpoint)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            socket.create_connection((url.hostname or "", port), timeout=PROBE_TIMEOUT_S).close()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ExchangeError(
                f"{what}: cannot reach {self.endpoint} ({reason}); no network?"
            ) from None
        self._reached = True

    @contextlib.contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """Whatever goes wrong talking to the Hub, as one line."""
        _hub()
        self._probe(what)
        errors = importlib.import_module("huggingface_hub.errors")
        try:
            yield
        except errors.RepositoryNotFoundError:
            raise ExchangeError(
                f"{what}: no such repository on {self.endpoint} (or no access)"
            ) from None
        except errors.LocalEntryNotFoundError:  # hf_hub_download's word for "no connection"
            raise ExchangeError(f"{what}: cannot reach {self.endpoint}; no network?") from None
        except errors.EntryNotFoundError:
            raise ExchangeError(
                f"{what}: the repository is not a published brain (a file is missing)"
            ) from None
        except errors.HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", "?")
            hint = ""
            if status in (401, 403):
                hint = ": set HF_TOKEN or log in with `hf auth login`"
            raise ExchangeError(
                f"{what}: the Hub at {self.endpoint} answered {status}{hint}"
            ) from None
        except errors.LocalTokenNotFoundError:
            raise ExchangeError(
                f"{what}: no Hugging Face token; set HF_TOKEN or run `hf auth login`"
            ) from None
        except ExchangeError:
            raise
        except _transport_errors() as exc:
            first = str(exc).splitlines()[0] if str(exc) else "no answer"
            if any(k in type(exc).__name__ for k in ("Protocol", "Read")):
                raise ExchangeError(
                    f"{what}: the download broke off before the end ({first}); nothing was written"
                ) from None
            raise ExchangeError(
                f"{what}: cannot reach {self.endpoint} ({type(exc).__name__}: {first}); no network?"
            ) from None
        except (OSError, ValueError) as exc:
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "Consistency check failed" in text:
                text = "the download broke off before the end"
            raise ExchangeError(f"{what}: {text}; nothing was written") from None

    # ----- publish ---------------------------------------------------------------------
    def publish(self, package: Package) -> str:
        hub = _hub()
        repo_id = self.repo_id(package.name)
        with self._calls(f"publishing to hf:{repo_id}"):
            api = self._api()
            api.create_repo(repo_id, repo_type="model", exist_ok=True)
            ops = [
                hub.CommitOperationAdd(path_in_repo=name, path_or_fileobj=data)
                for name, data in sorted(package.files.items())
            ]
            api.create_commit(
                repo_id,
                operations=ops,
                commit_message=f"Publish {package.name} ({package.card.content_id[:12]})",
                repo_type="model",
            )
        return PREFIX + repo_id

    # ----- list ------------------------------------------------------------------------
    def entries(self, tags: list[str] | None = None, limit: int = 50) -> list[Entry]:
        where = self.describe()
        with self._calls(f"listing {where}"):
            models = list(
                self._api().list_models(
                    filter=[TAG, *(tags or [])],
                    author=self.owner,
                    sort="created_at",
                    limit=limit,
                )
            )
        out = []
        with tempfile.TemporaryDirectory(prefix="openbrains-hub-") as cache:
            for m in models:
                repo_id = str(m.id)
                created = m.created_at.isoformat() if getattr(m, "created_at", None) else ""
                name = repo_id.split("/")[-1]
                try:
                    data = self._download(repo_id, CARD, cache, MAX_CARD_BYTES)
                    card = parse(data, f"hf:{repo_id}/{CARD}")
                    out.append(
                        Entry(PREFIX + repo_id, name, card, created=created or card.published)
                    )
                except ExchangeError as exc:
                    out.append(
                        Entry(PREFIX + repo_id, name, None, problem=str(exc), created=created)
                    )
        return out

    # ----- pull ------------------------------------------------------------------------
    def fetch(self, with_brain: bool = True, extras: bool = True) -> dict[str, bytes]:
        repo_id = self.repo_id()
        with tempfile.TemporaryDirectory(prefix="openbrains-hub-") as cache:
            files = {CARD: self._download(repo_id, CARD, cache, MAX_CARD_BYTES)}
            if with_brain:
                files[BRAIN] = self._download(repo_id, BRAIN, cache, MAX_BRAIN_BYTES)
                for name in renditions_listed(files[CARD]) if extras else []:  # brain.onnx
                    files[name] = self._download(repo_id, name, cache, MAX_BRAIN_BYTES)
        return files

    def _download(self, repo_id: str, filename: str, cache: str, limit: int) -> bytes:
        hub = _hub()
        with self._calls(f"downloading {filename} from hf:{repo_id}"):
            path = hub.hf_hub_download(
                repo_id,
                filename,
                repo_type="model",
                cache_dir=cache,
                endpoint=self.endpoint,
            )
            p = Path(path)
            if p.stat().st_size > limit:
                raise ExchangeError(f"hf:{repo_id}/{filename} is over the limit of {limit} bytes")
            return p.read_bytes()


def parse_ref(text: str, endpoint: str | None = None) -> HubExchange:
    """``hf:``, ``hf:OWNER`` or ``hf:OWNER/NAME`` as a ``HubExchange``."""
    rest = text[len(PREFIX) :].strip("/")
    parts = rest.split("/") if rest else []
    if len(parts) > 2:
        raise ExchangeError(f"{text!r}: a Hub place is hf:, hf:OWNER or hf:OWNER/NAME")
    return HubExchange(*(parts + [None] * (2 - len(parts))), endpoint=endpoint)
