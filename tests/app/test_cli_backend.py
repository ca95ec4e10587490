"""`--backend` and `--ray-address` of `openbrains run` and `openbrains service install`: what
cannot work is one line and exit 2 before anything is opened, and `--backend ray` really
runs a search on a private local Ray cluster that is gone when the run ends."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from openbrains.app.cli import main
from openbrains.app.service_unit import unit_name
from openbrains.engine.store import Archive

ROOT = Path(__file__).resolve().parents[2]
# one Ray cluster at a time: tests that start one run in the same pytest-xdist worker
pytestmark = pytest.mark.xdist_group("ray")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def private_cluster() -> Iterator[None]:
    """A private Ray cluster that another process runs while the block runs."""
    code = "import ray, sys; ray.init(num_cpus=1, include_dashboard=False); print('up', flush=True); sys.stdin.read()"
    env = {k: v for k, v in os.environ.items() if k != "RAY_TMPDIR"}  # Ray's usual place
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "up"
        yield
    finally:
        holder.communicate(timeout=60)


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert words in err, err


def test_what_cannot_work_is_one_line_and_exit_2_before_a_run_folder_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "run"
    run = ["run", "--task", "xor", "--run-dir", str(run_dir)]
    port = closed_port()
    refused(
        capsys,
        [*run, "--backend", "ray", "--ray-address", f"127.0.0.1:{port}"],
        f"no Ray cluster answers at 127.0.0.1:{port}",
    )
    refused(capsys, [*run, "--backend", "ray", "--ray-address", "nowhere"], "HOST:PORT")
    refused(capsys, [*run, "--ray-address", "auto"], "--ray-address needs --backend ray")
    refused(capsys, [*run, "--backend", "moon"], "invalid choice: 'moon'")
    # `auto` finds a cluster by RAY_ADDRESS, else by the note Ray leaves in its temp folder;
    # another test's cluster (here or in a test run beside this one) must not be found
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path / "no-ray-here"))
    with private_cluster():  # another program's Ray, not one `ray start` began: not joined
        refused(capsys, [*run, "--backend", "ray", "--ray-address", "auto"], "no Ray cluster runs")
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does without the extra
    refused(capsys, [*run, "--backend", "ray"], "pip install 'openbrains[ray]'")
    assert not run_dir.exists()


def test_service_install_passes_the_backend_on_to_its_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    project = tmp_path / "xor.graph"
    shutil.copy(ROOT / "sample_graphs" / "xor.graph", project)
    install = ["service", "install", str(project), "--no-start", "--backend", "ray"]
    refused(capsys, [*install, "--ray-address", f"127.0.0.1:{closed_port()}"], "no Ray cluster")
    unit = tmp_path / "config" / "systemd" / "user" / unit_name(project)
    assert not unit.exists()
    assert main(install) == 0, capsys.readouterr().err
    exec_start = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    assert argv[argv.index("--backend") + 1] == "ray" and "--ray-address" not in argv


@pytest.mark.slow
def test_run_with_the_ray_backend_fills_the_archive_and_leaves_no_ray_behind(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    args = ["--task", "xor", "--backend", "ray", "--workers", "2", "--individuals", "4"]
    before = ray_processes()  # another test's cluster may be up; it is not this run's
    done = subprocess.run(
        [sys.executable, "-m", "openbrains", "run", *args, "--run-dir", str(run_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr
    with Archive(run_dir, readonly=True) as archive:
        assert archive.count() >= 4
    deadline = time.monotonic() + 20  # Ray's daemons exit a moment after the run returns
    while (left := {p: x for p, x in ray_processes().items() if p not in before}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not left, left


def ray_processes() -> dict[int, str]:
    """This environment's Ray daemons (raylet, GCS server) by pid."""
    ours = str(Path(sys.executable).parent.parent)
    found = {}
    for p in psutil.process_iter(["pid", "cmdline"]):
        line = " ".join(p.info["cmdline"] or [])
        if ("raylet" in line or "gcs_server" in line) and ours in line:
            found[p.info["pid"]] = line
    return found
