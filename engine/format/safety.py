"""Checks on untrusted `.graph` bytes: limits, member names, pickles and safetensors headers.

A `.graph` file comes from strangers, so nothing in it is trusted: not the sizes the zip
declares, not the names, not the tensor offsets. Every check here raises ``FormatError``
with a message that names the file and the member at fault. Nothing is ever unpickled,
executed or written to disk while reading.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from openbrains.engine.errors import FormatError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """What a reader accepts. Raise them for big populations; never turn them off.

    ``max_ratio`` applies only to members larger than ``ratio_min_size`` uncompressed: tiny
    members cannot hurt and JSON full of spaces legitimately compresses very well.
    """

    max_file_size: int = 2 * GiB
    max_members: int = 10_000
    max_total_size: int = 2 * GiB
    max_ratio: float = 200.0
    ratio_min_size: int = 1 * MiB
    max_json_size: int = 64 * MiB
    max_name_length: int = 512
    max_safetensors_header: int = 64 * MiB
    max_tensors: int = 100_000
    max_tensor_rank: int = 16
    max_key_length: int = 1024


DEFAULT_LIMITS = Limits()

# Names whose extension says "pickle" in the Python ecosystem. Refused by name even when the
# bytes do not look like one: someone who extracts the zip could torch.load / np.load them.
PICKLE_SUFFIXES = (
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".ckpt",
    ".bin",
    ".joblib",
    ".npy",
    ".npz",
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
_DRIVE_RE = re.compile(r"^[A-Za-z]:")

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


def fail(file: str, member: str | None, message: str) -> FormatError:
    """A ``FormatError`` whose message starts with the file and (if any) the member."""
    where = f"{file}: member {member!r} " if member else f"{file}: "
    return FormatError(where + message)


# ----- member names ---------------------------------------------------------------------
def name_problem(name: str, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why ``name`` may not be a member name of a `.graph`, or None if it is fine.

    Refused: empty or overlong names, control characters, backslashes, colons (drive letters
    and Windows streams), absolute paths, empty, ``.`` and ``..`` path components. A name
    ending in ``/`` is a directory entry; the caller decides what to do with it.
    """
    if not name:
        return "has an empty name"
    if len(name.encode("utf-8", "surrogatepass")) > limits.max_name_length:
        return f"has a name longer than {limits.max_name_length} bytes"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "has a control character (or NUL) in its name"
    if "\\" in name:
        return "has a backslash in its name (zip names use '/'; it could escape on Windows)"
    if _DRIVE_RE.match(name):
        return "is an absolute path with a drive letter"
    if ":" in name:
        return "has a colon in its name"
    if name.startswith("/"):
        return "is an absolute path"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if any(p == ".." for p in parts):
        return "has a '..' component (it would escape the folder it is extracted into)"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' path component"
    return None


def is_pickle_name(name: str) -> bool:
    return name.lower().endswith(PICKLE_SUFFIXES)


def looks_like_pickle(data: bytes) -> bool:
    """Pickle protocol 2–5 header, or a zip (like torch.save output) holding a pickle.

    Protocol 0/1 pickles have no header and cannot be told from text; they are harmless
    here because nothing is ever unpickled, and the suffix rule catches the usual names.
    """
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return True
    if data.startswith(ZIP_MAGIC):
        try:
            precheck_central_directory(data, "", DEFAULT_LIMITS)
            with zipfile.ZipFile(io.BytesIO(data)) as inner:
                names = inner.namelist()
        except Exception:  # unreadable or huge: opaque data (never opened, never run)
            return False
        return any(is_pickle_name(n) for n in names)
    return False


def pickle_error(file: str, member: str) -> FormatError:
    return fail(file, member, "is a Python pickle; Open Brains never unpickles files")


# ----- zip structure --------------------------------------------------------------------
def precheck_central_directory(data: bytes, file: str, limits: Limits) -> None:
    """Refuse absurd entry counts from the end record before Python parses the directory."""
    tail = data[-(65535 + 22) :]
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return  # zipfile will report "not a zip"
    _sig, _disk, _cd_disk, _n_here, n_total, cd_size, _cd_off, _clen = struct.unpack(
        "<4sHHHHIIH", tail[pos : pos + 22]
    )
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF:
        loc = len(data) - len(tail) + pos - 20
        if loc >= 0 and data[loc : loc + 4] == b"PK\x06\x07":
            (off64,) = struct.unpack("<Q", data[loc + 8 : loc + 16])
            rec = data[off64 : off64 + 56]
            if len(rec) == 56 and rec[:4] == b"PK\x06\x06":
                n_total, cd_size = struct.unpack("<QQ", rec[32:48])
    if n_total > limits.max_members:
        raise fail(
            file, None, f"the archive has {n_total} members, over the limit of {limits.max_members}"
        )
    if cd_size // 46 > limits.max_members:  # 46 bytes: the smallest central directory entry
        raise fail(
            file,
            None,
            f"the central directory ({cd_size} bytes) holds more than the limit of "
            f"{limits.max_members} members",
        )


