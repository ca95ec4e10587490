"""The standalone bundle (installer/build.sh, PyInstaller one-folder): built from the pinned
environment, then started where neither the virtual environment nor the Python it came
from nor this repository can be seen (a private mount namespace hides them; where one
cannot be made, a bare environment and another working folder are all the test can do).

Slow: the build takes minutes (docs/install.md has the figures)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbrains.engine.protocol import encode_frame, read_frame

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 1800


def hideable() -> list[str]:
    """What the bundle must not need: the repository (its .venv included) and the prefix
    of the Python that built it, unless that is the system's own /usr."""
    hide = [str(ROOT)]
    base = Path(sys.base_prefix).resolve()
    if base not in (Path("/usr"), Path("/")):
        hide.append(str(base))
    return hide


def can_hide() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs none {ROOT} && test ! -e {ROOT}/setup.py"],
        capture_output=True,
    )
    return probe.returncode == 0


def sealed(argv: list[str], hide: bool) -> list[str]:
    if not hide:
        return argv
    mounts = " && ".join(f"mount -t tmpfs none '{p}'" for p in hideable())
    return ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", *argv]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    dist = tmp_path_factory.mktemp("dist")
    start = time.monotonic()
    done = subprocess.run(
        ["bash", str(ROOT / "installer" / "build.sh"), str(dist)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(f"bundle built in {time.monotonic() - start:.0f} s: {done.stdout.strip()}")
    program = dist / "openbrains" / "openbrains"
    assert program.is_file()
    yield program
    shutil.rmtree(dist, ignore_errors=True)  # a gigabyte: not left for pytest's tmp rotation


@pytest.mark.slow
@pytest.mark.timeout(BUILD_TIMEOUT_S + 600)
def test_the_bundle_starts_without_the_venv(bundle: Path, tmp_path: Path) -> None:
    hide = can_hide()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }

    def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            sealed([str(bundle), *args], hide),
            env=env,
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            timeout=300,
        )

    version = run("--version")
    assert version.returncode == 0, version.stderr.decode()
    assert version.stdout.decode().startswith("openbrains ")
    if hide:  # the namespace really hides them: a plain python of the venv is not there
        probe = subprocess.run(
            sealed(["test", "-e", str(ROOT / ".venv" / "bin" / "python")], hide), env=env
        )
        assert probe.returncode != 0

    # the window, offscreen, with a sample project shipped beside the program
    sample = bundle.parent / "sample_graphs" / "digits.graph"
    shot = tmp_path / "window.png"
    out = run("screenshot", str(shot), str(sample), "--size", "1200x800")
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1200, 800)
    assert len({image.pixel(x, 400) for x in range(0, 1200, 40)}) > 3, "a blank window"

    # the digits the package ships, read inside the bundle (scikit-learn is not in it)
    scored = run("eval", str(sample), "--task", "digits")
    assert scored.returncode == 0, scored.stderr.decode()[-2000:]
    assert b"899 examples, task digits" in scored.stdout, scored.stdout

    # the engine service the window starts: `-m openbrains.engine.service` in the bundle
    frames = encode_frame({"id": 1, "cmd": "hello"}) + encode_frame({"id": 2, "cmd": "quit"})
    served = run("-m", "openbrains.engine.service", stdin=frames)
    assert served.returncode == 0, served.stderr.decode()[-2000:]
    import io

    hello = read_frame(io.BytesIO(served.stdout))
    assert hello is not None and hello["ok"] and hello["version"]
    assert any(u["name"] == "conv2d" for u in hello["catalog"])
    assert run("-m", "os").returncode == 2  # nothing else runs as a module

    # a search with a worker process (multiprocessing spawns the bundle again)
    searched = run(
        *("run", "--task", "xor", "--workers", "1", "--individuals", "3"),
        *("--budget-steps", "30", "--run-dir", "xor-run", "--quiet"),
    )
    assert searched.returncode == 0, searched.stderr.decode()[-2000:]
    status = run("status", "xor-run")
    assert b"3 individuals" in status.stdout, status.stdout + status.stderr

    # the desktop entry installed from the bundle runs the bundle
    desk = run("install-desktop")
    assert desk.returncode == 0, desk.stderr.decode()
    entry = (home / "data" / "applications" / "openbrains.desktop").read_text()
    assert f"Exec={bundle} open %f" in entry
