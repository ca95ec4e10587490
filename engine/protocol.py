"""The message protocol between the GUI and the engine service (DESIGN §3.8).

Frames are a 4-byte big-endian length followed by one orjson object. Commands go in
(``{"id": n, "cmd": "start", ...}``), replies come back with the same id
(``{"reply": n, "ok": true, ...}``) and events flow out unasked
(``{"event": "individual", "data": {...}}``). Only JSON crosses: nothing is pickled.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

import orjson

MAX_FRAME = 64 * 1024 * 1024
HEADER = struct.Struct(">I")


class ProtocolError(Exception):
    """A malformed frame: too large, truncated, or not a JSON object."""


def encode_frame(message: dict[str, Any]) -> bytes:
    body = orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY)
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"message of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, Any]:
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """Next message from a blocking stream; None at a clean end of stream."""
    head = stream.read(HEADER.size)
    if not head:
        return None
    if len(head) < HEADER.size:
        raise ProtocolError("stream ended inside a frame header")
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes is over the {MAX_FRAME}-byte limit")
    body = stream.read(size)
    if len(body) < size:
        raise ProtocolError("stream ended inside a frame")
    return decode_body(body)


class FrameBuffer:
    """Incremental decoder for non-blocking readers (the GUI feeds it what arrives)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        out = []
        while len(self._buf) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buf)
            if size > MAX_FRAME:
                raise ProtocolError(f"frame of {size} bytes is over the {MAX_FRAME}-byte limit")
            if len(self._buf) < HEADER.size + size:
                break
            body = bytes(self._buf[HEADER.size : HEADER.size + size])
            del self._buf[: HEADER.size + size]
            out.append(decode_body(body))
        return out
