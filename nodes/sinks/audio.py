"""Sound output: a real ``sounddevice.OutputStream`` playing what a brain says.

A live brain produces audio in bursts (one decoded chunk per input chunk), while a sound
card wants samples at a steady pace. ``write`` therefore only appends to a ring buffer
and PortAudio's callback pulls from it, playing silence when the buffer runs dry (counted
in ``underruns`` when it ran dry in the middle of a block). If the brain outpaces the
speaker the oldest samples are dropped (``dropped``) so the delay stays under
``max_buffer_s``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from openbrains.nodes.sinks import SinkBase, SinkError, to_numpy


@dataclass(frozen=True)
class OutputDevice:
    """One playback device as PortAudio lists it."""

    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as e:  # libportaudio not installed
        raise SinkError(
            f"no audio output device found (the PortAudio library is missing: {e})"
        ) from e
    return sounddevice


def _line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def list_output_devices() -> list[OutputDevice]:
    """Every device with output channels, the default one marked."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as e:
        raise SinkError(f"cannot list audio devices: {_line(e)}") from e
    try:
        default: int | None = int(sd.query_devices(kind="output")["index"])
    except Exception:  # PortAudio has no default output
        default = None
    return [
        OutputDevice(
            int(d["index"]),
            str(d["name"]),
            int(d["max_output_channels"]),
            float(d["default_samplerate"]),
            int(d["index"]) == default,
        )
        for d in devices
        if d["max_output_channels"] > 0
    ]


def find_output_device(device: int | str | None) -> OutputDevice:
    """By index, case-insensitive name substring, or ``None`` for the default."""
    devices = list_output_devices()
    if not devices:
        raise SinkError("no audio output device found (PortAudio sees no output devices)")
    names = ", ".join(repr(d.name) for d in devices)
    if device is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(device, int) and not isinstance(device, bool):
        for d in devices:
            if d.index == device:
                return d
        raise SinkError(f"no audio output with index {device} (outputs: {names})")
    want = str(device).strip().lower()
    matches = [d for d in devices if d.name.lower() == want] or [
        d for d in devices if want in d.name.lower()
    ]
    if not matches:
        raise SinkError(f"no audio output matches {device!r} (outputs: {names})")
    return matches[0]


class _Ring:
    """A fixed-size float32 FIFO of samples; writing past capacity drops the oldest."""

    def __init__(self, capacity: int) -> None:
        self.buf = np.zeros(capacity, dtype=np.float32)
        self.start = 0
        self.size = 0

    def push(self, x: np.ndarray) -> int:
        """Append; returns how many old samples were dropped to make room."""
        cap = len(self.buf)
        dropped = 0
        if len(x) >= cap:
            dropped, x = self.size + len(x) - cap, x[-cap:]
            self.start, self.size = 0, 0
        elif self.size + len(x) > cap:
            dropped = self.size + len(x) - cap
            self.start = (self.start + dropped) % cap
            self.size -= dropped
        end = (self.start + self.size) % cap
        first = min(len(x), cap - end)
        self.buf[end : end + first] = x[:first]
        self.buf[: len(x) - first] = x[first:]
        self.size += len(x)
        return dropped

    def pop_into(self, out: np.ndarray) -> int:
        """Fill ``out`` from the front; returns how many samples there were."""
        n = min(len(out), self.size)
        cap = len(self.buf)
        first = min(n, cap - self.start)
        out[:first] = self.buf[self.start : self.start + first]
        out[first:n] = self.buf[: n - first]
        self.start = (self.start + n) % cap
        self.size -= n
        return n


