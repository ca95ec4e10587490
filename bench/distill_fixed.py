"""Distillation outside a search: one ≤ 1,000-parameter student architecture trained from
fresh weights on hard labels, with the run's distillation loss (the trainer's own path, at
two settings of α and T), and on a teacher's beliefs over a transfer set of new digit
images, at several step counts.

Why: ``bench/teacher.py`` compares searches, where the two arms' champions differ in
architecture and luck as well as in targets; here the architecture is fixed (the hard
search's champion) and only the targets and the training length change, over several
weight seeds. ``hard``, ``start``, ``mixes``, ``match`` and ``distill`` train as a run
does (``engine.train.trainer.train``: its schedule, label smoothing, shifts and the
teacher's table of beliefs about each shifted view, or for ``mixes`` its belief about each
mix of two views, asked on every batch); every student answers with views, as brains do.
``--labelled N`` gives the student only N of the 718 training labels (its teacher learnt
from all of them): a person's small corpus and someone's bigger brain. The transfer set is MNIST's training images drawn the way scikit-learn's
digits were (the digit's box scaled to 32×32, thresholded, on-pixels counted in 4×4
blocks, 0–16): images the 5k teacher never saw and the student has no labels for, as in
Hinton et al. 2015's transfer set.

    .venv/bin/python bench/distill_fixed.py --data ../shared/data/mnist [--run DIR]
        [--steps 1200,4000,10000] [--seeds 4] [--modes hard,start,mixes,match,distill,transfer]
        [--transfer 60000] [--labelled 50] [--jobs 2]

``--run DIR`` reuses a folder holding ``teacher.graph`` and a ``hard`` search; without it
the two 150-second searches of ``bench/teacher.py`` (seed ``--search-seed``, 2 by default:
the seed where distillation fell short) are made first.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.tasks.files import MNIST_FILES, read_idx

MODES = ("hard", "start", "mixes", "match", "distill", "transfer")
MODE_WHAT = {
    "hard": "hard labels (the task's own loss, label smoothing as the graph's gene says)",
    "start": "the run's loss at the α and T a distilling run starts its graphs with, the "
    "teacher asked about each shifted view",
    "mixes": "the same, the teacher asked about mixes of two views (function matching, "
    "what a distilling run starts with)",
    "match": "the teacher's beliefs about each shifted view alone",
    "distill": "the run's loss at a lower temperature than the start",
    "transfer": "the teacher's beliefs (KL at T 1) with half of each batch drawn from the "
    "transfer set (a loop of its own)",
}
# (α, T) of the modes that train through the run's trainer with the teacher's table
TAUGHT = {"match": (1.0, 1.0), "distill": (0.7, 1.0)}


def taught(mode: str) -> tuple[float, float, str] | None:
    """(α, T, what the teacher is asked about) a mode trains with, None for hard labels
    and the transfer loop's own."""
    if mode in ("start", "mixes"):
        from openbrains.engine.train import genes

        start = genes.distilling()
        inputs = "mixup" if mode == "mixes" else "views"
        return float(start["distill_alpha"]), float(start["distill_temperature"]), inputs
    alpha_t = TAUGHT.get(mode)
    return (*alpha_t, "views") if alpha_t else None


def digits_like(image: np.ndarray) -> np.ndarray:
    """One 28×28 MNIST image as a scikit-learn digit: its ink box scaled (aspect kept) to
    fill a 32×32 bitmap, thresholded at half intensity, on-pixels counted per 4×4 block
    and scaled to 0–1 as the digits task scales its 0–16."""
    ys, xs = np.nonzero(image > 40)
    if len(ys) == 0:
        return np.zeros(64, np.float32)
    crop = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = 32.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    canvas = np.zeros((32, 32), np.uint8)
    oy, ox = (32 - nh) // 2, (32 - nw) // 2
    canvas[oy : oy + nh, ox : ox + nw] = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_LINEAR)
    on = (canvas >= 128).astype(np.int32)
    return (on.reshape(8, 4, 8, 4).sum(axis=(1, 3)).reshape(64) / 16.0).astype(np.float32)


