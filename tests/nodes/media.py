"""Real test media and virtual devices for the source/sink tests.

Speech comes from espeak-ng (converted with sox to 16-bit PCM), videos are written with
OpenCV's ``VideoWriter``, and the "microphone" and "speaker" are ALSA ``file`` plugins
configured in an ``.asoundrc`` under a temporary ``HOME`` (see ``tests/nodes/test_sources``
for why the configuration looks the way it does). Code that talks to PortAudio runs in a
subprocess started with that ``HOME`` (``run_probe``): PortAudio reads the ALSA
configuration and lists devices once, when sounddevice is first imported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]

HAVE_ESPEAK = shutil.which("espeak-ng") is not None
HAVE_SOX = shutil.which("sox") is not None


# ----- speech --------------------------------------------------------------------------------


def speech(text: str, workdir: Path, rate: int = 16000) -> np.ndarray:
    """``text`` spoken by espeak-ng as int16 mono samples at ``rate`` Hz."""
    wav = workdir / f"espeak-{abs(hash(text)) % 10**8}.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    if HAVE_SOX:
        raw = wav.with_suffix(f".{rate}.raw")
        fmt = ["-t", "raw", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
        subprocess.run(
            ["sox", str(wav), *fmt, str(raw)],
            check=True,
            capture_output=True,
        )
        return np.fromfile(raw, dtype="<i2").astype(np.int16)
    import soundfile

    from openbrains.engine.codecs import resample

    data, file_rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    wave = resample(data.mean(axis=1), file_rate, rate)
    return np.clip(np.round(wave * 32767), -32768, 32767).astype(np.int16)


def write_raw_s16(path: Path, samples: np.ndarray) -> Path:
    """Headerless 16-bit little-endian mono PCM, what the ALSA file plugin reads."""
    np.asarray(samples, dtype="<i2").tofile(path)
    return path


def as_float(samples: np.ndarray) -> np.ndarray:
    return np.asarray(samples, dtype=np.float32) / 32768.0


def best_offset(captured: np.ndarray, reference: np.ndarray) -> tuple[int, float]:
    """Where ``reference`` sits in ``captured`` (cross-correlation) and the normalised peak."""
    n = len(captured) + len(reference)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(captured, size) * np.conj(np.fft.rfft(reference, size)), size)
    corr = corr[: len(captured) - len(reference) + 1]
    k = int(np.argmax(corr))
    seg = captured[k : k + len(reference)]
    norm = float(np.linalg.norm(seg) * np.linalg.norm(reference)) or 1.0
    return k, float(corr[k] / norm)


# ----- video and images ----------------------------------------------------------------------


def moving_square_video(
    path: Path,
    fourcc: str,
    frames: int = 20,
    size: tuple[int, int] = (96, 80),
    square: int = 16,
    fps: float = 10.0,
) -> list[int]:
    """A video of a red square sliding right on black; returns its left x per frame."""
    import cv2

    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path}")
    xs = []
    for i in range(frames):
        x = round(i * (w - square) / max(1, frames - 1))
        frame = np.zeros((h, w, 3), np.uint8)
        frame[h // 2 - square // 2 : h // 2 + square // 2, x : x + square] = (0, 0, 255)  # BGR red
        writer.write(frame)
        xs.append(x)
    writer.release()
    return xs


def red_centroid_x(rgb: np.ndarray) -> float:
    """Column of the red square's centre in an RGB frame (channel 0 strong, 2 weak)."""
    mask = (rgb[:, :, 0].astype(int) > 128) & (rgb[:, :, 2].astype(int) < 100)
    cols = np.nonzero(mask)[1]
    return float(cols.mean()) if cols.size else float("nan")


# ----- virtual ALSA devices ------------------------------------------------------------------

ASOUNDRC_CAPTURE = """\
# A virtual microphone: reading "default" reads {infile} (16-bit LE mono PCM).
pcm.!default {{
    type asym
    capture.pcm "filemic"
    playback.pcm "null"
}}
pcm.filemic {{
    type plug
    slave.pcm "filemic_raw"
}}
pcm.filemic_raw {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile "{infile}"
    format "raw"
}}
"""

ASOUNDRC_EXTRA_MIC = """\
pcm.{name} {{
    type plug
    slave.pcm {{
        type file
        slave.pcm "null"
        file "/dev/null"
        infile "{infile}"
        format "raw"
    }}
}}
"""

ASOUNDRC_PLAYBACK = """\
# A virtual speaker: playing to "default" appends raw samples to {outfile}.
pcm.!default {{
    type plug
    slave.pcm "filespk"
}}
pcm.filespk {{
    type file
    slave.pcm "null"
    file "{outfile}"
    format "raw"
}}
"""

ASOUNDRC_BROKEN = """\
# No usable device at all: the default pcm is a sound card that does not exist.
pcm.!default {
    type hw
    card 29
}
ctl.!default {
    type hw
    card 29
}
"""


def write_asoundrc(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / ".asoundrc"
    path.write_text(text)
    return path


def run_probe(home: Path, call: str, timeout: float = 60) -> dict[str, Any]:
    """Run ``call`` (Python: an import and a function call printing JSON as its last line)
    in a fresh interpreter whose ``HOME`` is ``home``, so ALSA reads ``home/.asoundrc``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALSA_", "PA_"))}
    env.update(
        HOME=str(home),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        OMP_NUM_THREADS="1",
    )
    proc = subprocess.run(
        [sys.executable, "-c", call],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(
            f"probe failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return json.loads(lines[-1])
