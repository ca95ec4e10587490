"""Errors in words a person understands, with the technical detail one click away.

The engine's messages are written for the command line and for bug reports; a few that
reach people in the window come from deep inside libraries (PyTorch, OpenCV) and mean
nothing to them. ``plain(message)`` gives the sentence to show; the original stays the
*detail* (a dialog's "Show Details…", a "details" link in the engine log). Node uids
(``node '629f6fbe'``) are replaced by the node's title when the window knows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtWidgets import QMessageBox, QWidget


@dataclass(frozen=True)
class Plain:
    text: str  # one line for a person
    detail: str  # the message as it came, for whoever wants to look closer


# (pattern in the raw message, what to say instead); the first that matches wins
RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), text)
    for p, text in (
        (
            r"does not require grad|element 0 of tensors",
            "nothing in this brain can learn: every weight is frozen or fixed, so it "
            "cannot be trained",
        ),
        (
            r"cv2\.error|OpenCV\(\d|imdecode|cvtColor",  # OpenCV's own words, not ours
            "this source cannot feed this brain: it reads images; choose a camera or an "
            "image file as the source",
        ),
        (r"out of memory|cannot allocate memory", "the computer ran out of memory"),
        (r"no space left on device", "the disk is full"),
        (r"permission denied", "Open Brains may not write there (permission denied)"),
        (r"(nan|inf) loss|loss is (nan|inf)|non-finite", "training blew up (the loss became NaN)"),
        (
            r"mat1 and mat2 shapes cannot be multiplied|size mismatch|shape .* is invalid",
            "the shapes inside this graph do not fit together",
        ),
        (r"PortAudio|no default (input|output) device", "no microphone or speaker was found"),
        (r"could not open (camera|video)", "no camera was found"),
    )
)
_PYTHON_ERROR = re.compile(r"^(?:[A-Za-z_.]+(?:Error|Exception)): ")
_UID = re.compile(r"\b(node|edge) '([0-9a-f]{8}|[a-z0-9_]{1,32})'")


def plain(message: str, names: Mapping[str, str] | None = None) -> Plain:
    """The sentence to show for ``message`` (see the module docstring)."""
    raw = str(message or "").strip()
    for pattern, text in RULES:
        if pattern.search(raw):
            return Plain(text, raw)
    text = raw.splitlines()[0] if raw else "something went wrong"
    text = _PYTHON_ERROR.sub("", text)  # "RuntimeError: x" reads as x
    if names:
        text = _UID.sub(
            lambda m: f"{m.group(1)} '{names[m.group(2)]}'" if m.group(2) in names else m.group(0),
            text,
        )
    return Plain(text, raw)


def show_error(
    parent: QWidget | None, title: str, message: str, names: Mapping[str, str] | None = None
) -> QMessageBox:
    """A plain warning dialog: the sentence, and the original under "Show Details…" when
    it says more. Non-blocking (``open``), so a run keeps updating the window."""
    words = plain(message, names)
    box = QMessageBox(QMessageBox.Icon.Warning, title, words.text, parent=parent)
    if words.detail and words.detail != words.text:
        box.setDetailedText(words.detail)
    box.setObjectName("errorBox")
    box.open()
    return box
