"""A ``main.c`` that runs an exported C brain on float32 examples read from stdin and
writes its outputs to stdout: how the tests compare it with PyTorch, the benchmark times
it, and a user checks their own compiler. Not part of the brain itself (it uses stdio)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from openbrains.engine.exporters.c.render import arg_names, c_name
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta

CFLAGS = ("-std=c99", "-Wall", "-Werror", "-pedantic")
MAX_TIMED_CALLS = 100_000


def main_c(meta: BrainMeta, stem: str = "brain") -> str:
    """``main [reset|stream] [CALLS]``: reset = every example starts with empty memory,
    stream = memory carries from one example to the next; CALLS > 0 times one example
    call by call and prints the median nanoseconds of one call (as a Python peer is timed:
    a busy machine's pauses fall on few calls and drop out of the median)."""
    names = arg_names(meta)
    n_in = len(meta.inputs)
    sizes = [f"BRAIN_IN_{c_name(p.signal).upper()}_SIZE" for p in meta.inputs] + [
        f"BRAIN_OUT_{c_name(p.signal).upper()}_SIZE" for p in meta.outputs
    ]
    decl = [f"static float {a}[{s}];" for a, s in zip(names, sizes)]
    reads = " && ".join(
        f"fread({a}, sizeof(float), {s}, stdin) == {s}" for a, s in zip(names[:n_in], sizes)
    )
    writes = [
        f"fwrite({a}, sizeof(float), {s}, stdout);" for a, s in zip(names[n_in:], sizes[n_in:])
    ]
    call = f"brain_run({', '.join(names)});"
    return "\n".join(
        [
            "#define _POSIX_C_SOURCE 199309L /* clock_gettime */",
            "#include <stdio.h>",
            "#include <stdlib.h>",
            "#include <string.h>",
            "#include <time.h>",
            f'#include "{stem}.h"',
            *decl,
            f"static double ns[{MAX_TIMED_CALLS}];",
            "static int by_value(const void *a, const void *b) {",
            "  double x = *(const double *)a, y = *(const double *)b;",
            "  return (x > y) - (x < y);",
            "}",
            "int main(int argc, char **argv) {",
            '  int reset = argc > 1 && strcmp(argv[1], "reset") == 0;',
            "  long calls = argc > 2 ? atol(argv[2]) : 0;",
            f"  if (calls > {MAX_TIMED_CALLS}) calls = {MAX_TIMED_CALLS};",
            "  brain_reset();",
            "  if (calls > 0) {  /* the median of single timed calls, after a warm-up */",
            "    struct timespec a, b; long r;",
            f"    if (!({reads})) return 1;",
            f"    for (r = 0; r < calls / 10 + 1; ++r) {{ if (reset) brain_reset(); {call} }}",
            "    for (r = 0; r < calls; ++r) {",
            "      if (reset) brain_reset();",
            "      clock_gettime(CLOCK_MONOTONIC, &a);",
            f"      {call}",
            "      clock_gettime(CLOCK_MONOTONIC, &b);",
            "      ns[r] = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);",
            "    }",
            "    qsort(ns, (size_t)calls, sizeof(double), by_value);",
            '    printf("%.3f\\n", ns[calls / 2]);',
            "    return 0;",
            "  }",
            f"  while ({reads}) {{",
            "    if (reset) brain_reset();",
            f"    {call}",
            *("    " + w for w in writes),
            "  }",
            "  return 0;",
            "}",
            "",
        ]
    )


def compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise ExportError("no C compiler found (install gcc)")
    return cc


def build(folder: Path, meta: BrainMeta, opt: str = "-O2", stem: str = "brain") -> Path:
    """Compile ``folder``'s brain with the harness (``opt``: optimisation flags, space
    separated); returns the executable."""
    folder = Path(folder)
    (folder / "main.c").write_text(main_c(meta, stem))
    exe = folder / "brain_main"
    cmd = [compiler(), *CFLAGS, *opt.split(), f"{stem}.c", "main.c", "-o", exe.name, "-lm"]
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    if done.returncode != 0:
        raise ExportError(f"the C brain does not compile: {done.stderr.strip()[:2000]}")
    return exe


def run(
    exe: Path, examples: list[list[np.ndarray]], out_sizes: list[int], reset: bool
) -> list[list[np.ndarray]]:
    """Feed ``examples`` (per example, one float array per input) through the executable."""
    data = b"".join(np.asarray(x, np.float32).tobytes() for ex in examples for x in ex)
    done = subprocess.run(
        [str(exe), "reset" if reset else "stream"], input=data, capture_output=True, check=True
    )
    flat = np.frombuffer(done.stdout, dtype=np.float32)
    per = sum(out_sizes)
    if flat.size != per * len(examples):
        raise ExportError(f"the C brain wrote {flat.size} floats, expected {per * len(examples)}")
    out = []
    for k in range(len(examples)):
        row = flat[k * per : (k + 1) * per]
        parts, at = [], 0
        for s in out_sizes:
            parts.append(row[at : at + s])
            at += s
        out.append(parts)
    return out


def time_call(exe: Path, example: list[np.ndarray], calls: int, reset: bool) -> float:
    """Nanoseconds of one ``brain_run`` call on one example: the median of ``calls``
    single timed calls."""
    data = b"".join(np.asarray(x, np.float32).tobytes() for x in example)
    done = subprocess.run(
        [str(exe), "reset" if reset else "stream", str(calls)],
        input=data,
        capture_output=True,
        check=True,
    )
    return float(done.stdout.decode().strip())
