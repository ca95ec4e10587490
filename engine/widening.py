"""Weight-surgery facts a unit declares about itself, so evolution can widen a layer
function-preservingly (Net2Net, DESIGN §3.2) whatever package the unit comes from.

Each unit says, in its own file, which of its tensors hold its output channels, which read
its input channels, and what its output is in terms of its input channels. The surgery
itself (``engine.evolve.net2net``) only reads these facts. Torch-free: a declaration is
plain data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

CARRIES = ("none", "same", "mixed")


@dataclass(frozen=True)
class Remap:
    """Channel ``j`` of a signal in the child copies channel ``index[j]`` of the parent's,
    which had ``width`` channels.

    A channel copied k times is read by k columns downstream, each divided by k, so every
    linear reader's sum (and hence the function) stays what it was.
    """

    index: tuple[int, ...]
    width: int

    @staticmethod
    def identity(n: int) -> Remap:
        return Remap(tuple(range(n)), n)

    def spread(self, per_channel: int) -> Remap:
        """The remap of an axis holding ``per_channel`` consecutive entries per channel."""
        k = per_channel
        return Remap(tuple(i * k + q for i in self.index for q in range(k)), self.width * k)


# (remap of the input channels, the parent's input width, the child's output width) → the
# remap the output carries; for units whose output channels are rearranged input channels
CarryRule = Callable[[Remap, int, int], Remap]


@dataclass(frozen=True)
class Widening:
    """How a unit's tensors follow a change in channel count.

    As a *producer* (its own ``width`` param changes): ``outputs`` maps each tensor to the
    axis that holds the unit's output channels (the first one listed must exist; the others
    are remapped where present); that axis stacks ``gates`` blocks of channels (GRU 3,
    LSTM 4); ``feedback`` maps tensors to an axis that reads the unit's own output back
    (recurrent weights), split like a reader's.

    As a *reader* of remapped input channels: ``inputs`` maps tensors to the axis that
    reads the input linearly (copied columns are divided, so sums stay the same);
    ``per_channel`` maps tensors with one entry per input channel to that axis (copied:
    scales, shifts, running statistics). ``carry`` says what the output then is:
    ``"none"`` (the unit's own channels, unchanged), ``"same"`` (channel i comes from input
    channel i alone: the copies stay exact copies), ``"mixed"`` (same width, but channels
    are mixed, e.g. a layer norm: only approximately preserving), or a function
    (``CarryRule``) for units that rearrange channels (flatten).

    A unit that declares nothing is never widened exactly: the child is still valid, its
    tensors that no longer fit just start fresh.
    """

    outputs: Mapping[str, int] = field(default_factory=dict)
    gates: int = 1
    feedback: Mapping[str, int] = field(default_factory=dict)
    inputs: Mapping[str, int] = field(default_factory=dict)
    per_channel: Mapping[str, int] = field(default_factory=dict)
    grouped: Mapping[str, int] = field(default_factory=dict)
    grouped_inputs: Mapping[str, int] = field(default_factory=dict)
    carry: str | CarryRule = "none"

    def describe(self) -> str:
        """What widening does at this unit, for the catalog."""
        parts = ["widens exactly"] if self.outputs else []
        if self.inputs or self.grouped_inputs:
            parts.append("reads wider inputs exactly")
        if callable(self.carry):
            parts.append("rearranges wider inputs exactly")
        elif self.carry == "same":
            parts.append("passes wider inputs on exactly")
        elif self.carry == "mixed":
            parts.append("passes wider inputs on approximately (mixes channels)")
        return "; ".join(parts) or "declared, nothing to follow"

    def __post_init__(self) -> None:
        if not callable(self.carry) and self.carry not in CARRIES:
            raise ValueError(f"widening carry must be one of {CARRIES} or a function")
        if self.gates < 1:
            raise ValueError("widening gates must be at least 1")
        if self.feedback and not self.outputs:
            raise ValueError("widening feedback needs outputs (the rows it reads back)")


CHANNELWISE = Widening(carry="same")
"""Units that act on each channel alone (activations, dropout, pooling, merges)."""

MIXES_CHANNELS = Widening(carry="mixed")
"""Units that keep the width but mix channels (layer and RMS norms)."""


def linear(weight: str, bias: str | None = None, out_axis: int = 0) -> Widening:
    """A unit whose ``weight`` is ``[out, in, ...]`` (dense, convolutions): the common case."""
    outputs = {weight: out_axis} | ({bias: 0} if bias else {})
    return Widening(outputs=outputs, inputs={weight: 1})
