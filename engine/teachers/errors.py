"""What can go wrong with a teacher, as errors a user can act on (one line each).

``TeacherError`` is a mistake the user can fix (a bad spec, a missing key, a teacher that
cannot do the role asked of it, another set of classes): it stops the command before the
run starts. ``TeacherDown`` is a teacher that stopped answering (unreachable, refusing the
key, failing after retries): the run logs it and goes on with what it has.
"""

from __future__ import annotations

from openbrains.engine.errors import OpenBrainsError


class TeacherError(OpenBrainsError):
    """A teacher that cannot be used as given: says what to change."""


class TeacherDown(TeacherError):
    """A teacher that did not answer (after retries). ``fatal``: asking again is useless
    (a refused key, an unknown model), so the session stops asking at once."""

    def __init__(self, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal
