"""The one datatype on every wire: a float tensor ``[batch, time, channels]`` plus metadata.

Units never care where data came from; codecs turn the outside world into Signals and
``SignalMeta`` keeps what a unit may need to know (image grid, audio rate, token vocab).
``SignalSpec`` is the torch-free, shape-only description the compiler and the canvas use.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

MODALITIES = ("vector", "text", "audio", "image", "tokens", "any")


@dataclass(frozen=True)
class SignalMeta:
    """What a Signal carries beyond its numbers.

    ``grid`` is ``(h, w)`` when ``time`` enumerates image patches row by row; ``rate`` is
    frames per second for audio-derived signals; ``vocab`` is set when channel 0 holds
    integer token ids (then the Signal is a *token* signal, only embeddings read it).
    """

    modality: str = "vector"
    grid: tuple[int, int] | None = None
    rate: float | None = None
    vocab: int | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"unknown modality {self.modality!r}; expected one of {MODALITIES}")
        if self.grid is not None:
            h, w = self.grid
            if int(h) < 1 or int(w) < 1:
                raise ValueError(f"grid must be positive, got {self.grid}")
            object.__setattr__(self, "grid", (int(h), int(w)))

    @property
    def is_tokens(self) -> bool:
        return self.vocab is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "modality": self.modality,
            "grid": list(self.grid) if self.grid else None,
            "rate": self.rate,
            "vocab": self.vocab,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignalMeta:
        grid = d.get("grid")
        return cls(
            modality=d.get("modality", "vector"),
            grid=tuple(grid) if grid else None,
            rate=d.get("rate"),
            vocab=d.get("vocab"),
        )


@dataclass(frozen=True)
class SignalSpec:
    """Shape of a Signal without the data: channels, time (``None`` = variable) and meta."""

    channels: int
    time: int | None = 1
    meta: SignalMeta = field(default_factory=SignalMeta)

    def __post_init__(self) -> None:
        if int(self.channels) < 1:
            raise ValueError(f"channels must be >= 1, got {self.channels}")
        if self.time is not None and int(self.time) < 1:
            raise ValueError(f"time must be >= 1 or None, got {self.time}")

    def with_channels(self, channels: int) -> SignalSpec:
        """Same time and grid, new width; a token signal stops being tokens once transformed."""
        meta = replace(self.meta, vocab=None) if self.meta.vocab else self.meta
        return replace(self, channels=int(channels), meta=meta)

    def with_time(self, time: int | None, grid: tuple[int, int] | None = None) -> SignalSpec:
        return replace(self, time=time, meta=replace(self.meta, grid=grid))

    def to_dict(self) -> dict[str, Any]:
        return {"channels": self.channels, "time": self.time, "meta": self.meta.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SignalSpec:
        return cls(
            channels=int(d["channels"]),
            time=d.get("time"),
            meta=SignalMeta.from_dict(d.get("meta") or {}),
        )


@dataclass
class Signal:
    """A batch of sequences: ``data`` is float ``[B, T, C]``; ``meta`` says how to read it."""

    data: torch.Tensor
    meta: SignalMeta = field(default_factory=SignalMeta)

    def __post_init__(self) -> None:
        if self.data.dim() != 3:
            raise ValueError(
                f"a Signal is [batch, time, channels]; got shape {tuple(self.data.shape)}"
            )
        if not self.data.is_floating_point():
            self.data = self.data.float()
        if self.meta.grid is not None:
            h, w = self.meta.grid
            if h * w != self.data.shape[1]:
                raise ValueError(
                    f"grid {h}x{w} needs time = {h * w}, got time = {self.data.shape[1]}"
                )

    @property
    def batch(self) -> int:
        return int(self.data.shape[0])

    @property
    def time(self) -> int:
        return int(self.data.shape[1])

    @property
    def channels(self) -> int:
        return int(self.data.shape[2])

    def spec(self) -> SignalSpec:
        return SignalSpec(self.channels, self.time, self.meta)
