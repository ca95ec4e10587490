"""The 8×8 handwritten digits, read from the copy that ships with the package.

The data are the test half of the UCI "Optical Recognition of Handwritten Digits" set
(E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), the file scikit-learn ships as
``load_digits`` (``digits.csv.gz``, 57 KB: 1,797 rows of 64 pixels 0–16 and the class).
Why a copy of our own: scikit-learn's loader imports SciPy and scikit-learn first, 1.3 s
of every process that opens the flagship task (each worker of a run), and it made
scikit-learn a dependency of the program. Reading the same file gives the same arrays
(``tests/engine/test_digits_data.py`` compares them with scikit-learn's).
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

import numpy as np

SIDE = 8


@cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: images ``[1797, 8, 8]`` float64 in 0–16, labels int64."""
    data = resources.files(__package__).joinpath("digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(data).decode("ascii").splitlines(), delimiter=",")
    images = table[:, :-1].reshape(-1, SIDE, SIDE)
    labels = table[:, -1].astype(np.int64)
    images.flags.writeable = labels.flags.writeable = False  # shared by every caller
    return images, labels
