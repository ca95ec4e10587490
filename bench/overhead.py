"""Engine overhead: compiled graphs vs hand-written nn.Modules with the same layers.

Forward + backward of three micro-models (an MLP, a small CNN on 28×28, a GRU over 64
steps), same run, same threads, median of repeats. The hand-written peer gets the
compiled brain's weights first and must produce the same outputs, which proves the
layers are the same.

    .venv/bin/python bench/overhead.py [--repeats 200] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.graph import Graph


def chain_graph(inp: dict, units: list[tuple[str, dict]], out: dict) -> Graph:
    g = Graph()
    prev = g.add_node("input", inp, uid="in")
    for i, (unit, params) in enumerate(units):
        node = g.add_node(unit, params, uid=f"n{i}")
        g.connect(prev.uid, node.uid, uid=f"e{i}")
        prev = node
    o = g.add_node("output", out, uid="out")
    g.connect(prev.uid, o.uid, uid="eo")
    return g


class HandMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(784, 128), nn.Linear(128, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class HandCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc(x.mean((2, 3)))


class HandGRU(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(16, 64, batch_first=True)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.gru(x)
        return self.fc(y.mean(1))


def mlp_case() -> tuple[Brain, nn.Module, torch.Tensor, torch.Tensor, dict[str, str]]:
    g = chain_graph(
        {"name": "x", "channels": 784, "time": 1},
        [
            ("dense", {"width": 128}),
            ("dense", {"width": 64}),
            ("dense", {"width": 10, "activation": "identity"}),
        ],
        {"name": "y", "channels": 10, "time": 1},
    )
    keymap = {"fc1": "n0.linear", "fc2": "n1.linear", "fc3": "n2.linear"}
    x = torch.randn(64, 784)
    return compile_graph(g, seed=0), HandMLP(), x.unsqueeze(1), x, keymap


def cnn_case() -> tuple[Brain, nn.Module, torch.Tensor, torch.Tensor, dict[str, str]]:
    g = chain_graph(
        {
            "name": "image",
            "channels": 1,
            "time": 784,
            "grid_h": 28,
            "grid_w": 28,
            "modality": "image",
        },
        [
            ("conv2d", {"width": 8, "kernel": 3}),
            ("pool", {"kind": "max", "size": 2}),
            ("conv2d", {"width": 16, "kernel": 3}),
            ("pool", {"kind": "max", "size": 2}),
            ("pool", {"kind": "avg", "scope": "global"}),
            ("dense", {"width": 10, "activation": "identity"}),
        ],
        {"name": "y", "channels": 10, "time": 1},
    )
    keymap = {"c1": "n0.conv", "c2": "n2.conv", "fc": "n5.linear"}
    img = torch.randn(64, 1, 28, 28)
    return (
        compile_graph(g, seed=0),
        HandCNN(),
        img.flatten(2).transpose(1, 2).contiguous(),
        img,
        keymap,
    )


def gru_case() -> tuple[Brain, nn.Module, torch.Tensor, torch.Tensor, dict[str, str]]:
    g = chain_graph(
        {"name": "x", "channels": 16, "time": 64},
        [
            ("gru", {"width": 64}),
            ("pool", {"kind": "avg", "scope": "global"}),
            ("dense", {"width": 10, "activation": "identity"}),
        ],
        {"name": "y", "channels": 10, "time": 1},
    )
    keymap = {"gru": "n0.rnn", "fc": "n2.linear"}
    x = torch.randn(32, 64, 16)
    return compile_graph(g, seed=0), HandGRU(), x, x, keymap


def copy_weights(brain: Brain, hand: nn.Module, keymap: dict[str, str]) -> None:
    ours = brain.weights()
    with torch.no_grad():
        for key, tensor in hand.state_dict().items():
            prefix, rest = key.split(".", 1)
            node, sub = keymap[prefix].split(".", 1)
            tensor.copy_(ours[f"node/{node}/{sub}.{rest}"])


def step_timer(
    model: Callable[[torch.Tensor], torch.Tensor],
    params: list,
    x: torch.Tensor,
    target: torch.Tensor,
) -> Callable[[], None]:
    def step() -> None:
        for p in params:
            p.grad = None
        y = model(x).reshape(target.shape[0], -1)
        F.cross_entropy(y, target).backward()

    return step


def paired_times(
    ours: Callable[[], None], peer: Callable[[], None], repeats: int
) -> tuple[list[float], list[float]]:
    """Alternate the two step by step, so a noisy machine slows both alike."""
    for _ in range(10):
        ours()
        peer()
    a, b = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours()
        t1 = time.perf_counter()
        peer()
        t2 = time.perf_counter()
        a.append(t1 - t0)
        b.append(t2 - t1)
    return a, b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    ratios: dict[str, float] = {}
    for name, case in (("mlp", mlp_case), ("cnn", cnn_case), ("gru", gru_case)):
        brain, hand, x_ours, x_hand, keymap = case()
        copy_weights(brain, hand, keymap)
        with torch.no_grad():
            same = torch.allclose(
                brain(x_ours).reshape(x_hand.shape[0], -1), hand(x_hand), atol=1e-5
            )
        if not same:
            raise SystemExit(f"{name}: the hand-written peer does not compute the same function")
        target = torch.randint(0, 10, (x_hand.shape[0],))
        ours_t, hand_t = paired_times(
            step_timer(brain, list(brain.parameters()), x_ours, target),
            step_timer(hand, list(hand.parameters()), x_hand, target),
            args.repeats,
        )
        ours_ms, hand_ms = statistics.median(ours_t) * 1e3, statistics.median(hand_t) * 1e3
        ratios[name] = ours_ms / hand_ms
        rows.append(
            f"| {name} | {brain.param_count():,} | {ours_ms:.3f} | {hand_ms:.3f} | {ratios[name]:.3f} |"
        )
    table = "\n".join(
        [
            "| model | params | compiled ms | hand-written ms | ratio |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    last = f"overhead_ratio_max={max(ratios.values()):.3f} " + " ".join(
        f"{k}={v:.3f}" for k, v in ratios.items()
    )
    print(table)
    print(last)
    if not args.no_record:
        body = (
            "Forward+backward (cross-entropy) per batch, median of repeats alternating step by step; "
            "MLP 784-128-64-10 at batch 64, CNN conv8-pool-conv16-pool-gap-fc on 28×28 at "
            "batch 64, GRU(16→64) over 64 steps + mean + fc at batch 32. Goal: ratio ≤ 1.15.\n\n"
            + table
        )
        record("overhead", "python bench/overhead.py", body, last)


if __name__ == "__main__":
    main()
