"""A small JSON-over-HTTP client for teacher servers, standard library only (``urllib``).

Requests are rate-limited (at least ``min_interval_s`` apart), time out, and are retried
with exponential backoff on what may pass (a refused connection, a timeout, HTTP 429 and
5xx, a body that is not JSON); what will not pass (HTTP 401/403: the key; 404: the URL or
model) fails at once. Every failure is a ``TeacherDown`` with one line that says what to
check. The API key goes in an ``Authorization`` header that is not repeated on redirects.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from openbrains.engine.teachers.errors import TeacherDown

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class HttpPolicy:
    """How patient a client is; the defaults suit a local server or a hosted API."""

    timeout_s: float = 60.0
    retries: int = 3  # attempts after the first
    backoff_s: float = 0.5  # first wait; doubles each retry
    max_backoff_s: float = 8.0
    min_interval_s: float = 0.0  # rate limit: seconds between the starts of two requests


class HttpError(TeacherDown):
    """An HTTP status the server answered with (kept for callers that can adapt)."""

    def __init__(
        self, message: str, status: int, body: str, fatal: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message, fatal=fatal)
        self.status = status
        self.body = body
        self.retry_after = retry_after


class JsonClient:
    """POST/GET JSON to ``base_url`` + path; counts the requests it sent (``requests``)."""

    def __init__(
        self,
        base_url: str,
        key: str = "",
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.policy = policy or HttpPolicy()
        self.sleep = sleep
        self.requests = 0
        self._lock = threading.Lock()
        self._last_start = 0.0
        host = urlsplit(self.base_url).hostname or ""
        handlers: list[Any] = []
        if _is_loopback(host):  # a local server is never reached through a proxy
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json.dumps(body).encode("utf-8"))

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    # ----- internals -----------------------------------------------------------------
    def _call(self, method: str, path: str, data: bytes | None) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        wait = self.policy.backoff_s
        last: TeacherDown | None = None
        for attempt in range(self.policy.retries + 1):
            if attempt:
                self.sleep(min(wait, self.policy.max_backoff_s))
                wait *= 2
            try:
                return self._once(method, url, data)
            except HttpError as exc:
                if exc.fatal:
                    raise
                last = exc
                if exc.retry_after is not None:
                    wait = max(wait, exc.retry_after)
            except TeacherDown as exc:
                last = exc
        assert last is not None
        tries = self.policy.retries + 1
        raise TeacherDown(f"{last} (gave up after {tries} tries)", fatal=last.fatal)

    def _throttle(self) -> None:
        with self._lock:
            now = time.monotonic()
            gap = self._last_start + self.policy.min_interval_s - now
            if gap > 0:
                self.sleep(gap)
            self._last_start = time.monotonic()

    def _once(self, method: str, url: str, data: bytes | None) -> Any:
        self._throttle()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.key:
            req.add_unredirected_header("Authorization", f"Bearer {self.key}")
        self.requests += 1
        try:
            with self._opener.open(req, timeout=self.policy.timeout_s) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, url, bool(self.key)) from None
        except TimeoutError:
            raise TeacherDown(
                f"the teacher at {self.base_url} did not answer within {self.policy.timeout_s:g} s"
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise TeacherDown(
                    f"the teacher at {self.base_url} did not answer within "
                    f"{self.policy.timeout_s:g} s"
                ) from None
            raise TeacherDown(f"the teacher at {self.base_url} is unreachable ({reason})") from None
        except (ConnectionError, OSError) as exc:
            raise TeacherDown(f"the teacher at {self.base_url} is unreachable ({exc})") from None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            shown = raw[:60].decode("utf-8", errors="replace")
            raise TeacherDown(
                f"the teacher at {self.base_url} answered something that is not JSON: {shown!r}"
            ) from None


def _http_error(exc: urllib.error.HTTPError, url: str, has_key: bool) -> HttpError:
    try:
        body = exc.read(2000).decode("utf-8", errors="replace")
    except OSError:
        body = ""
    status = int(exc.code)
    retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
    detail = _server_message(body)
    if status in (401, 403):
        what = (
            "refused the key (check the variable --teacher-key-env names)"
            if has_key
            else "wants a key: export it and name the variable with --teacher-key-env NAME"
        )
        msg = f"the teacher at {url} {what} (HTTP {status})"
        return HttpError(msg, status, body, fatal=True)
    if status == 404:
        msg = (
            f"{url} was not found (HTTP 404{': ' + detail if detail else ''}); check the "
            "BASE_URL (it usually ends in /v1) and the model name"
        )
        return HttpError(msg, status, body, fatal=True)
    msg = f"the teacher at {url} answered HTTP {status}{': ' + detail if detail else ''}"
    return HttpError(msg, status, body, status not in RETRY_STATUS, retry_after)


def _server_message(body: str) -> str:
    """The ``error.message`` of an OpenAI-style error body (or its ``error`` string), else
    the body's start."""
    msg: Any = None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    text = str(msg if msg else body).strip().replace("\n", " ")
    return text[:120]


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (an HTTP date is ignored: backoff applies)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
