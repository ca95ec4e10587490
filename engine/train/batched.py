"""Train K siblings of one topology together: ``torch.func.functional_call`` + ``torch.vmap``
over stacked weights.

Why: a micro-model's training step is mostly per-op overhead (Python, dispatcher, tiny
kernels), so K graphs with the same structure (same parameter shapes) can run as *one*
program whose every op carries a leading model dimension K, for not much more than the
cost of one. ``bench/batched.py`` measures it (about 5x for 16 MLPs of width 32 on digits,
a loss from width 256 on); ``should_batch`` decides per structure by a quick measurement.

What stays per model, so a sibling trained here ends where ``train`` would have left it
(tests/engine/test_batched.py checks weights and scores against ``train``):

- its starting weights, learning rate and seed; one optimiser kind and batch size per
  batched group (``train_siblings`` groups the candidates by them);
- its data order and its image-shift draws, from its own ``torch.Generator`` in the same
  sequence ``train`` draws them;
- the optimiser maths: a functional Adam / AdamW / SGD-Nesterov written here with torch's
  update formulas, the learning rate one value per model;
- divergence: a member whose loss turns non-finite (or explodes) is marked diverged at that
  step, as ``train`` would, and frozen out by masked updates; the others are unaffected
  because no vmapped op mixes models.

Gradients: the forward is vmapped, the losses of the stacked outputs summed, and one
ordinary backward pass gives every model its own gradient (``gradients="autograd"``,
measured faster than ``vmap(grad_and_value(...))``, which is kept as an option).
Evaluation runs one model at a time with ``trainer.evaluate`` (measured faster: its batches
are large already).

Not identical: dropout masks come from ``vmap(randomness="different")``, a different random
stream from the global one ``train`` uses (neither is seeded per candidate), and float
rounding differs slightly (batched matmuls sum in another order).
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad_and_value, vjp

from openbrains.engine.compile import Brain, compile_graph
from openbrains.engine.errors import GraphError
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.base import DatasetTask, Split
from openbrains.engine.train import genes, mixup
from openbrains.engine.train.augment import ShiftSpec, shift_by, shift_specs, variant_of
from openbrains.engine.train.trainer import (
    DIVERGED_LOSS,
    Budget,
    TrainResult,
    asks_about_mixes,
    evaluate,
    lr_factor,
    make_optimizer,
)

if TYPE_CHECKING:
    from openbrains.engine.teachers.roles.distill import Taught

Tensors = dict[str, torch.Tensor]

# Units whose module cannot be run functionally over stacked weights, and why. Every
# other unit of the built-in catalog was checked under vmap (gradients equal to a single
# model's, tests/engine/test_batched.py); plugin units are refused until someone checks.
EXCLUDED_UNITS: dict[str, str] = {
    "hebbian": (
        "updates its own weight buffer inside forward (rebinds self.weight and branches on "
        "torch.isfinite(...).all()), which functional_call cannot hand back and vmap cannot "
        "trace (data-dependent control flow)"
    ),
}

CHECKED_UNITS: frozenset[str] = frozenset(
    {
        "activation",
        "attention",
        "batchnorm",  # running statistics are stacked constants, updated in place per model
        "cfc",
        "concat",
        "conv1d",
        "conv2d",
        "dwconv2d",
        "dense",
        "dropout",  # per-model masks via vmap(randomness="different")
        "embedding",
        "flatten",
        "gate",
        "gru",
        "hopfield",
        "input",
        "kan",
        "layernorm",
        "lif",
        "local_dense",  # its local loss rides a custom autograd.Function with a vmap rule;
        # forward-forward negatives are per-model shuffles (randomness="different")
        "lstm",
        "mamba",
        "moe",
        "output",
        "pool",
        "reservoir",
        "residual",
        "rmsnorm",
        "rwkv",
        "sepconv2d",
        "ssm",
        "sum",
    }
)

# Correct under vmap but through torch's per-model fallback loop (no batching rule in
# torch 2.13 CPU), so they gain little or nothing; should_batch's measurement sees that.
SLOW_UNDER_VMAP: dict[str, str] = {
    "attention": "aten::_scaled_dot_product_flash_attention_for_cpu (+ backward)",
    "lstm": "aten::mkldnn_rnn_layer",
    "embedding": "aten::clamp_",
    "time resize (adaptive_avg_pool1d on wires/outputs)": "aten::as_strided_",
}

# Units whose aten op (aten::gru.input, aten::lstm.input) has no batching rule and no usable
# fallback (TensorList arguments): under a bare vmap they raise. Inside a torch.func
# transform they are decomposed into batchable ops first, so their graphs run the vmapped
# forward under ``vjp`` (the ordinary autograd outside still records it).
DECOMPOSE_UNITS = frozenset({"gru", "lstm"})

# Units that batch alone but not beside a DECOMPOSE_UNITS one, whose forward runs under vjp.
NOT_UNDER_VJP: dict[str, str] = {
    "batchnorm": (
        "with a gru/lstm in the graph the forward runs under vjp, where its running "
        "statistics can be neither an input (not differentiable) nor captured (updated in place)"
    ),
}

GRADIENTS = ("autograd", "vmap_grad")
DEFAULT_GRADIENTS = "autograd"  # measured faster on CPU (bench/batched.py)
SPEEDUP_NEEDED = 1.25  # batched must beat one-by-one by this much to be worth it
SLOW_STEP_S = 0.05  # a single step this slow is a model too big for batching to help
_FALLBACK_NOTE = "There is a performance drop because we have not yet implemented"
_EVAL_EXAMPLES = 4096  # examples x models per vmapped evaluation chunk


def batchable(graph: Graph) -> bool:
    """True when every node's unit runs correctly under ``functional_call`` + ``vmap``."""
    return not unbatchable_reasons(graph)


