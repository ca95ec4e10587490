"""Mixes of two views (engine.train.mixup): one λ per batch and a partner per example, the
loss weighted as the inputs were, and K models' batches mixed at once exactly as each alone."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from openbrains.engine.train import mixup


def test_a_mix_is_lambda_of_each_example_and_the_rest_of_its_partner() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, 3)
    mix = mixup.draw(6, gen)
    assert 0.0 <= mix.lam <= 1.0 and sorted(mix.partner.tolist()) == list(range(6))
    got = mixup.mixed(x, mix)
    for i in range(6):
        want = mix.lam * x[i] + (1 - mix.lam) * x[int(mix.partner[i])]
        assert torch.allclose(got[i], want)
    again = mixup.draw(6, torch.Generator().manual_seed(0))
    assert again.lam == mix.lam and torch.equal(again.partner, mix.partner)  # seeded


def test_the_loss_of_a_mix_weighs_both_labels_as_the_inputs() -> None:
    logits = torch.randn(5, 3)
    target = torch.tensor([0, 1, 2, 1, 0])
    mix = mixup.Mix(torch.tensor([1, 0, 3, 2, 4]), 0.25)

    def loss(out: torch.Tensor, t: torch.Tensor, smoothing: float) -> torch.Tensor:
        return F.cross_entropy(out, t, label_smoothing=smoothing)

    got = mixup.mixed_loss(loss, logits, target, 0.1, mix)
    want = 0.25 * loss(logits, target, 0.1) + 0.75 * loss(logits, target[mix.partner], 0.1)
    assert torch.allclose(got, want)
    whole = mixup.Mix(torch.tensor([1, 0, 3, 2, 4]), 1.0)
    assert torch.allclose(
        mixup.mixed_loss(loss, logits, target, 0.0, whole), loss(logits, target, 0.0)
    )


def test_k_batches_mix_as_each_alone() -> None:
    gens = [torch.Generator().manual_seed(s) for s in (1, 2, 3)]
    x = torch.randn(3, 8, 2, 5)
    target = torch.randint(0, 4, (3, 8))
    mixes = [mixup.draw(8, g) for g in gens]
    stacked = mixup.mixed_stack(x, mixes)
    for k in range(3):
        assert torch.allclose(stacked[k], mixup.mixed(x[k], mixes[k]))
    logits = torch.randn(3, 8, 4)

    def losses(t: torch.Tensor) -> torch.Tensor:  # [K]
        return (
            F.cross_entropy(logits.reshape(-1, 4), t.reshape(-1), reduction="none")
            .view(3, 8)
            .mean(1)
        )

    got = mixup.mixed_stack_loss(losses, target, mixes)
    for k in range(3):
        one = mixup.mixed_loss(
            lambda out, t, _s: F.cross_entropy(out, t), logits[k], target[k], 0.0, mixes[k]
        )
        assert torch.allclose(got[k], one)


def test_only_real_valued_inputs_mix() -> None:
    assert mixup.mixable({"image": torch.zeros(2, 3)})
    assert not mixup.mixable({"text": torch.zeros(2, 3, dtype=torch.long)})
    assert not mixup.mixable({})