class AudioOutSink(SinkBase):
    """Plays mono audio at ``rate`` Hz on a speaker (``device``: index, name or default).

    ``write`` accepts float (or int16) samples ``[N]``, or ``[B, N]`` as ``AudioCodec.decode``
    returns (the first item plays); it may be called before ``open`` (the audio waits).
    A device that cannot take ``rate`` is driven at its default rate, with resampling.
    """

    def __init__(
        self,
        device: int | str | None = None,
        rate: int = 16000,
        chunk_ms: float = 32,
        max_buffer_s: float = 10.0,
    ) -> None:
        super().__init__()
        if rate < 1000 or rate > 384000:
            raise ValueError(f"rate must be in [1000, 384000] Hz, got {rate}")
        if chunk_ms <= 0 or max_buffer_s <= 0:
            raise ValueError("chunk_ms and max_buffer_s must be > 0")
        self.device = device
        self.rate = int(rate)
        self.chunk_ms = chunk_ms
        self.max_buffer_s = max_buffer_s
        self._play_rate = self.rate
        self._ring = _Ring(max(1, round(max_buffer_s * rate)))
        self._lock = threading.Lock()
        self._resampler: Any = None
        self._stream: Any = None
        self._info: OutputDevice | None = None
        self._channels = 1
        self.played = 0
        self.dropped = 0
        self.underruns = 0

    def describe(self) -> str:
        if self._info is not None:
            name = self._info.name
        else:
            name = "default" if self.device is None else str(self.device)
        return f"speaker {name!r} ({self.rate} Hz)"

    @property
    def pending(self) -> int:
        """Samples written but not yet handed to the device (at the device's rate)."""
        with self._lock:
            return self._ring.size

    # ----- open -------------------------------------------------------------------------
    def _open(self) -> None:
        sd = _sounddevice()
        info = self._info = find_output_device(self.device)
        rate, channels = self._negotiate(sd, info)
        if rate != self.rate:
            from openbrains.nodes.sources import StreamResampler

            self._resampler = StreamResampler(self.rate, rate)
            with self._lock:  # anything written before open was at the codec's rate
                old = np.zeros(self._ring.size, dtype=np.float32)
                self._ring.pop_into(old)
                self._ring = _Ring(max(1, round(self.max_buffer_s * rate)))
                self._ring.push(self._resampler.feed(old))
        self._play_rate, self._channels = rate, channels
        try:
            self._stream = sd.OutputStream(
                device=info.index,
                samplerate=rate,
                channels=channels,
                dtype="float32",
                blocksize=max(1, round(rate * self.chunk_ms / 1000)),
                callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as e:
            self._stream = None
            raise SinkError(f"speaker {info.name!r} is busy or unavailable: {_line(e)}") from e

    def _negotiate(self, sd: Any, info: OutputDevice) -> tuple[int, int]:
        last: Exception | None = None
        for rate in dict.fromkeys([self.rate, round(info.default_rate)]):
            for ch in dict.fromkeys([1, min(2, info.channels)]):
                try:
                    sd.check_output_settings(
                        device=info.index, samplerate=rate, channels=ch, dtype="float32"
                    )
                    return int(rate), ch
                except (sd.PortAudioError, ValueError) as e:
                    last = e
        raise SinkError(
            f"speaker {info.name!r} is busy or unavailable: {_line(last) if last else '?'}"
        )

    # ----- PortAudio thread -------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        mono = np.empty(frames, dtype=np.float32)
        with self._lock:
            had = self._ring.size
            n = self._ring.pop_into(mono)
        mono[n:] = 0.0
        if 0 < had < frames:
            self.underruns += 1
        self.played += n
        outdata[:] = mono[:, None]

    # ----- writer -----------------------------------------------------------------------
    def write(self, value: Any) -> None:
        a = np.asarray(to_numpy(value))
        if a.ndim == 2:
            a = a[0]
        if a.ndim != 1:
            raise ValueError(f"expected samples [N] or [B, N], got shape {a.shape}")
        if a.dtype == np.int16:
            x = a.astype(np.float32) / 32768.0
        else:
            x = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
        x = np.clip(x, -1.0, 1.0)
        if self._resampler is not None:
            x = self._resampler.feed(x)
        with self._lock:
            self.dropped += self._ring.push(x)
            self.count += 1

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything written was handed to the device; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending:
            if self._stream is None or (deadline is not None and time.monotonic() > deadline):
                return False
            time.sleep(0.005)
        return True

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()
