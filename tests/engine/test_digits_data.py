"""The digits the package ships (engine/datasets/digits.csv.gz) are scikit-learn's, and
reading them needs neither scikit-learn nor SciPy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from openbrains.engine.datasets.digits import digits


def test_the_copy_is_scikit_learns_digits() -> None:
    from sklearn.datasets import load_digits

    images, labels = digits()
    theirs = load_digits()
    assert np.array_equal(images, theirs.images) and images.dtype == theirs.images.dtype
    assert np.array_equal(labels, theirs.target)
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_the_digits_task_loads_without_scikit_learn_or_scipy() -> None:
    probe = (
        "import sys\n"
        "from openbrains.engine.tasks.registry import load_task\n"
        "task = load_task('digits')\n"
        "assert len(task.train) + len(task.val) + len(task.test) == 1797\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
