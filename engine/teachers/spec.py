"""Teacher specs: ``openai:MODEL@BASE_URL``, ``graph:FILE.graph``, ``onnx:FILE.onnx``,
``hf:MODEL``, and the roles a teacher plays on a run.

A spec names code to run or a path to read, so it comes only from the user's own hands
(the command line, or the window's teacher dialog), never from a project file or a run
folder's stored settings (DESIGN §12.1). The API key is never part of a spec: the user
names an environment variable (``--teacher-key-env NAME``) and the key is read from it when
the teacher is opened; nothing we write holds it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from openbrains.engine.teachers.errors import TeacherError

KINDS = ("openai", "graph", "onnx", "hf")
ROLES = ("label", "pairs", "rate", "tag", "distill")
SPEC_HELP = "openai:MODEL@BASE_URL, graph:FILE.graph, onnx:FILE.onnx or hf:MODEL"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TeacherSpec:
    """A parsed teacher spec. ``key_env`` is the *name* of the variable holding the key."""

    kind: str
    model: str = ""
    base_url: str = ""
    path: Path | None = None
    key_env: str = ""

    @classmethod
    def parse(cls, text: str, key_env: str = "") -> TeacherSpec:
        """``text`` as a spec, or a ``TeacherError`` saying what a spec looks like."""
        text = str(text or "").strip()
        kind, sep, rest = text.partition(":")
        kind = kind.lower()
        if not sep or kind not in KINDS or not rest:
            raise TeacherError(f"--teacher {text!r} is not a teacher; give {SPEC_HELP}")
        key_env = str(key_env or "").strip()
        if key_env and kind != "openai":
            raise TeacherError(
                f"--teacher-key-env is for openai: teachers; a {kind}: teacher needs no key"
            )
        if key_env and not _ENV_NAME.match(key_env):
            raise TeacherError(
                f"--teacher-key-env takes the name of an environment variable (like "
                f"OPENAI_API_KEY), not {key_env!r}"
            )
        if kind == "openai":
            return cls(kind, *_model_at_url(rest), key_env=key_env)
        if kind == "hf":
            return cls(kind, model=rest)
        suffix = f".{kind}"
        path = Path(rest).expanduser()
        if path.suffix.lower() != suffix:
            raise TeacherError(f"a {kind}: teacher is a {suffix} file, got {rest!r}")
        if not path.is_file():
            raise TeacherError(f"teacher file {path} does not exist")
        return cls(kind, path=path.resolve())

    def __str__(self) -> str:
        if self.kind == "openai":
            return f"openai:{self.model}@{self.base_url}"
        if self.kind == "hf":
            return f"hf:{self.model}"
        return f"{self.kind}:{self.path}"

    def key(self) -> str:
        """The API key from the named environment variable ('' when none was named)."""
        if not self.key_env:
            return ""
        value = os.environ.get(self.key_env, "")
        if not value:
            raise TeacherError(
                f"environment variable {self.key_env} is not set; export it with the API key "
                "of the teacher's server"
            )
        return value


def _model_at_url(rest: str) -> tuple[str, str]:
    """``MODEL@BASE_URL``: the model may hold ``@`` or ``:`` (``llama3:8b``), so the URL is
    what follows the last ``@`` that starts an http(s) address."""
    at = max(rest.rfind("@http://"), rest.rfind("@https://"))
    if at <= 0:
        raise TeacherError(
            f"an openai: teacher is openai:MODEL@BASE_URL (e.g. "
            f"openai:llama3@http://127.0.0.1:8080/v1), got {'openai:' + rest!r}"
        )
    model, url = rest[:at], rest[at + 1 :].rstrip("/")
    parts = urlsplit(url)
    if not parts.hostname:
        raise TeacherError(f"teacher URL {url!r} names no host")
    if parts.username or parts.password:
        raise TeacherError(
            "put no password in the teacher URL; name the variable that holds the key with "
            "--teacher-key-env NAME"
        )
    return model, url


def check_role(role: str) -> str:
    role = str(role or "").strip().lower()
    if role not in ROLES:
        raise TeacherError(f"--teach {role!r}: give one of {', '.join(ROLES)}")
    return role