def transfer_set(data: Path, n: int) -> tuple[torch.Tensor, np.ndarray]:
    """The first ``n`` MNIST training images as digits-task inputs ``[n, 64, 1]``, with
    their MNIST labels (used only to report how often the teacher agrees with them)."""
    images = read_idx(data / f"{MNIST_FILES['train_images'][0]}.gz", 3)[:n]
    labels = read_idx(data / f"{MNIST_FILES['train_labels'][0]}.gz", 1)[:n]
    x = np.stack([digits_like(i) for i in images])
    return torch.from_numpy(x).unsqueeze(-1), labels.astype(np.int64)


@dataclass(frozen=True)
class Trial:
    """One student trained once: which folder, targets, length and weight seed."""

    run: str
    mode: str
    steps: int
    seed: int
    data: str
    transfer: int
    labelled: int = 0


def student_and_teacher(run: Path, labelled: int = 0) -> tuple[Any, Any, Any]:
    """The hard search's champion graph, the digits task (``labelled`` > 0: only that
    many training labels, ``digits labelled=N``) and the folder's teacher."""
    from openbrains.engine.graph import Graph
    from openbrains.engine.store import Archive
    from openbrains.engine.tasks.registry import load_task
    from openbrains.engine.teachers.roles.distill import OnlineTeacher

    archive = Archive(run / "hard", readonly=True)
    try:
        best = archive.best()
    finally:
        archive.close()
    task = load_task("digits", labelled=labelled)
    teacher = OnlineTeacher(f"graph:{run / 'teacher.graph'}", task.classes)
    return Graph.from_json(best.graph_json), task, teacher


def one_trial(trial: Trial) -> tuple[Trial, float, float]:
    """Validation and test accuracy of the student after ``trial.steps`` steps."""
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.train import genes
    from openbrains.engine.train.augment import random_offsets, shift_by, shift_specs
    from openbrains.engine.train.trainer import Budget, evaluate, lr_factor, make_optimizer, train

    torch.set_num_threads(1)
    graph, task, teacher = student_and_teacher(Path(trial.run), trial.labelled)
    brain = compile_graph(graph, task.inputs, task.outputs, seed=trial.seed)
    if trial.mode != "transfer":
        hparams = dict(graph.hparams)
        alpha_t = taught(trial.mode)
        if alpha_t is not None:
            task = dataclasses.replace(task, teacher=teacher)
            keys = ("distill_alpha", "distill_temperature", "distill_inputs")
            hparams.update(zip(keys, alpha_t))
        result = train(brain, task, Budget(steps=trial.steps), hparams, seed=trial.seed)
        return trial, result.val["accuracy"], result.test["accuracy"]
    extra = transfer_set(Path(trial.data), trial.transfer)[0]
    h = genes.resolve(dict(graph.hparams))
    opt = make_optimizer(brain, h)
    gen = torch.Generator().manual_seed(trial.seed)
    shifts = shift_specs(task)
    batch = int(h["batch_size"])
    borrowed = batch // 2
    budget = Budget(steps=trial.steps)
    brain.train()
    for step in range(trial.steps):
        for group in opt.param_groups:
            group["lr"] = float(h["lr"]) * lr_factor(str(h["schedule"]), budget, step, 0.0)
        x = task.train.take(torch.randint(0, len(task.train), (batch - borrowed,), generator=gen))
        x = x.inputs["image"]
        x = torch.cat([x, extra[torch.randint(0, len(extra), (borrowed,), generator=gen)]])
        for spec in shifts.values():
            oy, ox = random_offsets(len(x), spec, gen)
            x = shift_by(x, spec, oy, ox)
        with torch.no_grad():
            beliefs = torch.softmax(teacher({"image": x}), -1)
        out = brain(x)
        logits = (out[0] if isinstance(out, tuple) else out)[:, -1, :]
        loss = F.kl_div(F.log_softmax(logits, -1), beliefs, reduction="batchmean")
        opt.zero_grad()
        loss.backward()
        opt.step()
    brain.eval()
    return (
        trial,
        evaluate(brain, task, task.val)["accuracy"],
        evaluate(brain, task, task.test)["accuracy"],
    )


def _values(mode: str) -> str:
    """The α and T a mode trains with, for its description ("" where it has none)."""
    alpha_t = taught(mode)
    return f" (α {alpha_t[0]:g}, T {alpha_t[1]:g})" if alpha_t else ""


