"""Ratings from people (DESIGN §1 ``RatingTask``, §3.6): a person sees the outputs of a few
candidates for the same input side by side and gives each a score from 0 to 10.

- ``RatingTask.batch`` picks an input and candidates and renders every output as plain data
  (text, base64 images and audio, labels), which the terminal (`openbrains rate`), the
  service (``rating_batch``) and the canvas rating panel show without torch.
- ``RatingBook`` turns the ratings stored in the archive into a fitness per individual: a
  shrunk mean ``(sum + prior·k) / (n + k)``. The prior is the parents' own estimate (a
  child starts where its rated ancestry stands), or the run's mean rating; an unrated
  individual is therefore "as good as its parents", never "zero".
- ``preference_pairs`` and ``bradley_terry``: ratings given side by side for one input
  are also comparisons (a 7 beside a 4 says "this one is better"), fit by Bradley–Terry.

``mix`` weighs the rating estimate against the task's own metric (``rating_weight`` 0..1).
"""

from __future__ import annotations

import base64
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from openbrains.engine.codecs import (
    AudioCodec,
    BytesCodec,
    ImageCodec,
    codec_from_dict,
    sample_next,
)
from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import FormatError, OpenBrainsError
from openbrains.engine.graph import Graph
from openbrains.engine.store import Archive, Rating
from openbrains.engine.tasks.base import DatasetTask
from openbrains.engine.weights import decode_weights

SCALE = 10.0  # ratings are 0..10
DEFAULT_PRIOR_STRENGTH = 3.0  # k: how many ratings the prior is worth
NEUTRAL = SCALE / 2
GENERATE_BYTES = 48


# ----- from ratings to fitness ---------------------------------------------------------------


TEACHER_RATER = "teacher:"  # raters named so are teachers (engine.teachers.roles.rate)
DEFAULT_TEACHER_WEIGHT = 0.3  # a teacher's rating counts this much of a person's


class RatingBook:
    """Weighted sums and counts per individual, kept up to date from the archive by
    ``refresh``. A teacher's rating weighs ``teacher_weight`` of a person's, so people
    have the last word when both rated."""

    def __init__(
        self, k: float = DEFAULT_PRIOR_STRENGTH, teacher_weight: float = DEFAULT_TEACHER_WEIGHT
    ) -> None:
        self.k = float(k)
        self.teacher_weight = float(teacher_weight)
        self.sums: dict[int, float] = defaultdict(float)
        self.counts: dict[int, float] = defaultdict(float)
        self.n = 0  # ratings taken in
        self.seen = 0  # the newest rating id taken in
        self._est: dict[int, float] = {}

    def add(self, ratings: Iterable[Rating]) -> int:
        n = 0
        for r in ratings:
            w = self.teacher_weight if r.rater.startswith(TEACHER_RATER) else 1.0
            self.sums[r.individual] += w * r.score
            self.counts[r.individual] += w
            self.seen = max(self.seen, r.id)
            n += 1
        if n:
            self._est.clear()
            self.n += n
        return n

    def refresh(self, archive: Archive) -> int:
        """Take in ratings stored since the last call; how many were new."""
        return self.add(archive.ratings(since_id=self.seen))

    @property
    def total(self) -> int:
        return self.n

    @property
    def mean(self) -> float:
        """The run's (weighted) mean rating: the prior of an individual without rated
        ancestry."""
        weight = sum(self.counts.values())
        return sum(self.sums.values()) / weight if weight > 0 else NEUTRAL

    def shrunk(self, ind: int, prior: float) -> float:
        return (self.sums.get(ind, 0.0) + prior * self.k) / (self.counts.get(ind, 0) + self.k)

    def estimate(self, ind: int, parents: Sequence[int] = (), lineage: Any = None) -> float:
        """The shrunk mean of ``ind`` (0..10) with its parents' estimates as the prior.

        ``lineage`` maps ids to parent lists, for estimating the parents themselves; ids are
        visited oldest first, so a long lineage costs no recursion.
        """
        if ind in self._est:
            return self._est[ind]
        lineage = lineage or {}
        todo, order, seen = [ind], [], set()
        while todo:  # the ancestors not yet estimated, then estimate them in id order
            i = todo.pop()
            if i in seen or (i in self._est and i != ind):
                continue
            seen.add(i)
            order.append(i)
            todo.extend(parents if i == ind else lineage.get(i, ()))
        mean = self.mean
        for i in sorted(order):
            ps = parents if i == ind else lineage.get(i, ())
            known = [self._est[p] for p in ps if p in self._est]
            prior = sum(known) / len(known) if known else mean
            self._est[i] = self.shrunk(i, prior)
        return self._est[ind]


