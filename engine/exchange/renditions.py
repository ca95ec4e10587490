"""Further files of a published brain, made from its `.graph` (``package.RENDITIONS``).

``onnx_rendition`` makes ``brain.onnx`` through the ONNX exporter (``engine.exporters``), so
people can run the brain in onnxruntime without Open Brains. A brain the exporter refuses
(a unit torch cannot trace, a stateful form it cannot express) raises ``ExportError``: it
is still published, without the file, and its card says why (``package.build``).
"""

from __future__ import annotations

from openbrains.engine.format import GraphFile


def onnx_rendition(name: str, doc: GraphFile) -> bytes:
    """``brain.onnx`` for onnxruntime, exported from the brain ``doc`` holds (its metadata
    names the published brain ``name``, never a path of the publisher's)."""
    from openbrains.engine.exporters.meta import describe
    from openbrains.engine.exporters.onnx import export_onnx
    from openbrains.engine.format.document import runnable

    assert doc.graph is not None
    brain = runnable(doc, name)
    return export_onnx(brain, describe(brain, doc.graph, name)).model
