"""Further files of a published brain, made from its `.graph` (``package.RENDITIONS``).

``onnx_rendition`` makes ``brain.onnx`` through the ONNX exporter (``engine/exporters``,
issue "export"), which is not part of this build yet: once it is, publishing includes
``brain.onnx`` by adding ``onnx_rendition`` to ``package.RENDITIONS`` (one line).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from openbrains.engine.exchange.layout import ONNX
from openbrains.engine.format import GraphFile


def onnx_rendition(path: Path, _doc: GraphFile) -> tuple[str, bytes] | None:
    """``brain.onnx`` for onnxruntime, exported from the `.graph` at ``path``."""
    from openbrains.engine.exporters.dispatch import ExportRequest, export  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="openbrains-onnx-") as tmp:
        out = Path(tmp) / ONNX
        export(ExportRequest(source=Path(path), output=out, format="onnx"))
        return ONNX, out.read_bytes()
