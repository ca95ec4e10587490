"""The microphone: a real ``sounddevice.InputStream`` delivering mono float chunks.

PortAudio calls our callback on its own thread every ``chunk_ms``; the callback only copies
the block into a bounded ``ChunkQueue`` (it must never block, or the device overruns). The
reader converts, resamples and re-chunks on its own time. When the reader falls behind,
the oldest audio is dropped and counted in ``overruns``: a live brain wants the present.

Capture is 16-bit by default: it is what nearly every microphone delivers, so nothing is
lost, and asking PortAudio for it means no format conversion layer inside ALSA's ``plug``
device (alsa-lib's conversion skips samples with some plugins, e.g. the ``file`` plugin the
tests use as a virtual microphone). Pass ``dtype="float32"`` for 24-bit interfaces.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from openbrains.nodes.sources import (
    Chunk,
    ChunkQueue,
    Rechunker,
    SourceBase,
    SourceError,
    StreamResampler,
    one_line,
)


@dataclass(frozen=True)
class InputDevice:
    """One capture device as PortAudio lists it."""

    index: int
    name: str
    channels: int
    default_rate: float
    hostapi: str
    is_default: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sounddevice() -> Any:
    """The sounddevice module, or a SourceError when PortAudio itself is missing."""
    try:
        import sounddevice
    except OSError as e:  # libportaudio not installed
        raise SourceError(f"no microphone found (the PortAudio library is missing: {e})") from e
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """Every device with input channels, the default one marked.

    PortAudio enumerates devices when sounddevice is first imported; a microphone plugged in
    later shows up after the program restarts.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
    except sd.PortAudioError as e:
        raise SourceError(f"cannot list audio devices: {one_line(e)}") from e
    default = _default_input_index(sd)
    out = []
    for d in devices:
        if d["max_input_channels"] > 0:
            out.append(
                InputDevice(
                    index=int(d["index"]),
                    name=str(d["name"]),
                    channels=int(d["max_input_channels"]),
                    default_rate=float(d["default_samplerate"]),
                    hostapi=str(apis[d["hostapi"]]["name"]),
                    is_default=int(d["index"]) == default,
                )
            )
    return out


def _default_input_index(sd: Any) -> int | None:
    try:
        return int(sd.query_devices(kind="input")["index"])
    except Exception:  # PortAudio has no default input
        return None


def find_input_device(device: int | str | None) -> InputDevice:
    """The device for an index, a case-insensitive name substring, or ``None`` (default).

    A name that matches several devices picks an exact match, else the first listed.
    """
    devices = list_input_devices()
    if not devices:
        raise SourceError("no microphone found (PortAudio sees no input devices)")
    names = ", ".join(repr(d.name) for d in devices)
    if device is None:
        for d in devices:
            if d.is_default:
                return d
        return devices[0]
    if isinstance(device, int) and not isinstance(device, bool):
        for d in devices:
            if d.index == device:
                return d
        raise SourceError(f"no microphone with index {device} (inputs: {names})")
    if isinstance(device, str):
        want = device.strip().lower()
        exact = [d for d in devices if d.name.lower() == want]
        partial = [d for d in devices if want in d.name.lower()]
        if exact or partial:
            return (exact or partial)[0]
        raise SourceError(f"no microphone matches {device!r} (inputs: {names})")
    raise SourceError(f"a microphone is named by index or name, got {device!r}")


