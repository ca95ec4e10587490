"""``openbrains.export``: a brain written as a `.graph`, an ONNX model, C99 for a
microcontroller or a static web page (docs/export.md), the same work as ``openbrains
export`` on the command line, which calls it."""

from __future__ import annotations

import tempfile
from os import PathLike
from pathlib import Path
from typing import Any

from openbrains.brain import Brain
from openbrains.engine.exporters.dispatch import ExportRequest, ExportResult
from openbrains.engine.exporters.dispatch import export as _export


def export(
    source: Brain | str | PathLike[str],
    output: str | PathLike[str],
    *,
    format: str | None = None,
    best: bool = False,
    id: int | None = None,
    quantize: str | None = None,
    max_drop: float | None = None,
    task: dict[str, Any] | None = None,
    refit: bool = True,
) -> ExportResult:
    """Write ``source`` (a ``Brain``, a `.graph` file, or a run folder with ``best=True`` or
    ``id=N``) to ``output``; the format follows ``format`` or the output's name, as on the
    command line. ``task`` (``{"name": ..., "data": ..., **options}``) is the calibration task
    of an int8 C export. ``refit=False``: a run's individual with the weights it was chosen
    with, not its refit's (engine.refits). ``output`` must not exist; nothing is
    half-written on an error."""

    def write(path: Path) -> ExportResult:
        return _export(
            ExportRequest(
                source=path,
                output=Path(output),
                best=best,
                individual=id,
                format=format,
                quantize=quantize,
                max_drop=max_drop,
                task=task,
                refit=refit,
            )
        )

    if not isinstance(source, Brain):
        return write(Path(source))
    with tempfile.TemporaryDirectory(prefix="openbrains-export-") as tmp:
        return write(source.save(Path(tmp) / "brain.graph"))  # a brain in memory: a file first
