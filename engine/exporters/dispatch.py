"""``openbrains export``'s engine side: pick the format, export into a staged folder, and
say what was written (sizes, parity with PyTorch, flash and RAM, what int8 cost)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.engine.exporters.atomic import refuse_existing, staged
from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.source import BrainSource, open_source

FORMATS = ("graph", "onnx", "c", "web")
FOLDER_FORMATS = ("c", "web")


@dataclass(frozen=True)
class ExportRequest:
    source: Path
    output: Path
    best: bool = False
    individual: int | None = None
    format: str | None = None
    quantize: str | None = None  # None or "int8"
    max_drop: float | None = None
    task: dict[str, Any] | None = None  # calibration task named by the user
    refit: bool = True  # a run's individual with its refit's weights (engine.refits)


@dataclass
class ExportResult:
    path: Path
    format: str
    summary: list[str] = field(default_factory=list)  # lines for the user
    figures: dict[str, Any] = field(default_factory=dict)


def format_for(output: Path, given: str | None) -> str:
    """``--format``, else OUT's suffix (``.onnx``, ``.graph``, ``.c``, ``.web``), else a
    folder named ``c`` or ``web`` (or ending ``-c``/``_c``/``-web``/``_web``); otherwise
    ``graph``, the default it always was."""
    if given:
        if given not in FORMATS:
            raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {given!r}")
        return given
    name = Path(output).name.lower()
    suffix = Path(name).suffix.lstrip(".")
    if suffix in FORMATS:
        return suffix
    for fmt in FOLDER_FORMATS:
        if name == fmt or name.endswith((f"-{fmt}", f"_{fmt}")):
            return fmt
    return "graph"


def export(req: ExportRequest) -> ExportResult:
    fmt = format_for(req.output, req.format)
    if req.quantize not in (None, "int8"):
        raise ExportError(f"--quantize takes int8, not {req.quantize!r}")
    if req.quantize and fmt != "c":
        raise ExportError("--quantize int8 applies to the C export (--format c)")
    if req.max_drop is not None and not req.quantize:
        raise ExportError("--max-drop limits what --quantize int8 may lose; add --quantize int8")
    if req.max_drop is not None and req.max_drop < 0:
        raise ExportError(f"--max-drop must be 0 or more, not {req.max_drop}")
    refuse_existing(Path(req.output))
    if fmt == "graph":
        return _graph(req)
    src = open_source(req.source, req.best, req.individual, req.refit)
    if fmt == "onnx":
        return _onnx(req, src)
    if fmt == "web":
        return _web(req, src)
    return _c(req, src)


def _graph(req: ExportRequest) -> ExportResult:
    from openbrains.engine.format import GraphFile, save

    path = Path(req.source)
    with staged(req.output) as stage:
        target = stage / Path(req.output).name
        if path.is_dir():
            if not req.best and req.individual is None:
                raise ExportError(f"{path} is a run folder: add --best or --id N")
            from openbrains.engine.export import export_individual

            _, rec = export_individual(
                path, None if req.best else req.individual, target, req.refit
            )
            line = (
                f"wrote {req.output}: individual #{rec.id}, {rec.params:,} params, "
                f"validation {rec.val_metric:.4f}"
            )
        else:
            src = open_source(path, req.best, req.individual, req.refit)
            save(target, GraphFile(kind="graph", graph=src.graph, weights=src.weights))
            line = f"wrote {req.output}: {src.label}, {src.brain.param_count():,} params"
    return ExportResult(Path(req.output), "graph", [line])


def _describe(src: BrainSource) -> Any:
    from openbrains.engine.exporters.meta import describe

    return describe(src.brain, src.graph, src.label)


def _onnx_summary(ex: Any) -> str:
    states = f", {len(ex.meta.states)} state tensors (a step model)" if ex.meta.states else ""
    free = [p for p in ex.meta.inputs if p.time is None]
    lengths = ""
    if free:
        p = free[0]
        top = f"..{p.max_time}" if p.max_time else "+"
        lengths = f", chunks of {p.min_time}{top} steps"
    return (
        f"{len(ex.model) / 1024:.1f} KB, batch {ex.batch}{lengths}{states}; "
        f"onnxruntime matches PyTorch within {ex.max_error:.1g}"
    )


def _onnx(req: ExportRequest, src: BrainSource) -> ExportResult:
    from openbrains.engine.exporters.onnx import export_onnx

    ex = export_onnx(src.brain, _describe(src))
    with staged(req.output) as stage:
        (stage / Path(req.output).name).write_bytes(ex.model)
    return ExportResult(
        Path(req.output),
        "onnx",
        [f"wrote {req.output} ({src.label}): {_onnx_summary(ex)}"],
        {"bytes": len(ex.model), "max_error": ex.max_error},
    )


def _web(req: ExportRequest, src: BrainSource) -> ExportResult:
    from openbrains.engine.exporters.onnx import export_onnx
    from openbrains.engine.exporters.web import runtime_dir, write_web

    runtime_dir()  # refuse before the slow part when the runtime is missing
    ex = export_onnx(src.brain, _describe(src))
    with staged(req.output) as stage:
        names = write_web(stage, ex, src.label)
    return ExportResult(
        Path(req.output),
        "web",
        [
            f"wrote {req.output}/ ({', '.join(names)}) for {src.label}: {_onnx_summary(ex)}",
            f"serve it: python3 -m http.server -d {req.output} 8000, then open http://localhost:8000",
        ],
        {"bytes": len(ex.model), "max_error": ex.max_error},
    )


def _c(req: ExportRequest, src: BrainSource) -> ExportResult:
    from openbrains.engine.exporters.c import emit_c, refusal

    why = refusal(src.brain)
    if why:
        raise ExportError(why)
    meta = _describe(src)
    figures: dict[str, Any] = {}
    calibration = None
    if req.quantize == "int8":
        from openbrains.engine.exporters.calibration import calibration as load_calibration

        calibration = load_calibration(src.brain, src.graph, req.task)
    ex = emit_c(
        src.brain,
        meta,
        int8=calibration is not None,
        calibration=calibration and calibration.inputs,
    )
    lines = []
    if calibration is not None and ex.quant is not None:
        drop, before, after = _int8_drop(src, calibration, ex.quant.clips)
        figures.update(drop=drop, metric_float=before, metric_int8=after)
        metric = calibration.task.metric
        lines.append(
            f"int8: {metric} {before:.4f} → {after:.4f} on the validation split of "
            f"{calibration.task.name} (loses {drop:.4f})"
        )
        if req.max_drop is not None and drop > req.max_drop:
            raise ExportError(
                f"int8 loses {drop:.4f} {metric} on the validation split, more than "
                f"--max-drop {req.max_drop:g}; nothing was written (try float32: drop --quantize)"
            )
    with staged(req.output) as stage:
        for name, text in ex.files.items():
            (stage / name).write_text(text, encoding="utf-8")
    fp = ex.footprint
    figures.update(fp.to_dict())
    mode = "one step of a stream per call" if ex.stream else "one example per call"
    lines.insert(
        0,
        f"wrote {req.output}/ (brain.h, brain.c) for {src.label}, "
        f"{'int8' if ex.quant else 'float32'} weights, {mode}",
    )
    lines.insert(
        1,
        f"flash {fp.flash / 1024:.1f} KB ({fp.weights:,} bytes of weights + about {fp.code:,} of code), "
        f"RAM {fp.ram / 1024:.2f} KB ({fp.arena:,} working + {fp.state:,} state + {fp.io:,} input/output)",
    )
    return ExportResult(Path(req.output), "c", lines, figures)


def _int8_drop(
    src: BrainSource, calibration: Any, clips: dict[str, float]
) -> tuple[float, float, float]:
    from openbrains.engine.exporters.c.quantize import simulated
    from openbrains.engine.exporters.calibration import loss_of_quality, metric_on_validation

    task = calibration.task
    before = metric_on_validation(src.brain, task)
    with simulated(src.brain, clips) as q:
        after = metric_on_validation(q, task)
    return loss_of_quality(before, after, task), before, after
