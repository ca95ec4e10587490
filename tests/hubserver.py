"""A loopback stand-in for the Hugging Face Hub, written with the standard library only.

It speaks the few endpoints Open Brains uses (docs/community.md, "Hub endpoints"), on
127.0.0.1 with an ephemeral port, keeping repositories in memory:

- ``POST /api/repos/create``, ``POST /api/validate-yaml``;
- ``POST /api/models/{owner}/{name}/preupload/{rev}`` (every file "regular": sent inline);
- ``POST /api/models/{owner}/{name}/commit/{rev}`` (ndjson: header + base64 files);
- ``GET /api/models?filter=…&author=…`` (tags taken from the card's ``tags:`` lines);
- ``HEAD``/``GET /{owner}/{name}/resolve/{rev}/{file}``.

Writes want ``Authorization: Bearer <token>`` (the token ``huggingface_hub`` found in the
environment). Tests can tamper with a stored file, or make a download break off halfway.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Repo:
    files: dict[str, bytes] = field(default_factory=dict)
    created: str = ""
    commits: int = 0

    def tags(self) -> list[str]:
        """The card's ``tags:`` list, read line by line (as the Hub derives a repo's tags)."""
        text = self.files.get("README.md", b"").decode("utf-8", "replace")
        front = text.split("\n---\n", 1)[0] if text.startswith("---\n") else ""
        lines = front.splitlines()
        tags: list[str] = []
        if "tags:" in lines:
            for line in lines[lines.index("tags:") + 1 :]:
                if not line.startswith("- "):
                    break
                tags.append(line[2:].strip().strip("'\""))
        return tags


@dataclass
class HubState:
    token: str
    repos: dict[str, Repo] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    cut: set[str] = field(default_factory=set)  # "owner/name/file": downloads break off
    clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))

    def tick(self) -> str:
        self.clock += timedelta(minutes=1)
        return self.clock.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeHub/1"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> HubState:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, *_args: object) -> None:  # keep pytest output clean
        pass

    # ----- helpers ------------------------------------------------------------------------
    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _json(self, status: int, value: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, code: str = "") -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._json(status, {"error": message}, headers)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.state.token}":
            return True
        self._error(401, "Invalid credentials in Authorization header")
        return False

    def _repo_path(self, path: str, verb: str) -> tuple[str, str] | None:
        m = re.match(rf"^/api/models/([^/]+/[^/]+)/{verb}/(.+)$", path)
        return (m.group(1), unquote(m.group(2))) if m else None

    # ----- verbs --------------------------------------------------------------------------
    def do_POST(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(("POST", url.path))
        body = self._body()
        if url.path == "/api/validate-yaml":
            return self._json(200, {"errors": [], "warnings": []})
        if not self._authorised():
            return None
        if url.path == "/api/repos/create":
            payload = json.loads(body)
            repo_id = f"{payload['organization']}/{payload['name']}"
            if repo_id in self.state.repos:
                return self._error(409, "You already created this model repo")
            self.state.repos[repo_id] = Repo(created=self.state.tick())
            return self._json(200, {"url": f"http://{self.headers['Host']}/{repo_id}"})
        if hit := self._repo_path(url.path, "preupload"):
            if hit[0] not in self.state.repos:
                return self._error(404, "Repository not found", "RepoNotFound")
            files = json.loads(body)["files"]
            return self._json(
                200,
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                },
            )
        if hit := self._repo_path(url.path, "commit"):
            repo = self.state.repos.get(hit[0])
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            for line in body.splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    value = item["value"]
                    repo.files[value["path"]] = base64.b64decode(value["content"])
            repo.commits += 1
            oid = hashlib.sha1(f"{hit[0]}{repo.commits}".encode()).hexdigest()
            return self._json(
                200,
                {
                    "commitUrl": f"http://{self.headers['Host']}/{hit[0]}/commit/{oid}",
                    "commitOid": oid,
                    "pullRequestUrl": None,
                },
            )
        return self._error(404, f"no route {url.path}")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append((self.command, url.path))
        if url.path == "/api/models":
            return self._list(parse_qs(url.query))
        m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", url.path)
        if not m:
            return self._error(404, f"no route {url.path}")
        repo_id, filename = m.group(1), unquote(m.group(3))
        repo = self.state.repos.get(repo_id)
        if repo is None:
            return self._error(404, "Repository not found", "RepoNotFound")
        data = repo.files.get(filename)
        if data is None:
            return self._error(404, "Entry not found", "EntryNotFound")
        commit = hashlib.sha1(f"{repo_id}{repo.commits}".encode()).hexdigest()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", commit)
        self.end_headers()
        if self.command == "HEAD":
            return None
        if f"{repo_id}/{filename}" in self.state.cut:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(data)
        return None

    do_HEAD = do_GET

    def _list(self, query: dict[str, list[str]]) -> None:
        wanted = set(query.get("filter", []))
        author = (query.get("author") or [None])[0]
        out = []
        for repo_id, repo in self.state.repos.items():
            tags = repo.tags()
            if not wanted <= set(tags) or (author and not repo_id.startswith(f"{author}/")):
                continue
            out.append({"id": repo_id, "modelId": repo_id, "tags": tags, "createdAt": repo.created})
        out.sort(key=lambda d: d["createdAt"], reverse=True)
        limit = int((query.get("limit") or [len(out)])[0])
        self._json(200, out[:limit])


@contextmanager
def fake_hub(token: str = "hf_test_token") -> Iterator[tuple[str, HubState]]:
    """A running loopback Hub: its endpoint URL and its state. Stops on exit."""
    state = HubState(token=token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
