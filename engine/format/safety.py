"""Checks on untrusted `.graph` bytes: limits, member names, pickles and the zip structure.

A `.graph` file comes from strangers, so nothing in it is trusted: not the sizes the zip
declares, not the names, not the tensor offsets. Every check here raises ``FormatError``
with a message that names the file and the member at fault. Nothing is ever unpickled,
executed or written to disk while reading.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from openbrains.engine.errors import FormatError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    """What a reader accepts from a stranger, each bound chosen by what it costs to go past
    it (time and memory), not by what a file's bytes weigh: a few hundred kilobytes can
    declare gigabytes of JSON objects, a million nodes or a billion weights. Raise them for
    big populations; never turn them off. Every number is documented in docs/format.md,
    "Limits and refusals", with what it protects.

    ``max_ratio`` applies only to members larger than ``ratio_min_size`` uncompressed: tiny
    members cannot hurt and JSON full of spaces legitimately compresses very well;
    ``max_inflated`` bounds what all deflated members together may inflate to.
    """

    # the zip
    max_file_size: int = 2 * GiB
    max_members: int = 10_000
    max_total_size: int = 2 * GiB
    max_inflated: int = 64 * MiB
    max_ratio: float = 200.0
    ratio_min_size: int = 1 * MiB
    max_name_length: int = 512
    # JSON members (values and tensors are counted over the whole file)
    max_json_size: int = 16 * MiB
    max_json_values: int = 500_000
    max_json_depth: int = 64
    # safetensors members
    max_safetensors_header: int = 4 * MiB
    max_tensors: int = 20_000
    max_tensor_rank: int = 16
    max_key_length: int = 1024
    # graphs: what compiling and running one costs
    max_nodes: int = 1_000
    max_edges: int = 3_000
    max_weights: int = 20_000_000
    # tasks of a multi-task graph and their probes (examples every training step replays)
    max_tasks: int = 64
    max_probe_examples: int = 1_024
    max_probe_values: int = 16_000_000
    # media a task reads (image folders, audio clips)
    max_image_pixels: int = 4096 * 4096
    max_audio_seconds: float = 60.0


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
    """Refuse absurd entry counts from the end record before Python parses the directory,
    and data appended after that record (a polyglot: other tools would read the tail)."""
    tail = data[-(65535 + 22) :]
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        return  # zipfile will report "not a zip"
    _sig, _disk, _cd_disk, _n_here, n_total, cd_size, _cd_off, clen = struct.unpack(
        "<4sHHHHIIH", tail[pos : pos + 22]
    )
    junk = len(tail) - (pos + 22 + clen)
    if junk > 0:  # readers that scan from the front would see other content than we do
        raise fail(
            file,
            None,
            f"{junk} bytes of data follow the zip's end record; refusing an ambiguous file",
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


def check_png(data: bytes, file: str, member: str) -> None:
    """Thumbnails are never decoded here; the magic number keeps other things out of them."""
    if not data.startswith(PNG_MAGIC):
        raise fail(file, member, "is not a PNG image")
