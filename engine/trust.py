"""Code only from the user's own hands (DESIGN §12.1): the one door to a user's Python code.

A ``.graph``, a project, a run folder or a message may *name* code (``package.module:Class``
for a game, an environment, a player…), but naming is not permission. Code runs only when
this process holds a ``CodeRef`` for exactly that name: a typed grant that only the command
line (``--task``, ``--game``, ``--opponent``) and the window's own dialogs make. File
loaders produce plain strings, never a ``CodeRef``, so a file can ask for code but never
grant it. Every import of user code goes through ``load_code``; a name without a grant is
an ``UntrustedCode`` error that says which code and how to trust it.

Grants travel only through channels the program itself opens: worker processes get their
coordinator's grants when they are spawned (``to_wire``/``restore``), the engine service
gets the window's grants in the ``open_run`` message. Neither reads them from a file.

What user code receives is limited too (``code_options``): keyword arguments only for the
parameters its signature names, and only numbers and true/false (text is parsed into
those), whoever supplied them. A file therefore can pass ``n=6`` to the user's own game,
never a path, a list or an object.

``safe_name`` makes a name from a file usable as one folder name (no ``../``).
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from importlib.machinery import PathFinder
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError

ENTRY = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
"""``package.module:Attr`` (dotted names of Python identifiers on both sides)."""


class UntrustedCode(OpenBrainsError):
    """Code named by data (a file, a run folder, a message) that the user has not given."""

    def __init__(self, entry: str, what: str = "code") -> None:
        self.entry = entry
        super().__init__(
            f"{what} {entry!r} is Python code, and code named in a file or run folder never "
            f"runs; if you wrote or installed it, name it yourself: --task {entry} (or choose "
            "it in the window's Task dialog)"
        )


@dataclass(frozen=True)
class CodeRef:
    """A ``package.module:Attr`` the user gave with their own hands.

    ``given_by`` says how ("--task", "the Task dialog"); ``folder`` is where a module that
    is not installed is looked for first — the current folder when it was given, as
    ``python -m`` would.
    """

    entry: str
    given_by: str
    folder: str = ""

    def __post_init__(self) -> None:
        check_entry(self.entry)


_GRANTED: dict[str, CodeRef] = {}


def check_entry(entry: Any) -> str:
    """``entry`` if it looks like ``package.module:Attr``; else a one-line error."""
    if not isinstance(entry, str) or not ENTRY.match(entry):
        raise OpenBrainsError(f"code must be named as 'package.module:Class', got {entry!r}")
    return entry


def is_code_name(name: Any) -> bool:
    """Whether a task or player name refers to code (has a ``:``) rather than a built-in."""
    return isinstance(name, str) and ":" in name


def grant(ref: CodeRef) -> CodeRef:
    """Allow ``ref.entry`` to be imported in this process (and its workers)."""
    if not isinstance(ref, CodeRef):
        raise TypeError(f"grant takes a CodeRef, not {type(ref).__name__}")
    _GRANTED[ref.entry] = ref
    return ref


def user_gave(entry: str, given_by: str, folder: str | Path | None = None) -> CodeRef:
    """Grant code the user named just now (command line or dialog), found from ``folder``
    (default: the current folder)."""
    return grant(CodeRef(check_entry(entry), given_by, str(Path(folder or Path.cwd()).resolve())))


def is_granted(entry: str) -> bool:
    return entry in _GRANTED


def revoke_all() -> None:
    """Forget every grant (tests, and a window that closes its project)."""
    _GRANTED.clear()


def to_wire(refs: Iterable[CodeRef] | None = None) -> list[dict[str, str]]:
    """Grants as plain data for a process this program starts itself."""
    return [asdict(r) for r in (_GRANTED.values() if refs is None else refs)]


def restore(wire: Iterable[Mapping[str, Any]]) -> None:
    """Re-make the grants a parent process handed over (``to_wire``). Only for channels
    the program opens itself (a worker's start arguments, the window's ``open_run``)."""
    for r in wire:
        grant(CodeRef(str(r["entry"]), str(r.get("given_by", "")), str(r.get("folder", ""))))


# ----- importing -----------------------------------------------------------------------------


def _split(entry: str) -> tuple[str, str]:
    module, _, attr = check_entry(entry).partition(":")
    return module, attr


def _import(entry: str, folder: str) -> Any:
    module_name, attr = _split(entry)
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)  # as `python -m` puts the current folder first
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as e:
        where = f" (looked in {folder} and the installed packages)" if folder else ""
        raise OpenBrainsError(
            f"cannot import {module_name!r} for {entry!r}{where}: {type(e).__name__}: {e}"
        ) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise OpenBrainsError(f"{module_name!r} has no {attr!r} ({entry!r})") from None
    return obj


def load_code(entry: str, what: str = "code") -> Any:
    """The object ``entry`` names, if the user granted it; else ``UntrustedCode``.

    This is the only place user code is imported. ``what`` names it in messages ("game",
    "player").
    """
    ref = _GRANTED.get(check_entry(entry))
    if ref is None:
        raise UntrustedCode(str(entry), what)
    return _import(entry, ref.folder)


def load_builtin(entry: str) -> Any:
    """An object of Open Brains itself, from the program's own table of built-ins (never
    from a name in a file): no grant needed."""
    return _import(entry, "")


def locate(entry: str, folder: str | Path | None = None) -> str | None:
    """The file ``entry``'s module would be loaded from, found without running any code
    (for a dialog that asks the user to trust it); None when it cannot be found."""
    try:
        module_name, _ = _split(entry)
    except OpenBrainsError:
        return None
    if module_name in sys.modules:
        return getattr(sys.modules[module_name], "__file__", None) or "(built in)"
    search = [str(Path(folder or Path.cwd()).resolve()), *sys.path]
    spec = None
    for part in module_name.split("."):
        spec = PathFinder.find_spec(part if spec is None else f"{spec.name}.{part}", search)
        if spec is None:
            return None
        search = list(spec.submodule_search_locations or [])
    return spec.origin if spec is not None else None


# ----- what user code may receive ------------------------------------------------------------

_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


def _number(text: str) -> int | float | bool | None:
    t = text.strip().lower()
    if t in _TRUE | _FALSE:
        return t in _TRUE
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return None


def _wanted_type(param: inspect.Parameter) -> type | None:
    ann = param.annotation
    if isinstance(ann, str):  # from __future__ import annotations
        ann = {"int": int, "float": float, "bool": bool}.get(ann.strip())
    if ann in (int, float, bool):
        return ann
    default = param.default
    if isinstance(default, bool | int | float) and default is not inspect.Parameter.empty:
        return type(default)
    return None


def _scalar(entry: str, name: str, value: Any, want: type | None) -> int | float | bool:
    bad = OpenBrainsError(
        f"{entry}: option {name} must be a number or true/false, got {value!r} "
        "(your code receives only numbers and true/false; read anything else in your own code)"
    )
    if isinstance(value, str):
        parsed = _number(value)
        if parsed is None:
            raise bad
        value = parsed
    if not isinstance(value, bool | int | float):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    if want is bool:
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
        raise bad
    if want is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise bad
        return int(value)
    if want is float and not isinstance(value, bool):
        return float(value)
    return value


def parameters(target: Any) -> dict[str, inspect.Parameter]:
    """The named parameters ``target`` (a class or function) can take by keyword."""
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return {}
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {n: p for n, p in sig.parameters.items() if p.kind in kinds}


def code_options(entry: str, target: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` made fit to be keyword arguments of the user's ``target``, or a one-line
    error: each name must be a parameter its signature names (``**kwargs`` does not count),
    each value a number or true/false (text is parsed, by the parameter's annotation or
    default when it has one)."""
    if not options:
        return {}
    params = parameters(target) if callable(target) else {}
    out: dict[str, Any] = {}
    for name, value in options.items():
        param = params.get(name)
        if param is None:
            have = ", ".join(params) or "none"
            raise OpenBrainsError(f"{entry} takes no option {name!r} (its parameters: {have})")
        out[name] = _scalar(entry, name, value, _wanted_type(param))
    return out


# ----- names from files as folder names ------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(name: Any, fallback: str = "run") -> str:
    """``name`` as one harmless folder name: letters, digits, ``_`` and ``-`` only (so
    ``../x`` or ``/etc`` cannot leave the folder it is put in), at most 64 characters."""
    text = _UNSAFE.sub("-", str(name) if name is not None else "").strip("-_")
    return text[:64] or fallback
