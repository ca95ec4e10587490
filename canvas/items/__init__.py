"""Scene items of the graph editor: nodes, their typed ports, and the wires between them."""

from canvas.items.node import NodeItem
from canvas.items.port import PortItem
from canvas.items.wire import WireItem

__all__ = ["NodeItem", "PortItem", "WireItem"]
