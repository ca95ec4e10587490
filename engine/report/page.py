"""The discovery report as one HTML page that stands alone: styles inline, figures as
embedded SVG images (``data:`` URIs), nothing fetched, no script."""

from __future__ import annotations

import base64
import math
import time
from html import escape
from pathlib import Path

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.evolve.novelty import template_like
from openbrains.engine.report import findings, plots
from openbrains.engine.report.gather import RunData, gather
from openbrains.engine.run.policy import pareto_front

STYLE = """
body { font-family: sans-serif; max-width: 980px; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.up { color: #1a7f37; font-weight: bold; } .down { color: #b42318; }
.note { color: #555; font-size: 0.9em; } img { margin: 4px; border: 1px solid #ddd; }
"""


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode()).decode()
    return f'<p><img alt="{escape(alt)}" src="data:image/svg+xml;base64,{data}"></p>'


def _num(v: float | None, digits: int = 4) -> str:
    return "—" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def render(run: RunData, data: str | None = None, ablation: bool = True) -> str:
    """The whole page for ``run``; ``data`` is the user's path for a task that reads one."""
    champ = run.champion
    recs = run.records
    novel = sum(1 for r in recs if not template_like(run.graphs[r.id]))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Open Brains report: {escape(run.run_dir.name)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>What evolution found in {escape(run.run_dir.name)}</h1>",
        f'<p class="note">Task {escape(str(run.task.get("name", "?")))}, metric '
        f"{escape(run.metric)}; {len(recs)} scored individuals, {novel} of them "
        f"({novel / len(recs):.0%}) not template-like. Champion #{champ.id}: validation "
        f"{escape(run.metric)} {_num(champ.val_metric)}, test {_num(champ.test_metric)}, "
        f"{champ.params:,} parameters. Made {time.strftime('%Y-%m-%d %H:%M')} by "
        "<code>openbrains report</code>.</p>",
    ]
    parts += _over_represented(run)
    parts += _ablation(run, data) if ablation else []
    parts += _lineage(run)
    parts += _plots(run)
    parts.append("</body></html>")
    return "\n".join(parts)


def _over_represented(run: RunData) -> list[str]:
    found = findings.over_represented(run.records, run.graphs)
    top = len(findings.best_tenth(run.records))
    out = [
        "<h2>Over-represented among the best tenth</h2>",
        f'<p class="note">The best tenth: {top} of {len(run.records)} individuals by '
        "selection fitness. A feature counts once per graph. Effect: Cohen's h between "
        "its share in the best tenth and in the whole population (0.2 small, 0.5 medium, "
        "0.8 large).</p>",
    ]
    if not found:
        return [*out, "<p>Nothing is more common among the best tenth than overall.</p>"]
    out.append(
        "<table><tr><th>kind</th><th>feature</th><th>best tenth</th><th>all</th>"
        "<th>effect h</th></tr>"
    )
    for f in found:
        out.append(
            f"<tr><td>{f.kind}</td><td>{escape(f.feature)}</td>"
            f'<td class="n">{f.top_count}/{f.top_total} ({f.top_share:.0%})</td>'
            f'<td class="n">{f.all_count}/{f.all_total} ({f.all_share:.0%})</td>'
            f'<td class="n">{f.effect:.2f}</td></tr>'
        )
    return [*out, "</table>"]


