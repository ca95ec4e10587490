"""The sample call-and-response file, made by code so it stays small, exact and honest.

Four families of pairs that a micro-model can answer for prompts it never saw, because
each answer follows a rule rather than a memorised fact: sums of two digits (``3+4`` →
``7``), reversed three-letter strings (``rev abc`` → ``cba``), upper case (``up abc`` →
``ABC``) and the next letter of each letter (``next abc`` → ``bcd``). Seeded, so
``python -m openbrains.engine.datasets.pairs data/samples/callresponse.tsv`` rewrites the committed
file byte for byte (a test checks it is current).
"""

from __future__ import annotations

import random
import string
import sys
from pathlib import Path

SAMPLE_PATH = Path("data/samples/callresponse.tsv")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase[:-1]) for _ in range(3))


def make_pairs(per_family: int = 500, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct (prompt, response) pairs, shuffled: ``min(per_family, 100)`` digit sums
    (there are only 100) and ``per_family`` of each word rule."""
    rng = random.Random(seed)
    pairs = [(f"{a}+{b}", str(a + b)) for a in range(10) for b in range(10)]
    rng.shuffle(pairs)
    pairs = pairs[:per_family]
    families = (
        ("rev", lambda w: w[::-1]),
        ("up", str.upper),
        ("next", lambda w: "".join(chr(ord(c) + 1) for c in w)),
    )
    for name, rule in families:
        seen: set[str] = set()
        while len(seen) < per_family:
            seen.add(_word(rng))
        pairs += [(f"{name} {w}", rule(w)) for w in sorted(seen)]
    rng.shuffle(pairs)
    return pairs


def write_pairs(path: Path = SAMPLE_PATH, per_family: int = 500, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{p}\t{r}\n" for p, r in make_pairs(per_family, seed)]
    path.write_text("prompt\tresponse\n" + "".join(lines), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write_pairs(Path(sys.argv[1]) if len(sys.argv) > 1 else SAMPLE_PATH))
