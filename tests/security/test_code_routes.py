"""A file never runs code (docs/security.md, "Code"). Every route by which a received
project or run folder could name code — `openbrains run PROJECT`, the window's Start through
the engine service, `rate` and `record` on a run folder — is tried with a canary module that
marks the disk when imported; the mark must not appear. Each test also shows the canary
*does* fire once the user names the code with their own hands, so none can pass vacuously.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openbrains.engine import trust
from openbrains.engine.protocol import encode_frame, read_frame
from openbrains.engine.tasks.registry import load_task
from openbrains.engine.trust import CodeRef, UntrustedCode
from tests.security.trust_kit import (
    CANARY_MODULE,
    canary_module,
    ob,
    one_line_error,
    project_file,
    run_folder,
)

BOOM = f"{CANARY_MODULE}:Boom"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The user's current folder, holding the canary module (found there as -m would)."""
    work = tmp_path / "work"
    work.mkdir()
    return work


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def clean_grants() -> Iterator[None]:
    """No grants before or after; a canary imported in this process is forgotten after."""
    trust.revoke_all()
    yield
    trust.revoke_all()
    sys.modules.pop(CANARY_MODULE, None)


# ----- the command line ----------------------------------------------------------------------


def test_run_of_a_project_naming_code_imports_nothing(folder: Path, home: Path) -> None:
    mark = canary_module(folder)
    project_file(folder / "hostile.graph", {"task": {"name": BOOM, "size": 3}})
    out = ob("run", "hostile.graph", "--workers", "0", "--individuals", "1", cwd=folder, home=home)
    one_line_error(out, BOOM, f"--task {BOOM}", "canary_pkg.py")
    assert not mark.exists()
    # the standard library is code too: os:system with a command from the file
    project_file(
        folder / "system.graph", {"task": {"name": "os:system", "command": f"touch {mark}"}}
    )
    out = ob("run", "system.graph", "--workers", "0", "--individuals", "1", cwd=folder, home=home)
    one_line_error(out, "os:system", "--task os:system")
    assert not mark.exists()
    # named by the user, the same code is imported (so the test above could have failed)
    out = ob("run", "hostile.graph", "--task", BOOM, "--workers", "0", cwd=folder, home=home)
    assert out.returncode == 2 and mark.exists(), out.stderr
    assert "takes no option 'size'" in out.stderr  # Boom(**kw) takes no file options either


def test_rate_and_record_on_a_received_run_folder_import_nothing(folder: Path, home: Path) -> None:
    mark = canary_module(folder)
    received = run_folder(folder / "received", {"name": BOOM})
    out = ob("rate", "received", cwd=folder, home=home)
    one_line_error(out, BOOM, f"--task {BOOM}", "run folder never runs code")
    out = ob("record", "received", "--source", "text", "--label", "a", cwd=folder, home=home)
    one_line_error(out, BOOM, f"--task {BOOM}")
    out = ob(
        "run", "--task", "xor", "--run-dir", "received", "--workers", "0", cwd=folder, home=home
    )
    one_line_error(out, "belongs to task")
    assert not mark.exists()
    # a hidden `recorded` key cannot point the task at code either
    run_folder(folder / "hidden", {"name": "os:system", "recorded": {"run_dir": str(received)}})
    one_line_error(ob("rate", "hidden", cwd=folder, home=home), "os:system")
    assert not mark.exists()
    out = ob("rate", "received", "--task", BOOM, cwd=folder, home=home)
    assert out.returncode == 2 and mark.exists(), out.stderr


# ----- the engine service (the window's Start) ---------------------------------------------


