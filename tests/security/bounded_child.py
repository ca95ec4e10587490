"""Run `openbrains` commands, each under a memory and CPU ceiling (a child of the cost tests).

Usage: ``python bounded_child.py MEGABYTES SECONDS WARMUP_FILE < commands.json``

Everything a command normally loads (torch, the units, a compile of a sample file) is loaded
first. Then, for each command (a list of arguments) read from stdin, the address space may
grow by at most MEGABYTES beyond what it is, and the process may use at most SECONDS more
CPU time; the kernel enforces both (allocations fail past the first, SIGXCPU kills past the
second). Soft limits only, so each command gets its own. Prints one JSON list: per command
its exit code, stderr, and the CPU seconds and address space it took.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import resource
import sys


def status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_bounded(cli, args: list[str], megabytes: float, seconds: float) -> dict:
    gc.collect()
    base_vm, base_cpu = status("VmSize"), cpu_seconds()
    resource.setrlimit(
        resource.RLIMIT_AS, (base_vm + int(megabytes * 2**20), resource.RLIM_INFINITY)
    )
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(base_cpu + seconds), resource.RLIM_INFINITY))
    out, err = io.StringIO(), io.StringIO()
    peak = base_vm
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli(args)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            except MemoryError:
                code = "MemoryError"
        peak = status("VmSize")
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return {
        "args": args,
        "code": code,
        "stdout": out.getvalue()[-4000:],
        "stderr": err.getvalue(),
        "cpu_s": round(cpu_seconds() - base_cpu, 3),
        "vm_after_mb": round((peak - base_vm) / 2**20, 1),
    }


def main() -> None:
    megabytes, seconds, warmup = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    commands = json.load(sys.stdin)
    import cv2  # noqa: F401  (what reading task data loads: part of the common ground)
    import soundfile  # noqa: F401

    from openbrains.app.cli import main as cli

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        cli(["inspect", warmup])  # imports, registry, a compile on meta: the common ground
    print(json.dumps([run_bounded(cli, args, megabytes, seconds) for args in commands]))


if __name__ == "__main__":
    main()
