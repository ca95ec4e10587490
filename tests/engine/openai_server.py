"""A loopback OpenAI-compatible server for the teacher tests (standard library
``http.server`` on an ephemeral port): chat completions and embeddings, answered by a
function the test gives, with faults on demand (a delay past the client's timeout, HTTP
500, a body that is not JSON, a refused key) and a count of every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any] | str  # a chat answer's content, or the whole JSON body


class FakeOpenAI:
    """``answer(body) -> content`` makes each chat completion's message content (a string;
    a dict is sent as JSON text). ``faults``: a list consumed one per request of
    ``"500"``, ``"garbage"``, ``"slow"``, ``"401"``, ``"400-schema"`` or ``None``."""

    def __init__(self, answer: Callable[[dict[str, Any]], Any], key: str = "") -> None:
        self.answer = answer
        self.key = key
        self.faults: list[str | None] = []
        self.always: str | None = None  # a fault for every request
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.slow_s = 2.0
        self.reject_schema = False  # answer 400 to json_schema response formats
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self, {})

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                server._handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- serving -------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(body)
            self.paths.append(h.path)
            fault = self.faults.pop(0) if self.faults else self.always
        if self.key and h.headers.get("Authorization") != f"Bearer {self.key}":
            fault = "401"
        if fault == "slow":
            time.sleep(self.slow_s)
        if fault == "500":
            return self._send(h, 500, b'{"error": {"message": "overloaded"}}')
        if fault == "401":
            return self._send(h, 401, b'{"error": {"message": "invalid api key"}}')
        if fault == "garbage":
            return self._send(h, 200, b"<html>not json</html>")
        fmt = (body.get("response_format") or {}).get("type")
        if self.reject_schema and fmt == "json_schema":
            return self._send(h, 400, b'{"error": "response_format json_schema unsupported"}')
        if h.path.endswith("/embeddings"):
            inputs = body.get("input") or []
            data = [
                {"index": i, "embedding": [float(len(t)), float(t.count("a")), 1.0]}
                for i, t in enumerate(inputs)
            ]
            return self._send(h, 200, json.dumps({"data": data}).encode())
        if not h.path.endswith("/chat/completions"):
            return self._send(h, 404, b'{"error": {"message": "no such route"}}')
        content = self.answer(body)
        if isinstance(content, dict):
            content = json.dumps(content)
        reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
        self._send(h, 200, json.dumps(reply).encode())

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            pass


def user_text(body: dict[str, Any]) -> str:
    """The text of a chat request's user message (its text parts joined)."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return " ".join(p.get("text", "") for p in content if p.get("type") == "text")


def user_image(body: dict[str, Any]) -> Any:
    """The first image of a chat request's user message, decoded (RGB uint8), or None."""
    import base64

    import cv2
    import numpy as np

    content = body["messages"][-1]["content"]
    for part in content if isinstance(content, list) else []:
        if part.get("type") == "image_url":
            url = part["image_url"]["url"]
            png = base64.b64decode(url.split(",", 1)[1])
            img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
            return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return None
