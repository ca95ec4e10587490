"""Codecs: outside data (text, audio, images, table rows) to Signals and back.

A codec is a harness choice, not part of the genome: the graph only sees Signals. It is still
recorded in the graph file as a plain JSON dict (``to_dict``) so anyone who loads a shared
graph can feed it exactly the same way; ``codec_from_dict`` rebuilds it and refuses settings
it cannot honour (a wrong type, a value out of range, a setting it does not know) rather than
guessing, because a silently different encoding makes a trained brain look broken.

Encoders return a batch Signal ``[B, T, C]`` of float32 on the CPU; decoders accept a Signal
or a bare tensor (``[B, T, C]``, or ``[T, C]`` for one item) and return outside data (``str``
or ``bytes``, numpy waveforms, numpy images, numpy rows).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np
import torch

from openbrains.engine.errors import FormatError
from openbrains.engine.patches import to_images, to_patches
from openbrains.engine.signal import Signal, SignalMeta, SignalSpec

# ----- settings checks ---------------------------------------------------------------------
# Constructors check their own settings, so a codec built in code and one read from a file
# obey the same rules; codec_from_dict turns the ValueError into a FormatError.


def _int(name: str, v: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        span = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be {span}, got {v}")
    return int(v)


def _float(name: str, v: Any, lo: float | None = None, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {v!r}")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {v!r}")
    if positive and f <= 0:
        raise ValueError(f"{name} must be > 0, got {v!r}")
    if lo is not None and f < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v!r}")
    return f


def _floats(name: str, v: Any, n: int | None, positive: bool = False) -> list[float]:
    if isinstance(v, np.ndarray | torch.Tensor):
        v = v.tolist()
    if not isinstance(v, list | tuple):
        raise ValueError(f"{name} must be a list of numbers, got {v!r}")
    if n is not None and len(v) != n:
        raise ValueError(f"{name} must have {n} values, got {len(v)}")
    return [_float(f"{name}[{i}]", x, positive=positive) for i, x in enumerate(v)]


def _choice(name: str, v: Any, options: tuple[str, ...]) -> str:
    if v not in options:
        raise ValueError(f"{name} must be one of {options}, got {v!r}")
    return v


def _numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _tensor_data(x: torch.Tensor | Signal) -> torch.Tensor:
    """The ``[B, T, C]`` float tensor behind a decoder's argument (``[T, C]`` = one item)."""
    data = x.data if isinstance(x, Signal) else x
    if not isinstance(data, torch.Tensor):
        raise TypeError(f"expected a Signal or a torch.Tensor, got {type(x).__name__}")
    if data.dim() == 2:
        data = data.unsqueeze(0)
    if data.dim() != 3:
        raise ValueError(f"expected [batch, time, channels], got shape {tuple(data.shape)}")
    return data.detach().cpu().float()


# ----- the base class ----------------------------------------------------------------------


class Codec:
    """Turns outside data into Signals (``encode``) and back (``decode``).

    Every constructor argument is a setting: ``to_dict`` writes them all, by name, next to
    ``"kind"``, and ``codec_from_dict`` passes them back to the constructor.
    """

    kind: ClassVar[str] = ""

    @classmethod
    def setting_names(cls) -> list[str]:
        """Constructor arguments, i.e. what ``to_dict`` records."""
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]

    def spec(self) -> SignalSpec:
        """The Signal shape ``encode`` produces (``time=None`` when it varies)."""
        raise NotImplementedError

    def encode(self, raw: Any, *args: Any, **kwargs: Any) -> Signal:
        raise NotImplementedError

    def decode(self, x: torch.Tensor | Signal, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings (lists, not tuples or arrays) plus ``kind``."""
        d: dict[str, Any] = {"kind": self.kind}
        for name in self.setting_names():
            v = getattr(self, name)
            d[name] = list(v) if isinstance(v, tuple) else v
        return d

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({args})"


# ----- bytes / text ------------------------------------------------------------------------


def sample_next(
    logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Ids drawn from ``softmax(logits / temperature)`` over the last axis (long, ``[...]``).

    ``temperature <= 0`` means greedy (argmax), which is also the limit of small temperatures.
    Pass a seeded ``generator`` to make sampling reproducible.
    """
    logits = logits.detach().float()
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.reshape(-1, logits.shape[-1]) / temperature, dim=-1)
    ids = torch.multinomial(probs.cpu(), 1, generator=generator).to(logits.device)
    return ids.reshape(logits.shape[:-1])