class Service:
    """The engine service as the window starts it: a real process, framed JSON."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openbrains.engine.service"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.n = 0

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        self.n += 1
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(encode_frame({"id": self.n, "cmd": cmd, **args}))
        self.proc.stdin.flush()
        while True:
            msg = read_frame(self.proc.stdout)
            assert msg is not None, "the service ended"
            if msg.get("reply") == self.n:
                return msg

    def close(self) -> None:
        self.call("quit")
        self.proc.wait(timeout=30)


def test_service_open_run_imports_only_code_the_window_passes_on(folder: Path) -> None:
    mark = canary_module(folder)
    svc = Service(folder)
    try:
        settings = {"task": {"name": BOOM}, "workers": 0}
        reply = svc.call("open_run", run_dir=str(folder / "new"), settings=settings)
        assert not reply["ok"] and BOOM in reply["error"] and "--task" in reply["error"]
        assert not mark.exists()
        # resuming a received run folder: its stored settings name the code
        run_folder(folder / "received", {"name": BOOM})
        reply = svc.call("open_run", run_dir=str(folder / "received"))
        assert not reply["ok"] and BOOM in reply["error"]
        assert not mark.exists()
        # the window passes on what the user confirmed; then (and only then) it is imported
        given = trust.to_wire([CodeRef(BOOM, "a test", str(folder))])
        reply = svc.call(
            "open_run", run_dir=str(folder / "new2"), settings=settings, trusted_code=given
        )
        assert not reply["ok"] and mark.exists()
    finally:
        svc.close()


# ----- in the engine itself -------------------------------------------------------------------


def test_the_one_door_refuses_names_without_a_grant(
    folder: Path, monkeypatch: pytest.MonkeyPatch, clean_grants: None
) -> None:
    mark = canary_module(folder)
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))  # importable: only the grant stands in the way
    for spec in ({"name": BOOM}, {"name": "os:system", "command": "true"}):
        with pytest.raises(UntrustedCode, match="--task"):
            load_task(**spec)
    with pytest.raises(UntrustedCode):
        trust.load_code(BOOM)
    assert not mark.exists()
    with pytest.raises(TypeError):  # only a CodeRef grants, never a bare name from data
        trust.grant(BOOM)  # type: ignore[arg-type]
    trust.user_gave(BOOM, "a test", folder)
    assert trust.load_code(BOOM).__name__ == "Boom" and mark.read_text() == "imported"


def test_options_reach_user_code_only_as_numbers_for_named_parameters() -> None:
    class Game:
        def __init__(self, n: int, scale: float = 1.0, wrap=False, **rest: Any) -> None: ...

    ok = trust.code_options("g:Game", Game, {"n": "6", "scale": 2, "wrap": "true"})
    assert ok == {"n": 6, "scale": 2.0, "wrap": True}
    for options, words in [
        ({"path": "/home/me/.ssh/id_rsa"}, "takes no option 'path'"),  # **rest does not count
        ({"n": "six"}, "must be a number or true/false"),
        ({"n": [1, 2]}, "must be a number or true/false"),
        ({"n": {"__class__": "x"}}, "must be a number or true/false"),
        ({"n": 6.5}, "must be a number"),
        ({"scale": float("nan")}, "must be a number"),
    ]:
        with pytest.raises(trust.OpenBrainsError, match=words):
            trust.code_options("g:Game", Game, options)


def test_workers_get_their_coordinators_grants_and_nothing_else(clean_grants: None) -> None:
    trust.user_gave("tests.security.trust_kit:canary_module", "a test")
    wire = trust.to_wire()
    trust.revoke_all()
    assert not trust.is_granted("tests.security.trust_kit:canary_module")
    trust.restore(wire)  # what a worker does with its start arguments
    assert trust.is_granted("tests.security.trust_kit:canary_module")
    assert not trust.is_granted(BOOM)


def test_names_from_files_are_safe_folder_names() -> None:
    assert trust.safe_name("../../etc") == "etc"
    assert trust.safe_name("/abs/path") == "abs-path"
    assert trust.safe_name("..") == "run" and trust.safe_name("") == "run"
    assert trust.safe_name("othello.OthelloGame:OthelloGame") == "othello-OthelloGame-OthelloGame"
    assert "/" not in trust.safe_name("a/" * 100) and len(trust.safe_name("x" * 500)) <= 64


# ----- the window ---------------------------------------------------------------------------


class Answer:
    """Stands in for ``QMessageBox.question``: records what was asked, gives ``answer``."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str]] = []

    def __call__(self, _parent: Any, title: str, text: str, *_: Any) -> Any:
        self.asked.append((title, text))
        return self.answer


def test_window_start_runs_project_code_only_after_the_user_says_so(
    folder: Path,
    home: Path,
    qtbot: Any,
    monkeypatch: pytest.MonkeyPatch,
    clean_grants: None,
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from openbrains.app.main import MainWindow
    from openbrains.app.project import Project

    mark = canary_module(folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("OPENBRAINS_HOME", str(home))
    project = Project.open(project_file(folder / "hostile.graph", {"task": {"name": BOOM}}))
    w = MainWindow(project, start_engine=True)
    qtbot.addWidget(w)
    replies: list[dict[str, Any]] = []
    sent = w.client.send

    def send(cmd: str, callback: Any = None, **args: Any) -> int:
        def seen(reply: dict[str, Any]) -> None:
            replies.append({"cmd": cmd, **reply})
            if callback is not None:
                callback(reply)

        return sent(cmd, seen, **args)

    monkeypatch.setattr(w.client, "send", send)
    try:
        no = Answer(QMessageBox.StandardButton.No)
        monkeypatch.setattr(QMessageBox, "question", no)
        w.start_pause()
        assert [t for t, _ in no.asked] == ["Run Python code?"]
        assert BOOM in no.asked[0][1] and str(folder / "canary_pkg.py") in no.asked[0][1]
        assert not w.run_open and not replies and not mark.exists()
        # the window sends no grant it was not given: a run of the code is refused there too
        w.client.send("open_run", run_dir=str(folder / "r"), settings={"task": {"name": BOOM}})
        qtbot.waitUntil(lambda: bool(replies), timeout=60_000)
        assert not replies[-1]["ok"] and "--task" in replies[-1]["error"]
        assert not mark.exists()
        # "Yes": the user trusts it in the window's own dialog; the engine imports it
        yes = Answer(QMessageBox.StandardButton.Yes)
        monkeypatch.setattr(QMessageBox, "question", yes)
        w.start_pause()
        qtbot.waitUntil(lambda: len(replies) >= 2, timeout=60_000)
        assert replies[-1]["cmd"] == "open_run" and mark.exists()
    finally:
        w.project.dirty = False
        w.close()
