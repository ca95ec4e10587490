"""Teachers on digits: semi-supervised labels from a graph: teacher, and distillation into
a ≤ 1,000-parameter student, each beside searches of equal wall time without a teacher.

Semi-supervised: a search sees only 50 labelled training images (``digits labelled=50``,
five per class). The teacher (``--semi-teacher``, default ``spread``) uses those 50 labels
and the pixels of the other 668 training images, never their labels: labels spread over
the 25-nearest-neighbour graph of all 718 images (scikit-learn's LabelSpreading, α 0.8),
then an RBF SVC fitted on them and their one-pixel shifts (the task's own augmentation) to
answer any image. It is wrapped as an OpenAI-compatible server on loopback
(bench/svc_teacher.py): the run asks it as ``openai:svc@http://127.0.0.1:PORT/v1`` like
a vision model, one PNG per request. It labels the 668 images, written out as PNG files
like any folder of unlabelled pictures (``--teach label --unlabelled DIR``; labels under
the confidence bar are left out). The student search starts from the same 50 labels and
gets the teacher's labels as they come, for the same wall time as the 50-labels-only
search and the all-labels one; all three are bound to 5,000 parameters, so they differ in
their labels only. Validation (180 images) and test (899) are the task's own in every
search. The neighbour count was chosen by the teacher's validation accuracy (k 7 to 25:
0.867 to 0.911; every search selects on those 180 labels too); the SVC on the 50 alone
(``svc``, 0.79 of the pool right) and self-training (``self``) are the other choices.
(A champion of the 50-labels search as a ``graph:`` teacher was tried first: at 0.75
test it lifted the student by a third of the gap.)

Distillation: the all-labels search runs with ``--max-params 5000``; its champion is the
teacher, a bigger brain that learnt from all 718 labels (someone's shared brain). The
students are the person's: two ≤ 1,000-parameter searches of equal wall time
(``--student-seconds``, the same as ``--seconds`` unless given) on the same 50 labelled
images as the semi-supervised searches, one on hard labels, one with ``--teach distill``
(α·T²·KL + (1 − α)·CE; α, T and what the teacher is asked about are genes, and a
distilling run starts by asking it about mixes of two views: function matching,
engine/train/mixup.py). Why 50 labels (docs/decisions.md, Teachers, session 29): a student
given all 718 labels learns from the very images its teacher did, and a ≤ 1,000-parameter
net on hard labels then ends within its weight seed's spread (0.44 points) of the
teacher; no teacher, loss or length closed half that gap (sessions 25–27). A small corpus
and a brain that learnt from more is the case a teacher is for (Hinton et al. 2015, §5:
soft targets on 3 % of the data). ``--student-seconds`` lets the two student searches
train longer than the others.

Goals: distill_acc closes at least half the gap from hard_acc to teacher_acc, and semi_acc
at least half the gap from fifty_acc to all_acc. Accuracies are test accuracies of each
search's champion (chosen by validation) at the end of its time. The searches make no
refits (README, Using it): a refit learns from the validation labels too, which would give
the 50-label searches 230.

    .venv/bin/python bench/teacher.py [--seconds 90] [--workers 1] [--semi-teacher spread]
        [--student-seconds 300] [--seeds 0,1,2,3 --jobs 2] [--no-record]

With ``--seeds`` each seed runs in its own process (``--jobs`` at a time) and the last line
holds the medians over seeds; each seed's table and gap closures are printed too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np

from bench.common import search
from bench.record import record
from bench.svc_teacher import SvcServer, fit_svc
from openbrains.engine.export import export_individual
from openbrains.engine.run import RunSettings
from openbrains.engine.tasks.builtin import first_per_class
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.teachers.work import TeacherOrder

FIFTY = 50
STUDENT_PARAMS = 1000
TEACHER_PARAMS = 5000
# rung-0 steps of every search: the all-labels default. A 50-label task alone would get 100
# (sized from its own data), too few once the teacher's labels have joined it.
STEPS = 400


def unlabelled_folder(folder: Path) -> int:
    """The digits training images that are not among the 50 labelled ones, as 8×8 PNGs
    (0–16 scaled to 0–255), with no hint of their class in the name."""
    full = load_task("digits")
    x = full.train.inputs["image"][:, :, 0].numpy()
    keep = set(first_per_class(full.train.target.numpy(), FIFTY).tolist())
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for i in range(len(x)):
        if i in keep:
            continue
        img = np.clip(np.round(x[i].reshape(8, 8) * 255.0), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f"{i:04d}.png"), img)
        n += 1
    return n


TEACHERS = ("svc", "self", "spread")
TEACHER_WHAT = {
    "svc": "an RBF SVC fitted on the 50 labels and their shifts",
    "self": "that SVC refitted four times on its own labels of the pool from 0.6 confidence",
    "spread": "labels spread over the 25-nearest-neighbour graph of the 50 and the pool, "
    "then an RBF SVC fitted on them and their shifts",
}


def semi_teacher(kind: str) -> tuple[Any, dict[str, float]]:
    """The semi-supervised teacher: an SVC fitted on the 50 labelled images and their
    shifts (``svc``), the same refitted on its own confident labels of the unlabelled
    pool (``self``), or fitted on labels spread over the pool's neighbour graph
    (``spread``). It sees the 50 labels and the pool's pixels, never the pool's labels.
    Returned with its accuracy on the pool (the labels it will give, scored with the
    hidden truth: a report, never an input) and on validation and test."""
    from bench.svc_teacher import self_trained, spread

    full = load_task("digits")
    x = full.train.inputs["image"][:, :, 0].numpy()
    y = full.train.target.numpy()
    keep = first_per_class(y, FIFTY)
    rest = np.setdiff1d(np.arange(len(x)), keep)
    fit = {
        "svc": lambda: fit_svc(x[keep], y[keep]),
        "self": lambda: self_trained(x[keep], y[keep], x[rest]),
        "spread": lambda: spread(x[keep], y[keep], x[rest]),
    }[kind]
    model = fit()
    scores = {"pool": float(model.score(x[rest], y[rest]))}
    for split in ("val", "test"):
        part = getattr(full, split)
        scores[split] = float(model.score(part.inputs["image"][:, :, 0].numpy(), part.target))
    return model, scores


def student_seed() -> str:
    """The ≤ 1,000-parameter students' starting graph: two conv blocks of 8 and 6 (796
    parameters, about 0.93 on hard labels). Both student searches start here, so their
    first candidates differ in their targets only (the run's own templates, shrunk to
    the bound, follow)."""
    import random

    from openbrains.engine.evolve.random import add_io
    from openbrains.engine.graph import Graph

    task = load_task("digits")
    rng = random.Random(0)
    graph = Graph()
    ins, outs = add_io(graph, task.inputs, task.outputs, rng)
    prev = ins[0]
    for unit, params in (
        ("conv2d", {"width": 8, "kernel": 3}),
        ("batchnorm", {}),
        ("pool", {"kind": "max", "size": 2}),
        ("conv2d", {"width": 6, "kernel": 3}),
        ("batchnorm", {}),
        ("pool", {"kind": "max", "size": 2}),
        ("flatten", {}),
    ):
        node = graph.add_node(unit, params, rng=rng)
        graph.connect(prev, node.uid, rng=rng)
        prev = node.uid
    graph.connect(prev, outs[0], rng=rng)
    graph.hparams = {"lr": 3e-3, "batch_size": 32, "optimizer": "adam", "label_smoothing": 0.1}
    return graph.to_json().decode()


def one(
    tmp: Path,
    name: str,
    task: dict[str, Any],
    args: argparse.Namespace,
    max_params: int = 0,
    teacher: TeacherOrder | None = None,
    seeds: list[str] | None = None,
    seconds: float | None = None,
) -> tuple[dict[str, Any], Path, int]:
    """One search for ``seconds`` (``args.seconds`` unless given): its champion's summary,
    run folder and births."""
    run_dir = tmp / name
    settings = RunSettings(
        task=task,
        seed=args.seed,
        workers=args.workers,
        max_params=max_params,
        budget_steps=STEPS,
        seeds=list(seeds or []),
        # no refits: a refit trains on the 180 validation labels too, so the 50-label
        # searches would learn from 230 labels and the comparison would be another one
        refit=False,
    )
    t0 = time.perf_counter()
    timeline = search(run_dir, settings, seconds or args.seconds, teacher=teacher)
    champ = champion(run_dir)
    print(
        f"{name}: test {champ['test_score']:.4f} (validation {champ['score']:.4f}), "
        f"{champ['params']:,} params, {len(timeline.births)} individuals, "
        f"{time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    return champ, run_dir, len(timeline.births)


def champion(run_dir: Path) -> dict[str, Any]:
    """The run's champion as it stands at the end (recordings rescore the living, so the
    last "champion" event may be out of date)."""
    from openbrains.engine.store import Archive

    archive = Archive(run_dir, readonly=True)
    try:
        best = archive.best()
    finally:
        archive.close()
    if best is None:
        return {"test_score": 0.0, "score": 0.0, "params": 0}
    return {"test_score": best.test_metric, "score": best.val_metric, "params": best.params}


def teacher_stats(run_dir: Path) -> str:
    """How many of the teacher's labels the student's run took in, and how many were right
    (the files are named by their index in the training split)."""
    from openbrains.engine.store import Archive

    truth = load_task("digits").train.target.tolist()
    archive = Archive(run_dir, readonly=True)
    try:
        samples = archive.samples(with_data=False)
    finally:
        archive.close()
    right = sum(str(truth[int(Path(s.meta["file"]).stem)]) == s.label for s in samples)
    share = right / len(samples) if samples else 0.0
    return f"{len(samples)} kept, {share:.0%} of them right"


KEYS = ("semi", "fifty", "all", "distill", "hard", "teacher")


def student_seconds(args: argparse.Namespace) -> float:
    """Wall time of each of the two student searches (hard labels, distillation)."""
    return float(args.student_seconds or args.seconds)


def run_seed(args: argparse.Namespace) -> dict[str, Any]:
    """The five searches of one seed: accuracies, the table's rows and the teacher's figures
    (plain data, so a seed run in its own process can hand them back as JSON)."""
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        fifty, _, n50 = one(
            tmp, "fifty", {"name": "digits", "labelled": FIFTY}, args, max_params=TEACHER_PARAMS
        )
        every, every_dir, nall = one(
            tmp, "all", {"name": "digits"}, args, max_params=TEACHER_PARAMS
        )
        big_teacher, big = export_individual(every_dir, None, tmp / "teacher.graph")
        files = unlabelled_folder(tmp / "unlabelled")
        svc, svc_acc = semi_teacher(args.semi_teacher)
        server = SvcServer(svc)
        try:
            semi, semi_dir, nsemi = one(
                tmp,
                "semi",
                {"name": "digits", "labelled": FIFTY},
                args,
                max_params=TEACHER_PARAMS,
                teacher=TeacherOrder(
                    f"openai:svc@{server.url}",
                    "label",
                    unlabelled=str(tmp / "unlabelled"),
                    min_confidence=args.min_confidence,
                    requests_per_s=1000.0,  # loopback: the rate limit is for real servers
                ),
            )
        finally:
            server.close()
        kept = f"{teacher_stats(semi_dir)}, {server.requests} requests"
        seed = [student_seed()]
        hard, _, nhard = one(
            tmp,
            "hard",
            {"name": "digits", "labelled": FIFTY},
            args,
            max_params=STUDENT_PARAMS,
            seeds=seed,
            seconds=student_seconds(args),
        )
        distill, _, ndis = one(
            tmp,
            "distill",
            {"name": "digits", "labelled": FIFTY},
            args,
            max_params=STUDENT_PARAMS,
            teacher=TeacherOrder(f"graph:{big_teacher}", "distill"),
            seeds=seed,
            seconds=student_seconds(args),
        )
    acc = {
        "semi": semi["test_score"],
        "fifty": fifty["test_score"],
        "all": every["test_score"],
        "distill": distill["test_score"],
        "hard": hard["test_score"],
        "teacher": big.test_metric or 0.0,
    }
    rows = [
        ("fifty", "50 labels, ≤ 5,000 params", fifty, n50),
        (
            "semi",
            f"50 labels + the {args.semi_teacher} teacher's labels of {files} images ({kept})",
            semi,
            nsemi,
        ),
        ("all", "all 718 labels, ≤ 5,000 params (the distillation teacher)", every, nall),
        ("hard", "the 50 labels, ≤ 1,000 params, from a 796-param seed", hard, nhard),
        ("distill", "the same + the all champion's beliefs (about mixes of views)", distill, ndis),
    ]
    return {
        "seed": args.seed,
        "acc": acc,
        "rows": [list(r) for r in rows],
        "svc_acc": svc_acc,
        "files": files,
    }


def seed_table(res: dict[str, Any], args: argparse.Namespace) -> str:
    """One seed's searches as a table, with its two gap closures."""
    acc = res["acc"]
    return "\n".join(
        [
            f"Seed {res['seed']}: each search {args.seconds:g} s"
            + (
                f" (the two student searches {student_seconds(args):g} s)"
                if student_seconds(args) != args.seconds
                else ""
            )
            + f" on {args.workers} worker(s), "
            f"{STEPS} steps per new candidate, labels kept from confidence "
            f"{args.min_confidence:g}:",
            "",
            "| search | data | champion test | validation | params | individuals |",
            "|---|---|---:|---:|---:|---:|",
            *(
                f"| {key} | {what} | {c['test_score']:.4f} | {c['score']:.4f} | "
                f"{c['params']:,} | {n} |"
                for key, what, c, n in res["rows"]
            ),
            "",
            f"Semi-supervised closes {_closed(acc['fifty'], acc['semi'], acc['all']):.0%} of "
            f"its gap, distillation {_closed(acc['hard'], acc['distill'], acc['teacher']):.0%}. "
            f"The {args.semi_teacher} teacher ({TEACHER_WHAT[args.semi_teacher]}) labels "
            f"{res['svc_acc']['pool']:.1%} of the {res['files']} unlabelled images right "
            f"(scored afterwards with their hidden labels) and scores "
            f"{res['svc_acc']['val']:.4f} validation, {res['svc_acc']['test']:.4f} test.",
        ]
    )