def _ablation(run: RunData, data: str | None) -> list[str]:
    out = ["<h2>The champion's ablation</h2>"]
    try:
        from openbrains.engine.report.ablation import ablate, task_for

        task = task_for(run.task, data)
        result = ablate(
            run.graphs[run.champion.id], run.champion_weights, task, run.higher_is_better
        )
    except OpenBrainsError as exc:
        return [*out, f'<p class="note">Not measured: {escape(str(exc))}.</p>']
    out.append(
        f'<p class="note">Each node knocked out in turn (its input passed on where the '
        f"shapes allow, else zeros), validation {escape(result.metric_name)} against "
        f"{_num(result.intact)} intact. Cost: how much worse it gets.</p>"
    )
    out.append("<table><tr><th>node</th><th>unit</th><th>knocked out by</th>")
    out.append(f"<th>{escape(result.metric_name)}</th><th>cost</th></tr>")
    for k in result.knockouts:
        cls = "up" if k.cost > 0 else "down" if k.cost < 0 else ""
        out.append(
            f"<tr><td><code>{escape(k.uid)}</code></td><td>{escape(k.unit)}</td>"
            f'<td>{k.how}</td><td class="n">{_num(k.metric)}</td>'
            f'<td class="n {cls}">{_num(k.cost)}</td></tr>'
        )
    return [*out, "</table>"]


def _lineage(run: RunData) -> list[str]:
    steps = findings.lineage(run.champion, {r.id: r for r in run.records})
    out = [
        "<h2>The champion's lineage</h2>",
        f'<p class="note">From its first ancestor to #{run.champion.id}, through first '
        "parents; each row is what changed and the validation score it reached.</p>",
        "<table><tr><th>#</th><th>origin</th><th>mutation</th><th>what changed</th>"
        f"<th>{escape(run.metric)}</th><th>jump</th></tr>",
    ]
    for s in steps:
        better = s.jump is not None and (s.jump > 0) == run.higher_is_better and s.jump != 0
        cls = "up" if better else ("down" if s.jump else "")
        jump = "" if s.jump is None else f"{s.jump:+.4f}"
        out.append(
            f"<tr><td>{s.id}</td><td>{escape(s.origin)}</td><td>{escape(s.mutation)}</td>"
            f'<td>{escape(s.detail[:160])}</td><td class="n">{_num(s.metric)}</td>'
            f'<td class="n {cls}">{jump}</td></tr>'
        )
    return [*out, "</table>"]


def _plots(run: RunData) -> list[str]:
    recs = [r for r in run.records if r.val_metric is not None]
    front = pareto_front(recs)
    size = plots.scatter(
        "Score against size",
        "parameters (log scale)",
        run.metric,
        [(r.params, r.val_metric) for r in recs],  # type: ignore[misc]
        highlight=[(r.params, r.val_metric) for r in recs if r.id in front],  # type: ignore[misc]
        log_x=True,
        labels=("individuals", "Pareto front", ""),
    )
    start = min(r.created for r in recs)
    timed = sorted(recs, key=lambda r: r.created)
    best: list[tuple[float, float]] = []
    for r in timed:
        v = r.val_metric
        assert v is not None
        if not best or ((v > best[-1][1]) == run.higher_is_better and v != best[-1][1]):
            best.append(((r.created - start) / 60, v))
    if best:  # the best so far holds to the end of the run
        best.append(((timed[-1].created - start) / 60, best[-1][1]))
    over_time = plots.scatter(
        "Score against time",
        "minutes into the run",
        run.metric,
        [((r.created - start) / 60, r.val_metric) for r in timed],  # type: ignore[misc]
        line=best,
        labels=("individuals", "", "best so far"),
    )
    units, shares = findings.unit_frequencies(run.records, run.graphs)
    series = {u: [(i + 1.0, s.get(u, 0.0)) for i, s in enumerate(shares)] for u in units}
    freq = plots.lines(
        "Unit frequencies over the run",
        f"stretch of the run (births in order, {len(shares)} stretches)",
        "share of graphs using it",
        series,
    )
    return [
        "<h2>Plots</h2>",
        _img(size, "score against size"),
        _img(over_time, "score against time"),
        _img(freq, "unit frequencies over the run"),
    ]


def write_report(run_dir: Path, out: Path, data: str | None = None, ablation: bool = True) -> Path:
    """Gather, render and write the report; OpenBrainsError (one line) on bad input."""
    run = gather(run_dir)
    html = render(run, data, ablation)
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OpenBrainsError(f"cannot write {out}: {exc.strerror}") from None
    return out
