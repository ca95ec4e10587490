"""What Open Brains ships besides code: the app icon (SVG and PNG sizes), the icon of a
``.graph`` file, the freedesktop desktop entry and the shared-mime-info type of ``*.graph``.

They are package data of ``openbrains.assets`` (setup.py maps this folder there), so an
installed program, a wheel or the PyInstaller bundle finds them beside this file. This
module names them; it imports neither Qt nor torch.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

APP_ID = "openbrains"  # the desktop entry's file name and the icon's theme name
MIME_TYPE = "application/x-openbrains-graph"
MIME_ICON = MIME_TYPE.replace("/", "-")  # the theme name of a .graph file's icon
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

APP_SVG = "openbrains.svg"
GRAPH_SVG = "openbrains-graph.svg"
DESKTOP_ENTRY = "openbrains.desktop"
MIME_XML = "openbrains-mime.xml"


def path(name: str) -> Path:
    """An asset by its file name (``icons/openbrains-48.png``); raises if it is missing,
    which means a broken install rather than a user's mistake."""
    found = HERE / name
    if not found.is_file():
        raise FileNotFoundError(f"Open Brains asset {name} is missing from {HERE}")
    return found


def app_png(size: int) -> Path:
    return path(f"icons/openbrains-{size}.png")


def graph_png(size: int) -> Path:
    return path(f"icons/openbrains-graph-{size}.png")
