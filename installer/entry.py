"""The bundle's program: `openbrains …` as the command line has it, plus the two ways the
program starts copies of itself. PyInstaller freezes this file (installer/openbrains.spec).

In the bundle ``sys.executable`` is the program, not a Python: the window starts its engine
as ``sys.executable -m openbrains.engine.service`` and the worker pool spawns processes with
multiprocessing. ``freeze_support`` answers the workers; ``-m`` runs only the modules named
here, so the program cannot be used to run arbitrary code."""

from __future__ import annotations

import multiprocessing
import runpy
import sys

MODULES = ("openbrains", "openbrains.engine.service")


def main() -> int:
    multiprocessing.freeze_support()  # a spawned worker runs its job here and exits
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        if module not in MODULES:
            print(f"openbrains: -m runs only {', '.join(MODULES)}", file=sys.stderr)
            return 2
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from openbrains.app.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
