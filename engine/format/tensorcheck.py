"""Checking a safetensors blob completely before any library parses it.

A lying header (offsets past the end, overlapping spans, shapes whose bytes do not add up)
would make a reader read out of bounds or allocate what the file never held; every number
is checked here first, and the header itself is JSON parsed at a bounded cost.
"""

from __future__ import annotations

import struct
from typing import Any

from openbrains.engine.errors import FormatError
from openbrains.engine.format.jsoncheck import ReadBudget, parse_json
from openbrains.engine.format.safety import DEFAULT_LIMITS, Limits, fail

# safetensors dtype → bytes per element (the dtypes torch can load; sub-byte ones are refused).
SAFETENSORS_DTYPES: dict[str, int] = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


def validate_safetensors(
    data: bytes,
    file: str,
    member: str,
    limits: Limits = DEFAULT_LIMITS,
    budget: ReadBudget | None = None,
) -> dict[str, dict[str, Any]]:
    """Check a safetensors blob completely before any library parses it.

    Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object;
    trailing spaces allowed), then the data block. Every tensor entry has exactly
    ``dtype``, ``shape`` and ``data_offsets``; its span is ``prod(shape) * itemsize`` bytes;
    spans tile the data block exactly: start at 0, no overlaps, no gaps, no trailing bytes.
    Returns the tensor entries (without ``__metadata__``).
    """

    def bad(msg: str) -> FormatError:
        return fail(file, member, f"is not a valid safetensors file: {msg}")

    if len(data) < 8:
        raise bad(f"{len(data)} bytes is too short for the header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n < 2 or n > limits.max_safetensors_header:
        raise bad(f"header length {n} is not between 2 and {limits.max_safetensors_header}")
    if 8 + n > len(data):
        raise bad(f"header length {n} runs past the end of the {len(data)}-byte file")
    raw = data[8 : 8 + n]
    if raw[:1] != b"{":
        raise bad("the header does not start with '{'")
    try:
        header = parse_json(raw, file, member, limits, budget, limits.max_safetensors_header)
    except FormatError as exc:
        raise bad(f"its header {str(exc).split(repr(member) + ' ', 1)[-1]}") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and (
        not isinstance(meta, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    ):
        raise bad("'__metadata__' must map strings to strings")
    if len(header) > limits.max_tensors:
        raise bad(f"{len(header):,} tensors, over the limit of {limits.max_tensors:,}")
    if budget is not None:
        budget.spend_tensors(len(header), file, member)
    data_len = len(data) - 8 - n
    spans: list[tuple[int, int, str]] = []
    for key, entry in header.items():
        if len(key) > limits.max_key_length or not key:
            raise bad(f"tensor key of length {len(key)} is empty or too long")
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {key!r} must have exactly 'dtype', 'shape' and 'data_offsets'")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in SAFETENSORS_DTYPES:
            raise bad(f"tensor {key!r} has unknown dtype {dtype!r}")
        if (
            not isinstance(shape, list)
            or len(shape) > limits.max_tensor_rank
            or not all(_is_nat(d) for d in shape)
        ):
            raise bad(f"tensor {key!r} has an invalid shape {shape!r}")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(_is_nat(o) for o in offsets)
        ):
            raise bad(f"tensor {key!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        if begin > end or end > data_len:
            raise bad(
                f"tensor {key!r} spans bytes [{begin}, {end}) outside the {data_len}-byte data block"
            )
        size = SAFETENSORS_DTYPES[dtype]
        for d in shape:
            size *= d
        if size != end - begin:
            raise bad(
                f"tensor {key!r} of shape {shape} and dtype {dtype} needs {size} bytes "
                f"but spans {end - begin}"
            )
        spans.append((begin, end, key))
    spans.sort()
    pos = 0
    for begin, end, key in spans:
        if begin < pos:
            raise bad(f"tensor {key!r} overlaps the tensor before it")
        if begin > pos:
            raise bad(f"there is a gap of {begin - pos} bytes before tensor {key!r}")
        pos = end
    if pos != data_len:
        raise bad(f"{data_len - pos} bytes of trailing data after the last tensor")
    return header


def _is_nat(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0