def unit_score(metric: str, value: float | None) -> float:
    """The task's metric on a 0..1 scale, so it can be mixed with a rating: accuracy as is,
    R² clipped at 0, bits per character as 1 − bpc/8 (8 bits: knowing nothing), Elo as the
    expected score against a 1000-rated player."""
    if value is None or not math.isfinite(value):
        return 0.0
    if metric == "bpc":
        return min(1.0, max(0.0, 1.0 - value / 8.0))
    if metric == "elo":
        return 1.0 / (1.0 + 10 ** ((1000.0 - value) / 400.0))
    return min(1.0, max(0.0, value))


def mix(metric: str, value: float | None, rating: float, weight: float) -> float:
    """``(1 − w)·task score + w·rating``, both on 0..1."""
    w = min(1.0, max(0.0, weight))
    return (1.0 - w) * unit_score(metric, value) + w * rating / SCALE


# ----- preferences ---------------------------------------------------------------------------


def preference_pairs(ratings: Iterable[Rating]) -> list[tuple[int, int]]:
    """``(winner, loser)`` for every two candidates rated differently side by side (same
    batch and input); ties say nothing."""
    groups: dict[tuple[str, str], list[Rating]] = defaultdict(list)
    for r in ratings:
        if r.batch:
            groups[(r.batch, r.input_id)].append(r)
    pairs = []
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.individual != b.individual and a.score != b.score:
                    pairs.append(
                        (a.individual, b.individual)
                        if a.score > b.score
                        else (b.individual, a.individual)
                    )
    return pairs


def bradley_terry(pairs: Sequence[tuple[int, int]], iters: int = 200) -> dict[int, float]:
    """Log-strengths (mean 0) from ``(winner, loser)`` pairs by the MM algorithm (Hunter
    2004). Each player also gets one virtual win and loss against an average player, so an
    unbeaten candidate has a finite strength."""
    players = sorted({p for pair in pairs for p in pair})
    if not players:
        return {}
    wins = defaultdict(float)
    games: dict[tuple[int, int], float] = defaultdict(float)
    for w, loser in pairs:
        wins[w] += 1
        games[(min(w, loser), max(w, loser))] += 1
    s = dict.fromkeys(players, 1.0)
    for _ in range(iters):
        new = {}
        for p in players:
            denom = 2.0 / (s[p] + 1.0)  # the virtual games against strength 1
            for (a, b), n in games.items():
                if p in (a, b):
                    denom += n / (s[a] + s[b])
            new[p] = (wins[p] + 1.0) / denom
        mean_log = sum(math.log(v) for v in new.values()) / len(new)
        s = {p: v / math.exp(mean_log) for p, v in new.items()}
    return {p: math.log(v) for p, v in s.items()}


# ----- showing outputs as plain data ----------------------------------------------------------


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def image_data(img: np.ndarray) -> dict[str, Any]:
    """uint8 ``[h, w, c]`` as plain data (base64 bytes, row-major)."""
    a = np.asarray(img)
    if a.ndim == 2:
        a = a[:, :, None]
    a = np.clip(a, 0, 255).astype(np.uint8)
    h, w, c = a.shape
    return {"kind": "image", "width": w, "height": h, "channels": c, "data": b64(a)}


def audio_data(wave: np.ndarray, rate: int) -> dict[str, Any]:
    x = np.asarray(wave, dtype="<f4").reshape(-1)
    return {"kind": "audio", "rate": int(rate), "samples": len(x), "data": b64(x)}


def _codec(task: DatasetTask, name: str) -> Any:
    raw = (task.codecs or {}).get(name)
    try:
        return codec_from_dict(raw) if raw else None
    except FormatError:
        return None


def show_input(task: DatasetTask, x: torch.Tensor) -> dict[str, Any]:
    """One encoded input ``[1, T, C]`` back as something a person can look at or hear."""
    name = task.input_names[0]
    codec = _codec(task, name)
    if isinstance(codec, ImageCodec):
        grid = task.inputs[name].meta.grid
        img = codec.decode(x, as_uint8=True, grid=grid)[0]
        return image_data(img)
    if isinstance(codec, BytesCodec) or task.inputs[name].meta.vocab:
        ids = x[0, :, 0].round().clamp(0, 255).to(torch.uint8).tolist()
        return {"kind": "text", "text": bytes(ids).decode("utf-8", errors="replace")}
    if isinstance(codec, AudioCodec):
        try:
            wave = codec.decode(x)[0]
            return audio_data(np.asarray(wave), codec.rate)
        except (ValueError, RuntimeError):
            pass
    values = x[0].flatten()[:16].tolist()
    return {"kind": "text", "text": ", ".join(f"{v:.3g}" for v in values)}


