"""The wheel installs one top-level package, ``openbrains``: no generic ``engine``, ``app``,
``nodes`` or ``canvas`` that would clash with other packages (docs/decisions.md)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("setup.py", "pyproject.toml", "README.md")
FOLDERS = ("openbrains", "engine", "nodes", "canvas", "app", "assets", "sample_graphs")


def test_the_wheel_installs_only_openbrains(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a clean copy: no build/ left from an editable install
    src.mkdir()
    for name in SOURCES:
        shutil.copy(ROOT / name, src / name)
    for name in FOLDERS:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    places = (str(src), "-w", str(tmp_path / "dist"))
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", *places],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("openbrains-*.whl")
    with zipfile.ZipFile(wheel) as z:
        record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        rows = list(csv.reader(io.StringIO(z.read(record).decode())))
    tops = {row[0].split("/")[0] for row in rows if row}
    assert tops == {"openbrains", record.split("/")[0]}, tops
    files = {row[0] for row in rows if row}
    for layer in ("engine", "nodes", "canvas", "app"):
        assert f"openbrains/{layer}/__init__.py" in files
    for api in ("__init__", "brain", "evaluation", "runs", "taskspec"):
        assert f"openbrains/{api}.py" in files
    assert "openbrains/sample_graphs/xor.graph" in files
