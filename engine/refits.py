"""Refits: the champion trained on further with its validation examples added to its
training ones, kept beside the champion it came from.

Validation chooses the champion; once it has chosen, its examples are labelled data like
any other, and on small data sets they are a large share of it (digits: 180 of 898
images, from writers the training images do not have). A refit is the brain a user takes
away: its validation score is no longer an estimate (it saw those examples), so it never
competes in selection; its test score is what it does on data nobody trained on. Only the
newest refit is kept: the run refits each new champion, and an older champion's refit is
no one's deliverable.

The table lives in the run's ``run.sqlite`` and belongs to this module. Torch-free.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from openbrains.engine.store import Archive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS refits (
    individual INTEGER PRIMARY KEY REFERENCES individuals(id),
    created REAL NOT NULL,
    steps INTEGER NOT NULL,
    train_seconds REAL NOT NULL,
    val_metric REAL,
    test_metric REAL,
    weights BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class Refit:
    """Individual ``individual`` trained ``steps`` more steps on training + validation data.
    ``val_metric`` is on examples it trained on (not an estimate); ``test_metric`` is not."""

    individual: int
    steps: int
    train_seconds: float
    val_metric: float | None
    test_metric: float | None
    weights: bytes
    created: float = 0.0

    def summary(self) -> dict[str, object]:
        """The refit as events and reports show it (no weights)."""
        return {
            "of": self.individual,
            "steps": self.steps,
            "train_seconds": self.train_seconds,
            "score_seen": self.val_metric,
            "test_score": self.test_metric,
        }


class RefitStore:
    """The refit of one archive (opened for writing, or read-only: then nothing is made)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        try:
            archive.db.executescript(_SCHEMA)
        except sqlite3.OperationalError:  # a read-only connection: read what is there
            pass

    def put(self, refit: Refit) -> None:
        """Keep ``refit`` as the run's only one (one transaction)."""
        with self.archive.transaction() as db:
            db.execute("DELETE FROM refits")
            db.execute(
                "INSERT INTO refits VALUES (?,?,?,?,?,?,?)",
                (
                    refit.individual,
                    refit.created or time.time(),
                    refit.steps,
                    refit.train_seconds,
                    refit.val_metric,
                    refit.test_metric,
                    refit.weights,
                ),
            )

    def get(self, individual: int) -> Refit | None:
        """The refit of ``individual``, if the run kept one."""
        if not self.archive.has_table("refits"):
            return None
        row = self.archive.db.execute(
            "SELECT individual, steps, train_seconds, val_metric, test_metric, weights, created "
            "FROM refits WHERE individual=?",
            (individual,),
        ).fetchone()
        if row is None:
            return None
        ind, steps, seconds, val, test, weights, created = row
        return Refit(int(ind), int(steps), float(seconds), val, test, bytes(weights), created)
