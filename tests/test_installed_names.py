"""The layers are imported only under their installed names (``openbrains.engine``…):
a bare ``engine`` import would load a second copy of every module it touches."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_nothing_imports_a_layer_by_its_bare_name(tmp_path: Path) -> None:
    code = (
        "import sys, openbrains.app.cli, openbrains.app.main, openbrains.engine.run, "
        "openbrains.engine.service, openbrains.engine.units as u\n"
        "u.REGISTRY.names()\n"
        "bare = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('engine', 'nodes', 'canvas', 'app'))\n"
        "assert not bare, bare"
    )
    # from a folder that is not the repository, as an installed program runs
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