def make_run(folder: Path, seed: int) -> None:
    """The teacher (5k all-labels champion) and the hard ≤ 1k search of bench/teacher.py's
    seed ``seed``, 150 s each on one worker."""
    from bench.teacher import STUDENT_PARAMS, TEACHER_PARAMS, one, student_seed
    from openbrains.engine.export import export_individual

    args = argparse.Namespace(seconds=150.0, workers=1, seed=seed)
    _, every_dir, _ = one(folder, "all", {"name": "digits"}, args, max_params=TEACHER_PARAMS)
    export_individual(every_dir, None, folder / "teacher.graph")
    one(folder, "hard", {"name": "digits"}, args, max_params=STUDENT_PARAMS, seeds=[student_seed()])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="folder of the MNIST idx files")
    ap.add_argument("--run", help="a folder made by this script before (teacher.graph, hard/)")
    ap.add_argument("--search-seed", type=int, default=2, help="seed of the two searches")
    ap.add_argument("--steps", default="1200,4000,10000")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument(
        "--modes", default=",".join(MODES), help="which targets, of " + ", ".join(MODES)
    )
    ap.add_argument("--transfer", type=int, default=60_000)
    ap.add_argument(
        "--labelled",
        type=int,
        default=0,
        help="train the student on only this many labelled digits (the first of each class "
        "in turn, as bench/teacher.py's 50); the teacher learnt from all 718",
    )
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    if not modes or any(m not in MODES for m in modes):
        raise SystemExit(f"distill_fixed: --modes takes {', '.join(MODES)}")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp)
        if not args.run:
            make_run(run, args.search_seed)
        graph, task, teacher = student_and_teacher(run, args.labelled)
        x, labels = transfer_set(Path(args.data), args.transfer)
        with torch.no_grad():
            agree = float((teacher({"image": x}).argmax(-1).numpy() == labels).mean())
            teacher_acc = float(
                (teacher(task.test.inputs).argmax(-1) == task.test.target).float().mean()
            )
        trials = [
            Trial(
                str(run),
                mode,
                n,
                seed,
                str(Path(args.data).resolve()),
                args.transfer,
                args.labelled,
            )
            for n in steps
            for mode in modes
            for seed in range(args.seeds)
        ]
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            done = list(pool.map(one_trial, trials))
    from openbrains.engine.compile import compile_graph

    params = sum(p.numel() for p in compile_graph(graph, task.inputs, task.outputs).parameters())
    test: dict[tuple[str, int], list[float]] = {}
    for trial, _, accuracy in done:
        test.setdefault((trial.mode, trial.steps), []).append(accuracy)
    rows = ["| steps | " + " | ".join(modes) + " |", "|---:|" + "---:|" * len(modes)]
    for n in steps:
        cells = []
        for mode in modes:
            got = test[(mode, n)]
            cells.append(f"{statistics.mean(got):.4f} ({min(got):.4f}–{max(got):.4f})")
        rows.append(f"| {n:,} | " + " | ".join(cells) + " |")
    last = (
        " ".join(
            f"{mode}_{n}={statistics.mean(test[(mode, n)]):.4f}" for n in steps for mode in modes
        )
        + f" teacher={teacher_acc:.4f}"
    )
    body = (
        f"The hard search's {params:,}-parameter champion trained from fresh weights"
        + (f" on {args.labelled} labelled digits" if args.labelled else "")
        + ", "
        f"{args.seeds} weight seeds each (mean test accuracy, lowest–highest); targets: "
        + "; ".join(f"{m}: {MODE_WHAT[m]}" + _values(m) for m in modes)
        + f". Teacher test accuracy {teacher_acc:.4f}; it agrees with the MNIST labels of "
        f"{agree:.1%} of the {args.transfer:,} transfer images. {len(trials)} trainings in "
        f"{time.perf_counter() - t0:.0f} s on {args.jobs} processes.\n\n" + "\n".join(rows)
    )
    print(body)
    print(last)
    if not args.no_record:
        command = "python bench/distill_fixed.py " + " ".join(sys.argv[1:])
        record("distill-fixed", command, body, last)


if __name__ == "__main__":
    main()
