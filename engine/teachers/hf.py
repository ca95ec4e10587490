"""``hf:MODEL``: a local Hugging Face model from the user's cache (``transformers``, the
optional ``[teachers]`` extra), through a ``pipeline`` of the task its config declares:

- ``zero-shot-classification`` / ``zero-shot-image-classification``: labels and intents
  over the task's classes as given;
- ``text-classification`` / ``image-classification``: labels when the model's own label
  names are the task's classes;
- ``text-generation`` / ``text2text-generation``: responses for call-and-response pairs.

The model is read from the local cache only (``local_files_only``) and never with
``trust_remote_code``: a model repository's Python files are code, and a teacher runs none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from openbrains.engine.teachers.answers import Answer, Item, Label, Reply, Skip
from openbrains.engine.teachers.base import Teacher, skip_all
from openbrains.engine.teachers.errors import TeacherError
from openbrains.engine.teachers.spec import TeacherSpec

INSTALL = (
    "hf: teachers need the optional transformers package: "
    ".venv/bin/pip install 'openbrains[teachers]' (then the model must be in your "
    "Hugging Face cache, e.g. huggingface-cli download MODEL)"
)
CLASSIFIERS = {
    "zero-shot-classification": "text",
    "text-classification": "text",
    "zero-shot-image-classification": "image",
    "image-classification": "image",
}
GENERATORS = ("text-generation", "text2text-generation")


def require_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        raise TeacherError(INSTALL) from None
    return transformers


class HFTeacher(Teacher):
    batch_size = 8

    def __init__(self, spec: TeacherSpec) -> None:
        transformers = require_transformers()
        self.spec = spec
        self.identity = f"hf:{spec.model}"
        try:
            self.pipe = transformers.pipeline(
                model=spec.model, local_files_only=True, trust_remote_code=False, device=-1
            )
        except Exception as exc:  # transformers raises OSError, ValueError, its own types
            raise TeacherError(
                f"hf:{spec.model} could not be loaded from the local cache ({str(exc)[:120]})"
            ) from None
        self.task = str(getattr(self.pipe, "task", ""))
        if self.task in CLASSIFIERS:
            self.roles = ("label", "tag", "distill")
        elif self.task in GENERATORS:
            self.roles = ("pairs",)
        else:
            raise TeacherError(
                f"hf:{spec.model} is a {self.task or 'unknown'} model; a teacher is a "
                f"classifier ({', '.join(CLASSIFIERS)}) or a generator ({', '.join(GENERATORS)})"
            )

    def label(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        modality = CLASSIFIERS.get(self.task)
        out: list[Answer] = []
        for item in items:
            if item.modality != modality:
                out.append(Skip(f"hf:{self.spec.model} reads {modality}, not {item.modality}"))
                continue
            out.append(self._classify(_input(item), classes))
        return out

    def tag(self, texts: Sequence[str], classes: Sequence[str]) -> list[Answer]:
        if not classes or CLASSIFIERS.get(self.task) != "text":
            return skip_all(len(texts), f"hf:{self.spec.model} tags text intents only")
        return [self._classify(t, classes) for t in texts]

    def respond(self, prompts: Sequence[str], max_chars: int) -> list[Answer]:
        out: list[Answer] = []
        for prompt in prompts:
            result = self.pipe(prompt, max_new_tokens=max(8, max_chars // 2), do_sample=False)
            text = str(result[0].get("generated_text", "")) if result else ""
            text = text.removeprefix(prompt).strip()
            out.append(
                Reply(text.encode()[:max_chars].decode("utf-8", "ignore"))
                if text
                else Skip("empty")
            )
        return out

    def _classify(self, x: Any, classes: Sequence[str]) -> Answer:
        if self.task.startswith("zero-shot"):
            result = self.pipe(x, candidate_labels=list(classes))
        else:
            result = self.pipe(x, top_k=None)
        pairs = _label_scores(result)
        known = [(lab, p) for lab, p in pairs if lab in classes]
        if not known:
            return Skip(
                f"hf:{self.spec.model} answers labels {[lab for lab, _ in pairs][:5]}, none a class of the task"
            )
        label, p = max(known, key=lambda lp: lp[1])
        return Label(label, float(p))


def _input(item: Item) -> Any:
    if item.modality == "image":
        from PIL import Image

        shape = tuple(int(v) for v in item.meta.get("shape", ()))
        return Image.fromarray(np.frombuffer(item.data, np.uint8).reshape(shape))
    return item.text


def _label_scores(result: Any) -> list[tuple[str, float]]:
    """(label, score) pairs from a classification pipeline's answer, whatever its shape."""
    if isinstance(result, dict) and "labels" in result:
        return list(zip(result["labels"], result["scores"]))
    rows = result[0] if result and isinstance(result[0], list) else result
    return [(str(r["label"]), float(r["score"])) for r in rows or []]
