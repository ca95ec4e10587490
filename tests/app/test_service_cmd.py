"""`openbrains service`: the systemd user unit that keeps a project's search running. The
unit passes `systemd-analyze --user verify` (where systemd-analyze exists; a parse check
always), and the command line it holds really runs the project's search in the run folder
the window uses."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from openbrains.app.service_unit import check_unit, unit_name, verify_unit
from openbrains.engine.store import Archive
from tests.cli_kit import ob

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_install_writes_a_unit_systemd_accepts_and_its_command_runs_the_search(
    tmp_path: Path, env: dict[str, str]
) -> None:
    project = tmp_path / "my projects" / "xor.graph"
    project.parent.mkdir()
    shutil.copy(ROOT / "sample_graphs" / "xor.graph", project)
    out = ob(
        "service", "install", str(project), "--no-start", "--workers", "0", env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    unit = tmp_path / "config" / "systemd" / "user" / unit_name(project)
    text = unit.read_text()
    for line in ("Nice=19", "IOSchedulingClass=idle", "Restart=on-failure"):
        assert line in text.splitlines()
    assert check_unit(text) == []
    verdict = verify_unit(unit)
    if verdict is not None:  # systemd-analyze is there: it must be satisfied, warnings too
        assert verdict[0], verdict[1]
    assert "systemd-analyze" not in out.stdout

    exec_start = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart=").replace("%%", "%"))
    assert argv[1:3] == ["run", str(project)]
    run_dir = project.with_suffix(".run")  # the window's run folder for this project
    assert argv[argv.index("--run-dir") + 1] == str(run_dir)
    done = subprocess.run(
        [*argv, "--individuals", "2", "--budget-steps", "20"],
        cwd=project.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with Archive(run_dir, readonly=True) as archive:
        assert archive.count() >= 2

    status = ob("service", "status", str(project), env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "installed" in status.stdout and "no search running" in status.stdout
    assert "individuals" in status.stdout

    gone = ob("service", "uninstall", str(project), env=env, cwd=tmp_path)
    assert gone.returncode == 0 and not unit.exists(), gone.stderr
    assert "not installed" in ob("service", "status", str(project), env=env, cwd=tmp_path).stdout


def test_a_file_that_is_no_project_is_one_clear_line(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.graph"
    bad.write_bytes(b"not a zip")
    out = ob("service", "install", str(bad), "--no-start", env=env, cwd=tmp_path)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "config" / "systemd").exists()


def test_the_parse_check_finds_what_is_wrong() -> None:
    good = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\nNice=19\n"
    assert check_unit(good) == []
    assert check_unit(good.replace("Nice=19", "Nice=abc"))
    assert check_unit(good.replace("/bin/true", "true"))
    assert check_unit(good + "Bogus=1\n")
    assert check_unit(good.replace("[Unit]", "[Unti]"))
    assert check_unit("[Unit]\nDescription=x\n")  # no ExecStart


def test_unit_names_differ_per_project_and_are_safe(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "my digits!.graph", tmp_path / "b" / "my digits!.graph"
    assert unit_name(a) != unit_name(b)
    assert unit_name(a).startswith("openbrains-my-digits-") and unit_name(a).endswith(".service")
