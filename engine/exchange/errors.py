"""The exchange's one error type: one line a person can act on (exit 2 on the command line)."""

from __future__ import annotations

from openbrains.engine.errors import OpenBrainsError


class ExchangeError(OpenBrainsError):
    """A place that is not an exchange, a card that lies, a download that broke, no network."""