class MicSource(SourceBase):
    """Live microphone audio: float32 mono chunks of ``chunk_ms`` at ``rate`` Hz.

    ``device``: index, name substring or ``None`` (the system default). ``device_rate``:
    capture at this rate and resample to ``rate`` (``None``: ``rate`` itself when the device
    takes it, else the device's default rate). ``max_queue``: chunks held for a slow reader
    before ``drop`` discards (``overruns`` counts them, plus PortAudio's own overflows).
    """

    kind = "audio"

    def __init__(
        self,
        device: int | str | None = None,
        rate: int = 16000,
        chunk_ms: float = 32,
        device_rate: int | None = None,
        dtype: Literal["int16", "float32"] = "int16",
        max_queue: int = 64,
        drop: Literal["oldest", "newest"] = "oldest",
    ) -> None:
        super().__init__()
        if rate < 1000 or rate > 384000:
            raise ValueError(f"rate must be in [1000, 384000] Hz, got {rate}")
        if chunk_ms <= 0:
            raise ValueError(f"chunk_ms must be > 0, got {chunk_ms}")
        if dtype not in ("int16", "float32"):
            raise ValueError(f"dtype must be 'int16' or 'float32', got {dtype!r}")
        self.device = device
        self.rate = int(rate)
        self.chunk_ms = chunk_ms
        self.chunk = max(1, round(rate * chunk_ms / 1000))
        self.device_rate = device_rate
        self.dtype = dtype
        self.max_queue = max_queue
        self.drop = drop
        self._queue = ChunkQueue(max_queue, drop)
        self._stream: Any = None
        self._info: InputDevice | None = None
        self._channels = 1
        self._capture_rate = self.rate
        self._resampler: StreamResampler | None = None
        self._rechunk = Rechunker(self.chunk)
        self._stamps: list[float] = []
        self._status_overflows = 0
        self._closing = False

    # ----- info -----------------------------------------------------------------------
    @property
    def overruns(self) -> int:
        """Blocks lost: dropped because the reader was slow, or overflowed in PortAudio."""
        return self._queue.overruns + self._status_overflows

    @property
    def capture_rate(self) -> int:
        """The rate the device really runs at (``rate`` unless resampling)."""
        return self._capture_rate

    @property
    def device_info(self) -> InputDevice | None:
        return self._info

    def describe(self) -> str:
        if self._info is not None:
            name = self._info.name
        else:
            name = "default" if self.device is None else str(self.device)
        extra = f", resampled from {self._capture_rate} Hz" if self._resampler else ""
        return f"microphone {name!r} ({self.rate} Hz, {self.chunk} samples/chunk{extra})"

    # ----- open ----------------------------------------------------------------------
    def _open(self) -> None:
        # fresh hand-over state, so a source whose open failed (no device yet) can retry
        self._queue = ChunkQueue(self.max_queue, self.drop)
        self._rechunk = Rechunker(self.chunk)
        self._stamps = []
        self._resampler = None
        self._closing = False
        sd = _sounddevice()
        info = find_input_device(self.device)
        self._info = info
        rate, channels = self._negotiate(sd, info)
        self._capture_rate, self._channels = rate, channels
        if rate != self.rate:
            self._resampler = StreamResampler(rate, self.rate)
        blocksize = max(1, round(rate * self.chunk_ms / 1000))
        try:
            self._stream = sd.InputStream(
                device=info.index,
                samplerate=rate,
                channels=channels,
                dtype=self.dtype,
                blocksize=blocksize,
                callback=self._callback,
                finished_callback=self._finished,
            )
            self._stream.start()
        except sd.PortAudioError as e:
            raise SourceError(
                f"microphone {info.name!r} is busy or unavailable: {one_line(e)}"
            ) from e

    def _negotiate(self, sd: Any, info: InputDevice) -> tuple[int, int]:
        """A (rate, channels) the device accepts: mono at ``rate`` if it can, else nearest."""
        rates = [self.device_rate] if self.device_rate else [self.rate, round(info.default_rate)]
        chans = [1] + ([min(2, info.channels)] if info.channels > 1 else [])
        last: Exception | None = None
        for rate in dict.fromkeys(rates):
            for ch in chans:
                try:
                    sd.check_input_settings(
                        device=info.index, samplerate=rate, channels=ch, dtype=self.dtype
                    )
                    return int(rate), ch
                except sd.PortAudioError as e:
                    last = e
                except ValueError as e:  # sounddevice's own checks
                    last = e
        raise SourceError(
            f"microphone {info.name!r} is busy or unavailable: "
            f"{one_line(last) if last else 'no usable settings'}"
        )

    # ----- PortAudio thread -------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
        if status.input_overflow:
            self._status_overflows += 1
        self._queue.put((indata.copy(), time.monotonic()))

    def _finished(self) -> None:
        if not self._closing:  # the device went away under us (unplugged, driver error)
            name = self._info.name if self._info else "?"
            self._queue.end(SourceError(f"microphone {name!r} stopped delivering audio"))

    # ----- reader ----------------------------------------------------------------------
    def _read(self, timeout: float | None) -> Chunk | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            out = self._rechunk.pop()
            if out is not None:
                stamp = self._stamps.pop(0) if self._stamps else time.monotonic()
                return self._chunk(out, stamp)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            item = self._queue.get(left)
            if item is None:
                rest = self._rechunk.pop(partial=True)
                return self._chunk(rest) if rest is not None else None
            block, stamp = item
            self._rechunk.push(self._to_float(block))
            # one stamp per finished chunk: when the block that completed it arrived
            while len(self._stamps) < len(self._rechunk) // self.chunk:
                self._stamps.append(stamp)

    def _to_float(self, block: np.ndarray) -> np.ndarray:
        if self.dtype == "int16":
            x = block.astype(np.float32) / 32768.0
        else:
            x = block.astype(np.float32, copy=False)
        x = x[:, 0] if x.shape[1] == 1 else x.mean(axis=1, dtype=np.float32)
        if self._resampler is not None:
            x = self._resampler.feed(x)
        return x

    def _close(self) -> None:
        self._closing = True
        stream, self._stream = self._stream, None
        self._queue.end()
        if stream is not None:
            try:
                stream.abort()
            finally:
                stream.close()
