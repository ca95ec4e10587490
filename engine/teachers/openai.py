"""``openai:MODEL@BASE_URL``: any OpenAI-compatible HTTP API (llama.cpp's server, Ollama,
vLLM, or a hosted one) as a teacher.

Labels, ratings and tags are asked for as chat completions with a JSON-schema
``response_format``, so the answer is a checkable object (a label of the task with a
confidence, a score 0..10), never free text to parse. Servers that refuse the schema
(HTTP 400/422) are asked again with ``json_object`` and then with the schema written in the
prompt; the step that worked is kept. Images go as base64 PNG ``image_url`` parts (vision
models); audio is skipped. ``embed`` uses ``/embeddings`` where the server has it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from openbrains.engine.teachers.answers import (
    Answer,
    Case,
    Item,
    Reply,
    Skip,
    label_from,
    score_from,
)
from openbrains.engine.teachers.base import Teacher
from openbrains.engine.teachers.errors import TeacherDown
from openbrains.engine.teachers.http import HttpError, HttpPolicy, JsonClient
from openbrains.engine.teachers.spec import TeacherSpec

FORMATS = ("json_schema", "json_object", "prompt")
CONTROL = {0x02, 0x03}  # call-and-response framing bytes (engine.tasks.callresponse)


def label_schema(classes: Sequence[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": list(classes)},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["label", "confidence"],
        "additionalProperties": False,
    }


SCORE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 10},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}


class OpenAITeacher(Teacher):
    roles = ("label", "pairs", "rate", "tag", "distill")
    batch_size = 8

    def __init__(self, spec: TeacherSpec, policy: HttpPolicy | None = None) -> None:
        self.spec = spec
        self.identity = f"openai:{spec.model}@{spec.base_url}"
        self.client = JsonClient(spec.base_url, spec.key(), policy)
        self.format = FORMATS[0]

    @property
    def requests(self) -> int:
        return self.client.requests

    # ----- roles -------------------------------------------------------------------
    def label(self, items: Sequence[Item], classes: Sequence[str]) -> list[Answer]:
        system = (
            "You label examples for a small classifier. The classes are: "
            f"{', '.join(classes)}. Answer with a JSON object: "
            '{"label": one of the classes, exactly as written, "confidence": your '
            "probability from 0 to 1 that the label is right}."
        )
        out: list[Answer] = []
        for item in items:
            content = _content(item, "Which class is this?")
            if isinstance(content, Skip):
                out.append(content)
                continue
            raw = self._json(system, content, "label", label_schema(classes))
            out.append(raw if isinstance(raw, Skip) else label_from(raw, classes))
        return out

    def respond(self, prompts: Sequence[str], max_chars: int) -> list[Answer]:
        system = (
            f"Answer the user's prompt briefly, in plain text of at most {max_chars} "
            "characters, with no preamble."
        )
        out: list[Answer] = []
        for prompt in prompts:
            text = self._chat(system, prompt, None)
            text = "".join(ch for ch in text if ord(ch) not in CONTROL).strip()
            if not text:
                out.append(Skip("the teacher answered with an empty response"))
            else:
                out.append(Reply(_clip_utf8(text, max_chars)))
        return out

    def rate(self, cases: Sequence[Case]) -> list[Answer]:
        out: list[Answer] = []
        for case in cases:
            system = (
                f"You rate the output of a small model learning the task {case.task!r} "
                f"({case.kind}"
                + (f"; its classes: {', '.join(case.classes)}" if case.classes else "")
                + "). Give a score from 0 (useless) to 10 (perfect), as a person would "
                'with a slider. Answer with a JSON object {"score": 0-10, "reason": a few '
                "words}."
            )
            shown = _shown(case.shown_input)
            answer = _shown(case.output)
            if isinstance(shown, Skip) or isinstance(answer, Skip):
                out.append(shown if isinstance(shown, Skip) else answer)
                continue
            content = [{"type": "text", "text": "Input:"}, *shown]
            content += [{"type": "text", "text": "The model's output:"}, *answer]
            raw = self._json(system, content, "rating", SCORE_SCHEMA)
            out.append(raw if isinstance(raw, Skip) else score_from(raw))
        return out

    def tag(self, texts: Sequence[str], classes: Sequence[str]) -> list[Answer]:
        out: list[Answer] = []
        for text in texts:
            if classes:
                system = (
                    "Someone typed the message below to a small model. Which of these intents "
                    f"does it express: {', '.join(classes)}? Answer with a JSON object "
                    '{"label": one of the intents, exactly as written, "confidence": 0 to 1}.'
                )
                raw = self._json(system, text, "intent", label_schema(classes))
                out.append(raw if isinstance(raw, Skip) else label_from(raw, classes))
            else:
                system = (
                    "Someone typed the message below in reply to a small model's answer. How "
                    "pleased with that answer are they, from 0 (displeased) to 10 (delighted)? "
                    'Answer with a JSON object {"score": 0-10, "reason": a few words}.'
                )
                raw = self._json(system, text, "sentiment", SCORE_SCHEMA)
                out.append(raw if isinstance(raw, Skip) else score_from(raw))
        return out

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embeddings of ``texts`` (``/embeddings``); ``TeacherDown`` if the server has none."""
        reply = self.client.post("embeddings", {"model": self.spec.model, "input": list(texts)})
        try:
            rows = sorted(reply["data"], key=lambda d: d.get("index", 0))
            vectors = [[float(v) for v in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise TeacherDown(_shape_error(self.spec, "data[].embedding", reply)) from None
        if len(vectors) != len(texts):
            raise TeacherDown(
                f"the teacher returned {len(vectors)} embeddings for {len(texts)} texts"
            )
        return vectors

    # ----- chat ------------------------------------------------------------------------
    def _json(self, system: str, content: Any, name: str, schema: dict[str, Any]) -> Any:
        """The model's answer parsed as JSON, or a ``Skip`` when it is not JSON."""
        text = self._chat(system, content, (name, schema))
        body = text.strip()
        if body.startswith("```"):  # a fenced block from a model told in the prompt
            body = body.strip("`").removeprefix("json").strip()
        try:
            return json.loads(body)
        except ValueError:
            return Skip(f"the teacher's answer is not JSON: {text[:60]!r}")

    def _chat(self, system: str, content: Any, schema: tuple[str, dict[str, Any]] | None) -> str:
        while True:
            body: dict[str, Any] = {
                "model": self.spec.model,
                "temperature": 0,
                "messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": content},
                ],
            }
            if schema is not None:
                name, sch = schema
                if self.format == "json_schema":
                    body["response_format"] = {
                        "type": "json_schema",
                        "json_schema": {"name": name, "strict": True, "schema": sch},
                    }
                elif self.format == "json_object":
                    body["response_format"] = {"type": "json_object"}
                else:
                    body["messages"][0]["content"] = (
                        f"{system} Reply with JSON only, following this schema: {json.dumps(sch)}"
                    )
            try:
                reply = self.client.post("chat/completions", body)
            except HttpError as exc:
                if schema is not None and exc.status in (400, 422) and self.format != "prompt":
                    self.format = FORMATS[FORMATS.index(self.format) + 1]
                    continue
                raise
            try:
                text = reply["choices"][0]["message"]["content"]
            except (KeyError, IndexError, TypeError):
                raise TeacherDown(
                    _shape_error(self.spec, "choices[0].message.content", reply)
                ) from None
            return text if isinstance(text, str) else ""


