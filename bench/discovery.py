"""Discovery: how much of a run's final Pareto front is structure no template has.

One search per task (spoken digits by default, a text file's next-byte prediction with
``--text FILE``) with the novelty objective weighed in; then, on the run's archive: the
share of the Pareto front (validation score against parameters) whose graph is not
template-like (engine.evolve.novelty: a plain chain of template units), and the best
non-template test score against the best template test score (a ratio; for bits per
character, lower is better, so template / non-template). The peer is the templates
measured in the same run. Goal (issue #18): ``novel_front ≥ 0.5`` with
``novel_vs_template ≥ 0.98``; the last line takes the mean front share and the worst ratio
over the tasks.

    .venv/bin/python bench/discovery.py [--minutes 30] [--workers 2] [--text FILE]
        [--tasks audio,text] [--novelty-weight 0.05] [--no-record]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import search
from bench.record import record
from openbrains.engine.evolve.novelty import template_like
from openbrains.engine.graph import Graph
from openbrains.engine.run import RunSettings
from openbrains.engine.run.policy import pareto_front
from openbrains.engine.store import Archive

ROOT = Path(__file__).resolve().parents[1]
LOWER_IS_BETTER = ("bpc",)


def task_spec(name: str, args: argparse.Namespace) -> dict:
    if name == "audio":
        return {"name": "audio", "data": str(ROOT / "data" / "spoken_digits")}
    if name == "text":
        if not args.text:
            raise SystemExit("discovery: --tasks text needs --text FILE (a public-domain book)")
        return {"name": "text", "data": str(args.text)}
    return {"name": name}  # a built-in task without data (xor: a smoke check)


def measure(run_dir: Path) -> dict:
    """Front share and best scores of the run in ``run_dir``."""
    archive = Archive(run_dir, readonly=True)
    try:
        metric = str((archive.get_meta("task_info") or {}).get("metric") or "score")
        recs = [r for r in archive.records() if r.fitness is not None and r.test_metric is not None]
    finally:
        archive.close()
    novel = {r.id: not template_like(Graph.from_json(r.graph_json)) for r in recs}
    front = pareto_front(recs)
    lower = metric in LOWER_IS_BETTER

    def best(group: list) -> float:
        if not group:
            return math.nan
        pick = max(group, key=lambda r: r.fitness)  # chosen by validation, as a run does
        return float(pick.test_metric)

    b_novel = best([r for r in recs if novel[r.id]])
    b_template = best([r for r in recs if not novel[r.id]])
    ratio = (b_template / b_novel if lower else b_novel / b_template) if b_template else math.nan
    return {
        "metric": metric,
        "individuals": len(recs),
        "front": len(front),
        "novel_front": sum(novel[i] for i in front) / max(1, len(front)),
        "best_novel": b_novel,
        "best_template": b_template,
        "ratio": ratio,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tasks", default="audio", help="comma-separated: audio, text, xor")
    ap.add_argument("--text", type=Path, help="the text for the text task")
    ap.add_argument("--novelty-weight", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    rows, results = [], []
    for name in args.tasks.split(","):
        settings = RunSettings(
            task=task_spec(name, args),
            seed=args.seed,
            workers=args.workers,
            novelty_weight=args.novelty_weight,
        )
        with tempfile.TemporaryDirectory() as tmp:
            search(Path(tmp) / name, settings, args.minutes * 60)
            m = measure(Path(tmp) / name)
        results.append(m)
        rows.append(
            f"| {name} | {m['metric']} | {m['individuals']} | {m['front']} | "
            f"{m['novel_front']:.2f} | {m['best_novel']:.4f} | {m['best_template']:.4f} | "
            f"{m['ratio']:.3f} |"
        )
    novel_front = sum(m["novel_front"] for m in results) / len(results)
    worst = min(m["ratio"] for m in results)
    last = f"novel_front={novel_front:.3f} novel_vs_template={worst:.3f}"
    table = "\n".join(
        [
            f"{args.minutes:g} min per task on {args.workers} workers, novelty weight "
            f"{args.novelty_weight:g}, seed {args.seed}:",
            "",
            "| task | metric | scored | front | novel share of front | best novel (test) "
            "| best template (test) | novel vs template |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    print(last)
    if not args.no_record:
        body = (
            "Share of the final Pareto front (validation score against parameters) that is "
            "not template-like, and the best non-template test score against the best "
            "template one, in the same run. Goal: novel_front ≥ 0.5 with "
            "novel_vs_template ≥ 0.98.\n\n" + table
        )
        record("discovery", " ".join(["python bench/discovery.py", *sys.argv[1:]]), body, last)


if __name__ == "__main__":
    main()
