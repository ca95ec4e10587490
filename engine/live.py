"""Live mode (DESIGN §3.11): a brain runs on a live source chunk by chunk, carrying its
recurrent state, and every chunk's outputs are decoded and timed.

Encoding follows the codec the graph recorded for its input (``graph.codecs``), in a
streaming form: audio keeps the samples it still needs for the next STFT frame, text
keeps nothing, images are one whole example per camera frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from openbrains.engine.codecs import (
    AudioCodec,
    BytesCodec,
    ImageCodec,
    VectorCodec,
    codec_from_dict,
    sample_next,
)
from openbrains.engine.compile import Brain, BrainState
from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.signal import SignalSpec

LOG_FLOOR = 1e-6


class StreamingAudio:
    """Audio chunks → log-mel (or raw) frames, exactly as many as the samples allow.

    Frame t covers samples [t·hop, t·hop + n_fft): the same frames as the codec's centred
    STFT, shifted by half a window (that is the streaming latency, n_fft/2 samples).
    """

    def __init__(self, codec: AudioCodec) -> None:
        self.codec = codec
        self.size = codec.n_fft if codec.mode == "logmel" else codec.frame
        self.buffer = np.zeros(0, np.float32)

    def feed(self, samples: np.ndarray) -> torch.Tensor:
        """``[1, k, C]`` for the k frames completed by these samples (k may be 0)."""
        self.buffer = np.concatenate([self.buffer, np.asarray(samples, np.float32).reshape(-1)])
        hop = self.codec.hop
        k = 0 if len(self.buffer) < self.size else 1 + (len(self.buffer) - self.size) // hop
        if k == 0:
            return torch.zeros(1, 0, self.codec.channels)
        frames = torch.from_numpy(self.buffer).unfold(0, self.size, hop)[:k]
        self.buffer = self.buffer[k * hop :]
        if self.codec.mode == "frames":
            return frames.unsqueeze(0).contiguous()
        spectrum = torch.fft.rfft(frames * self.codec._window, dim=-1).abs() ** 2  # [k, F]
        return torch.log(spectrum @ self.codec._fb.T + LOG_FLOOR).unsqueeze(0)


def table_row(text: str | bytes, features: int | None) -> np.ndarray:
    """One table row typed or streamed as text (``5.1, 3.5, 1.4``): numbers separated by
    commas, semicolons, tabs or spaces."""
    line = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    parts = [t for t in line.replace(";", ",").replace("\t", ",").replace(" ", ",").split(",") if t]
    try:
        row = np.array([float(t) for t in parts], dtype=np.float64)
    except ValueError:
        raise OpenBrainsError(
            f"expected numbers separated by commas, got {line.strip()!r}"
        ) from None
    if features is not None and len(row) != features:
        raise OpenBrainsError(
            f"expected {features} numbers per line, got {len(row)}: {line.strip()!r}"
        )
    return row


@dataclass
class LiveStep:
    index: int
    latency_ms: float
    outputs: dict[str, Any]
    steps: int


@dataclass
class LiveSession:
    """One brain on one stream. ``feed(chunk_data)`` → decoded outputs and latency."""

    brain: Brain
    codecs: dict[str, Any] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    temperature: float = 0.0
    state: BrainState | None = None
    index: int = 0

    def __post_init__(self) -> None:
        if len(self.brain.input_names) != 1:
            raise OpenBrainsError(
                f"live mode feeds one source into one input; this brain has inputs {self.brain.input_names}"
            )
        self.input = self.brain.input_names[0]
        self.spec: SignalSpec = self.brain.input_specs[self.input]
        raw = self.codecs.get(self.input)
        self.codec = codec_from_dict(raw) if raw else self._guess_codec()
        self.audio = StreamingAudio(self.codec) if isinstance(self.codec, AudioCodec) else None
        self.generator = torch.Generator().manual_seed(0)
        self.brain.eval()

    def _guess_codec(self) -> Any:
        meta = self.spec.meta
        if meta.vocab:
            return BytesCodec()
        if meta.modality == "audio":
            return AudioCodec(mode="logmel", n_mels=self.spec.channels)
        raise OpenBrainsError(
            f"the graph records no codec for input {self.input!r}; cannot feed it live"
        )

    def encode(self, data: Any) -> torch.Tensor:
        if self.audio is not None:
            return self.audio.feed(np.asarray(data))
        if isinstance(self.codec, BytesCodec):
            raw = data if isinstance(data, bytes) else str(data).encode()
            return torch.tensor(list(raw), dtype=torch.float32).view(1, -1, 1)
        if isinstance(self.codec, ImageCodec):
            return self._image(np.asarray(data))
        if isinstance(self.codec, VectorCodec) and isinstance(data, str | bytes):
            if not data.strip():
                return torch.zeros(1, 0, self.spec.channels)  # a blank line: nothing to answer
            return self.codec.encode(table_row(data, self.codec.features)).data
        return self.codec.encode(data).data

    def _image(self, frame: np.ndarray) -> torch.Tensor:
        import cv2

        c = self.codec
        if c.height and c.width and frame.shape[:2] != (c.height, c.width):
            frame = cv2.resize(frame, (c.width, c.height), interpolation=cv2.INTER_AREA)
        if c.channels == 1 and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        return c.encode(frame).data

    @torch.no_grad()
    def feed(self, data: Any) -> LiveStep:
        t0 = time.perf_counter()
        x = self.encode(data)
        outputs: dict[str, Any] = {}
        if x.shape[1] > 0:
            stateful = self.brain.state_nodes and self.spec.time is None
            out, state = self.brain.step({self.input: x}, self.state if stateful else None)
            if stateful:
                self.state = state
            outputs = {name: self.decode(name, y) for name, y in out.items()}
        latency = (time.perf_counter() - t0) * 1e3
        self.index += 1
        return LiveStep(self.index - 1, latency, outputs, int(x.shape[1]))

    def decode(self, name: str, y: torch.Tensor) -> Any:
        last = y[0, -1]
        spec = self.brain.output_specs[name]
        if spec.meta.modality == "text" or (
            spec.channels == 256 and isinstance(self.codec, BytesCodec)
        ):
            ids = sample_next(y[0], self.temperature, self.generator)
            return bytes(int(i) for i in ids.reshape(-1).tolist()).decode("utf-8", errors="replace")
        if spec.channels > 1:
            p = torch.softmax(last, -1)
            k = int(p.argmax())
            label = self.classes[k] if k < len(self.classes) else str(k)
            return {"label": label, "p": round(float(p[k]), 4)}
        raw = self.codecs.get(name)
        if isinstance(raw, dict) and raw.get("kind") == "vector":  # a value in its own units
            return round(float(codec_from_dict(raw).decode(last.view(1, 1, -1))[0][0]), 5)
        return round(float(last[0]), 5)
