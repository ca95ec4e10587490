"""Brain → a static web page: ``index.html``, ``brain.onnx`` and onnxruntime-web, copied
from the copy that ``scripts/setup.sh`` fetched from npm, so exporting works offline and the
page needs no network. Draw for image inputs, type for text, pick a file for audio; the
page's encoders do the codec's arithmetic (the log-mel filterbank comes from the codec)."""

from __future__ import annotations

import html
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson

from openbrains.engine.exporters.errors import ExportError
from openbrains.engine.exporters.meta import BrainMeta
from openbrains.engine.exporters.onnx import OnnxExport

RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
RUNTIME_DIR = Path(__file__).resolve().parent / "web_runtime"


def runtime_dir() -> Path:
    missing = [f for f in RUNTIME_FILES if not (RUNTIME_DIR / f).is_file()]
    if missing:
        raise ExportError(
            f"onnxruntime-web is not installed ({RUNTIME_DIR} lacks {', '.join(missing)}); "
            "run bash scripts/setup.sh"
        )
    return RUNTIME_DIR


def _web_extras(meta: BrainMeta) -> dict[str, Any]:
    """What the page's audio encoder needs from the codec (mel filterbank, window)."""
    import torch

    from openbrains.engine.codecs import AudioCodec, codec_from_dict

    extras: dict[str, Any] = {}
    for p in meta.inputs:
        if p.modality == "audio" and p.codec and p.codec.get("kind") == "audio":
            codec = codec_from_dict(p.codec)
            if isinstance(codec, AudioCodec) and codec.mode == "logmel":
                extras["mel_fb"] = codec._fb.tolist()
                extras["window"] = torch.hann_window(codec.n_fft).tolist()
    return extras


def page(meta: BrainMeta, title: str) -> str:
    template = files("openbrains.engine.exporters").joinpath("web_page.html").read_text()
    data = {"openbrains": meta.to_dict(), "web": _web_extras(meta)}
    # JSON inside <script>: no "</" may close the element early
    text = orjson.dumps(data).decode().replace("</", "<\\/")
    return template.replace("__META__", text).replace("__TITLE__", html.escape(title))


def write_web(folder: Path, onnx: OnnxExport, title: str) -> list[str]:
    """Fill ``folder`` (already created, empty); returns the file names written."""
    runtime = runtime_dir()
    (folder / "brain.onnx").write_bytes(onnx.model)
    (folder / "index.html").write_text(page(onnx.meta, title), encoding="utf-8")
    for name in RUNTIME_FILES:
        shutil.copyfile(runtime / name, folder / name)
    return ["index.html", "brain.onnx", *RUNTIME_FILES]
