"""`openbrains run --teacher ... --teach ...` through real subprocesses: bad teacher input
is one line and exit 2 before anything runs; a teacher that cannot be reached is a logged
line and the run finishes on what it has."""

from __future__ import annotations

from pathlib import Path

from tests.cli_kit import ob, one_line_error


def test_bad_teacher_input_is_one_line(tmp_path: Path) -> None:
    run = ["run", "--task", "digits", "--run-dir", str(tmp_path / "r"), "--individuals", "1"]
    one_line_error(ob(*run, "--teacher", "gpt4", "--teach", "label"), "is not a teacher")
    one_line_error(ob(*run, "--teach", "label"), "--teach needs --teacher SPEC")
    url = "openai:m@http://127.0.0.1:9/v1"
    one_line_error(ob(*run, "--teacher", url), "--teacher needs --teach ROLE")
    one_line_error(ob(*run, "--teacher", url, "--teach", "label"), "needs --unlabelled DIR")
    one_line_error(
        ob(*run, "--teacher", url, "--teach", "pairs", "--prompts", "p"), "call-and-response"
    )
    missing = tmp_path / "none.graph"
    one_line_error(
        ob(*run, "--teacher", f"graph:{missing}", "--teach", "distill"), "does not exist"
    )
    one_line_error(
        ob(*run, "--teacher", url, "--teach", "rate", "--teacher-key-env", "OB_NO_SUCH_KEY"),
        "OB_NO_SUCH_KEY is not set",
    )


def test_an_unreachable_teacher_leaves_the_run_going(tmp_path: Path) -> None:
    out = ob(
        "run", "--task", "digits", "--run-dir", str(tmp_path / "r"), "--workers", "0",
        "--individuals", "2", "--budget-steps", "10", "--population", "2",
        "--teacher", "openai:m@http://127.0.0.1:9/v1", "--teach", "distill",
        "--teacher-timeout", "1",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "teacher:" in out.stderr and "unreachable" in out.stderr
    assert "Traceback" not in out.stderr