@torch.no_grad()
def show_output(
    task: DatasetTask, brain: Brain, x: torch.Tensor, seed: int, temperature: float = 0.8
) -> dict[str, Any]:
    """What ``brain`` answers to ``x``, as plain data: a label with its probabilities, a
    generated continuation, a value, an image or a sound."""
    out = brain(x)
    y = out[0] if isinstance(out, tuple) else out
    name = next(iter(task.outputs))
    codec = _codec(task, name)
    if task.kind == "completion":
        gen = torch.Generator().manual_seed(seed)
        context = x.clone()
        made = []
        for _ in range(GENERATE_BYTES):
            nxt = sample_next(y[0, -1], temperature, gen)
            made.append(int(nxt))
            context = torch.cat([context[:, 1:], nxt.float().view(1, 1, 1)], dim=1)
            out = brain(context)
            y = out[0] if isinstance(out, tuple) else out
        return {"kind": "text", "text": bytes(made).decode("utf-8", errors="replace")}
    if isinstance(codec, ImageCodec):
        img = codec.decode(y[:1], as_uint8=True, grid=task.outputs[name].meta.grid)[0]
        return image_data(img)
    if isinstance(codec, AudioCodec):
        return audio_data(np.asarray(codec.decode(y[:1])[0]), codec.rate)
    if task.kind == "classification":
        p = torch.softmax(y[0, -1], -1)
        k = int(p.argmax())
        label = task.classes[k] if k < len(task.classes) else str(k)
        top = torch.argsort(p, descending=True)[:5].tolist()
        probs = {(task.classes[i] if i < len(task.classes) else str(i)): float(p[i]) for i in top}
        return {"kind": "label", "label": label, "p": float(p[k]), "probs": probs}
    return {"kind": "value", "value": float(y[0, -1, 0])}


# ----- the task ------------------------------------------------------------------------------


@dataclass
class Candidate:
    individual: int
    graph_json: str
    weights: bytes
    ratings: int = 0


@dataclass
class RatingTask:
    """People's slider scores over the outputs of a run's living candidates."""

    task: DatasetTask
    weight: float = 0.0
    k: float = DEFAULT_PRIOR_STRENGTH
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if getattr(self.task, "kind", "") == "game":
            raise OpenBrainsError(
                f"task {self.task.name!r} is a game: its candidates are ranked by play, not rated"
            )

    def pick(self, candidates: Sequence[Candidate], n: int) -> list[Candidate]:
        """``n`` candidates, the least rated first (ties broken at random), so ratings spread."""
        pool = list(candidates)
        self.rng.shuffle(pool)
        pool.sort(key=lambda c: c.ratings)
        return pool[: max(1, n)]

    def batch(self, candidates: Sequence[Candidate], n: int = 3) -> dict[str, Any]:
        """One input (a validation example) and what ``n`` candidates answer to it."""
        if not candidates:
            raise OpenBrainsError("no living candidates to rate yet; let the run train a few")
        val = self.task.val
        index = self.rng.randrange(len(val))
        name = self.task.input_names[0]
        x = val.inputs[name][index : index + 1]
        seed = self.rng.getrandbits(31)
        shown = []
        for c in self.pick(candidates, n):
            try:
                brain = compile_graph(Graph.from_json(c.graph_json), seed=0)
                brain.load_weights(decode_weights(c.weights))
                brain.eval()
                output = show_output(self.task, brain, x, seed)
            except (OpenBrainsError, RuntimeError, ValueError) as e:
                output = {"kind": "text", "text": f"(cannot run: {e})"}
            shown.append({"individual": c.individual, "output": output, "ratings": c.ratings})
        target = val.target[index]
        expected = None
        if self.task.kind == "classification" and self.task.classes:
            expected = self.task.classes[int(target)]
        return {
            "batch": uuid.uuid4().hex[:12],
            "input_id": f"val:{index}",
            "input": show_input(self.task, x),
            "expected": expected,
            "task": self.task.name,
            "candidates": shown,
        }


def candidates_from(archive: Archive) -> list[Candidate]:
    """The living individuals with weights, and how often each was rated."""
    counts: dict[int, int] = defaultdict(int)
    for r in archive.ratings():
        counts[r.individual] += 1
    out = []
    for rec in archive.records(alive_only=True):
        w = archive.weights(rec.id)
        if w and rec.fitness is not None:
            out.append(Candidate(rec.id, rec.graph_json, w, counts[rec.id]))
    return out
