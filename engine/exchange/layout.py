"""File names of a published brain (the Hugging Face Hub's layout) and of an exchange folder.

These names are ours: whatever a card or a listing says, only these files are read or
written, so a download can never name a path on the user's disk.
"""

from __future__ import annotations

import re

from openbrains.engine.exchange.errors import ExchangeError

CARD = "README.md"
BRAIN = "brain.graph"
ONNX = "brain.onnx"
FILES = (CARD, BRAIN, ONNX)
"""Every file a published brain may hold; ``brain.onnx`` is optional."""

MARKER = "openbrains-exchange.json"
"""An exchange folder's mark: a folder without it is not written into unless empty."""
MARKER_CONTENT = b'{"format": "openbrains.exchange", "version": 1}\n'

LIBRARY = "open-brains"
TAG = "open-brains"
"""The Hub tag (and ``library_name``) every published brain carries."""

MAX_CARD_BYTES = 1 << 20
MAX_BRAIN_BYTES = 2 << 30

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_name(name: str) -> str:
    """A brain's name in an exchange: the Hub's repository-name rules (letters, digits,
    ``-``, ``_``, ``.``; at most 96; no ``..``), which also make it one safe folder name."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name or name.endswith("."):
        raise ExchangeError(
            f"{name!r} is not a usable brain name: use letters, digits, '-', '_' and '.', "
            "at most 96 characters"
        )
    return name