def unbatchable_reasons(graph: Graph) -> dict[str, str]:
    """uid → why that node keeps the graph out of batched training (empty when batchable)."""
    out = {}
    for uid, node in graph.nodes.items():
        if node.unit in EXCLUDED_UNITS:
            out[uid] = f"{node.unit}: {EXCLUDED_UNITS[node.unit]}"
        elif node.unit not in CHECKED_UNITS:
            out[uid] = f"{node.unit}: not checked under vmap (plugin or new unit)"
    if any(n.unit in DECOMPOSE_UNITS for n in graph.nodes.values()):
        for uid, node in graph.nodes.items():
            if node.unit in NOT_UNDER_VJP:
                out[uid] = f"{node.unit}: {NOT_UNDER_VJP[node.unit]}"
    return out


# ----- layout: K weight sets as one flat buffer plus stacked constants ----------------------
@dataclass
class _Layout:
    """Where each tensor of the brain lives: trainable parameters, then frozen parameters and
    buffers (constants), with their module keys (for ``functional_call``) and gene keys."""

    brain: Brain
    trainable: list[tuple[str, str, tuple[int, ...]]]  # (module key, gene key, shape)
    constant: list[tuple[str, str]]  # (module key, gene key)
    gene_order: list[str]

    @classmethod
    def of(cls, brain: Brain) -> _Layout:
        trainable, constant, gene_order = [], [], []
        grads = {name: p.requires_grad for name, p in brain.core.named_parameters()}
        for key, tensor in brain.core.state_dict().items():
            gene = _gene_key(key)
            gene_order.append(gene)
            if grads.get(key, False) and tensor.is_floating_point():
                trainable.append((f"core.{key}", gene, tuple(tensor.shape)))
            else:
                constant.append((f"core.{key}", gene))
        return cls(brain, trainable, constant, gene_order)

    def stack(self, starts: Sequence[dict[str, torch.Tensor]]) -> _Stack:
        own = dict(zip(self.gene_order, self.brain.core.state_dict().values()))
        for i, start in enumerate(starts):
            missing = sorted(set(own) - set(start))
            unexpected = sorted(set(start) - set(own))
            bad = [k for k in own if k in start and tuple(start[k].shape) != tuple(own[k].shape)]
            if missing or unexpected or bad:
                raise GraphError(
                    f"starting weights {i} do not fit the graph: missing {missing[:5]}, "
                    f"unexpected {unexpected[:5]}, wrong shapes {bad[:5]}"
                )
        return _Stack(self, starts)


