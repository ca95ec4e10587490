"""Spoken digits made locally with espeak-ng: the sample data set of the ``audio`` task.

Why synthesise: a spoken-digit corpus is the "hello world" of audio classification, but
downloading one needs a network and a licence check. espeak-ng (installed by
``scripts/setup.sh``) speaks the ten digit words in several accents and voice variants, at
several speeds and pitches; each clip is trimmed, placed at a random offset in one second,
scaled to a random level and mixed with white noise at a random SNR, so no two clips are
alike. Layout: ``DIR/<digit>/<voice>_<speed>_<pitch>.wav`` (16 kHz mono, 16-bit), which the
``audio`` task reads as one class per folder; ``holdout=<voice>_`` makes one voice the test
set. Voice tags are chosen so that none is a substring of another.

``python -m openbrains.engine.datasets.spoken DIR`` writes the set (about 10 s on two cores) and a
``.complete`` stamp; run again, it sees the stamp and does nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from openbrains.engine.errors import OpenBrainsError

RATE = 16000
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# tag → espeak-ng voice: eight accents, each with its own variant (male/female, formants)
VOICES: dict[str, str] = {
    "us-m1": "en-us+m1",
    "gb-f2": "en-gb+f2",
    "sc-m3": "en-gb-scotland+m3",
    "rp-f4": "en-gb-x-rp+f4",
    "la-m7": "en-gb-x-gbclan+m7",
    "wm-f1": "en-gb-x-gbcwmd+f1",
    "ca-m2": "en-029+m2",
    "ny-f3": "en-us-nyc+f3",
}
STAMP = ".complete"


class SpeechError(OpenBrainsError):
    """espeak-ng is missing or failed, or the output folder is in the way."""


@dataclass(frozen=True)
class SpokenSpec:
    """What to synthesise; recorded in the stamp so a different request is not skipped."""

    voices: tuple[str, ...] = tuple(VOICES)
    speeds: tuple[int, ...] = (130, 160, 190)
    pitches: tuple[int, ...] = (35, 50, 65)
    duration: float = 1.0
    snr_db: tuple[float, float] = (15.0, 30.0)
    seed: int = 0
    extra: dict[str, str] = field(default_factory=dict)  # more tag → espeak voice pairs

    def voice(self, tag: str) -> str:
        return {**VOICES, **self.extra}[tag]

    def files(self) -> int:
        return len(DIGITS) * len(self.voices) * len(self.speeds) * len(self.pitches)


def espeak_path() -> str | None:
    """The espeak-ng executable, or None when it is not installed."""
    return shutil.which("espeak-ng")


def speak(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One word spoken by espeak-ng, as float32 mono at 16 kHz."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from openbrains.engine.codecs import to_mono_float

    exe = espeak_path()
    if exe is None:
        raise SpeechError("espeak-ng is not installed (scripts/setup.sh installs it)")
    cmd = [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word]
    done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    if done.returncode != 0 or not done.stdout:
        reason = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
        raise SpeechError(f"espeak-ng -v {voice} failed: {reason}")
    wave, rate = sf.read(io.BytesIO(done.stdout), dtype="float32", always_2d=True)
    clip = to_mono_float(wave)
    if rate == RATE:
        return clip
    g = np.gcd(int(rate), RATE)  # polyphase: ~1 ms a clip (22.05 → 16 kHz is 320/441)
    return resample_poly(clip, RATE // g, int(rate) // g).astype(np.float32)


def trim(clip: np.ndarray, floor: float = 0.02) -> np.ndarray:
    """The clip without the silence espeak-ng leaves before and after the word."""
    loud = np.flatnonzero(np.abs(clip) > floor * max(float(np.abs(clip).max()), 1e-9))
    return clip[loud[0] : loud[-1] + 1] if len(loud) else clip


def augment(clip: np.ndarray, spec: SpokenSpec, key: str) -> np.ndarray:
    """``clip`` at a random offset in ``spec.duration`` seconds, random level, white noise at
    a random SNR; seeded by ``key`` so the set is the same on every machine."""
    rng = np.random.default_rng([spec.seed, zlib.crc32(key.encode())])
    n = round(spec.duration * RATE)
    word = trim(clip)[:n]
    out = np.zeros(n, np.float32)
    start = int(rng.integers(0, max(1, min(n - len(word), RATE // 6) + 1)))
    out[start : start + len(word)] = word
    out *= rng.uniform(0.3, 0.9) / max(float(np.abs(out).max()), 1e-9)
    power = float(np.mean(out[start : start + len(word)] ** 2))
    snr = rng.uniform(*spec.snr_db)
    out += rng.normal(0.0, np.sqrt(power / 10 ** (snr / 10)), n).astype(np.float32)
    return np.clip(out, -1.0, 1.0)


def _write_one(
    folder: Path, spec: SpokenSpec, digit: int, tag: str, speed: int, pitch: int
) -> None:
    import soundfile as sf

    name = f"{tag}_{speed}_{pitch}"
    clip = speak(DIGITS[digit], spec.voice(tag), speed, pitch)
    wave = augment(clip, spec, f"{digit}/{name}")
    sf.write(str(folder / str(digit) / f"{name}.wav"), wave, RATE, subtype="PCM_16")


def _stamp_of(spec: SpokenSpec) -> str:
    return json.dumps(asdict(spec), sort_keys=True)


def is_complete(folder: Path, spec: SpokenSpec) -> bool:
    stamp = folder / STAMP
    return stamp.is_file() and stamp.read_text() == _stamp_of(spec)


def make_spoken_digits(
    folder: str | Path, spec: SpokenSpec | None = None, workers: int = 4, force: bool = False
) -> bool:
    """Write the set into ``folder``; False when an identical set is already there.

    The files are made in a temporary sibling folder that is renamed at the end, so an
    interrupted run leaves no half set behind. A folder that exists without our stamp is
    refused (it may be the user's own data) unless ``force``.
    """
    spec = spec or SpokenSpec()
    folder = Path(folder)
    unknown = [t for t in spec.voices if t not in {**VOICES, **spec.extra}]
    if unknown:
        raise SpeechError(f"unknown voice tag(s) {unknown}; known: {', '.join(VOICES)}")
    if is_complete(folder, spec) and not force:
        return False
    if folder.exists() and not (folder / STAMP).is_file() and not force:
        raise SpeechError(
            f"{folder} exists and is not a spoken-digits set made here; remove it or use --force"
        )
    if espeak_path() is None:
        raise SpeechError("espeak-ng is not installed (scripts/setup.sh installs it)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for d in range(len(DIGITS)):
            (tmp / str(d)).mkdir()
        jobs = [
            (d, tag, speed, pitch)
            for d in range(len(DIGITS))
            for tag in spec.voices
            for speed in spec.speeds
            for pitch in spec.pitches
        ]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            list(pool.map(lambda j: _write_one(tmp, spec, *j), jobs))
        (tmp / STAMP).write_text(_stamp_of(spec))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m openbrains.engine.datasets.spoken",
        description="Write the spoken-digits sample set with espeak-ng (skipped if present).",
    )
    p.add_argument("folder", type=Path, nargs="?", default=Path("data/spoken_digits"))
    p.add_argument("--voices", help=f"comma-separated voice tags (default all: {','.join(VOICES)})")
    p.add_argument("--workers", type=int, default=4, help="espeak-ng processes at once")
    p.add_argument("--force", action="store_true", help="rewrite the folder even if present")
    args = p.parse_args(argv)
    spec = SpokenSpec()
    if args.voices:
        spec = SpokenSpec(voices=tuple(v.strip() for v in args.voices.split(",") if v.strip()))
    try:
        made = make_spoken_digits(args.folder, spec, args.workers, args.force)
    except SpeechError as exc:
        print(f"spoken digits: {exc}", file=sys.stderr)
        return 2
    what = f"wrote {spec.files()} clips to" if made else "already present:"
    print(f"spoken digits: {what} {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