class BytesCodec(Codec):
    """UTF-8 bytes as ids 0–255 in channel 0 (``vocab=256``): any text, any language, no tokenizer.

    ``length``: fixed time steps (pad or keep the first ``length`` bytes); ``None`` pads each
    batch to its longest item. ``pad``: the id used for padding.
    """

    kind = "bytes"
    VOCAB = 256

    def __init__(self, length: int | None = None, pad: int = 0) -> None:
        self.length = None if length is None else _int("length", length, 1)
        self.pad = _int("pad", pad, 0, 255)

    def spec(self) -> SignalSpec:
        return SignalSpec(1, self.length, SignalMeta("text", vocab=self.VOCAB))

    def encode(
        self, raw: str | bytes | Sequence[str | bytes], return_lengths: bool = False
    ) -> Signal | tuple[Signal, torch.Tensor]:
        """One string/bytes or a list of them → ``[B, T, 1]`` ids; lengths count real bytes."""
        items = [raw] if isinstance(raw, str | bytes | bytearray) else list(raw)
        if not items:
            raise ValueError("nothing to encode: empty batch")
        blobs = []
        for item in items:
            if isinstance(item, str):
                item = item.encode("utf-8")
            if not isinstance(item, bytes | bytearray):
                raise TypeError(f"expected str or bytes, got {type(item).__name__}")
            blobs.append(bytes(item[: self.length] if self.length else item))
        t = self.length or max(1, max(len(b) for b in blobs))
        ids = torch.full((len(blobs), t), self.pad, dtype=torch.uint8)
        for i, b in enumerate(blobs):
            if b:
                ids[i, : len(b)] = torch.frombuffer(bytearray(b), dtype=torch.uint8)
        signal = Signal(ids.float().unsqueeze(-1), self.spec().meta)
        if return_lengths:
            return signal, torch.tensor([len(b) for b in blobs], dtype=torch.long)
        return signal

    def decode(
        self,
        x: torch.Tensor | Signal,
        lengths: Sequence[int] | torch.Tensor | None = None,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
        as_bytes: bool = False,
    ) -> list[str] | list[bytes]:
        """Ids ``[B, T, 1]`` or logits ``[B, T, 256]`` → one ``str`` (or ``bytes``) per item.

        Logits are read greedily (``temperature=0``) or sampled; ``lengths`` cuts padding off.
        Invalid UTF-8 (a model mid-way through learning) decodes with replacement characters.
        """
        data = _tensor_data(x)
        if data.shape[-1] == 1:
            ids = data[..., 0].round().clamp(0, 255).long()
        elif data.shape[-1] == self.VOCAB:
            ids = sample_next(data, temperature, generator)
        else:
            raise ValueError(
                f"expected ids [B, T, 1] or logits [B, T, 256], got {tuple(data.shape)}"
            )
        if lengths is not None and len(lengths) != ids.shape[0]:
            raise ValueError(f"{len(lengths)} lengths for a batch of {ids.shape[0]}")
        out = []
        for i, row in enumerate(ids.to(torch.uint8)):
            n = int(lengths[i]) if lengths is not None else len(row)
            out.append(bytes(row[:n].tolist()))
        return out if as_bytes else [b.decode("utf-8", errors="replace") for b in out]


# ----- audio -------------------------------------------------------------------------------

LOG_FLOOR = 1e-6  # added to mel power before the log, so silence is finite (about -60 dB)
_MEL_NNLS_ITERS = 50  # non-negative least-squares refinement of the mel pseudo-inverse
_MAX_POLYPHASE = 1000  # largest up/down factor before the resampling ratio is approximated


