"""``openbrains.evaluate`` and the trust rules for tasks a Python caller names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import openbrains
from openbrains.engine import trust
from openbrains.taskspec import task_name

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "sample_graphs" / "xor.graph"


def test_evaluate_a_brain_a_file_and_the_command_agree() -> None:
    by_brain = openbrains.evaluate(openbrains.load(XOR), task="xor")
    by_file = openbrains.evaluate(XOR, "xor")
    assert isinstance(by_brain, openbrains.Evaluation)
    assert by_brain == by_file
    assert (by_brain.task, by_brain.metric, by_brain.examples, by_brain.params) == (
        "xor",
        "accuracy",
        4,
        42,
    )
    out = subprocess.run(
        [sys.executable, "-m", "openbrains", "eval", str(XOR), "--task", "xor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == by_brain.to_dict()


def test_a_task_that_does_not_fit_is_one_line() -> None:
    with pytest.raises(openbrains.OpenBrainsError, match="takes inputs"):
        openbrains.evaluate(XOR, task="digits")


def test_a_code_name_string_is_never_imported(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A string may come from a file: it is refused, and its module is not imported."""
    (tmp_path / "planted_by_file.py").write_text("raise SystemExit('imported!')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(openbrains.OpenBrainsError, match="pass the class itself"):
        openbrains.evaluate(XOR, task="planted_by_file:Game")
    assert "planted_by_file" not in sys.modules


class OwnTask:
    """Stands for a caller's own game class: only its name and module matter here."""


def test_a_class_or_code_ref_the_caller_passes_is_granted() -> None:
    trust.revoke_all()
    try:
        entry = task_name(OwnTask)
        assert entry == f"{__name__}:OwnTask" and trust.is_granted(entry)
        assert trust.load_code(entry) is OwnTask
        ref = openbrains.CodeRef("some_pkg.games:Board", "me")
        assert task_name(ref) == "some_pkg.games:Board" and trust.is_granted(ref.entry)
        assert task_name("some_pkg.games:Board") == "some_pkg.games:Board"  # granted now
    finally:
        trust.revoke_all()
