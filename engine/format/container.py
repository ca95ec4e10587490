"""The zip layer of a `.graph`: members in, deterministic bytes out, and back, safely.

Writing is deterministic: ``manifest.json`` first, every other member in ascending order of
its UTF-8 name; timestamps 1980-01-01 00:00:00; Unix regular-file mode 0644; no extra
fields, comments or data descriptors; ``*.safetensors`` and ``*.png`` stored, everything
else deflated at level 9. Reading trusts nothing the zip declares (see ``safety``).
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from openbrains.engine.errors import FormatError
from openbrains.engine.format.safety import (
    DEFAULT_LIMITS,
    Limits,
    fail,
    local_data_span,
    name_problem,
    precheck_central_directory,
    read_member,
)

MANIFEST = "manifest.json"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
DEFLATE_LEVEL = 9
STORED_SUFFIXES = (".safetensors", ".png")


def member_order(names: Iterable[str]) -> list[str]:
    """``manifest.json`` first, then the rest sorted by name (code point = UTF-8 byte order)."""
    names = list(names)
    rest = sorted(n for n in names if n != MANIFEST)
    return ([MANIFEST] if MANIFEST in names else []) + rest


def dump_json(value: Any) -> bytes:
    """How every JSON member is written: orjson, keys sorted, 2-space indent, final newline."""
    return orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    )


def write_archive(members: dict[str, bytes]) -> bytes:
    """The zip bytes of ``members``; equal members give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", allowZip64=True) as zf:
        for name in member_order(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            if name.endswith(STORED_SUFFIXES):
                zf.writestr(info, members[name], compress_type=zipfile.ZIP_STORED)
            else:
                zf.writestr(
                    info,
                    members[name],
                    compress_type=zipfile.ZIP_DEFLATED,
                    compresslevel=DEFLATE_LEVEL,
                )
    return buf.getvalue()


def read_archive(data: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Every file member of the zip, in archive order, after all structural checks.

    Refuses (``FormatError`` naming file and member): non-zips and truncated zips, too many
    members, unsafe or duplicate names, encryption, compression other than stored/deflate,
    members that overlap or start after junk, declared sizes over the limits, ratios of a
    zip bomb, and streams that inflate past what they declared.
    """
    if len(data) > limits.max_file_size:
        raise fail(
            file, None, f"the file is {len(data)} bytes, over the limit of {limits.max_file_size}"
        )
    precheck_central_directory(data, file, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        start_dir = zf.start_dir
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        ValueError,
        EOFError,
        OSError,
        UnicodeDecodeError,
    ) as exc:
        raise fail(
            file, None, f"not a .graph file: not a zip archive, or truncated ({exc})"
        ) from None
    if len(infos) > limits.max_members:
        raise fail(
            file,
            None,
            f"the archive has {len(infos)} members, over the limit of {limits.max_members}",
        )

    seen: dict[str, str] = {}
    files: list[zipfile.ZipInfo] = []
    total = inflated = 0
    for info in infos:
        name = info.orig_filename
        problem = name_problem(name, limits)
        if problem:
            raise fail(file, name, problem)
        key = name.rstrip("/").casefold()
        if key in seen:
            same = "twice" if seen[key] == name else f"twice (as {seen[key]!r} and {name!r})"
            raise fail(file, name, f"appears {same}; member names must be unique")
        seen[key] = name
        if info.flag_bits & 0x1:
            raise fail(file, name, "is encrypted; .graph files are never encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise fail(
                file,
                name,
                f"uses compression method {info.compress_type}; only stored (0) and deflate (8) are allowed",
            )
        if name.endswith("/"):
            if info.file_size:
                raise fail(file, name, "is a directory entry with content")
            continue
        total += info.file_size
        if total > limits.max_total_size:
            raise fail(
                file,
                name,
                f"brings the declared uncompressed size to {total} bytes, over the limit of {limits.max_total_size}",
            )
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflated += info.file_size
            if inflated > limits.max_inflated:
                raise fail(
                    file,
                    name,
                    f"brings the compressed members to {inflated:,} bytes once inflated, over "
                    f"the limit of {limits.max_inflated:,}; refusing a possible zip bomb",
                )
        if info.file_size > limits.ratio_min_size:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise fail(
                    file,
                    name,
                    f"would expand {ratio:.0f}:1 (limit {limits.max_ratio:.0f}:1); refusing a possible zip bomb",
                )
        files.append(info)

    spans: dict[str, tuple[int, int]] = {}
    pos = 0
    for i, info in enumerate(sorted(infos, key=lambda i: i.header_offset)):
        name = info.orig_filename
        if i == 0 and info.header_offset != 0:
            raise fail(file, name, "is preceded by data that is not part of the zip")
        if info.header_offset < pos:
            raise fail(file, name, "overlaps another member (a trick of zip bombs)")
        start, end = local_data_span(data, info, file)
        if end > start_dir:
            raise fail(file, name, "runs into the central directory (truncated or corrupt zip)")
        spans[name] = (start, end)
        pos = end

    return {
        info.orig_filename: read_member(data, info, *spans[info.orig_filename], file)
        for info in files
    }


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``.

    A crash or a full disk leaves the old file as it was and no temporary behind; the
    failure is raised as ``FormatError`` saying what went wrong.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = -1
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException as exc:  # full disk, permissions, Ctrl-C: never leave a temporary
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not isinstance(exc, OSError):
            raise
        reason = exc.strerror or str(exc)
        raise FormatError(
            f"could not save {str(target)!r}: {reason}; the old file (if any) is unchanged"
        ) from exc
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the OS allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
