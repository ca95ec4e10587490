"""What an image or a sound costs to decode, known before it is decoded.

A 424 KB PNG can hold 20000×20000 black pixels: 400 MB once decoded, more once resized.
The size an image will decode to is in its header, so it is read from there first (PNG,
JPEG and BMP, the formats a task reads) and an image over ``Limits.max_image_pixels`` is
refused without being decoded. A file whose header says nothing readable is refused too:
the decoder would sniff the bytes and might decode another format at any size. Sounds are
read only as far as a clip needs, so their cost is bounded by the clip's length, which is
itself bounded by ``Limits.max_audio_seconds``; their rate and channel count are checked
first (a rate of billions per second would make resampling the cost).
"""

from __future__ import annotations

import struct

from openbrains.engine.format.safety import DEFAULT_LIMITS, Limits

MIN_AUDIO_RATE = 1_000
MAX_AUDIO_RATE = 384_000  # the highest rate audio hardware records at
MAX_AUDIO_CHANNELS = 64

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (they carry the size); C4, C8 and CC are other segments
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class MediaError(ValueError):
    """An image or sound that will not be decoded; the message says why, in one line."""


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a PNG, JPEG or BMP header, or None if there is none."""
    if data.startswith(PNG_MAGIC) and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"BM") and len(data) >= 26:
        (header_size,) = struct.unpack("<I", data[14:18])
        if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
            w, h = struct.unpack("<HH", data[18:22])
            return w, h
        w, h = struct.unpack("<ii", data[18:26])
        return abs(w), abs(h)  # a negative height means top-down rows
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF and pos + 9 <= len(data):
            h, w = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return w, h
        if length < 2:
            return None
        pos += 2 + length
    return None


def check_image(data: bytes, where: str, limits: Limits = DEFAULT_LIMITS) -> tuple[int, int]:
    """The image's ``(width, height)`` if it may be decoded, else ``MediaError``."""
    size = image_size(data)
    if size is None:
        raise MediaError(f"{where}: not a valid PNG, JPEG or BMP file")
    w, h = size
    if w < 1 or h < 1:
        raise MediaError(f"{where}: the image header says {w}×{h} pixels")
    if w * h > limits.max_image_pixels:
        raise MediaError(
            f"{where}: {w}×{h} pixels, over the limit of {limits.max_image_pixels:,} pixels "
            "per image (shrink it first)"
        )
    return w, h


def check_sound(rate: int, channels: int, where: str) -> None:
    """Refuse a sound whose rate or channel count no recorder makes, before decoding it."""
    if not MIN_AUDIO_RATE <= rate <= MAX_AUDIO_RATE:
        raise MediaError(
            f"{where}: a sample rate of {rate} Hz (expected {MIN_AUDIO_RATE}–{MAX_AUDIO_RATE})"
        )
    if not 1 <= channels <= MAX_AUDIO_CHANNELS:
        raise MediaError(f"{where}: {channels} channels (expected 1–{MAX_AUDIO_CHANNELS})")


def check_clip_seconds(seconds: float, where: str, limits: Limits = DEFAULT_LIMITS) -> float:
    """A clip length a task may ask for: more than 0, at most ``max_audio_seconds``."""
    if not 0 < seconds <= limits.max_audio_seconds:
        raise MediaError(
            f"{where}: a clip of {seconds} seconds (expected more than 0, at most "
            f"{limits.max_audio_seconds:g})"
        )
    return seconds
