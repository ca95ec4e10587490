"""docs/api.md's examples run as written (doctest), in a folder of their own with the
samples beside them, so the runs they start leave nothing in the repository."""

from __future__ import annotations

import doctest
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_api_md_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "sample_graphs", tmp_path / "sample_graphs")
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        str(ROOT / "docs" / "api.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
        verbose=False,
    )
    assert result.attempted >= 20
    assert result.failed == 0, f"{result.failed} of docs/api.md's examples failed (see above)"
