"""Scene items of the graph editor: nodes, their typed ports, and the wires between them."""

from openbrains.canvas.items.node import NodeItem
from openbrains.canvas.items.port import PortItem
from openbrains.canvas.items.wire import WireItem

__all__ = ["NodeItem", "PortItem", "WireItem"]