def summary(results: list[dict[str, Any]]) -> tuple[str, str]:
    """Medians over seeds (the last line) and a table of every seed's figures."""
    med = {k: float(np.median([r["acc"][k] for r in results])) for k in KEYS}
    semi = [_closed(r["acc"]["fifty"], r["acc"]["semi"], r["acc"]["all"]) for r in results]
    dist = [_closed(r["acc"]["hard"], r["acc"]["distill"], r["acc"]["teacher"]) for r in results]
    rows = [
        "| seed | " + " | ".join(KEYS) + " | semi closes | distill closes |",
        "|---:|" + "---:|" * (len(KEYS) + 2),
        *(
            f"| {r['seed']} | "
            + " | ".join(f"{r['acc'][k]:.4f}" for k in KEYS)
            + f" | {s:.0%} | {d:.0%} |"
            for r, s, d in zip(results, semi, dist)
        ),
        "| median | "
        + " | ".join(f"{med[k]:.4f}" for k in KEYS)
        + f" | {np.nanmedian(semi):.0%} | {np.nanmedian(dist):.0%} |",
    ]
    text = (
        "\n".join(rows) + f"\n\nOn the medians: semi_acc closes "
        f"{_closed(med['fifty'], med['semi'], med['all']):.0%} of the gap from fifty_acc to "
        f"all_acc, distill_acc {_closed(med['hard'], med['distill'], med['teacher']):.0%} of "
        f"the gap from hard_acc to teacher_acc (goals ≥ 50 %); the median of each seed's "
        f"share (over the seeds with a gap): {np.nanmedian(semi):.0%} and {np.nanmedian(dist):.0%}."
    )
    last = " ".join(f"{k}_acc={med[k]:.4f}" for k in KEYS)
    return text, last


