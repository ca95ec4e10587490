"""The suite's own scheduling (tests/conftest.py): pytest-xdist keeps each group in one
process. Ray's tests rely on it (one local cluster at a time) and so does every module
with a module-scoped fixture (made once, not once per process). pytest 9.2 silently broke
it for pytest-xdist 3.8 (pytest-xdist#1386); this fails if a pin lets that back in."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent

NAMED = """
import pytest

pytestmark = pytest.mark.xdist_group("cluster")

@pytest.mark.parametrize("i", range(6))
def test_named(i):
    pass
"""

MODULE_FIXTURE = """
import pytest

@pytest.fixture(scope="module")
def made_once():
    return object()

@pytest.mark.parametrize("i", range(6))
def test_uses_it(made_once, i):
    pass

@pytest.mark.parametrize("i", range(6))
def test_beside_it(i):
    pass
"""

LOOSE = """
import pytest

@pytest.mark.parametrize("i", range(12))
def test_loose(i):
    pass
"""


def test_groups_and_modules_with_a_module_fixture_stay_in_one_process(tmp_path: Path) -> None:
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # not the repository's settings
    (tmp_path / "test_named.py").write_text(NAMED)
    (tmp_path / "test_module_fixture.py").write_text(MODULE_FIXTURE)
    (tmp_path / "test_loose.py").write_text(LOOSE)
    pytest_on_two = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2"]
    done = subprocess.run(
        [*pytest_on_two, "--dist", "loadgroup", "-v", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, module in re.findall(r"\[(gw\d)\].*PASSED (test_\w+)\.py::", done.stdout):
        workers[module].add(worker)
    assert len(workers["test_named"]) == 1, done.stdout
    assert len(workers["test_module_fixture"]) == 1, done.stdout
    assert set(workers) == {"test_named", "test_module_fixture", "test_loose"}, done.stdout
