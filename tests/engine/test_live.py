"""Live mode: streaming encoders match their codecs, state carries across chunks, and
`openbrains live` runs through the real sounddevice path (virtual mic) and OpenCV path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from openbrains.engine.codecs import AudioCodec
from openbrains.engine.compile import compile_graph
from openbrains.engine.format import save_brain
from openbrains.engine.graph import Graph
from openbrains.engine.live import LiveSession, StreamingAudio
from openbrains.engine.taskrecord import TaskRecord
from tests.nodes import media

ROOT = Path(__file__).resolve().parents[2]


def test_streaming_log_mel_equals_the_codec_and_ignores_chunking() -> None:
    codec = AudioCodec(mode="logmel", n_fft=400, hop=100, n_mels=20)
    rng = np.random.default_rng(0)
    wave = rng.standard_normal(16000).astype(np.float32) * 0.1
    whole = StreamingAudio(codec).feed(wave)
    stream = StreamingAudio(codec)
    pieces = [stream.feed(wave[i : i + 512]) for i in range(0, len(wave), 512)]
    chunked = torch.cat(pieces, dim=1)
    assert torch.allclose(chunked, whole, atol=1e-5)
    reference = codec.encode(wave).data  # centred frames: ours start n_fft/2 = 2 hops later
    n = whole.shape[1]
    assert torch.allclose(whole[0], reference[0, 2 : 2 + n], atol=1e-3)


def audio_graph() -> Graph:
    g = Graph(causal=True)
    i = g.add_node("input", {"name": "audio", "modality": "audio", "channels": 20, "time": 0})
    r = g.add_node("gru", {"width": 8})
    o = g.add_node("output", {"name": "label", "channels": 3, "time": 0})
    g.connect(i.uid, r.uid)
    g.connect(r.uid, o.uid)
    g.codecs = {
        "audio": {"kind": "audio", "mode": "logmel", "n_fft": 400, "hop": 160, "n_mels": 20}
    }
    g.tasks = {"toy": TaskRecord("toy", classes=["yes", "no", "maybe"])}
    return g


def test_session_carries_state_and_decodes_classes() -> None:
    g = audio_graph()
    brain = compile_graph(g, seed=0)
    session = LiveSession(brain, g.codecs, ["yes", "no", "maybe"])
    chunk = np.sin(np.linspace(0, 200, 512)).astype(np.float32)
    first = session.feed(chunk)
    assert first.steps > 0 and first.outputs["label"]["label"] in {"yes", "no", "maybe"}
    assert session.state is not None
    session.feed(chunk)
    fresh = LiveSession(compile_graph(g, seed=0), g.codecs, ["yes", "no", "maybe"])
    fresh.feed(np.zeros(1000, np.float32))  # a different history leaves a different memory
    fresh.feed(chunk)
    assert not torch.equal(
        session.state[next(iter(session.state))][0], fresh.state[next(iter(fresh.state))][0]
    )


def live(
    *args: str, env: dict | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openbrains", "live", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not media.HAVE_ESPEAK, reason="espeak-ng is not installed")
def test_cli_live_on_a_virtual_microphone(tmp_path: Path) -> None:
    g = audio_graph()
    path = tmp_path / "ears.graph"
    save_brain(path, compile_graph(g, seed=0))
    raw = media.write_raw_s16(tmp_path / "speech.raw", media.speech("seven eight nine", tmp_path))
    home = tmp_path / "home"
    media.write_asoundrc(home, media.ASOUNDRC_CAPTURE.format(infile=raw))
    env = {**os.environ, "HOME": str(home)}
    out = live(str(path), "--source", "mic", "--chunks", "20", env=env)
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("#")]
    assert len(lines) == 20 and any("label=" in ln for ln in lines)
    assert "latency p50" in out.stderr


def test_cli_live_without_a_microphone_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "ears.graph"
    save_brain(path, compile_graph(audio_graph(), seed=0))
    home = tmp_path / "home"
    media.write_asoundrc(home, media.ASOUNDRC_BROKEN)
    out = live(str(path), "--source", "mic", env={**os.environ, "HOME": str(home)})
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "microphone" in out.stderr


def test_cli_live_on_a_video_file_and_on_text(tmp_path: Path) -> None:
    video = tmp_path / "cam.avi"
    media.moving_square_video(video, "MJPG")
    out = live(
        str(ROOT / "sample_graphs" / "digits.graph"), "--source", f"camera:{video}", "--chunks", "5"
    )
    assert out.returncode == 0, out.stderr
    assert len([ln for ln in out.stdout.splitlines() if "label=" in ln]) == 5
    text = live(
        str(ROOT / "sample_graphs" / "text.graph"),
        "--source",
        "text",
        "--chunks",
        "2",
        stdin="hello\nworld\n",
    )
    assert text.returncode == 0 and text.stdout.count("next=") == 2