def to_mono_float(clip: Any) -> np.ndarray:
    """One clip → float32 mono ``[N]``: int16/int32/uint8 PCM scaled to [-1, 1], ``[N, ch]`` averaged.

    A 2-D clip is samples × channels, the layout ``soundfile.read`` returns.
    """
    a = _numpy(clip)
    if a.dtype == np.int16:
        a = a.astype(np.float32) / 32768.0
    elif a.dtype == np.int32:
        a = a.astype(np.float32) / 2147483648.0
    elif a.dtype == np.uint8:
        a = (a.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
    else:
        raise ValueError(f"audio must be float, int16, int32 or uint8 samples, got {a.dtype}")
    if a.ndim == 2:
        a = a.mean(axis=1, dtype=np.float32)
    if a.ndim != 1:
        raise ValueError(f"a clip is [samples] or [samples, channels], got shape {a.shape}")
    if a.size == 0:
        raise ValueError("cannot encode an empty clip")
    if not np.isfinite(a).all():
        raise ValueError("audio contains NaN or infinite samples")
    return a


def resample(wave: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Band-limited polyphase resampling of a mono float wave (Kaiser-windowed sinc).

    The ratio ``dst/src`` is reduced to ``up/down``; each output sample ``m`` sits at input
    time ``m·down/up`` and is a windowed-sinc interpolation of its neighbours, low-passed at
    0.95 × the lower Nyquist so downsampling does not alias. The ``up`` distinct filter
    phases run as one strided ``conv1d``. Ratios whose reduced terms exceed 1000 (e.g.
    44056 → 16000) are approximated by the nearest such fraction (rate error < 1e-5).
    Output length is ``ceil(N·up/down)``; each phase's taps sum to 1, so DC passes exactly.
    """
    src_rate = _int("source rate", src_rate, 1)
    dst_rate = _int("rate", dst_rate, 1)
    ratio = Fraction(dst_rate, src_rate)
    if max(ratio.numerator, ratio.denominator) > _MAX_POLYPHASE:
        ratio = ratio.limit_denominator(_MAX_POLYPHASE)
    up, down = ratio.numerator, ratio.denominator
    if up == down:
        return wave.astype(np.float32, copy=False)
    zeros, rolloff, beta = 16, 0.95, 8.0
    fc = rolloff * min(1.0, up / down)  # cutoff as a fraction of the input Nyquist
    half = math.ceil(zeros / fc)  # filter half-width in input samples
    phase = np.arange(up)[:, None] * down / up  # where each output phase sits in input time
    taps = np.arange(-half, down + half + 1)[None, :]  # input offsets relative to q·down
    dist = phase - taps
    u = np.clip(dist / half, -1.0, 1.0)
    kernel = fc * np.sinc(fc * dist) * np.i0(beta * np.sqrt(1.0 - u**2)) / np.i0(beta)
    kernel[np.abs(dist) >= half] = 0.0
    kernel /= kernel.sum(axis=1, keepdims=True)
    n = wave.shape[-1]
    m = -(-n * up // down)
    q = -(-m // up)
    right = max(0, (q - 1) * down + kernel.shape[1] - half - n)
    x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)).reshape(1, 1, n)
    x = torch.nn.functional.pad(x, (half, right))
    w = torch.from_numpy(kernel.astype(np.float32)).unsqueeze(1)
    y = torch.nn.functional.conv1d(x, w, stride=down)[0, :, :q]  # [up, q]
    return y.t().reshape(-1)[:m].numpy()


def _hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """HTK-scale triangular filters ``[n_mels, n_fft//2 + 1]`` (peak 1, no area normalisation).

    Refuses a band so narrow it falls between FFT bins: that channel would be dead forever.
    """
    freqs = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    hz = _mel_to_hz(np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2))
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    fb = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    empty = np.flatnonzero(fb.sum(axis=1) == 0)
    if empty.size:
        raise ValueError(
            f"n_mels={n_mels} is too many for n_fft={n_fft} at {rate} Hz: mel band(s) "
            f"{empty.tolist()} fall between FFT bins; use fewer mels or a larger n_fft"
        )
    return fb.astype(np.float32)


class AudioCodec(Codec):
    """Mono audio at ``rate`` Hz → one time step per ``hop`` samples (``meta.rate = rate/hop``).

    ``mode="frames"``: raw frames of ``frame`` samples (C = frame), decoded by weighted
    overlap-add, exact up to float rounding. ``mode="logmel"``: log mel power from a Hann
    ``n_fft`` STFT (C = n_mels), the usual compact input for speech and sound; decoding is
    approximate (mel pseudo-inverse, then ``griffin_lim_iters`` rounds of Griffin-Lim).
    """

    kind = "audio"
    MODES = ("frames", "logmel")

    def __init__(
        self,
        mode: str = "frames",
        rate: int = 16000,
        frame: int = 400,
        hop: int = 160,
        n_fft: int = 400,
        n_mels: int = 40,
        f_min: float = 0.0,
        f_max: float | None = None,
        griffin_lim_iters: int = 32,
    ) -> None:
        self.mode = _choice("mode", mode, self.MODES)
        self.rate = _int("rate", rate, 1, 1_000_000)
        self.frame = _int("frame", frame, 1)
        self.hop = _int("hop", hop, 1)
        self.n_fft = _int("n_fft", n_fft, 4)
        self.n_mels = _int("n_mels", n_mels, 1)
        self.f_min = _float("f_min", f_min, lo=0.0)
        self.f_max = None if f_max is None else _float("f_max", f_max, positive=True)
        self.griffin_lim_iters = _int("griffin_lim_iters", griffin_lim_iters, 0, 10_000)
        top = self.rate / 2.0 if self.f_max is None else self.f_max
        if top > self.rate / 2.0 or top <= self.f_min:
            raise ValueError(
                f"need f_min < f_max <= rate/2 = {self.rate / 2}, got {self.f_min}, {top}"
            )
        if self.mode == "frames" and self.hop > self.frame:
            raise ValueError(
                f"hop ({self.hop}) must be <= frame ({self.frame}) or samples are lost"
            )
        if self.mode == "logmel":
            if self.hop >= self.n_fft:
                raise ValueError(f"hop ({self.hop}) must be < n_fft ({self.n_fft}) to invert")
            fb = mel_filterbank(self.rate, self.n_fft, self.n_mels, self.f_min, top)
            self._fb = torch.from_numpy(fb)
            self._fb_pinv = torch.from_numpy(
                np.linalg.pinv(fb.astype(np.float64)).astype(np.float32)
            )
            self._window = torch.hann_window(self.n_fft)

    @property
    def channels(self) -> int:
        return self.frame if self.mode == "frames" else self.n_mels

    def spec(self) -> SignalSpec:
        return SignalSpec(self.channels, None, SignalMeta("audio", rate=self.rate / self.hop))

    def steps(self, n_samples: int) -> int:
        """Time steps ``encode`` makes from ``n_samples`` samples (at the codec's rate)."""
        if self.mode == "logmel":
            return 1 + n_samples // self.hop
        return 1 + max(0, -(-(n_samples - self.frame) // self.hop))

    def encode(
        self, wave: Any, rate: int | None = None, return_lengths: bool = False
    ) -> Signal | tuple[Signal, torch.Tensor]:
        """A clip or a list of clips (numpy/torch; float or int PCM; mono or ``[N, ch]``).

        ``rate``: the clips' sample rate when it differs from the codec's (resampled with
        ``resample``). Clips of a batch are zero-padded to the longest; ``return_lengths``
        also gives each clip's own number of time steps.
        """
        batch = isinstance(wave, list | tuple) and len(wave) > 0
        batch = batch and isinstance(wave[0], np.ndarray | torch.Tensor | list | tuple)
        clips = [to_mono_float(c) for c in (wave if batch else [wave])]
        if rate is not None and rate != self.rate:
            clips = [resample(c, rate, self.rate) for c in clips]
        n = max(len(c) for c in clips)
        x = torch.zeros(len(clips), n)
        for i, c in enumerate(clips):
            x[i, : len(c)] = torch.from_numpy(c)
        data = self._frames(x) if self.mode == "frames" else self._logmel(x)
        signal = Signal(data, self.spec().meta)
        if return_lengths:
            return signal, torch.tensor([self.steps(len(c)) for c in clips], dtype=torch.long)
        return signal

    def _frames(self, x: torch.Tensor) -> torch.Tensor:
        t = self.steps(x.shape[1])
        x = torch.nn.functional.pad(x, (0, (t - 1) * self.hop + self.frame - x.shape[1]))
        return x.unfold(1, self.frame, self.hop).contiguous()  # no overlapping views

    def _stft(self, x: torch.Tensor) -> torch.Tensor:
        window, hop = self._window, self.hop
        return torch.stft(
            x, self.n_fft, hop, window=window, pad_mode="constant", return_complex=True
        )

    def _logmel(self, x: torch.Tensor) -> torch.Tensor:
        power = self._stft(x).abs() ** 2  # [B, F, T]
        return torch.log(self._fb @ power + LOG_FLOOR).transpose(1, 2)

    def decode(
        self,
        x: torch.Tensor | Signal,
        length: int | None = None,
        generator: torch.Generator | None = None,
    ) -> np.ndarray:
        """Time steps → float32 waveforms ``[B, N]`` at the codec's rate.

        ``length`` trims (or zero-pads) to a known number of samples. ``generator`` seeds
        Griffin-Lim's starting phases (logmel only; default seed 0, so decoding is repeatable).
        """
        data = _tensor_data(x)
        if data.shape[-1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {data.shape[-1]}")
        if self.mode == "frames":
            y = self._overlap_add(data)
        else:
            y = self._griffin_lim(data, generator)
        if length is not None:
            y = torch.nn.functional.pad(y, (0, max(0, length - y.shape[1])))[:, :length]
        return y.numpy()

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """Weighted overlap-add: ``Σ w·frame / Σ w``, exact for frames cut from one wave.

        The window (a Hann shifted half a sample, so no tap is zero) cross-fades frames a
        model generated; for ``hop == frame`` it is all ones and the inverse is bit-exact.
        """
        t, f = frames.shape[1:]
        if self.hop == self.frame:
            w = torch.ones(f)
        else:
            w = 0.5 - 0.5 * torch.cos(2 * math.pi * (torch.arange(f) + 0.5) / f)
        n = (t - 1) * self.hop + f

        def fold(v: torch.Tensor) -> torch.Tensor:  # [B, f, T] → overlap-added [B, n]
            out = torch.nn.functional.fold(v, (1, n), (1, f), stride=(1, self.hop))
            return out.reshape(v.shape[0], n)

        num = fold((frames * w).transpose(1, 2))
        den = fold(w.reshape(1, f, 1).expand(1, f, t).contiguous())
        return num / den

    def _griffin_lim(self, logmel: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Mel power → linear power, then fast Griffin-Lim for the phase.

        The mel pseudo-inverse (clamped ≥ 0) starts a few multiplicative non-negative
        least-squares steps, which keep the energy of a loud band out of its quiet neighbours.
        """
        mel = (logmel.exp() - LOG_FLOOR).clamp(min=0).transpose(1, 2)  # [B, M, T]
        power = (self._fb_pinv @ mel).clamp(min=0)  # [B, F, T]
        for _ in range(_MEL_NNLS_ITERS):  # pseudo-inverse leaks energy into quiet bands
            power = power * (self._fb.T @ mel) / (self._fb.T @ (self._fb @ power) + 1e-12)
        mag = power.sqrt()
        n = (mag.shape[-1] - 1) * self.hop
        gen = generator or torch.Generator().manual_seed(0)
        angles = torch.polar(
            torch.ones_like(mag), 2 * math.pi * torch.rand(mag.shape, generator=gen)
        )
        prev = torch.zeros_like(angles)
        momentum = 0.99 / 1.99  # "fast Griffin-Lim" (Perraudin et al. 2013)
        for _ in range(self.griffin_lim_iters):
            wave = torch.istft(mag * angles, self.n_fft, self.hop, window=self._window, length=n)
            rebuilt = self._stft(wave)
            angles = rebuilt - momentum * prev
            angles = angles / (angles.abs() + 1e-16)
            prev = rebuilt
        return torch.istft(mag * angles, self.n_fft, self.hop, window=self._window, length=n)


# ----- images ------------------------------------------------------------------------------


class ImageCodec(Codec):
    """``H×W×ch`` images → non-overlapping ``patch×patch`` patches, row-major (``meta.grid``).

    Each step holds one patch flattened as (row, column, channel): C = patch²·channels.
    Values are divided by ``scale`` (default: 255 for uint8, 65535 for uint16, 1 for floats)
    and then, if given, standardised per channel with ``mean``/``std``. ``height``/``width``
    fix the size (and so ``spec().time``); ``None`` accepts any size divisible by ``patch``.
    """

    kind = "image"

    def __init__(
        self,
        patch: int = 4,
        channels: int = 3,
        height: int | None = None,
        width: int | None = None,
        scale: float | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        self.patch = _int("patch", patch, 1)
        self.channels = _int("channels", channels, 1)
        self.height = None if height is None else _int("height", height, 1)
        self.width = None if width is None else _int("width", width, 1)
        self.scale = None if scale is None else _float("scale", scale, positive=True)
        self.mean = None if mean is None else _floats("mean", mean, self.channels)
        self.std = None if std is None else _floats("std", std, self.channels, positive=True)
        for name, size in (("height", self.height), ("width", self.width)):
            if size is not None and size % self.patch:
                raise ValueError(f"{name} {size} is not divisible by patch {self.patch}")

    def spec(self) -> SignalSpec:
        c = self.patch * self.patch * self.channels
        if self.height is None or self.width is None:
            return SignalSpec(c, None, SignalMeta("image"))
        grid = (self.height // self.patch, self.width // self.patch)
        return SignalSpec(c, grid[0] * grid[1], SignalMeta("image", grid=grid))

    def _batch(self, images: Any) -> torch.Tensor:
        """Images as float ``[B, H, W, ch]`` in [0, 1] units (before standardisation)."""
        if isinstance(images, list | tuple):
            images = np.stack([_numpy(im) for im in images])
        a = (
            images.detach().cpu().numpy()
            if isinstance(images, torch.Tensor)
            else np.asarray(images)
        )
        if a.ndim == 2:  # one grey image
            a = a[None, :, :, None]
        elif a.ndim == 3:  # one [H, W, ch] image, or a batch of grey [B, H, W]
            a = a[None] if a.shape[-1] == self.channels else a[..., None]
        if a.ndim != 4 or a.shape[-1] != self.channels:
            raise ValueError(
                f"expected images [H, W, {self.channels}] or [B, H, W, {self.channels}], "
                f"got shape {np.shape(images)}"
            )
        if self.scale is not None:
            divisor = self.scale
        elif a.dtype == np.uint8:
            divisor = 255.0
        elif a.dtype == np.uint16:
            divisor = 65535.0
        elif np.issubdtype(a.dtype, np.floating):
            divisor = 1.0
        else:
            raise ValueError(f"images must be uint8, uint16 or float, got {a.dtype}")
        return torch.from_numpy(a.astype(np.float32)) / divisor

    def encode(self, images: Any) -> Signal:
        """One image or a batch (numpy/torch, uint8/uint16/float) → ``[B, T, patch²·ch]``."""
        x = self._batch(images)
        h, w = x.shape[1:3]
        p = self.patch
        if h % p or w % p:
            raise ValueError(f"image {h}×{w} is not divisible by patch {p}; crop or pad it first")
        if (self.height, self.width) != (None, None) and (h, w) != (self.height, self.width):
            raise ValueError(f"this codec takes {self.height}×{self.width} images, got {h}×{w}")
        if self.mean is not None:
            x = x - torch.tensor(self.mean)
        if self.std is not None:
            x = x / torch.tensor(self.std)
        return Signal(to_patches(x, p), SignalMeta("image", grid=(h // p, w // p)))

    def decode(
        self, x: torch.Tensor | Signal, as_uint8: bool = False, grid: tuple[int, int] | None = None
    ) -> np.ndarray:
        """Patches → images ``[B, H, W, ch]``: float in the input's units, or uint8 0–255.

        The grid comes from ``grid``, else the Signal's ``meta.grid``, else the codec's size.
        """
        data = _tensor_data(x)
        if grid is None and isinstance(x, Signal):
            grid = x.meta.grid
        if grid is None and self.height is not None and self.width is not None:
            grid = (self.height // self.patch, self.width // self.patch)
        if grid is None:
            raise ValueError("unknown image grid: pass grid=(rows, cols) or set height and width")
        t, c = data.shape[1:]
        p, ch = self.patch, self.channels
        gh, gw = grid
        if t != gh * gw or c != p * p * ch:
            raise ValueError(
                f"expected [B, {gh * gw}, {p * p * ch}] patches, got {tuple(data.shape)}"
            )
        x01 = to_images(data, (gh, gw), p, ch)
        if self.std is not None:
            x01 = x01 * torch.tensor(self.std)
        if self.mean is not None:
            x01 = x01 + torch.tensor(self.mean)
        if as_uint8:
            return (x01.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        return (x01 * self.scale if self.scale is not None else x01).numpy()


# ----- table rows --------------------------------------------------------------------------


class VectorCodec(Codec):
    """Table rows ``[N, F]`` → ``[N, 1, F]``, standardised per feature with stored statistics.

    ``fit`` measures mean and std on training rows; they are settings, so whoever loads the
    graph feeds it identically scaled data. Without them the codec passes values unchanged.
    A constant feature gets std 1 (it encodes to 0 and decodes back to its value).
    """

    kind = "vector"

    def __init__(
        self,
        features: int | None = None,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> None:
        self.features = None if features is None else _int("features", features, 1)
        self.mean = None if mean is None else _floats("mean", mean, self.features)
        self.std = None if std is None else _floats("std", std, self.features, positive=True)
        if self.mean is not None and self.std is not None and len(self.mean) != len(self.std):
            raise ValueError(f"mean has {len(self.mean)} values but std has {len(self.std)}")
        if self.features is None and (self.mean or self.std):
            self.features = len(self.mean or self.std or [])

    def fit(self, rows: Any) -> VectorCodec:
        """Measure per-feature mean and (population) std on ``rows [N, F]``; returns self."""
        a = self._rows(rows, check_width=False).astype(np.float64)
        if not np.isfinite(a).all():
            raise ValueError("cannot fit on rows containing NaN or infinite values")
        mean, std = a.mean(axis=0), a.std(axis=0)
        std[std <= 1e-7 * np.maximum(1.0, np.abs(mean))] = 1.0
        self.features = a.shape[1]
        self.mean, self.std = mean.tolist(), std.tolist()
        return self

    def spec(self) -> SignalSpec:
        if self.features is None:
            raise ValueError("VectorCodec width unknown: pass features= or call fit() first")
        return SignalSpec(self.features, 1, SignalMeta("vector"))

    def _rows(self, rows: Any, check_width: bool = True) -> np.ndarray:
        a = _numpy(rows)
        if a.ndim == 1:
            a = a[None]
        if a.ndim != 2 or a.shape[0] == 0 or not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"expected numeric rows [N, F], got shape {a.shape} of {a.dtype}")
        if check_width and self.features is not None and a.shape[1] != self.features:
            raise ValueError(f"expected {self.features} features, got {a.shape[1]}")
        return a

    def encode(self, rows: Any) -> Signal:
        """Rows ``[N, F]`` (or one row ``[F]``) → ``[N, 1, F]``."""
        a = self._rows(rows).astype(np.float64)
        if self.mean is not None:
            a = a - np.asarray(self.mean)
        if self.std is not None:
            a = a / np.asarray(self.std)
        return Signal(torch.from_numpy(a.astype(np.float32)).unsqueeze(1), SignalMeta("vector"))

    def decode(self, x: torch.Tensor | Signal) -> np.ndarray:
        """``[N, 1, F]`` → rows ``[N, F]`` in original units (``[N, T, F]`` if T > 1)."""
        data = _tensor_data(x).double().numpy()
        if self.features is not None and data.shape[-1] != self.features:
            raise ValueError(f"expected {self.features} features, got {data.shape[-1]}")
        if self.std is not None:
            data = data * np.asarray(self.std)
        if self.mean is not None:
            data = data + np.asarray(self.mean)
        data = data.astype(np.float32)
        return data[:, 0] if data.shape[1] == 1 else data


# ----- registry ----------------------------------------------------------------------------

CODECS: dict[str, type[Codec]] = {
    c.kind: c for c in (BytesCodec, AudioCodec, ImageCodec, VectorCodec)
}


def codec_from_dict(d: Any) -> Codec:
    """Rebuild a codec from ``to_dict`` output; any problem is a FormatError that says what."""
    if not isinstance(d, dict):
        raise FormatError(f"a codec must be a JSON object, got {type(d).__name__}")
    kind = d.get("kind")
    if not isinstance(kind, str) or kind not in CODECS:
        raise FormatError(f"unknown codec kind {kind!r}; known kinds: {', '.join(CODECS)}")
    cls = CODECS[kind]
    settings = {k: v for k, v in d.items() if k != "kind"}
    unknown = sorted(set(settings) - set(cls.setting_names()))
    if unknown:
        raise FormatError(
            f"codec {kind!r}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(cls.setting_names())}"
        )
    try:
        return cls(**settings)
    except (TypeError, ValueError) as e:
        raise FormatError(f"codec {kind!r}: {e}") from e