def local_data_span(data: bytes, info: zipfile.ZipInfo, file: str) -> tuple[int, int]:
    """(start, end) of a member's compressed bytes, from its local header, bounds-checked."""
    off = info.header_offset
    head = data[off : off + 30]
    if len(head) < 30 or head[:4] != ZIP_MAGIC:
        raise fail(file, info.filename, "has no valid local header (truncated or corrupt zip)")
    flags, name_len, extra_len = struct.unpack("<6xH18xHH", head)
    raw_name = data[off + 30 : off + 30 + name_len]
    try:
        local_name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
    except UnicodeDecodeError:
        local_name = None
    if local_name != info.orig_filename:
        raise fail(
            file,
            info.filename,
            "has a local header that names a different file than the central directory",
        )
    start = off + 30 + name_len + extra_len
    end = start + info.compress_size
    if end > len(data):
        raise fail(file, info.filename, "runs past the end of the file (truncated zip)")
    return start, end


def read_member(data: bytes, info: zipfile.ZipInfo, start: int, end: int, file: str) -> bytes:
    """Decompress one member, never producing more bytes than its declared size.

    The declared size is what the limits were checked against; a stream that inflates past
    it is a zip bomb that lied, and is stopped as soon as the lie shows.
    """
    name = info.filename
    raw = memoryview(data)[start:end]
    declared = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) != declared:
            raise fail(file, name, f"is stored with {len(raw)} bytes but declares {declared}")
        out = bytes(raw)
    else:
        d = zlib.decompressobj(-15)
        buf = bytearray()
        chunk = 1 * MiB
        pos = 0
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    piece = d.unconsumed_tail
                elif pos < len(raw):
                    piece = raw[pos : pos + chunk]
                    pos += chunk
                else:
                    break
                buf += d.decompress(piece, declared - len(buf) + 1)
                if len(buf) > declared:
                    raise fail(
                        file,
                        name,
                        f"inflates to more than its declared size of {declared} bytes; "
                        "refusing a possible zip bomb",
                    )
        except zlib.error as exc:
            raise fail(file, name, f"is corrupt (deflate error: {exc})") from None
        if not d.eof:
            raise fail(file, name, "is truncated (its compressed data ends early)")
        if len(buf) != declared:
            raise fail(file, name, f"holds {len(buf)} bytes but declares {declared}")
        out = bytes(buf)
    if zlib.crc32(out) != info.CRC:
        raise fail(file, name, "is corrupt (CRC-32 mismatch)")
    return out


# ----- JSON -----------------------------------------------------------------------------
def parse_json(data: bytes, file: str, member: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """UTF-8 JSON or a ``FormatError`` naming the member (orjson: strict, no NaN, no dupes lost)."""
    import orjson

    if len(data) > limits.max_json_size:
        raise fail(
            file, member, f"is {len(data)} bytes of JSON, over the limit {limits.max_json_size}"
        )
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise fail(file, member, f"is not valid UTF-8 JSON: {exc}") from None


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


# ----- safetensors ----------------------------------------------------------------------
def validate_safetensors(
    data: bytes, file: str, member: str, limits: Limits = DEFAULT_LIMITS
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
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError) as exc:
        raise bad(f"the header is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(header, dict):
        raise bad("the header is not a JSON object")
    meta = header.pop("__metadata__", None)
    if meta is not None and (
        not isinstance(meta, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    ):
        raise bad("'__metadata__' must map strings to strings")
    if len(header) > limits.max_tensors:
        raise bad(f"{len(header)} tensors, over the limit of {limits.max_tensors}")
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


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def check_png(data: bytes, file: str, member: str) -> None:
    """Thumbnails are never decoded here; the magic number keeps other things out of them."""
    if not data.startswith(PNG_MAGIC):
        raise fail(file, member, "is not a PNG image")
