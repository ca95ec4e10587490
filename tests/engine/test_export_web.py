"""The exported web page, opened in headless Chromium from a loopback server, answers what
PyTorch answers: a digit drawn as pixels, typed text through a step model, a spoken digit
through the page's own log-mel encoder."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import numpy as np
import pytest
import torch

from openbrains.engine.codecs import codec_from_dict
from openbrains.engine.exporters.dispatch import ExportRequest, export
from openbrains.engine.format import load_brain
from tests.engine.exporting import ROOT

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    answers: ClassVar[list] = []  # each server gets a subclass with its own list

    def do_POST(self) -> None:  # the page reports its answer here
        size = int(self.headers["Content-Length"])
        self.answers.append(json.loads(self.rfile.read(size)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator:
    servers = []

    def start(folder: Path) -> tuple[str, list]:
        answers: list = []
        handler = type("H", (_Handler,), {"answers": answers})
        srv = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
        )
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/index.html", answers

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def ask_page(url: str, answers: list, timeout: float = 90.0) -> list:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Chromium is missing: bash scripts/setup.sh installs Debian's package"
    profile = tempfile.mkdtemp(prefix="openbrains-chromium-")
    proc = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        start = time.monotonic()
        while not answers and time.monotonic() - start < timeout and proc.poll() is None:
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    assert answers, "the page never answered"
    assert "error" not in answers[0][0], answers[0]
    return answers[0]


def b64(values: np.ndarray) -> str:
    return base64.urlsafe_b64encode(np.asarray(values, np.float32).tobytes()).decode()


def web_export(sample: str, tmp_path: Path) -> tuple[Path, object, object]:
    src = ROOT / "sample_graphs" / f"{sample}.graph"
    out = tmp_path / f"{sample}-web"
    export(ExportRequest(source=src, output=out))
    graph, brain = load_brain(src)
    runtime = ["ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html", "brain.onnx", *runtime])
    return out, graph, brain


def test_the_page_answers_a_drawn_digit_as_pytorch_does(tmp_path: Path, serve) -> None:
    from sklearn.datasets import load_digits

    folder, _graph, brain = web_export("digits", tmp_path)
    image = (load_digits().images[1501] / 16.0).astype(np.float32)  # ink in [0, 1]
    with torch.no_grad():
        want = int(brain(torch.from_numpy(image).reshape(1, 64, 1)).reshape(-1).argmax())
    url, answers = serve(folder)
    (answer,) = ask_page(f"{url}#pixels={b64(image)}&report=1", answers)
    assert answer["index"] == want
    assert abs(sum(answer["p"]) - 1) < 1e-4


def test_the_page_continues_typed_text_as_pytorch_does(tmp_path: Path, serve) -> None:
    folder, _graph, brain = web_export("text", tmp_path)
    text = "hello brains"
    ids = torch.tensor(list(text.encode()), dtype=torch.float32).view(1, -1, 1)
    with torch.no_grad():
        want = int(brain(ids)[0, -1].argmax())
    url, answers = serve(folder)
    (answer,) = ask_page(f"{url}#text={quote(text)}&report=1", answers)
    assert answer["index"] == want


@pytest.mark.slow
def test_the_page_hears_a_spoken_digit_as_pytorch_does(tmp_path: Path, serve) -> None:
    import soundfile

    clips = sorted((ROOT / "data" / "spoken_digits").rglob("*.wav"))
    assert clips, "bash scripts/setup.sh makes data/spoken_digits"
    folder, graph, brain = web_export("spoken_digits", tmp_path)
    codec = codec_from_dict(graph.codecs["audio"])
    wave, rate = soundfile.read(clips[0], dtype="float32")
    assert rate == codec.rate
    n = (brain.input_specs["audio"].time - 1) * codec.hop
    clip = np.zeros(n, np.float32)
    clip[: min(n, len(wave))] = wave[:n]
    with torch.no_grad():
        logits = brain(codec.encode(clip).data).reshape(-1)
    url, answers = serve(folder)
    (answer,) = ask_page(f"{url}#wave={b64(clip)}&report=1", answers)
    assert answer["index"] == int(logits.argmax())
    top2 = torch.topk(torch.softmax(logits, -1), 2).values
    assert abs(answer["p"][int(logits.argmax())] - float(top2[0])) < 1e-3