def seeds_in_processes(args: argparse.Namespace, seeds: list[int]) -> list[dict[str, Any]]:
    """Each seed in its own process, ``args.jobs`` at a time (each search uses
    ``args.workers`` cores, so two 1-worker seeds share 2 cores as one would alone)."""
    import json
    import subprocess

    passed = [
        *("--seconds", str(args.seconds), "--workers", str(args.workers)),
        *("--student-seconds", str(student_seconds(args))),
        *("--min-confidence", str(args.min_confidence), "--semi-teacher", args.semi_teacher),
    ]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as t:
        pending = list(seeds)
        running: list[tuple[subprocess.Popen, Path]] = []
        while pending or running:
            while pending and len(running) < args.jobs:
                seed = pending.pop(0)
                out = Path(t) / f"seed{seed}.json"
                cmd = [sys.executable, __file__, "--seed", str(seed), "--json", str(out)]
                running.append((subprocess.Popen([*cmd, *passed]), out))
            proc, out = running.pop(0)
            if proc.wait() != 0:
                raise SystemExit(f"teacher: the run of {out.stem} failed (exit {proc.returncode})")
            results.append(json.loads(out.read_text()))
    return sorted(results, key=lambda r: r["seed"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument(
        "--student-seconds",
        type=float,
        default=0,
        help="wall time of each ≤ 1,000-parameter student search (default: --seconds)",
    )
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--seeds",
        default="",
        help="comma-separated seeds, each in its own process: the last line holds medians",
    )
    ap.add_argument("--jobs", type=int, default=1, help="seeds run at once (with --seeds)")
    ap.add_argument(
        "--min-confidence",
        type=float,
        default=0.5,
        help="teacher labels below this are left out (an SVC's Platt probabilities from 50 "
        "images are modest: at 0.5 about 470 of the 668 images are kept, ~93 %% right)",
    )
    ap.add_argument(
        "--semi-teacher",
        choices=TEACHERS,
        default="spread",
        help="the semi-supervised teacher (semi_teacher's docstring)",
    )
    ap.add_argument("--json", help=argparse.SUPPRESS)  # one seed's results, for --seeds
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(run_seed(args)))
        return
    load_before = _load()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()] or [args.seed]
    results = seeds_in_processes(args, seeds) if args.seeds else [run_seed(args)]
    text, last = summary(results)
    tables = "\n\n".join(seed_table(r, args) for r in results)
    print(tables + "\n\n" + text)
    print(last)
    if not args.no_record:
        body = (
            "Semi-supervised labels and distillation on digits, each beside searches of equal "
            f"wall time (bench/teacher.py's docstring says how), {len(results)} seed(s)"
            + (f", {args.jobs} at a time" if args.seeds else "")
            + ". Load average (1, 5, 15 min, as `uptime` shows it): "
            f"{load_before} at the start, {_load()} at the end.\n\n" + text + "\n\n" + tables
        )
        command = " ".join(["python bench/teacher.py", *sys.argv[1:]])
        record("teacher", command, body, last)


def _load() -> str:
    """The machine's load average, as ``uptime`` shows it."""
    import os

    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def _closed(low: float, got: float, high: float) -> float:
    """Share of the gap from ``low`` to ``high`` that ``got`` closes."""
    return (got - low) / (high - low) if high > low else float("nan")


if __name__ == "__main__":
    main()
