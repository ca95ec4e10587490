"""Training plans: a small TOML file that says exactly what to run, so that anyone's result
for the same plan can be compared with everyone else's.

A plan is data. Its task is a built-in task's name (a ``package.module:Class`` is refused
as the trust rules say); its options are the task's declared options; its data is a URL
with a sha256 (downloaded into our cache under our own name) or a local path the user
confirms; every key is known, or the plan is refused naming the key. The plan's sha256
(of its bytes) travels with every result, so a result names the exact plan it followed.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.format.identity import is_content_id
from openbrains.engine.trust import UntrustedCode, is_code_name

PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PLAN_BYTES = 64 * 1024

FOLDER_ROLES: dict[str, tuple[str, ...]] = {}
"""Tasks whose data folder can be assembled from downloads: task → the roles its files
play (each file is stored under the task's own name for that role; ``plandata``)."""


def _folder_roles() -> dict[str, tuple[str, ...]]:
    if not FOLDER_ROLES:
        from openbrains.engine.tasks.files import MNIST_FILES

        FOLDER_ROLES["mnist"] = tuple(MNIST_FILES)
    return FOLDER_ROLES


@dataclass(frozen=True)
class Download:
    """A file fetched from ``url`` and kept only if its sha256 is ``sha256``."""

    url: str
    sha256: str
    role: str = ""


@dataclass(frozen=True)
class DataSource:
    """Where a plan's data comes from: downloads, or a local ``path`` the user confirms
    (``sha256``: of the file, or of the folder's tree; optional)."""

    downloads: tuple[Download, ...] = ()
    path: str = ""
    sha256: str = ""


@dataclass(frozen=True)
class SeedRef:
    """A published brain to start the population from, pinned by its content id."""

    source: str
    content_id: str


@dataclass(frozen=True)
class Plan:
    id: str
    version: int
    title: str
    task: str
    sha256: str  # of the plan file's bytes
    source: str  # where it was read from (messages only)
    summary: str = ""
    label: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    data: DataSource | None = None
    run: dict[str, Any] = field(default_factory=dict)  # RunSettings values
    minutes: float = 0.0
    cpu_cap: float = 0.0
    individuals: int = 0
    seed: SeedRef | None = None
    metric: str = ""
    max_params: int = 0

    @property
    def key(self) -> str:
        """``<id>-v<version>``: the default run folder's and cache folder's name."""
        return f"{self.id}-v{self.version}"


# section → key → (type(s), required)
_SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "plan": {
        "id": ((str,), True),
        "version": ((int,), True),
        "title": ((str,), True),
        "summary": ((str,), False),
    },
    "task": {"name": ((str,), True), "label": ((str,), False), "options": ((dict,), False)},
    "data": {
        "url": ((str,), False),
        "sha256": ((str,), False),
        "path": ((str,), False),
        "files": ((list,), False),
    },
    "run": {
        "population": ((int,), False),
        "seed": ((int,), False),
        "max_params": ((int,), False),
        "budget_steps": ((int,), False),
        "tradeoff": ((int, float), False),
        "workers": ((int,), False),
    },
    "budget": {
        "minutes": ((int, float), False),
        "cpu_cap": ((int, float), False),
        "individuals": ((int,), False),
    },
    "seed": {"from": ((str,), True), "content_id": ((str,), True)},
    "report": {"metric": ((str,), False), "max_params": ((int,), False)},
}
_FILE_KEYS = {"url": str, "sha256": str, "role": str}


class _Check:
    """Reads one plan with errors that start with the plan's name."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, text: str) -> ExchangeError:
        return ExchangeError(f"{self.source}: {text}")

    def section(self, doc: dict[str, Any], name: str) -> dict[str, Any]:
        value = doc.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(f"[{name}] must be a table")
        known = _SCHEMA[name]
        for key in value:
            if key not in known:
                raise self.fail(f"unknown key '{name}.{key}' (known: {', '.join(known)})")
        for key, (types, required) in known.items():
            if key not in value:
                if required and name in doc:
                    raise self.fail(f"[{name}] needs '{key}'")
                continue
            v = value[key]
            if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
                names = " or ".join(t.__name__ for t in types)
                raise self.fail(f"'{name}.{key}' must be {names}")
            if isinstance(v, float) and not math.isfinite(v):
                raise self.fail(f"'{name}.{key}' must be a finite number")
        return value

    def sha(self, value: str, where: str) -> str:
        if not SHA256.match(value):
            raise self.fail(f"'{where}' must be 64 lowercase hex digits (a sha256)")
        return value

    def url(self, value: str, where: str) -> str:
        if not value.startswith(("https://", "http://", "hf://datasets/")):
            raise self.fail(f"'{where}' must be an https://, http:// or hf://datasets/ URL")
        return value


def read_plan(path: str | Path) -> tuple[Plan, bytes]:
    """A plan file and its bytes; ``ExchangeError`` naming the key at fault."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"no such plan: {path}") from None
    except OSError as exc:
        raise ExchangeError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_plan(data, str(path)), data


