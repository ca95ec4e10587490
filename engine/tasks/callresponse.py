"""Call and response: learn to answer a prompt, from a two-column file (DESIGN §5,
instruction pairs).

Each pair becomes one byte sequence ``prompt STX response ETX`` (STX = 0x02 says "answer
now", ETX = 0x03 ends the answer), trained as next-byte prediction by a causal graph. Only
the response bytes and the ETX are scored: the loss and the metric ignore what the brain
would predict inside the prompt (targets there are -100, cross-entropy's ignore index),
so the score is bits per character *of responses* and a brain is not rewarded for
modelling the questions. Pairs are deduplicated, then split by a seeded shuffle 80/10/10,
so a test pair never appears verbatim in training. ``exact_match`` answers every prompt
of a split greedily and counts answers equal to the response; ``baseline_exact_match`` is
what always giving the most common training answer scores.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from openbrains.engine.codecs import BytesCodec
from openbrains.engine.compile import Brain
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError
from openbrains.engine.tasks.files import need_path, split_indices
from openbrains.engine.tasks.text import order0_entropy

START, END = 0x02, 0x03
IGNORE = -100
PAIR_SPLIT = (0.8, 0.1, 0.1)
HEADERS = {("prompt", "response"), ("call", "response"), ("input", "output"), ("q", "a")}

Pair = tuple[bytes, bytes]


def read_pairs(path: Path) -> list[Pair]:
    """(prompt, response) byte pairs from a TSV (the first tab splits a line) or a CSV with
    two columns; blank lines and a header row such as ``prompt,response`` are skipped."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as e:
        raise TaskError(f"cannot read {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise TaskError(f"callresponse: {path} is not UTF-8 text ({e.reason})") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    tabbed = path.suffix.lower() == ".tsv" or "\t" in first
    rows: list[tuple[int, list[str]]] = []
    if tabbed:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                rows.append((n, line.split("\t", 1)))
    else:
        reader = csv.reader(io.StringIO(text))
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((reader.line_num, row))
        except csv.Error as e:
            raise TaskError(f"callresponse: {path} line {reader.line_num}: {e}") from None
    if rows and tuple(c.strip().lower() for c in rows[0][1]) in HEADERS:
        rows = rows[1:]
    pairs = []
    for n, row in rows:
        if len(row) != 2:
            sep = "a tab" if tabbed else "a comma"
            raise TaskError(
                f"callresponse: {path} line {n} has {len(row)} column(s); expected "
                f"prompt and response separated by {sep}"
            )
        prompt, response = (c.encode("utf-8") for c in row)
        if not response:
            raise TaskError(f"callresponse: {path} line {n} has an empty response")
        if bytes([START]) in prompt + response or bytes([END]) in prompt + response:
            raise TaskError(f"callresponse: {path} line {n} holds a 0x02/0x03 control byte")
        pairs.append((prompt, response))
    if not pairs:
        raise TaskError(f"callresponse: {path} holds no prompt/response pairs")
    return pairs


def encode_pairs(pairs: list[Pair], length: int) -> Split:
    """Inputs ``[N, length, 1]`` (byte ids, right-padded with 0) and targets ``[N, length]``
    (the next byte on response positions, -100 elsewhere). A prompt too long for ``length``
    loses its oldest bytes; the response always fits (checked by the caller)."""
    x = torch.zeros(len(pairs), length, 1)
    y = torch.full((len(pairs), length), IGNORE, dtype=torch.long)
    for i, (prompt, response) in enumerate(pairs):
        seq = list(prompt + bytes([START]) + response + bytes([END]))[-(length + 1) :]
        answer = len(response) + 1  # scored targets: the response and END
        k = len(seq) - 1
        x[i, :k, 0] = torch.tensor(seq[:-1], dtype=torch.float32)
        y[i, k - answer : k] = torch.tensor(seq[-answer:], dtype=torch.long)
    return Split({"text": x}, y)


@dataclass
class CallResponseTask(DatasetTask):
    """Completion scored on responses only; keeps its pairs for greedy answering."""

    pairs: dict[str, list[Pair]] = field(default_factory=dict)

    def metric_sums(self, out: torch.Tensor, target: torch.Tensor) -> tuple[float, float, int]:
        ce = F.cross_entropy(
            out.reshape(-1, out.shape[-1]), target.reshape(-1), ignore_index=IGNORE, reduction="sum"
        ).item()
        return ce, ce, int((target != IGNORE).sum())


def callresponse_task(
    data: str | Path | None, seed: int = 0, context: int | None = None
) -> CallResponseTask:
    """Pairs from ``data`` as response-only next-byte prediction; ``context`` caps the
    window (default: the longest pair)."""
    path = need_path("callresponse", data, "file", "a TSV or two-column CSV of prompt → response")
    pairs = list(dict.fromkeys(read_pairs(path)))
    longest = max(len(p) + len(r) + 2 for p, r in pairs) - 1
    length = longest if context is None else context
    if length < 1:
        raise TaskError(f"callresponse: context must be >= 1, got {length}")
    too_long = [r for _, r in pairs if len(r) + 1 > length]
    if too_long:
        raise TaskError(
            f"callresponse: a response of {len(too_long[0])} bytes does not fit context {length}"
        )
    where = f"callresponse: {path}"
    tr, va, te = split_indices(None, len(pairs), seed, PAIR_SPLIT[1], PAIR_SPLIT[2], where)
    parts = {
        name: [pairs[i] for i in idx] for name, idx in (("train", tr), ("val", va), ("test", te))
    }
    answers = b"".join(r + bytes([END]) for _, r in pairs)
    return CallResponseTask(
        name="callresponse",
        kind="completion",
        inputs={"text": SignalSpec(1, None, SignalMeta("text", vocab=BytesCodec.VOCAB))},
        outputs={"next": SignalSpec(BytesCodec.VOCAB, None, SignalMeta("text"))},
        train=encode_pairs(parts["train"], length),
        val=encode_pairs(parts["val"], length),
        test=encode_pairs(parts["test"], length),
        codecs={"text": BytesCodec().to_dict(), "next": BytesCodec().to_dict()},
        settings={
            "context": length,
            "pairs": len(pairs),
            "split": list(PAIR_SPLIT),
            "start_byte": START,
            "end_byte": END,
            "order0_entropy": round(order0_entropy(answers), 6),
            "seed": seed,
        },
        pairs=parts,
    )


def respond(
    brain: Brain,
    prompts: list[bytes],
    max_len: int,
    temperature: float = 0.0,
    seed: int = 0,
    context: int | None = None,
) -> list[bytes]:
    """The brain's answer to each prompt (greedy when ``temperature <= 0``)."""
    from openbrains.engine.textgen import continue_batch

    gen = torch.Generator().manual_seed(seed)
    starts = [p + bytes([START]) for p in prompts]
    return continue_batch(brain, starts, max_len, temperature, gen, stop=END, context=context)


def exact_match(brain: Brain, task: CallResponseTask, split: str = "test") -> float:
    """Share of the split's prompts whose greedy answer equals the response exactly."""
    pairs = task.pairs[split]
    longest = max(len(r) for _, r in pairs)
    got = respond(brain, [p for p, _ in pairs], longest + 1, context=task.settings["context"])
    return float(np.mean([g == r for g, (_, r) in zip(got, pairs)]))


def baseline_exact_match(task: CallResponseTask, split: str = "test") -> float:
    """Exact match of always answering the most common training response."""
    common, _ = Counter(r for _, r in task.pairs["train"]).most_common(1)[0]
    return float(np.mean([r == common for _, r in task.pairs[split]]))


def response_bpc(brain: Brain, task: CallResponseTask, split: str = "test") -> float:
    """Bits per response byte on a split (the task's own metric, outside a run)."""
    from openbrains.engine.train.trainer import evaluate

    value = evaluate(brain, task, getattr(task, split))[task.metric]
    return value if math.isfinite(value) else math.inf


__all__ = [
    "CallResponseTask",
    "baseline_exact_match",
    "callresponse_task",
    "encode_pairs",
    "exact_match",
    "read_pairs",
    "respond",
    "response_bpc",
]
