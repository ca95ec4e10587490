"""A teacher names a server to call or a file to run, so only the user's own hands give one
(the command line, the window's teacher dialog): a project or a run folder that names a
teacher makes no request and opens no file, and a stored ``teacher`` task key is dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openbrains.engine.recorded import task_spec
from openbrains.engine.run import Run
from openbrains.engine.store import Archive
from tests.engine.openai_server import FakeOpenAI
from tests.security.trust_kit import ob, project_file


def never(body: dict[str, Any]) -> Any:
    raise AssertionError("the teacher was asked")


def test_a_run_folder_naming_a_teacher_starts_none(tmp_path: Path) -> None:
    with FakeOpenAI(never) as server:
        teacher = {"spec": f"openai:m@{server.url}", "role": "rate"}
        run_dir = tmp_path / "received"
        archive = Archive(run_dir)
        archive.set_meta(
            "settings",
            {
                "task": {"name": "xor"},
                "population": 2,
                "budget_steps": 5,
                "workers": 0,
                "teacher": teacher,  # a stranger's stored "setting"
                "rating_weight": 0.5,
            },
        )
        archive.close()
        run = Run(run_dir)
        try:
            assert run.teaching.work is None
            run.run(max_individuals=2)
        finally:
            run.close()
        assert server.requests == []
    stored = {"name": "xor", "teacher": {"online": "graph:/elsewhere/evil.graph", "run_dir": "/x"}}
    assert "teacher" not in task_spec(stored, run_dir, 0)
    assert "teacher" not in task_spec(stored, run_dir, 3)


def test_a_project_naming_a_teacher_starts_none(tmp_path: Path) -> None:
    with FakeOpenAI(never) as server:
        project = project_file(
            tmp_path / "received.graph",
            {
                "task": {"name": "xor"},
                "teacher": {"spec": f"openai:m@{server.url}", "role": "rate"},
                "teach": "rate",
            },
        )
        out = ob(
            "run", str(project), "--individuals", "2", "--workers", "0", "--budget-steps", "5",
            "--run-dir", str(tmp_path / "run"), cwd=tmp_path, home=tmp_path / "home",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert server.requests == []
        assert "teacher" not in out.stderr


def test_the_window_takes_a_teacher_only_from_its_dialog(
    tmp_path: Path, qtbot: Any, monkeypatch: Any
) -> None:
    from openbrains.app.main import MainWindow
    from openbrains.app.project import Project

    monkeypatch.setenv("OPENBRAINS_HOME", str(tmp_path / "home"))
    path = project_file(
        tmp_path / "received.graph",
        {"task": {"name": "xor"}, "teacher": {"spec": "openai:m@http://127.0.0.1:9/v1"}},
    )
    window = MainWindow(Project.open(path), start_engine=False)
    qtbot.addWidget(window)
    sent: list[str] = []
    monkeypatch.setattr(window.client, "send", lambda cmd, cb=None, **a: sent.append(cmd))
    window.client.event.emit("started", {})
    assert window.teacher.pending is None and "teacher" not in sent
    assert "no teacher" in window.teacher.section.label.text()
    window.project.dirty = False
    window.close()
