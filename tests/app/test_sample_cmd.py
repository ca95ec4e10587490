"""`openbrains sample`: text with temperature, answers, denoised images, through the real
console script in real subprocesses, checked against the engine functions it wraps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2

from openbrains.engine.format import GraphFile, load, load_brain, save
from openbrains.engine.taskrecord import TaskRecord
from openbrains.engine.tasks.callresponse import respond
from openbrains.engine.textgen import complete

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_graphs"


def sample(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openbrains", "sample", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_text_with_temperature() -> None:
    graph = str(SAMPLES / "text.graph")
    a = sample(graph, "--prompt", "Hi", "--length", "30", "--temperature", "0.8", "--seed", "3")
    assert a.returncode == 0, a.stderr
    assert a.stdout.startswith("Hi")
    again = sample(graph, "--prompt", "Hi", "--length", "30", "--temperature", "0.8", "--seed", "3")
    assert again.stdout == a.stdout  # seeded
    greedy = sample(graph, "--prompt", "Hi", "--length", "12", "--temperature", "0")
    _g, brain = load_brain(SAMPLES / "text.graph")
    want = complete(brain, "Hi", 12, temperature=0.0)
    assert greedy.stdout == "Hi" + want.decode("utf-8", errors="replace") + "\n"


def test_context_comes_from_the_task_it_learned(tmp_path: Path) -> None:
    doc = load(SAMPLES / "text.graph")
    assert doc.graph is not None
    doc.graph.tasks = {"text": TaskRecord("text", settings={"context": 4})}
    path = tmp_path / "exported.graph"
    save(path, GraphFile(kind="graph", graph=doc.graph, weights=doc.weights))
    out = sample(str(path), "--prompt", "abcdefgh", "--length", "10", "--temperature", "0")
    _g, brain = load_brain(path)
    want = complete(brain, "abcdefgh", 10, temperature=0.0, context=4)
    assert out.returncode == 0 and out.stdout == "abcdefgh" + want.decode(errors="replace") + "\n"


def test_call_and_response_answers() -> None:
    out = sample(str(SAMPLES / "callresponse.graph"), "--prompt", "3+4", "--temperature", "0")
    assert out.returncode == 0, out.stderr
    _g, brain = load_brain(SAMPLES / "callresponse.graph")
    want = respond(brain, [b"3+4"], 200)[0]
    assert out.stdout == want.decode(errors="replace") + "\n"


def test_denoiser_images(tmp_path: Path) -> None:
    graph = str(SAMPLES / "denoise.graph")
    png = tmp_path / "digits.png"
    out = sample(graph, "--count", "3", "--out", str(png))
    assert out.returncode == 0, out.stderr
    assert "wrote 3 images" in out.stdout
    image = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (64, 3 * 64 + 2 * 4)
    shown = sample(graph, "--count", "2")
    blocks = shown.stdout.rstrip("\n").split("\n\n")
    assert len(blocks) == 2 and all(len(b.splitlines()) == 8 for b in blocks)


def test_not_a_generator() -> None:
    out = sample(str(SAMPLES / "digits.graph"), "--prompt", "x")
    assert out.returncode == 2
    assert "not 256 byte logits: it is not a text brain" in out.stderr
