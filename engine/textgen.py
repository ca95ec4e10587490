"""Text out of a byte-level brain: continue prompts one byte at a time.

Why a window and a fresh pass per byte: completion brains are trained on windows of
``context`` bytes that start from zero state, and a causal graph may hold units without a
streaming state (causal convolutions, attention). Re-running the last ``context`` bytes
for every new byte reproduces exactly what the brain saw in training, whatever its units;
for the short outputs people ask of a micro-model the quadratic cost does not matter.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from openbrains.engine.codecs import sample_next
from openbrains.engine.compile import Brain
from openbrains.engine.errors import OpenBrainsError


def _logits(out: object) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out  # type: ignore[index,return-value]


def check_text_brain(brain: Brain) -> None:
    """A brain that reads byte ids on one input and gives 256 logits per step."""
    if len(brain.input_names) != 1:
        raise OpenBrainsError(
            f"text completion feeds one input; this brain has inputs {brain.input_names}"
        )
    spec = brain.output_specs[brain.output_names[0]]
    if spec.channels != 256:
        raise OpenBrainsError(
            f"this brain's output {brain.output_names[0]!r} has {spec.channels} channels, "
            "not 256 byte logits: it is not a text brain"
        )


@torch.no_grad()
def continue_batch(
    brain: Brain,
    prompts: Sequence[bytes],
    max_new: int,
    temperature: float = 0.0,
    generator: torch.Generator | None = None,
    stop: int | None = None,
    context: int | None = None,
) -> list[bytes]:
    """The bytes each prompt is continued with (at most ``max_new``; ``stop`` ends one
    early and is not returned). ``temperature <= 0`` is greedy; ``context`` is the window
    the brain was trained on (None: the whole text so far)."""
    check_text_brain(brain)
    was = brain.training
    brain.eval()
    seqs = [list(p) or [10] for p in prompts]  # an empty prompt starts from a newline
    new: list[list[int]] = [[] for _ in prompts]
    live = list(range(len(prompts)))
    try:
        for _ in range(max_new):
            if not live:
                break
            windows = [seqs[i][-context:] if context else seqs[i] for i in live]
            width = max(len(w) for w in windows)
            ids = torch.zeros(len(live), width, 1)
            for row, w in enumerate(windows):
                ids[row, : len(w), 0] = torch.tensor(w, dtype=torch.float32)
            logits = _logits(brain(ids))
            last = torch.stack([logits[row, len(w) - 1] for row, w in enumerate(windows)])
            picked = sample_next(last, temperature, generator).tolist()
            still = []
            for i, b in zip(live, picked):
                if stop is not None and b == stop:
                    continue
                seqs[i].append(int(b))
                new[i].append(int(b))
                still.append(i)
            live = still
    finally:
        brain.train(was)
    return [bytes(n) for n in new]


def complete(
    brain: Brain,
    prompt: str | bytes,
    length: int,
    temperature: float = 1.0,
    seed: int = 0,
    context: int | None = None,
) -> bytes:
    """``length`` bytes continuing ``prompt``, drawn at ``temperature`` (seeded)."""
    raw = prompt.encode("utf-8") if isinstance(prompt, str) else bytes(prompt)
    gen = torch.Generator().manual_seed(seed)
    return continue_batch(brain, [raw], length, temperature, gen, context=context)[0]


__all__ = ["check_text_brain", "complete", "continue_batch"]
