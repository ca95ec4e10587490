"""A file touches no path it names without the user's say (docs/security.md, "Paths").

A received project's data path and run folder, a run folder's stored data path and a task
name made to climb out of `runs/` are tried through the command line and the window. A
stored path is used without asking only when this user gave it on this machine, which the
local trust list in the user's data folder records (keyed by content, so an edited copy
is a stranger's file again).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from openbrains.app.describe import describe_file
from openbrains.app.places import runs_home
from openbrains.app.project import Project
from openbrains.engine.format import load
from openbrains.engine.recorded import task_spec
from openbrains.engine.store import Archive
from tests.security.trust_kit import ob, one_line_error, project_file

QUICK = ("--workers", "0", "--individuals", "1", "--budget-steps", "2", "--quiet")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 40)
    return work


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "id_rsa"
    path.parent.mkdir()
    path.write_text("-----BEGIN PRIVATE KEY----- do not train on me\n" * 20)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's data folder (trust list, settings), for this process and the CLI."""
    path = tmp_path / "home"
    monkeypatch.setenv("OPENBRAINS_HOME", str(path))
    return path


def test_a_received_projects_paths_are_given_again(
    folder: Path, secret: Path, home: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    project_file(
        folder / "received.graph",
        {"task": {"name": "text", "data": str(secret)}, "run_dir": str(elsewhere)},
    )
    info = "\n".join(describe_file(load(folder / "received.graph")))  # inspect says so
    assert f"names data: {secret}" in info and f"names run folder: {elsewhere}" in info
    out = ob("run", "received.graph", *QUICK, cwd=folder, home=home)
    one_line_error(out, str(secret), "--data")
    assert not (folder / "runs").exists() and not elsewhere.exists()
    # given again on the command line: the user's data, and never the stored run folder
    out = ob("run", "received.graph", "--data", "notes.txt", *QUICK, cwd=folder, home=home)
    assert out.returncode == 0, out.stderr
    assert (folder / "runs" / "text" / "run.sqlite").exists() and not elsewhere.exists()


def test_a_project_saved_here_by_this_user_keeps_its_given_paths(
    folder: Path, secret: Path, home: Path, tmp_path: Path
) -> None:
    notes = str(folder / "notes.txt")
    mine = Project(task={"name": "text", "data": notes}, given_paths={notes})
    mine.save(folder / "mine.graph")
    out = ob("run", "mine.graph", "--run-dir", "r1", *QUICK, cwd=folder, home=home)
    assert out.returncode == 0, out.stderr
    # the same file for another user (another data folder) is a received file
    other = tmp_path / "other-home"
    one_line_error(ob("run", "mine.graph", *QUICK, cwd=folder, home=other), "--data")
    # an edited copy is not the file this user saved: its path is asked for again
    doc = load(folder / "mine.graph")
    doc.project = {**(doc.project or {}), "task": {"name": "text", "data": str(secret)}}
    from openbrains.engine.format import save

    save(folder / "edited.graph", doc)
    one_line_error(ob("run", "edited.graph", *QUICK, cwd=folder, home=home), str(secret))
    # saving a received project again does not make its paths the user's
    Project.open(folder / "edited.graph").save(folder / "resaved.graph")
    one_line_error(ob("run", "resaved.graph", *QUICK, cwd=folder, home=home), "--data")
    assert Project.open(folder / "resaved.graph").untrusted_paths() == [("data", str(secret))]


def test_a_task_name_cannot_move_the_run_folder(folder: Path, home: Path, tmp_path: Path) -> None:
    project_file(folder / "climb.graph", {"task": {"name": "../../outside"}})
    out = ob("run", "climb.graph", *QUICK, cwd=folder, home=home)
    one_line_error(out, "unknown task")
    assert not (tmp_path / "outside").exists() and not (folder / "outside").exists()
    assert [p.name for p in (folder / "runs").iterdir()] == ["outside"]
    unsaved = Project(task={"name": "../../../outside"})  # its run goes to the data folder
    assert unsaved.default_run_dir().parent == runs_home()


def test_a_run_folders_data_is_used_only_where_this_user_started_it(
    folder: Path, secret: Path, home: Path
) -> None:
    out = ob(
        "run",
        "--task",
        "text",
        "--data",
        "notes.txt",
        "--run-dir",
        "mine",
        *QUICK[:-1],
        cwd=folder,
        home=home,
    )
    assert out.returncode == 0, out.stderr
    rated = ob("rate", "mine", "--seed", "0", cwd=folder, home=home, stdin="q\n")
    assert rated.returncode == 0 and "stored 0 ratings" in rated.stdout, rated.stderr
    # the same folder received from someone (another place): its data is given again
    shutil.copytree(folder / "mine", folder / "copy")
    one_line_error(ob("rate", "copy", cwd=folder, home=home, stdin="q\n"), "--data")
    given = ob("rate", "copy", "--data", "notes.txt", cwd=folder, home=home, stdin="q\n")
    assert given.returncode == 0, given.stderr
    # a run folder whose stored settings were changed to name a private file
    archive = Archive(folder / "copy")
    settings = archive.get_meta("settings")
    archive.set_meta("settings", {**settings, "task": {**settings["task"], "data": str(secret)}})
    archive.close()
    out = ob("rate", "copy", cwd=folder, home=home, stdin="q\n")
    one_line_error(out, str(secret), "--data")
    assert "PRIVATE KEY" not in out.stdout


def test_a_stored_recordings_path_is_never_followed(tmp_path: Path) -> None:
    stored = {"name": "text", "data": "x", "recorded": {"run_dir": "/elsewhere", "upto": 9}}
    assert "recorded" not in task_spec(stored, tmp_path / "run", 0)
    spec = task_spec(stored, tmp_path / "run", 3)
    assert spec["recorded"] == {"run_dir": str((tmp_path / "run").resolve()), "upto": 3}


# ----- the window ---------------------------------------------------------------------------


class Answer:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def __call__(self, _parent: Any, title: str, text: str, *_: Any) -> Any:
        self.asked.append((title, text))
        return self.answer


def test_window_start_confirms_a_received_projects_paths(
    folder: Path, secret: Path, home: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from openbrains.app.main import MainWindow

    stored_run = folder / "their-run"
    path = project_file(
        folder / "received.graph",
        {"task": {"name": "text", "data": str(secret)}, "run_dir": str(stored_run)},
    )
    project = Project.open(path)
    assert project.default_run_dir() == folder / "received.run"  # not the stored one
    w = MainWindow(project, start_engine=False)
    qtbot.addWidget(w)
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(w.client, "send", lambda cmd, cb=None, **a: sent.append((cmd, a)) or 0)
    no = Answer(QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "question", no)
    w.start_pause()
    assert [t for t, _ in no.asked] == ["Use these paths?"]
    assert f"data: {secret}" in no.asked[0][1] and f"run folder: {stored_run}" in no.asked[0][1]
    assert not sent and not stored_run.exists() and w.project.run_dir == str(stored_run)
    yes = Answer(QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "question", yes)
    w.start_pause()
    (cmd, args), *_ = sent
    assert cmd == "open_run" and args["run_dir"] == str(stored_run)
    assert args["settings"]["task"]["data"] == str(secret) and args["trusted_code"] == []
    # saved by this user, the confirmed paths are theirs next time: no question
    w.project.save(folder / "confirmed.graph")
    again = Project.open(folder / "confirmed.graph")
    assert again.untrusted_paths() == [] and again.default_run_dir() == stored_run
    w.project.dirty = False
    w.close()
