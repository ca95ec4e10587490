"""The headless demo: what `openbrains` does on a machine without a display.

It evolves brains for scikit-learn's handwritten digits for a couple of minutes in
``~/.openbrains/demo`` (resuming if run again), prints the progress, and exports the
champion to a .graph file you can inspect, evaluate, share or keep training.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

DEMO_MINUTES = float(os.environ.get("OPENBRAINS_DEMO_MINUTES", "2"))


def demo_dir() -> Path:
    return Path(os.environ.get("OPENBRAINS_HOME", Path.home() / ".openbrains")) / "demo"


def run_demo(minutes: float = DEMO_MINUTES) -> int:
    from openbrains.app.run_cmd import Progress
    from openbrains.engine.export import export_individual
    from openbrains.engine.run import Run, RunSettings

    folder = demo_dir()
    print(
        "No display found: running the headless demo.\n"
        f"Evolving small brains for handwritten digits for {minutes:g} minutes "
        f"(run folder {folder / 'run'}). Ctrl+C stops early.",
        file=sys.stderr,
    )
    settings = RunSettings(task={"name": "digits"}, workers=1, population=12, max_params=5000)
    run = Run(folder / "run", settings, on_event=Progress(quiet=False))
    previous = signal.signal(signal.SIGINT, lambda *_: run.stop())
    try:
        run.run(minutes=minutes)
    finally:
        signal.signal(signal.SIGINT, previous)
        run.close()
    out = folder / "digits-champion.graph"
    try:
        _path, rec = export_individual(folder / "run", None, out)
    except Exception as exc:  # nothing finished yet (stopped at once)
        print(f"No champion to export yet: {exc}", file=sys.stderr)
        return 0
    summary: dict[str, Any] = {
        "id": rec.id,
        "val": rec.val_metric,
        "test": rec.test_metric,
        "params": rec.params,
    }
    print(
        f"\nChampion #{summary['id']}: validation accuracy {summary['val']:.4f}, test accuracy "
        f"{summary['test']:.4f}, {summary['params']:,} parameters.\n"
        f"Saved to {out}. Try:\n"
        f"  openbrains inspect {out}\n"
        f"  openbrains eval {out} --task digits\n"
        f"  openbrains run --task digits --run-dir {folder / 'run'}   # keep evolving"
    )
    return 0