class _Stack:
    """K weight sets. Trainable parameters live in one flat buffer, block by block, each
    block a contiguous ``[K, *shape]`` tensor: the optimiser is then a handful of ops on one
    tensor whatever the graph, and each block is a leaf for autograd with a dense gradient
    (splitting columns of a ``[K, P]`` matrix instead cost a slow strided ``cat`` in the
    backward pass). Frozen parameters and buffers are stacked ``[K, ...]`` constants."""

    def __init__(self, layout: _Layout, starts: Sequence[dict[str, torch.Tensor]]) -> None:
        self.layout = layout
        self.k = k = len(starts)
        self.sizes = [k * math.prod(shape) for _m, _g, shape in layout.trainable]
        dtype = next((p.dtype for p in layout.brain.parameters()), torch.get_default_dtype())
        self.flat = torch.empty(sum(self.sizes), dtype=dtype)
        self.params: dict[str, torch.Tensor] = {}
        for (mod, gene, shape), block in zip(
            layout.trainable, torch.split(self.flat, self.sizes) if self.sizes else ()
        ):
            view = block.view(k, *shape)
            view.copy_(torch.stack([s[gene].detach() for s in starts]))
            self.params[mod] = view.requires_grad_(True)
        self.consts = {
            mod: torch.stack([s[gene].detach() for s in starts]).clone()
            for mod, gene in layout.constant
        }

    @property
    def width(self) -> int:
        return self.flat.numel()

    def per_element(self, values: torch.Tensor) -> torch.Tensor:
        """A ``[K]`` tensor spread over the flat buffer (one value per model per element)."""
        return torch.cat(
            [values.repeat_interleave(n // self.k) for n in self.sizes]
            if self.sizes
            else [values[:0]]
        )

    def flat_grad(self, grads: Sequence[torch.Tensor | None]) -> torch.Tensor:
        return torch.cat(
            [
                (g if g is not None else torch.zeros_like(p)).reshape(-1)
                for g, p in zip(grads, self.params.values())
            ]
        )

    def select(self, rows: list[int]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        index = torch.tensor(rows)
        params = {m: p.detach()[index] for m, p in self.params.items()}
        return params, {m: v[index] for m, v in self.consts.items()}

    def row_finite(self, row: int) -> bool:
        tensors = [p.detach()[row] for p in self.params.values()]
        tensors += [v[row] for v in self.consts.values() if v.is_floating_point()]
        return all(bool(torch.isfinite(t).all()) for t in tensors)

    def weights(self, row: int) -> dict[str, torch.Tensor]:
        """One model's weights, keyed and ordered like ``Brain.weights()``."""
        by_gene = {
            gene: self.params[mod].detach()[row].clone() for mod, gene, _s in self.layout.trainable
        }
        by_gene.update({gene: self.consts[mod][row].clone() for mod, gene in self.layout.constant})
        return {g: by_gene[g] for g in self.layout.gene_order}


def _gene_key(module_key: str) -> str:
    kind, name, rest = module_key.split(".", 2)
    return f"{'node' if kind == 'nodes' else 'edge'}/{name[2:]}/{rest}"


# ----- the functional optimisers -----------------------------------------------------------
class _Optimizer:
    """Adam, AdamW (weight decay 1e-2) and SGD with Nesterov momentum 0.9, as ``train``
    configures them, over the flat buffer with a per-model learning rate. Models switched
    off by ``freeze`` are left untouched (``torch.where``, so their NaNs cannot leak)."""

    BETAS = (0.9, 0.999)
    EPS = 1e-8
    WEIGHT_DECAY = 1e-2
    MOMENTUM = 0.9

    def __init__(self, kind: str, lrs: Sequence[float], stack: _Stack) -> None:
        self.kind = kind
        self.stack = stack
        self.lr = stack.per_element(torch.tensor([float(x) for x in lrs]))
        self.t = 0
        self.m = torch.zeros_like(stack.flat)
        self.v = torch.zeros_like(stack.flat) if kind != "sgd" else None
        self.mask: torch.Tensor | None = None  # None: every model active

    def freeze(self, active: Sequence[bool]) -> None:
        self.mask = self.stack.per_element(torch.tensor(list(active), dtype=torch.bool))

    @torch.no_grad()
    def step(self, g: torch.Tensor, factor: float = 1.0) -> None:
        """One update; ``factor`` scales every model's learning rate (the schedule)."""
        flat = self.stack.flat
        self.t += 1
        lr = self.lr if factor == 1.0 else self.lr * factor
        if self.kind == "sgd":
            self.m.mul_(self.MOMENTUM).add_(g)
            upd = (g + self.MOMENTUM * self.m).mul_(lr)
        else:
            b1, b2 = self.BETAS
            assert self.v is not None
            self.m.lerp_(g, 1 - b1)
            self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
            bc1 = 1 - b1**self.t
            bc2_sqrt = math.sqrt(1 - b2**self.t)
            denom = (self.v.sqrt() / bc2_sqrt).add_(self.EPS)
            upd = (self.m / denom).mul_(lr / bc1)
            if self.kind == "adamw":
                upd.addcmul_(flat, lr, value=self.WEIGHT_DECAY)
        if self.mask is not None:
            upd = torch.where(self.mask, upd, 0.0)
        flat.sub_(upd)


# ----- data: per-model order and augmentation, gathered in one go ---------------------------
class _Feeder:
    """Batches for K models: each model's example order, shift offsets and (``mixing``, a
    distilling group asking its teacher about mixes) mixes come from its own generator, in
    exactly the sequence ``train`` draws them."""

    def __init__(
        self,
        task: DatasetTask,
        names: list[str],
        batch: int,
        seeds: Sequence[int],
        mixing: bool = False,
    ):
        self.data = task.train
        self.mixing = mixing
        self.mixes: list[mixup.Mix] | None = None
        self.names = names
        self.n = len(self.data)
        self.batch = batch
        self.gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.shifts = shift_specs(task)
        self.orders = self._shuffle()
        self.pos = 0

    def _shuffle(self) -> torch.Tensor:
        return torch.stack([torch.randperm(self.n, generator=g) for g in self.gens])

    def next(self) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The next batch of every model: inputs ``[K, B, ...]`` and targets ``[K, B, ...]``
        (``index`` and ``views`` then hold where its examples are in the training split and
        which shift each got, for a distilling teacher's targets; ``mixes`` how each batch
        was mixed, when mixing; the targets are the examples' own)."""
        if self.pos + self.batch > self.n:
            self.orders, self.pos = self._shuffle(), 0
        idx = self.orders[:, self.pos : self.pos + self.batch]  # [K, B]
        self.pos += self.batch
        self.index = idx
        self.views: dict[str, torch.Tensor] = {}
        inputs = {name: self.data.inputs[name][idx] for name in self.names}
        for name, spec in self.shifts.items():  # every shifted input draws, as in ``train``
            inputs[name] = self._shift(inputs.get(name, self.data.inputs[name][idx]), spec, name)
        if self.mixing:
            self.mixes = [mixup.draw(self.batch, g) for g in self.gens]
            inputs = {name: mixup.mixed_stack(x, self.mixes) for name, x in inputs.items()}
        self.inputs = inputs
        return [inputs[n] for n in self.names], self.data.target[idx]

    def _shift(self, x: torch.Tensor, s: ShiftSpec, name: str) -> torch.Tensor:
        """``augment.random_shift`` for all K batches at once: the same draws from each
        model's generator (one call of 2·B values is the same stream as ``train``'s two
        calls of B, oy then ox), the same pixels moved."""
        k, b = x.shape[:2]
        span = 2 * s.pixels + 1
        draws = torch.stack([torch.randint(0, span, (2 * b,), generator=g) for g in self.gens])
        oy, ox = draws[:, :b].reshape(-1), draws[:, b:].reshape(-1)
        self.views[name] = variant_of(s, oy, ox).view(k, b)
        return shift_by(x.reshape(k * b, *x.shape[2:]), s, oy, ox).view(x.shape)


P = ParamSpec("P")
R = TypeVar("R")


def _quiet(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` without torch's "no batching rule, performance drop" notes: they are known
    and listed in SLOW_UNDER_VMAP, and the measurement in ``should_batch`` accounts for them."""

    @functools.wraps(fn)
    def quiet(*args: P.args, **kwargs: P.kwargs) -> R:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_FALLBACK_NOTE)
            return fn(*args, **kwargs)

    return quiet


# ----- the batched step -------------------------------------------------------------------
def _first(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def stacked_loss(
    task: DatasetTask, out: torch.Tensor, target: torch.Tensor, smoothing: float = 0.0
) -> torch.Tensor:
    """``task.loss`` of K models at once: ``out [K, B, ...]``, ``target [K, B, ...]`` → ``[K]``.

    Computed outside vmap on the stacked outputs: cross-entropy under vmap goes through a
    Python decomposition that cost more than the whole forward pass of a small MLP.
    """
    k = out.shape[0]
    if task.kind == "classification":
        logits = out[:, :, -1, :]
        per = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            target.reshape(-1),
            reduction="none",
            label_smoothing=smoothing,
        )
    elif task.kind == "regression":
        per = F.mse_loss(out[:, :, -1, :], target, reduction="none")
    elif task.kind == "completion":
        per = F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1), reduction="none")
        scored = target.reshape(k, -1) != -100  # -100: not scored (call-and-response prompts)
        if not bool(scored.all()):  # mean over scored targets only, as task.loss does
            return per.reshape(k, -1).sum(1) / scored.sum(1).clamp_min(1)
    else:
        return torch.vmap(lambda o, t: task.loss(o, t, smoothing))(out, target)
    return per.reshape(k, -1).mean(1)


def stacked_distill_loss(
    logits: torch.Tensor,
    teacher_logp: torch.Tensor,
    task_losses: torch.Tensor,
    alpha: float,
    temperature: float,
) -> torch.Tensor:
    """``distill_loss`` of K models at once: ``logits [K, B, C]``, the teacher's
    log-probabilities ``[K, B, C]`` (NaN rows: no answer), task losses ``[K]`` → ``[K]``.
    Each model's value is what ``distill_loss`` gives it alone: the soft term sums over the
    answered rows and divides by the whole batch (the mean over answered rows times their
    share), and a model whose batch has no answered row keeps its task loss."""
    t, a = float(temperature), float(alpha)
    answered = torch.isfinite(teacher_logp).all(dim=-1)  # [K, B]
    safe = torch.where(answered[..., None], teacher_logp, torch.zeros_like(teacher_logp))
    p_t = torch.softmax(safe / t, dim=-1)
    log_q_t = F.log_softmax(logits / t, dim=-1)
    rows = (torch.xlogy(p_t, p_t) - p_t * log_q_t).sum(-1)
    kl = torch.where(answered, rows, torch.zeros_like(rows)).sum(1) / logits.shape[1]
    mixed = a * t * t * kl + (1.0 - a) * task_losses
    return torch.where(answered.any(dim=1), mixed, task_losses)


class _Distiller:
    """A distilling task's soft targets for K batches (``Split.soft`` rows, or a brain
    teacher's belief about each shifted view or each mix) and the group's genes."""

    def __init__(self, task: DatasetTask, taught: Taught) -> None:
        self.task, self.alpha, self.temperature = task, taught.alpha, taught.temperature
        self.shifts = shift_specs(task)
        self.mixup = asks_about_mixes(task, taught)

    def targets(self, feed: _Feeder) -> torch.Tensor | None:
        idx = feed.index  # [K, B]
        k, b = idx.shape
        teacher = self.task.teacher
        if teacher is not None:
            inputs = {n: x.reshape(k * b, *x.shape[2:]) for n, x in feed.inputs.items()}
            if feed.mixes is not None:
                return teacher(inputs).reshape(k, b, -1)
            views = {n: v.reshape(-1) for n, v in feed.views.items()}
            flat = teacher.targets(self.task.train, idx.reshape(-1), views, self.shifts, inputs)
            return flat.reshape(k, b, -1)
        soft = self.task.train.soft
        return soft[idx] if soft is not None else None

    def __call__(self, out: torch.Tensor, task_losses: torch.Tensor, feed: _Feeder) -> torch.Tensor:
        soft = self.targets(feed)
        if soft is None:
            return task_losses
        return stacked_distill_loss(
            out[:, :, -1, :], soft, task_losses, self.alpha, self.temperature
        )


def distilling(task: DatasetTask) -> bool:
    """Whether ``task`` carries a teacher's soft targets (``engine.train.trainer.distiller``
    trains on them)."""
    return task.kind == "classification" and (
        task.teacher is not None or task.train.soft is not None
    )


def _forward_of(brain: Brain, in_vmap: bool = False) -> Callable[..., torch.Tensor]:
    """``(params, consts, inputs) → first output`` of ``brain`` with the given tensors.

    ``tie_weights=False``: brains never share a tensor between two keys, and the tie check
    was a tenth of a small model's batched step. With ``in_vmap`` and a GRU/LSTM in the
    graph, the call runs under ``vjp`` so those ops are decomposed (``DECOMPOSE_UNITS``).
    """

    def forward(params: Tensors, consts: Tensors, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        out = functional_call(brain, {**params, **consts}, tuple(xs), tie_weights=False)
        return _first(out)

    if not in_vmap or not any(n.unit in DECOMPOSE_UNITS for n in brain.graph.nodes.values()):
        return forward

    def decomposed(params: Tensors, consts: Tensors, xs: Sequence[torch.Tensor]) -> torch.Tensor:
        out, _pullback = vjp(lambda p, c: forward(p, c, xs), params, consts)
        return out

    return decomposed


class _Stepper:
    """Losses ``[K]`` and the flat gradient of one batched step.

    ``autograd``: vmap the forward only, loss on the stacked outputs, one ordinary backward
    pass (each model's gradient depends on its own loss only, so the sum's gradient is every
    model's own). ``vmap_grad``: ``vmap(grad_and_value(...))``, the loss inside vmap.
    """

    def __init__(
        self,
        stack: _Stack,
        task: DatasetTask,
        gradients: str,
        smoothing: float = 0.0,
        distill: _Distiller | None = None,
    ) -> None:
        if gradients not in GRADIENTS:
            raise ValueError(f"gradients must be one of {GRADIENTS}, not {gradients!r}")
        self.stack, self.task, self.gradients = stack, task, gradients
        self.smoothing = smoothing
        self.distill = distill
        brain = stack.layout.brain
        forward = _forward_of(brain)

        def loss(
            params: Tensors, consts: Tensors, xs: Sequence[torch.Tensor], target: torch.Tensor
        ) -> torch.Tensor:
            return task.loss(forward(params, consts, xs), target, smoothing)

        self._forward = torch.vmap(_forward_of(brain, in_vmap=True), randomness="different")
        self._grads = torch.vmap(grad_and_value(loss), randomness="different")

    def __call__(
        self, xs: list[torch.Tensor], target: torch.Tensor, feed: _Feeder | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Losses and gradient of the batch ``xs``/``target`` (``feed``: where it came
        from, which a distilling group needs for its teacher's targets; a distilling group
        always takes the autograd path, its loss being outside vmap)."""
        params, consts = self.stack.params, self.stack.consts
        distill = self.distill if feed is not None else None
        if self.gradients == "vmap_grad" and distill is None:
            detached = {m: p.detach() for m, p in params.items()}
            grads, losses = self._grads(detached, consts, xs, target)
            return losses.detach(), self.stack.flat_grad(list(grads.values()))
        out = self._forward(params, consts, xs)
        if feed is not None and feed.mixes is not None:
            losses = mixup.mixed_stack_loss(
                lambda t: stacked_loss(self.task, out, t, self.smoothing), target, feed.mixes
            )
        else:
            losses = stacked_loss(self.task, out, target, self.smoothing)
        if distill is not None:
            losses = distill(out, losses, feed)  # type: ignore[arg-type]
        grads = torch.autograd.grad(losses.sum(), list(params.values()), allow_unused=True)
        return losses.detach(), self.stack.flat_grad(grads)


# ----- public API -----------------------------------------------------------------------------
def train_siblings(
    graph: Graph,
    starts: list[dict[str, torch.Tensor]],
    hparams: list[dict[str, Any]],
    task: DatasetTask,
    budget: Budget,
    seeds: list[int],
    on_step: Callable[[], None] | None = None,
    measure_test: bool = True,
    gradients: str = DEFAULT_GRADIENTS,
) -> list[tuple[TrainResult, dict[str, torch.Tensor]]]:
    """Train K candidates of ``graph`` together; returns ``(result, weights)`` per candidate.

    Candidates are grouped by their genes other than the learning rate (optimiser, batch
    size, schedule, label smoothing) and each group runs as one vmapped
    loop with per-model learning rates; ``budget`` applies to each group as it would to
    each candidate alone (so ``seconds`` is wall time shared by the group, and each
    result's ``seconds`` is that shared time up to when the candidate stopped).
    ``on_step`` runs after every batched step. Weights of a diverged candidate are those it
    had when it diverged (``train`` leaves a brain the same way).
    """
    k = len(starts)
    if not (len(hparams) == len(seeds) == k):
        raise ValueError(
            f"need one hparams dict and one seed per start: {k} starts, "
            f"{len(hparams)} hparams, {len(seeds)} seeds"
        )
    if not batchable(graph):
        raise GraphError(
            "graph cannot be trained batched: " + "; ".join(unbatchable_reasons(graph).values())
        )
    if not k:
        return []
    brain = compile_graph(graph, seed=int(seeds[0]))
    layout = _Layout.of(brain)
    hs = [genes.resolve(h) for h in hparams]
    n = len(task.train)
    soft = distilling(task)
    if soft:
        from openbrains.engine.teachers.roles.distill import genes_of
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, h in enumerate(hs):
        batch = max(1, min(int(h["batch_size"]), n))
        taught = genes_of(h) if soft else None
        rule = (
            str(h["optimizer"]),
            batch,
            str(h["schedule"]),
            float(h["label_smoothing"]),
            taught,
        )
        groups.setdefault(rule, []).append(i)
    out: list[Any] = [None] * k
    for (kind, batch, schedule, smoothing, taught), members in groups.items():
        done = _train_group(
            layout,
            [starts[i] for i in members],
            (kind, schedule, smoothing, taught),
            [float(hs[i]["lr"]) for i in members],
            batch,
            task,
            budget,
            [int(seeds[i]) for i in members],
            on_step,
            measure_test,
            gradients,
        )
        for i, item in zip(members, done):
            out[i] = item
    return out


@_quiet
def _train_group(
    layout: _Layout,
    starts: list[dict[str, torch.Tensor]],
    rule: tuple[str, str, float, Taught | None],
    lrs: list[float],
    batch: int,
    task: DatasetTask,
    budget: Budget,
    seeds: list[int],
    on_step: Callable[[], None] | None,
    measure_test: bool,
    gradients: str,
) -> list[tuple[TrainResult, dict[str, torch.Tensor]]]:
    k = len(starts)
    brain = layout.brain
    stack = layout.stack(starts)
    results = [TrainResult() for _ in range(k)]
    active = [True] * k
    smoothed: list[float] = [0.0] * k
    start = time.perf_counter()
    stopped = [0.0] * k
    kind, schedule, smoothing, taught = rule
    if stack.width:
        opt = _Optimizer(kind, lrs, stack)
        distill = _Distiller(task, taught) if taught is not None else None
        step = _Stepper(stack, task, gradients, smoothing, distill)
        mixing = distill is not None and distill.mixup
        feed = _Feeder(task, brain.input_names, batch, seeds, mixing)
        brain.train()
        steps = 0
        while True:
            elapsed = time.perf_counter() - start
            if budget.steps is not None and steps >= budget.steps:
                break
            if budget.seconds is not None and elapsed >= budget.seconds:
                break
            factor = lr_factor(schedule, budget, steps, elapsed)
            xs, target = feed.next()
            losses, g = step(xs, target, feed)
            values = losses.tolist()
            newly = [
                i
                for i, v in enumerate(values)
                if active[i] and (not math.isfinite(v) or v > DIVERGED_LOSS)
            ]
            for i in newly:
                active[i] = False
                stopped[i] = time.perf_counter() - start
                results[i].diverged = True
                results[i].reason = f"loss became {values[i]} at step {results[i].steps}"
            if not any(active):
                break
            if newly:
                opt.freeze(active)
            opt.step(g, factor)
            steps += 1
            for i, value in enumerate(values):
                if active[i]:
                    r = results[i]
                    r.steps += 1
                    smoothed[i] = value if r.steps == 1 else 0.9 * smoothed[i] + 0.1 * value
                    if r.steps % 10 == 1:
                        r.curve.append((r.steps, smoothed[i]))
            if on_step is not None:
                on_step()
    end = time.perf_counter() - start
    for i, r in enumerate(results):
        r.seconds = stopped[i] if r.diverged else end
        if not r.diverged and not stack.row_finite(i):
            r.diverged, r.reason = True, "weights became non-finite"
        if r.diverged:
            r.val = {"loss": math.inf, task.metric: task.worst_metric}
            r.test = dict(r.val)
    weights = [stack.weights(i) for i in range(k)]
    for i, r in enumerate(results):
        if not r.diverged:  # one by one: measured faster than a vmapped evaluation
            brain.load_weights(weights[i])
            r.val = evaluate(brain, task, task.val)
            if measure_test:
                r.test = evaluate(brain, task, task.test)
    return list(zip(results, weights))


@_quiet
@torch.no_grad()
def _evaluate_stacked(
    brain: Brain,
    params: dict[str, torch.Tensor],
    consts: dict[str, torch.Tensor],
    task: DatasetTask,
    split: Split,
) -> list[dict[str, float]]:
    """``trainer.evaluate`` for K models at once: one vmapped forward per chunk of examples,
    then the task's own per-model sums (so the numbers are those of ``evaluate``)."""
    k = next(iter({**params, **consts}.values())).shape[0] if params or consts else 1
    was = brain.training
    brain.eval()

    forward = _forward_of(brain, in_vmap=True)
    batched = torch.vmap(forward, in_dims=(0, 0, None), randomness="different")
    sums = [[0.0, 0.0] for _ in range(k)]
    count = 0
    chunk = max(32, _EVAL_EXAMPLES // k)
    try:
        for lo in range(0, len(split), chunk):
            part = split.take(slice(lo, lo + chunk))
            outs = batched(params, consts, [part.inputs[n] for n in brain.input_names])
            for j in range(k):
                loss, metric, c = task.metric_sums(outs[j], part.target)
                sums[j][0] += loss
                sums[j][1] += metric
            count += c
    finally:
        brain.train(was)
    out = []
    for loss_sum, metric_sum in sums:
        loss = loss_sum / max(count, 1)
        metric = (
            task.finish_metric(metric_sum, max(count, 1), split)
            if math.isfinite(loss)
            else task.worst_metric
        )
        out.append({"loss": loss, task.metric: metric})
    return out


def evaluate_siblings(
    graph: Graph,
    weights: list[dict[str, torch.Tensor]],
    task: DatasetTask,
    split: Split,
    vmapped: bool = False,
) -> list[dict[str, float]]:
    """Scores of K weight sets of ``graph`` on ``split``.

    One by one with ``trainer.evaluate`` by default: evaluation batches are large, so
    per-op overhead is already amortised and a vmapped forward was no faster for a small
    MLP and 3.6x slower for a small CNN on digits (bench/batched.py). ``vmapped=True`` runs
    one vmapped forward per chunk instead (same numbers up to float rounding).
    """
    brain = compile_graph(graph, seed=0)
    if not vmapped:
        out = []
        for w in weights:
            brain.load_weights(w)
            out.append(evaluate(brain, task, split))
        return out
    stack = _Layout.of(brain).stack(weights)
    params, consts = stack.select(list(range(len(weights))))
    return _evaluate_stacked(brain, params, consts, task, split)


# ----- when batching pays --------------------------------------------------------------------
_DECISIONS: dict[tuple[Any, ...], float] = {}


@_quiet
def measure_speedup(
    graph: Graph,
    k: int,
    task: DatasetTask,
    hparams: dict[str, Any] | None = None,
    steps: int = 5,
    gradients: str = DEFAULT_GRADIENTS,
) -> float:
    """Time of K single training steps (``train``'s own step: fused Adam, backward) over
    the time of one batched step for K models; > 1 means batching is faster.

    Median of ``steps`` timed steps after two warm-ups each. Returns 0.0 without timing the
    batched side when one single step already takes ``SLOW_STEP_S`` (a model that size gets
    nothing from batching, and measuring it would cost real time).
    """
    h = genes.resolve(hparams)
    brain = compile_graph(graph, seed=0)
    n = len(task.train)
    batch = max(1, min(int(h["batch_size"]), n))
    feed1 = _Feeder(task, brain.input_names, batch, [0])
    opt = make_optimizer(brain, h)
    if opt is None:
        return 0.0
    brain.train()

    def single() -> None:
        xs, target = feed1.next()
        loss = task.loss(_first(brain(*[x[0] for x in xs])), target[0])
        loss.item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    single_s = _median_time(single, steps)
    if single_s >= SLOW_STEP_S:
        return 0.0
    layout = _Layout.of(brain)
    stack = layout.stack([brain.weights()] * k)
    bopt = _Optimizer(h["optimizer"], [h["lr"]] * k, stack)
    stepper = _Stepper(stack, task, gradients)
    feed = _Feeder(task, brain.input_names, batch, list(range(k)))

    def batched() -> None:
        xs, target = feed.next()
        losses, g = stepper(xs, target)
        losses.tolist()
        bopt.step(g)

    batched_s = _median_time(batched, steps)
    return k * single_s / max(batched_s, 1e-9)


def _median_time(fn: Callable[[], None], reps: int) -> float:
    for _ in range(2):
        fn()
    times = []
    for _ in range(max(1, reps)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def should_batch(
    graph: Graph, k: int, task: DatasetTask, hparams: dict[str, Any] | None = None
) -> bool:
    """Whether K siblings of ``graph`` should go through ``train_siblings``.

    Refuses unbatchable graphs and K < 2; otherwise measures once per (structure, K, task,
    batch size, optimiser) and caches the answer: batch when ``measure_speedup`` is at
    least ``SPEEDUP_NEEDED`` (a margin over timing noise).
    """
    if k < 2 or not batchable(graph):
        return False
    h = genes.resolve(hparams)
    key = (graph.structure_hash(), k, task.name, len(task.train), h["batch_size"], h["optimizer"])
    if key not in _DECISIONS:
        _DECISIONS[key] = measure_speedup(graph, k, task, h)
    return _DECISIONS[key] >= SPEEDUP_NEEDED
