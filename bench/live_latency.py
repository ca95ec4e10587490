"""Live latency: per-chunk time of a micro-model on 32 ms audio chunks (16 kHz, log-mel,
GRU carrying state) and on 64×64 camera frames (patches, small CNN), encoding included.

The peer is a hand-written torch module computing the same layers on the same encoded
input, measured in the same run (its ratio shows what the compiled brain and live plumbing
add). Frames come from a generated video file through OpenCV, audio from espeak-ng speech
(or a chirp when espeak-ng is missing).

    .venv/bin/python bench/live_latency.py [--chunks 2000] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.compile import compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.live import LiveSession, StreamingAudio


def chain(inp: dict, units: list[tuple[str, dict]], out: dict, causal: bool = False) -> Graph:
    g = Graph(causal=causal)
    prev = g.add_node("input", inp, uid="in")
    for i, (unit, params) in enumerate(units):
        node = g.add_node(unit, params, uid=f"n{i}")
        g.connect(prev.uid, node.uid, uid=f"e{i}")
        prev = node
    o = g.add_node("output", out, uid="out")
    g.connect(prev.uid, o.uid, uid="eo")
    return g


def speech(tmp: Path) -> np.ndarray:
    wav = tmp / "speech.wav"
    try:
        subprocess.run(
            ["espeak-ng", "-w", str(wav), "one two three four five six seven eight nine"],
            check=True,
            capture_output=True,
        )
        import soundfile as sf

        from openbrains.engine.codecs import resample

        data, rate = sf.read(wav, dtype="float32")
        return resample(data, rate, 16000)
    except (OSError, subprocess.CalledProcessError):
        t = np.arange(16000 * 3) / 16000
        return np.sin(2 * np.pi * (200 + 300 * t) * t).astype(np.float32)


def frames(tmp: Path, n: int) -> list[np.ndarray]:
    import cv2

    path = str(tmp / "cam.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 64))
    for i in range(n):
        f = np.zeros((64, 64, 3), np.uint8)
        f[(i * 3) % 48 : (i * 3) % 48 + 16, 20:36] = (255, 128, 0)
        writer.write(f)
    writer.release()
    from openbrains.nodes.sources import open_source

    out = []
    with open_source(f"camera:{path}", size=(64, 64)) as cam:
        while (chunk := cam.read()) is not None:
            out.append(chunk.data)
    return out


def p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]


class HandAudio(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = torch.nn.GRU(40, 32, batch_first=True)
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.gru(x, h)
        return self.fc(y), h


class HandImage(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(192, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        y = torch.relu(self.conv(x.reshape(b, 8, 8, 192).permute(0, 3, 1, 2)))
        y = torch.nn.functional.max_pool2d(y, 2)
        return self.fc(y.permute(0, 2, 3, 1).reshape(b, -1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, default=2000)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        wave = speech(Path(tmp))
        video = frames(Path(tmp), 120)
    codec = {"kind": "audio", "mode": "logmel", "n_mels": 40}
    audio_graph = chain(
        {"name": "audio", "modality": "audio", "channels": 40, "time": 0, "rate": 100.0},
        [("gru", {"width": 32}), ("dense", {"width": 10, "activation": "identity"})],
        {"name": "label", "channels": 10, "time": 0},
        causal=True,
    )
    audio_graph.codecs = {"audio": codec}
    image_graph = chain(
        {
            "name": "image",
            "modality": "image",
            "channels": 192,
            "time": 64,
            "grid_h": 8,
            "grid_w": 8,
        },
        [
            ("conv2d", {"width": 16, "kernel": 3}),
            ("pool", {"kind": "max", "size": 2}),
            ("flatten", {}),
            ("dense", {"width": 10, "activation": "identity"}),
        ],
        {"name": "label", "channels": 10, "time": 1},
    )
    image_graph.codecs = {
        "image": {"kind": "image", "patch": 8, "channels": 3, "height": 64, "width": 64}
    }
    chunk = 512  # 32 ms at 16 kHz
    audio = LiveSession(compile_graph(audio_graph, seed=0), audio_graph.codecs)
    peer_audio, peer_state = HandAudio().eval(), None
    peer_stream = StreamingAudio(audio.codec)
    ours_a, peer_a = [], []
    for i in range(args.chunks):
        start = (i * chunk) % max(chunk, len(wave) - chunk)
        piece = wave[start : start + chunk]
        t0 = time.perf_counter()
        audio.feed(piece)
        t1 = time.perf_counter()
        with torch.no_grad():
            x = peer_stream.feed(piece)  # its own copy of the same streaming encoder
            if x.shape[1]:
                _, peer_state = peer_audio(x, peer_state)
        t2 = time.perf_counter()
        ours_a.append((t1 - t0) * 1e3)
        peer_a.append((t2 - t1) * 1e3)
    image = LiveSession(compile_graph(image_graph, seed=0), image_graph.codecs)
    peer_image = HandImage().eval()
    ours_f, peer_f = [], []
    for i in range(args.chunks):
        frame = video[i % len(video)]
        t0 = time.perf_counter()
        image.feed(frame)
        t1 = time.perf_counter()
        with torch.no_grad():
            peer_image(image.codec.encode(frame).data)
        t2 = time.perf_counter()
        ours_f.append((t1 - t0) * 1e3)
        peer_f.append((t2 - t1) * 1e3)
    rows = [
        f"| audio 32 ms chunk | {statistics.median(ours_a):.3f} | {p99(ours_a):.3f} | {p99(peer_a):.3f} | {p99(ours_a) / p99(peer_a):.2f} |",
        f"| camera frame 64×64 | {statistics.median(ours_f):.3f} | {p99(ours_f):.3f} | {p99(peer_f):.3f} | {p99(ours_f) / p99(peer_f):.2f} |",
    ]
    table = "\n".join(
        [
            "| stream | ours p50 ms | ours p99 ms | peer p99 ms | ratio p99 |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    last = f"audio_ms_p99={p99(ours_a):.3f} frame_ms_p99={p99(ours_f):.3f}"
    print(table)
    print(last)
    if not args.no_record:
        body = (
            f"{args.chunks} chunks each, one torch thread; ours = LiveSession.feed (streaming log-mel or "
            "patching + brain step with state); peer = hand-written module on the same encoded input. "
            "Goal < 5 ms.\n\n" + table
        )
        record("live_latency", "python bench/live_latency.py", body, last)


if __name__ == "__main__":
    main()
