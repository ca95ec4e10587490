"""Open Brains: grow tiny neural networks by evolution, and share them as `.graph` files.

The installed layers live under this package: ``openbrains.engine`` (the headless core),
``openbrains.nodes`` (the unit library), ``openbrains.canvas`` (Qt widgets) and
``openbrains.app`` (the program). In the repository they are the top-level folders
``engine/``, ``nodes/``, ``canvas/`` and ``app/``; ``setup.py`` maps them here.

Importing this package loads nothing heavy (no torch, no Qt), so the canvas can live under
it without pulling torch in.
"""

from openbrains.engine import __version__

__all__ = ["__version__"]
