"""Every unit's declared tensors, parameter count and FLOPs match the module it builds
(engine/footprint.py; the catalog prints them for readers in other languages)."""

from __future__ import annotations

import math
import random

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from openbrains.engine.evolve.random import SizeBounds, sample_params
from openbrains.engine.footprint import evaluate, param_count, param_formula, symbols_for
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.units import REGISTRY, Unit, UnitContext

# What torch's flop counter does not see on CPU (scaled-dot-product attention, the fused
# LSTM kernel; it does decompose the GRU), worked out by hand: the matrix products inside.
COUNTER_BLIND = {
    "attention": lambda p, c, t: 4 * t * t * p["heads"] * p["head_dim"],
    "lstm": lambda p, c, t: 2 * t * 4 * p["width"] * (c + p["width"]),
}
BOUNDS = SizeBounds(max_width=12)


def specs_for(unit: Unit) -> list[tuple[SignalSpec, bool]]:
    """Input specs (and causal flags) that exercise the unit's shape cases."""
    if unit.inputs and unit.inputs[0].kind == "tokens":
        return [(SignalSpec(1, 6, SignalMeta("text", vocab=v)), False) for v in (256, 7)]
    grid = SignalSpec(3, 16, SignalMeta("image", grid=(4, 4)))
    return [(SignalSpec(5, 7), False), (SignalSpec(3, 20), True), (grid, False), (grid, True)]


def built_units() -> list[str]:
    return [u.name for u in REGISTRY.units() if u.build is not None]


def instances(unit: Unit, draws: int = 6):
    rng = random.Random(unit.name)
    for spec, causal in specs_for(unit):
        for _ in range(draws):
            params = unit.defaults() | sample_params(unit, rng, BOUNDS, causal)
            if causal and not unit.supports_causal(params):
                continue
            if unit.name == "output":
                params |= {"channels": rng.choice((spec.channels, 4)), "time": 0}
            ctx = UnitContext(params=params, inputs=(spec,), causal=causal, seed=1)
            yield params, spec, causal, unit.build(ctx)


def call(unit: Unit, module: torch.nn.Module, x: torch.Tensor):
    if unit.merge == "list":
        return module([x, x])
    return module(x, None) if unit.stateful else module(x)


@pytest.mark.parametrize("name", built_units())
def test_declared_tensors_and_parameter_count_match_the_module(name: str) -> None:
    unit = REGISTRY.get(name)
    assert unit.flops, f"{name} declares no FLOPs"
    for params, spec, causal, module in instances(unit):
        symbols = symbols_for(params, spec, causal, spec.time or 7)
        declared = {t.name: t.dims(symbols) for t in unit.tensors if t.present(symbols)}
        if module is None:
            assert declared == {}, (name, params)
            continue
        real = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        assert declared == real, (name, params, spec)
        trainable = sum(p.numel() for p in module.parameters())
        assert param_count(unit.tensors, symbols) == trainable, (name, params)
        buffers = {t.name for t in unit.tensors if not t.trainable}
        assert buffers == {k for k, _ in module.named_buffers()} & buffers


@pytest.mark.parametrize("name", built_units())
def test_declared_flops_match_the_flop_counter(name: str) -> None:
    """Over sizes of 2 and more: torch runs a product over an axis of length 1 as an
    elementwise multiply, which the counter does not count (the declared figure does)."""
    unit = REGISTRY.get(name)
    for params, spec, causal, module in instances(unit, draws=4):
        if module is None or any(v == 1 for k, v in params.items() if k != "stride"):
            continue
        module.eval()
        for time in sorted({spec.time or 7, 2} if spec.meta.grid is None else {spec.time}):
            x = torch.randn(1, time, spec.channels)
            if spec.meta.vocab:
                x = torch.randint(0, spec.meta.vocab, (1, time, 1)).float()
            counter = FlopCounterMode(display=False)
            with torch.no_grad(), counter:
                call(unit, module, x)
            declared = evaluate(unit.flops, symbols_for(params, spec, causal, time))
            counted = counter.get_total_flops()
            if name in COUNTER_BLIND:
                counted += COUNTER_BLIND[name](params, spec.channels, time)
            assert declared == counted, (name, params, spec, time)


def test_long_inputs_too() -> None:
    """Units whose cost is not linear in time (Toeplitz products, attention) at long lengths."""
    for name in ("ssm", "attention"):
        unit = REGISTRY.get(name)
        params = unit.defaults()
        module = unit.build(UnitContext(params=params, inputs=(SignalSpec(4, None),))).eval()
        for time in (15, 16, 17, 40):
            counter = FlopCounterMode(display=False)
            with torch.no_grad(), counter:
                call(unit, module, torch.randn(1, time, 4))
            symbols = symbols_for(params, SignalSpec(4, None), False, time)
            counted = counter.get_total_flops()
            if name in COUNTER_BLIND:
                counted += COUNTER_BLIND[name](params, 4, time)
            assert evaluate(unit.flops, symbols) == counted, (name, time)


def test_every_built_in_unit_says_where_it_comes_from() -> None:
    plumbing = {"input", "output", "sum", "concat", "flatten"}
    missing = [u.name for u in REGISTRY.units() if not u.source and u.name not in plumbing]
    assert missing == []


def test_param_formula_collects_like_terms() -> None:
    unit = REGISTRY.get("ssm")
    assert param_formula(unit.tensors) == "C·(C + 3·state + 3)"
    dense = REGISTRY.get("dense")
    assert param_formula(dense.tensors) == "C·width + width [if bias]"
    for c, n in ((3, 5), (8, 1)):
        assert param_count(unit.tensors, {"C": c, "state": n}) == c * (c + 3 * n + 3)


def test_the_expression_interpreter_refuses_anything_but_arithmetic() -> None:
    assert evaluate("2 * (a + 1) if b else 0", {"a": 3, "b": True}) == 8
    assert evaluate("time or T", {"time": 0, "T": 5}) == 5
    assert evaluate("ceil(C / 16)", {"C": 17}) == math.ceil(17 / 16)
    for bad in ("__import__('os')", "a.b", "[1, 2]", "open('x')", "lambda: 1"):
        with pytest.raises((ValueError, KeyError)):
            evaluate(bad, {"a": 1})
    with pytest.raises(KeyError, match="unknown symbol"):
        evaluate("width", {})
