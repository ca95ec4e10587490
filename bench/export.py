"""Export: one example at a time, how fast and how small are the digits and spoken-digits
champions in PyTorch (the peer), onnxruntime and compiled C, and what int8 costs.

Both champions come from real short searches made here: digits with a device budget of
an 8 KB-flash, 2 KB-RAM microcontroller (int8 weights), spoken digits without one. Latency
is the median of single-example calls, one thread everywhere; C is built with the system
gcc for this machine (C_FLAGS, as one builds for a device) and timed in its own loop. The
int8 drop is test accuracy of the compiled int8 C against the float brain in PyTorch (the
split the scales were not calibrated on).

    .venv/bin/python bench/export.py [--minutes 3] [--no-record] [--note TEXT]

Goals: C >= 20x faster than PyTorch per example; digits int8 <= 8 KB flash, <= 2 KB RAM,
accuracy drop <= 0.01.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import record
from openbrains.engine.exporters.c import emit_c, harness
from openbrains.engine.exporters.calibration import calibration
from openbrains.engine.exporters.meta import describe
from openbrains.engine.exporters.onnx import export_onnx
from openbrains.engine.format import load_brain
from openbrains.engine.tasks.registry import load_task

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "openbrains"]
DIGITS_BUDGET = "flash=8k,ram=2k,weights=int8"
# built for the machine it runs on, as one builds for a device; fused multiply-adds allowed
C_FLAGS = "-O3 -march=native -ffp-contract=fast"
C_CALLS = 50_000  # single calls timed in C; the median is kept, as for the Python peers


def search(args: list[str], run_dir: Path, minutes: float) -> Path:
    subprocess.run(
        [*CLI, "run", *args, "--minutes", str(minutes), "--run-dir", str(run_dir), "--quiet"],
        cwd=ROOT,
        check=True,
    )
    out = run_dir.parent / f"{run_dir.name}.graph"
    subprocess.run([*CLI, "export", str(run_dir), "--best", "-o", str(out)], cwd=ROOT, check=True)
    return out


def per_call(fn: Callable[[], Any], seconds: float = 1.5) -> float:
    """Median seconds of one call of ``fn`` (after a warm-up)."""
    for _ in range(20):
        fn()
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 50:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def c_accuracy(exe: Path, task: Any, brain: Any) -> float:
    images = task.test.inputs[brain.input_names[0]]
    out_size = brain.output_specs[brain.output_names[0]].channels
    got = harness.run(exe, [[x.numpy()] for x in images], [out_size], reset=True)
    pred = np.array([int(np.argmax(g[0][-out_size:])) for g in got])
    return float((pred == task.test.target.numpy()).mean())


def torch_accuracy(brain: Any, task: Any) -> float:
    x = task.test.inputs[brain.input_names[0]]
    with torch.no_grad():
        y = brain(x)
    return float((y[:, -1].argmax(-1) == task.test.target).float().mean())


def measure(name: str, path: Path, spec: dict, tmp: Path) -> dict:
    import onnxruntime as ort

    task = load_task(**spec)
    graph, brain = load_brain(path)
    meta = describe(brain, graph, name)
    x = task.test.inputs[brain.input_names[0]][:1]
    brain.eval()
    with torch.inference_mode():  # PyTorch at its fastest for one example: no autograd at all
        t_torch = per_call(lambda: brain(x))
    onnx = export_onnx(brain, meta)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx.model, opts, providers=["CPUExecutionProvider"])
    feed = {meta.inputs[0].name: x.numpy()}
    t_ort = per_call(lambda: sess.run(None, feed))
    row = {"name": name, "params": brain.param_count(), "graph_kb": path.stat().st_size / 1024}
    row |= {"onnx_kb": len(onnx.model) / 1024, "torch_us": t_torch * 1e6, "ort_us": t_ort * 1e6}
    cal = calibration(brain, graph, spec)
    for label, int8 in (("f32", False), ("int8", True)):
        ex = emit_c(brain, meta, int8=int8, calibration=cal.inputs if int8 else None)
        folder = tmp / f"{name}-{label}"
        folder.mkdir()
        for fname, text in ex.files.items():
            (folder / fname).write_text(text)
        exe = harness.build(folder, meta, opt=C_FLAGS)
        row[f"c_{label}_us"] = harness.time_call(exe, [x[0].numpy()], C_CALLS, reset=True) / 1e3
        row[f"c_{label}_flash_kb"] = ex.footprint.flash / 1024
        row[f"c_{label}_ram_kb"] = ex.footprint.ram / 1024
        row[f"c_{label}_acc"] = c_accuracy(exe, task, brain)
    row["torch_acc"] = torch_accuracy(brain, task)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0, help="search time per champion")
    ap.add_argument("--no-record", action="store_true")
    ap.add_argument("--note", default="", help="a sentence about the machine, for the record")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="openbrains-bench-export-") as tmp_name:
        tmp = Path(tmp_name)
        digits = search(
            ["--task", "digits", "--device-budget", DIGITS_BUDGET], tmp / "digits", args.minutes
        )
        spoken_task_args = [str(ROOT / "sample_graphs" / "spoken_digits.graph")]
        spoken = search(spoken_task_args, tmp / "spoken", args.minutes)
        spoken_spec = {"name": "audio", "data": str(ROOT / "data" / "spoken_digits")}
        spoken_spec["holdout"] = "ny-f3_"  # as sample_graphs/spoken_digits.graph's project says
        rows = [
            measure("digits", digits, {"name": "digits"}, tmp),
            measure("spoken digits", spoken, spoken_spec, tmp),
        ]
    lines = [
        "| champion | params | .graph KB | .onnx KB | PyTorch µs | onnxruntime µs | C f32 µs | C int8 µs "
        "| C f32 flash/RAM KB | C int8 flash/RAM KB | test acc PyTorch | C f32 | C int8 "
        "| C speedup |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['graph_kb']:.1f} | {r['onnx_kb']:.1f} "
            f"| {r['torch_us']:.1f} | {r['ort_us']:.1f} | {r['c_f32_us']:.2f} | {r['c_int8_us']:.2f} "
            f"| {r['c_f32_flash_kb']:.1f} / {r['c_f32_ram_kb']:.2f} "
            f"| {r['c_int8_flash_kb']:.1f} / {r['c_int8_ram_kb']:.2f} "
            f"| {r['torch_acc']:.4f} | {r['c_f32_acc']:.4f} | {r['c_int8_acc']:.4f} "
            f"| {r['torch_us'] / r['c_f32_us']:.1f}× |"
        )
    table = "\n".join(lines)
    d = rows[0]  # the digits champion: the microcontroller-sized brain the goals are about
    c_speedup = d["torch_us"] / d["c_f32_us"]
    ort_speedup = d["torch_us"] / d["ort_us"]
    drop = round(d["torch_acc"] - d["c_int8_acc"], 4) + 0.0  # + 0.0: no "-0.0000"
    last = (
        f"c_speedup_vs_torch={c_speedup:.1f} ort_speedup_vs_torch={ort_speedup:.1f} "
        f"digits_int8_flash_kb={d['c_int8_flash_kb']:.2f} digits_int8_ram_kb={d['c_int8_ram_kb']:.2f} "
        f"digits_int8_drop={drop:.4f}"
    )
    print(table)
    print(last)
    if not args.no_record:
        body = (
            f"Champions of {args.minutes:g}-minute searches made by the bench: digits under "
            f"`--device-budget {DIGITS_BUDGET}`, spoken digits from `sample_graphs/spoken_digits.graph` "
            "without a budget. Latency: median of single-example calls, one thread (PyTorch "
            f"`brain(x)` of the compiled brain in eval mode under `torch.inference_mode`, "
            "onnxruntime `session.run`, C `brain_run` built with gcc "
            f"`{C_FLAGS}`; each call timed alone on every side, after a warm-up). The last line's speedups are the digits "
            "champion's, the microcontroller-sized one the goal is about; the table has both. "
            "Int8 drop: test accuracy of the float "
            "brain in PyTorch minus that of the int8 C build (calibrated on validation). Flash "
            "counts the weights exactly and estimates the code; RAM is exact. Goals: C ≥ 20× "
            "faster than PyTorch, digits int8 ≤ 8 KB flash, ≤ 2 KB RAM, drop ≤ 0.01. "
            f"{args.note}\n\n" + table
        )
        record("export", "python bench/export.py", body, last)


if __name__ == "__main__":
    main()
