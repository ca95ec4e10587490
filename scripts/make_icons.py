"""Render the PNG sizes of the icons in assets/ from their SVGs (run after editing an SVG):
`python scripts/make_icons.py`. The PNGs are committed, so an installed program and the
bundle need no SVG renderer to show an icon."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from openbrains.assets import APP_SVG, GRAPH_SVG, HERE, ICON_SIZES
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer


def render(svg: Path, size: int, out: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for svg, stem in ((APP_SVG, "openbrains"), (GRAPH_SVG, "openbrains-graph")):
        for size in ICON_SIZES:
            out = HERE / "icons" / f"{stem}-{size}.png"
            render(HERE / svg, size, out)
            print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
