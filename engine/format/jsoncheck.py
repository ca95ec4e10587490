"""Parsing JSON from strangers at a bounded cost, and without ambiguity.

orjson is fast and strict (no NaN, no comments, valid UTF-8 only) but keeps the last of two
equal keys without a word, so two readers of one file could see two different tasks. And a
few hundred kilobytes of ``[{},{},…]`` parse into a gigabyte of Python objects. So before
parsing, a member's size and a cheap upper bound of its values (commas and brackets, counted
in C) are checked against the file's budget; after parsing, one walk over the result checks
its nesting depth and counts its keys. Only when that count falls short of the keys written
in the text (a duplicate, or an escaped quote before a colon inside a string) is the member
parsed a second time, slowly, to name the duplicate exactly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from openbrains.engine.format.safety import DEFAULT_LIMITS, Limits, fail

# a '"' followed by ':' is where every key ends; inside a string it can only follow a
# backslash, so this over-counts keys, never under-counts them
_KEY_END = re.compile(rb'"[ \t\r\n]*:')


def value_bound(data: bytes) -> int:
    """An upper bound of the JSON values in ``data`` (every value but a container's first
    follows a comma; a comma or bracket inside a string only makes the bound looser)."""
    return data.count(b",") + data.count(b"[") + data.count(b"{") + 1


@dataclass
class ReadBudget:
    """What one file may still spend: JSON values and safetensors tensors, over all its
    members together (a file of a thousand small members is as costly as one big one)."""

    limits: Limits = DEFAULT_LIMITS
    json_values: int = 0
    tensors: int = 0

    def spend_json(self, data: bytes, file: str, member: str) -> None:
        self.json_values += value_bound(data)
        if self.json_values > self.limits.max_json_values:
            raise fail(
                file,
                member,
                f"brings the file to more than {self.limits.max_json_values:,} JSON values "
                "(the limit); refusing a file that would cost too much memory to read",
            )

    def spend_tensors(self, count: int, file: str, member: str) -> None:
        self.tensors += count
        if self.tensors > self.limits.max_tensors:
            raise fail(
                file,
                member,
                f"brings the file to {self.tensors:,} tensors, over the limit of "
                f"{self.limits.max_tensors:,}",
            )


def parse_json(
    data: bytes,
    file: str,
    member: str,
    limits: Limits = DEFAULT_LIMITS,
    budget: ReadBudget | None = None,
    max_size: int | None = None,
) -> Any:
    """UTF-8 JSON or a ``FormatError`` naming the member: within the size (``max_size``,
    else the JSON member limit), value and depth limits, and no key twice in one object."""
    max_size = limits.max_json_size if max_size is None else max_size
    if len(data) > max_size:
        raise fail(file, member, f"is {len(data):,} bytes of JSON, over the limit of {max_size:,}")
    if budget is None:
        ReadBudget(limits).spend_json(data, file, member)
    else:
        budget.spend_json(data, file, member)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise fail(file, member, f"is not valid UTF-8 JSON: {exc}") from None
    keys = _walk(value, limits.max_json_depth, file, member)
    if keys != _KEY_END.subn(b"", data)[1]:  # subn counts without a list of matches
        _find_duplicate(data, file, member)
    return value


def _walk(value: Any, max_depth: int, file: str, member: str) -> int:
    """The number of object keys in ``value``; refuses nesting deeper than ``max_depth``
    (deep nesting breaks recursive code later: copies, schema checks, printing)."""
    if not isinstance(value, dict | list):
        return 0
    keys = 0
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise fail(file, member, f"nests deeper than {max_depth} levels")
        if isinstance(item, dict):
            keys += len(item)
            children: Any = item.values()
        else:
            children = item
        stack.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    return keys


def _find_duplicate(data: bytes, file: str, member: str) -> None:
    """The slow, exact check: refuse the first key that appears twice in one object."""
    try:
        json.loads(data, object_pairs_hook=no_duplicate_keys)
    except DuplicateKey as exc:
        raise fail(
            file,
            member,
            f"has a duplicate key {exc.key!r} in one object; readers would disagree on its value",
        ) from None


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads`` that refuses a key given twice."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DuplicateKey(k)
        out[k] = v
    return out


def expect_object(value: Any, file: str, member: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(file, member, f"must hold a JSON object, not {json_type(value)}")
    return value


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
