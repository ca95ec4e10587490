"""Which stored paths this user gave: the local trust list (DESIGN §12.1).

A project or a run folder names paths (the task's data, a run folder). They are used without
asking only when this user gave them on this machine; otherwise the command line wants them
again (``--data``, ``--run-dir``) and the window asks for a confirmation. The fact "given by
this user" lives in the user's own data folder (``$OPENBRAINS_HOME`` or ``~/.openbrains``,
file ``trusted.json``), where a stranger's file cannot put it:

- a **project** is keyed by the sha256 of its bytes, written when this program saves it,
  with the paths in it that the user had given (a received project that is merely saved
  again keeps its paths untrusted: what was not given is not recorded);
- a **run folder** is keyed by the sha256 of its resolved location and its task spec,
  written when a run starts from a spec the user gave.

Projects byte-identical to the samples that ship with the program (``sample_graphs/``) are
trusted as part of the program. Code references are never remembered here: they come from
the user's hands each time (``engine.trust``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

TRUST_FILE = "trusted.json"
MAX_ENTRIES = 2000  # the oldest are forgotten (the user is then asked again)
SAMPLES_DIR = Path(__file__).resolve().parents[1] / "sample_graphs"


def data_home() -> Path:
    return Path(os.environ.get("OPENBRAINS_HOME", Path.home() / ".openbrains"))


def trust_file() -> Path:
    return data_home() / TRUST_FILE


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read() -> dict[str, Any]:
    try:
        value = orjson.loads(trust_file().read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _write(entries: dict[str, Any]) -> None:
    if len(entries) > MAX_ENTRIES:
        keep = sorted(entries.items(), key=lambda kv: kv[1].get("t", 0))[-MAX_ENTRIES:]
        entries = dict(keep)
    path = trust_file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(entries, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, path)
    except OSError:  # not remembering only means being asked again
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass


def _remember(key: str, paths: Iterable[str]) -> None:
    entries = _read()
    entries[key] = {"paths": sorted({str(p) for p in paths}), "t": time.time()}
    _write(entries)


# ----- projects ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _sample_hashes() -> frozenset[str]:
    if not SAMPLES_DIR.is_dir():
        return frozenset()
    return frozenset(sha256(p.read_bytes()) for p in SAMPLES_DIR.glob("*.graph"))


def remember_project(content: bytes, given_paths: Iterable[str]) -> None:
    """This program just wrote a project with these bytes; ``given_paths`` are the paths in
    it the user had given."""
    _remember("project:" + sha256(content), given_paths)


def project_paths(content: bytes) -> frozenset[str] | None:
    """The paths the user had given in a project with these bytes, or None when this
    program never saved it here (a received file). A shipped sample trusts its own."""
    digest = sha256(content)
    entry = _read().get("project:" + digest)
    if isinstance(entry, dict):
        return frozenset(str(p) for p in entry.get("paths") or [])
    if digest in _sample_hashes():
        return frozenset({"*"})
    return None


def trusts(given: frozenset[str] | None, path: str) -> bool:
    """Whether ``path`` (as stored in the project) is among ``given``."""
    return given is not None and ("*" in given or path in given)


# ----- run folders ---------------------------------------------------------------------------


def _run_key(run_dir: str | Path, spec: dict[str, Any]) -> str:
    where = str(Path(run_dir).resolve()).encode()
    what = orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
    return "run:" + sha256(where + b"\0" + what)


def remember_run(run_dir: str | Path, spec: dict[str, Any]) -> None:
    """A run was started here from a task spec the user gave: its stored paths are theirs."""
    _remember(_run_key(run_dir, spec), [str(spec["data"])] if spec.get("data") else [])


def run_trusted(run_dir: str | Path, spec: dict[str, Any]) -> bool:
    """Whether the task spec stored in ``run_dir`` is one this user started a run with here."""
    try:
        return _run_key(run_dir, spec) in _read()
    except (TypeError, orjson.JSONEncodeError):
        return False
