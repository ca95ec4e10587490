"""The `.graph` file format (version 1): a deterministic zip of JSON and safetensors.

See ``docs/format.md`` for the specification and ``schema.json`` for the JSON Schema.
Reading is safe on files from strangers: limits on sizes and counts, no pickle, no code.
"""

from typing import Any

from openbrains.engine.format.container import dump_json, member_order
from openbrains.engine.format.migrations import CURRENT, FORMAT_ID, MIGRATIONS
from openbrains.engine.format.safety import DEFAULT_LIMITS, Limits
from openbrains.engine.format.tensorcheck import validate_safetensors

# reading and writing whole documents needs torch (weights as tensors); the rest of the
# package does not, so the command line can check its arguments and files without
# paying torch's import (PEP 562: these load on first use; document.__all__ names the same,
# tests/engine/test_format.py holds them equal)
_DOCUMENT = (
    "KINDS",
    "GraphFile",
    "PopulationMember",
    "dumps",
    "load",
    "load_brain",
    "loads",
    "runnable",
    "save",
    "save_brain",
)


def __getattr__(name: str) -> Any:
    if name in _DOCUMENT:
        from openbrains.engine.format import document

        return getattr(document, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FORMAT_VERSION = CURRENT


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of the JSON members, from the packaged schema.json."""
    from importlib.resources import files

    import orjson

    return orjson.loads(files("openbrains.engine.format").joinpath("schema.json").read_bytes())


__all__ = [
    "CURRENT",
    "DEFAULT_LIMITS",
    "FORMAT_ID",
    "FORMAT_VERSION",
    "MIGRATIONS",
    "Limits",
    "dump_json",
    "member_order",
    "schema",
    "validate_safetensors",
    *_DOCUMENT,
]
