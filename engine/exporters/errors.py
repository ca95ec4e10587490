"""The one error kind exporters raise on purpose: the CLI prints it as one line, exit 2."""

from __future__ import annotations

from openbrains.engine.errors import OpenBrainsError


class ExportError(OpenBrainsError):
    """A brain that cannot be exported as asked: names the node, unit or file at fault."""
