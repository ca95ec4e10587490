"""Small real data sets for the recording and rating tests: class folders of PNG images and
of WAV tones, written with OpenCV and soundfile, and run settings that train in seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import soundfile

IMAGE_CLASSES = {"left": 2, "right": 10}  # where the bright square sits (x)
TONES = {"low": 300.0, "high": 2000.0}  # Hz
RATE = 16000
CLIP_S = 0.5


def image_folder(root: Path, per_class: int = 10, side: int = 16) -> Path:
    """``root/left`` and ``root/right``: a white square on black, left or right."""
    for name, x0 in IMAGE_CLASSES.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = np.zeros((side, side, 3), np.uint8)
            y = 3 + i % 6
            img[y : y + 4, x0 : x0 + 4] = 255
            cv2.imwrite(str(root / name / f"{i:02d}.png"), img)
    return root


def tone(freq: float, seconds: float = CLIP_S, rate: int = RATE, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(len(t))).astype(
        np.float32
    )


def audio_folder(root: Path, per_class: int = 8) -> Path:
    """``root/low`` and ``root/high``: noisy sine tones as 16-bit WAV files."""
    for name, freq in TONES.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            wave = tone(freq * (1 + 0.02 * i), seed=i)
            soundfile.write(str(root / name / f"{i:02d}.wav"), wave, RATE, subtype="PCM_16")
    return root


def images_settings(data: Path, workers: int = 0, **kw: Any) -> dict[str, Any]:
    return {
        "task": {"name": "images", "data": str(data), "size": 16},
        "workers": workers,
        "population": 4,
        "budget_steps": 20,
        "sibling_rate": 0.0,
        **kw,
    }


def audio_settings(data: Path, **kw: Any) -> dict[str, Any]:
    return {
        "task": {"name": "audio", "data": str(data), "duration": CLIP_S, "n_mels": 16},
        "workers": 0,
        "population": 4,
        "budget_steps": 20,
        "sibling_rate": 0.0,
        **kw,
    }
