"""The run bar's Teacher section as a real widget (offscreen Qt): a status in, its line
shown; the dialog refuses a spec that is not one and hands on the order it was given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openbrains.canvas.teacher import TeacherDialog, TeacherSection, status_text

ROOT = Path(__file__).resolve().parents[2]


def test_the_section_shows_spec_role_state_and_cache(qtbot) -> None:
    section = TeacherSection()
    qtbot.addWidget(section)
    assert "no teacher" in section.label.text()
    section.set_status(
        {
            "spec": "openai:llama3@http://127.0.0.1:8080/v1",
            "role": "label",
            "state": "down",
            "message": "the teacher at http://127.0.0.1:8080/v1 is unreachable",
            "cached": 1234,
            "asked": 5,
        }
    )
    text = section.label.text()
    assert "openai:llama3@" in text and "label" in text and "down" in text
    assert "1,234 answers cached" in text
    assert "unreachable" in section.label.toolTip() and "asked: 5" in section.label.toolTip()
    assert "…" in status_text({"spec": "graph:/" + "x" * 80 + ".graph", "role": "distill"})


def test_the_dialog_takes_only_a_spec_that_parses(qtbot, tmp_path: Path) -> None:
    dialog = TeacherDialog()
    qtbot.addWidget(dialog)
    dialog.spec.setText("gpt-4")
    dialog.accept()
    assert dialog.result() != TeacherDialog.DialogCode.Accepted
    assert "is not a teacher" in dialog.error.text()
    dialog.spec.setText("openai:tiny@http://127.0.0.1:8080/v1")
    dialog.role.setCurrentIndex(dialog.role.findData("label"))
    dialog.accept()
    assert "needs an unlabelled folder" in dialog.error.text()
    dialog.unlabelled.setText(str(tmp_path))
    dialog.key_env.setText("MY_KEY")
    dialog.accept()
    assert dialog.result() == TeacherDialog.DialogCode.Accepted
    assert dialog.order() == {
        "spec": "openai:tiny@http://127.0.0.1:8080/v1",
        "role": "label",
        "key_env": "MY_KEY",
        "unlabelled": str(tmp_path),
        "prompts": "",
    }


def test_the_section_never_imports_torch() -> None:
    code = "import sys, openbrains.canvas.teacher; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr
