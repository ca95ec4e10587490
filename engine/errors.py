"""Errors with messages a user can act on; each names the file, member, node or edge at fault."""

from __future__ import annotations


class OpenBrainsError(Exception):
    """Base of every error the engine raises on purpose (CLI prints it as one line, exit 2)."""


class GraphError(OpenBrainsError):
    """A graph that cannot compile: names the node or edge at fault."""

    def __init__(self, message: str, node: str | None = None, edge: str | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.edge = edge


class MissingUnitError(GraphError):
    """A graph names a unit (or unit version) nobody installed; the graph still loads as data."""

    def __init__(self, message: str, unit: str, package: str | None, node: str | None = None):
        super().__init__(message, node=node)
        self.unit = unit
        self.package = package


class ParamError(GraphError):
    """A node's parameter has the wrong type or lies outside its declared range."""


class FormatError(OpenBrainsError):
    """A `.graph` file that cannot be read safely: says what is wrong and where."""