def parse_plan(data: bytes, source: str = "plan") -> Plan:
    c = _Check(source)
    if len(data) > MAX_PLAN_BYTES:
        raise c.fail(f"a plan is at most {MAX_PLAN_BYTES} bytes")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise c.fail(f"not a valid TOML plan ({exc})") from None
    for name in doc:
        if name not in _SCHEMA:
            raise c.fail(f"unknown table [{name}] (known: {', '.join(_SCHEMA)})")
    if "plan" not in doc or "task" not in doc:
        raise c.fail("a plan needs a [plan] table and a [task] table")
    head = c.section(doc, "plan")
    if not PLAN_ID.match(head["id"]):
        raise c.fail("'plan.id' must be lowercase letters, digits and '-' (at most 63)")
    if head["version"] < 1:
        raise c.fail("'plan.version' must be 1 or more")
    task = c.section(doc, "task")
    name = task["name"]
    if is_code_name(name):
        raise c.fail(f"{UntrustedCode(name, 'task')}; a plan names built-in tasks only")
    from openbrains.engine.tasks.registry import TASKS

    info = TASKS.get(name)
    if info is None:
        raise c.fail(f"unknown task {name!r} (built-in tasks: {', '.join(TASKS)})")
    options = dict(task.get("options", {}))
    declared = {o.name for o in info.options}
    for key in options:
        if key not in declared:
            raise c.fail(
                f"task {name!r} has no option {key!r} (its options: {', '.join(declared) or 'none'})"
            )
    run = c.section(doc, "run")
    budget = c.section(doc, "budget")
    minutes, individuals = float(budget.get("minutes", 0)), int(budget.get("individuals", 0))
    if minutes <= 0 and individuals <= 0:
        raise c.fail("[budget] needs minutes > 0 (or individuals > 0)")
    cpu_cap = float(budget.get("cpu_cap", 0))
    if cpu_cap < 0:
        raise c.fail("'budget.cpu_cap' must be 0 (no cap) or a percentage of one core")
    for key in ("population", "max_params", "budget_steps", "workers"):
        if run.get(key, 0) < 0:
            raise c.fail(f"'run.{key}' must be 0 or more")
    seed = None
    if "seed" in doc:
        s = c.section(doc, "seed")
        if not s["from"].startswith("hf:"):
            raise c.fail("'seed.from' must be a Hub brain, hf:OWNER/NAME")
        if not is_content_id(s["content_id"]):
            raise c.fail("'seed.content_id' must be a content id (64 lowercase hex digits)")
        seed = SeedRef(s["from"], s["content_id"])
    report = c.section(doc, "report")
    return Plan(
        id=head["id"],
        version=head["version"],
        title=head["title"],
        summary=head.get("summary", ""),
        task=name,
        label=task.get("label"),
        options=options,
        data=_data(c, doc, name, info.data),
        run=dict(run),
        minutes=minutes,
        cpu_cap=cpu_cap,
        individuals=individuals,
        seed=seed,
        metric=report.get("metric", ""),
        max_params=int(report.get("max_params", run.get("max_params", 0))),
        sha256=hashlib.sha256(data).hexdigest(),
        source=source,
    )


def _data(c: _Check, doc: dict[str, Any], task: str, needs: str | None) -> DataSource | None:
    if "data" not in doc:
        if needs:
            raise c.fail(f"task {task!r} needs data: a [data] table with url and sha256, or path")
        return None
    d = c.section(doc, "data")
    if needs is None:
        raise c.fail(f"task {task!r} takes no data; drop [data]")
    ways = [k for k in ("url", "path", "files") if k in d]
    if len(ways) != 1:
        raise c.fail("[data] takes one of url (with sha256), path, or files")
    if "path" in d:
        sha = c.sha(d["sha256"], "data.sha256") if "sha256" in d else ""
        return DataSource(path=d["path"], sha256=sha)
    if "url" in d:
        if needs != "file":
            raise c.fail(f"task {task!r} reads a folder; give [[data.files]] with roles, or path")
        if "sha256" not in d:
            raise c.fail("a download needs 'data.sha256': the plan pins what it was made on")
        return DataSource(
            downloads=(Download(c.url(d["url"], "data.url"), c.sha(d["sha256"], "data.sha256")),)
        )
    if "sha256" in d:
        raise c.fail("'data.sha256' goes in each [[data.files]] entry")
    roles = _folder_roles().get(task)
    if roles is None:
        raise c.fail(f"task {task!r} cannot be assembled from files; give data.path")
    files = []
    for i, f in enumerate(d["files"]):
        where = f"data.files[{i}]"
        if not isinstance(f, dict):
            raise c.fail(f"'{where}' must be a table")
        for key, value in f.items():
            if key not in _FILE_KEYS:
                raise c.fail(f"unknown key '{where}.{key}' (known: {', '.join(_FILE_KEYS)})")
            if not isinstance(value, str):
                raise c.fail(f"'{where}.{key}' must be text")
        if set(f) != set(_FILE_KEYS):
            raise c.fail(f"'{where}' needs url, sha256 and role")
        if f["role"] not in roles:
            raise c.fail(f"'{where}.role' must be one of {', '.join(roles)}")
        files.append(
            Download(
                c.url(f["url"], f"{where}.url"), c.sha(f["sha256"], f"{where}.sha256"), f["role"]
            )
        )
    missing = sorted(set(roles) - {f.role for f in files})
    if missing or len(files) != len(roles):
        raise c.fail(f"[[data.files]] must give each of {', '.join(roles)} once")
    return DataSource(downloads=tuple(files))