def _content(item: Item, question: str) -> Any:
    """A user message for one item: its text, or a question with the image attached."""
    if item.modality == "text":
        return item.text
    if item.modality == "image":
        return [{"type": "text", "text": question}, _image_part(item)]
    return Skip(f"an openai: teacher is not sent {item.modality}; use a graph: or hf: teacher")


def _shown(data: dict[str, Any]) -> list[dict[str, Any]] | Skip:
    """Plain data from the rating panel (text, label, value, image) as message parts."""
    kind = data.get("kind")
    if kind == "text":
        return [{"type": "text", "text": str(data.get("text", ""))}]
    if kind == "label":
        return [{"type": "text", "text": f"the label {data.get('label')!r}"}]
    if kind == "value":
        return [{"type": "text", "text": f"the value {data.get('value')}"}]
    if kind == "image":
        h, w, c = int(data["height"]), int(data["width"]), int(data["channels"])
        img = np.frombuffer(base64.b64decode(data["data"]), np.uint8).reshape(h, w, c)
        if c == 1:
            img = np.repeat(img, 3, axis=2)
        item = Item("image", img.tobytes(), {"shape": [h, w, 3]})
        return [_image_part(item)]
    return Skip(f"an openai: teacher is not sent {kind} outputs")


def _image_part(item: Item) -> dict[str, Any]:
    import cv2

    shape = tuple(int(v) for v in item.meta.get("shape", ()))
    rgb = np.frombuffer(item.data, np.uint8).reshape(shape)
    small = max(shape[0], shape[1]) < 64  # tiny images (8×8 digits) are shown larger
    if small:
        factor = max(1, 64 // max(shape[0], shape[1]))
        rgb = np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    _ok, png = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR))
    url = "data:image/png;base64," + base64.b64encode(png.tobytes()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": url}}


def _clip_utf8(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, never cutting a character in half."""
    data = text.encode("utf-8")[:limit]
    return data.decode("utf-8", errors="ignore")


def _shape_error(spec: TeacherSpec, want: str, reply: Any) -> str:
    return (
        f"the teacher at {spec.base_url} answered without {want} (is it OpenAI-compatible?): "
        f"{str(reply)[:80]!r}"
    )
