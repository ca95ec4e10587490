"""A run whose candidates all fail stops, and says why in one line.

One failed candidate is the search working (a random graph that cannot train); a long
unbroken run of them means something outside the candidates is wrong: a game that crashes
on every move, a learning rate of NaN, data that went away. Then training more candidates
only prints the same error again, so the run stops after ``FAIL_LIMIT`` failures in a row,
with the first of them (later ones are usually consequences).
"""

from __future__ import annotations

from dataclasses import dataclass

from openbrains.engine.errors import OpenBrainsError

FAIL_LIMIT = 20  # consecutive candidates that failed or diverged before a run stops


class RunFailedError(OpenBrainsError):
    """Every recent candidate failed; the message carries the first error."""


@dataclass
class FailureGuard:
    """Counts candidates that failed (or diverged) since the last one that trained."""

    limit: int = FAIL_LIMIT
    streak: int = 0
    first_error: str = ""

    def record(self, status: str, error: str) -> None:
        """Note one finished candidate; raises ``RunFailedError`` at the limit."""
        if status == "done":
            self.streak, self.first_error = 0, ""
            return
        if self.streak == 0:
            self.first_error = _one_line(error) or status
        self.streak += 1
        if self.streak >= self.limit:
            raise RunFailedError(
                f"the last {self.streak} candidates all failed, so the run stopped; "
                f"the first error: {self.first_error}"
            )


def _one_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 300 else line[:297] + "..."
