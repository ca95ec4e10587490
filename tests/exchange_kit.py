"""Brains, plans and servers the exchange tests share: a real XOR brain whose card claims are
its real scores, a loopback file server that counts requests and can break a download
off halfway, and the command line as a subprocess."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import torch

from openbrains.engine.compile import compile_graph
from openbrains.engine.format import load, save_brain
from openbrains.engine.taskrecord import record_of
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.train.trainer import evaluate

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "openbrains"]


def make_brain(path: Path, shift: float = 0.0) -> Path:
    """An XOR brain (the sample project's seed, weights moved by ``shift``) carrying its
    task and its real validation and test scores, as `openbrains export` writes them."""
    doc = load(ROOT / "sample_graphs" / "xor.graph")
    graph = doc.graph
    assert graph is not None
    weights = {k: (v + shift).contiguous() for k, v in doc.weights.items()}
    task = load_task("xor")
    brain = compile_graph(graph, inputs=task.inputs)
    brain.load_weights(weights, strict=True)
    brain.eval()
    info = task.describe()
    with torch.no_grad():
        val = evaluate(brain, task, task.val)[task.metric]
        test = evaluate(brain, task, task.test)[task.metric]
    record = record_of("xor", info, graph)
    record.score = {
        "metric": task.metric,
        "validation": val,
        "test": test,
        "params": brain.param_count(),
    }
    graph.tasks = {"xor": record}
    graph.lineage = {"run": "xor", "id": 7, "mutation": "widen", "run_parents": [3], "parents": []}
    save_brain(path, graph, weights)
    return path


def ob(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`openbrains ARGS` as a user types it, with ``env`` added to the environment."""
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class Served:
    """Files a loopback server hands out; ``hits`` counts GETs per path; paths in ``cut``
    send half their bytes after promising all of them."""

    files: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    cut: set[str] = field(default_factory=set)
    url: str = ""

    def sha256(self, name: str) -> str:
        return hashlib.sha256(self.files[name]).hexdigest()


@contextmanager
def file_server(files: dict[str, bytes]) -> Iterator[Served]:
    """An HTTP server on 127.0.0.1 (ephemeral port) serving ``files`` at ``/<name>``."""
    served = Served(dict(files))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_a: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            served.hits[name] = served.hits.get(name, 0) + 1
            data = served.files.get(name)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if name in served.cut:
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: what "no network" looks like, without one."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
