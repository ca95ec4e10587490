"""Recorded samples become examples of the run's task, encoded as the task encodes its own
data; the recorder cuts streams into the task's examples and commits each one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from openbrains.engine.codecs import codec_from_dict
from openbrains.engine.record import (
    Recorder,
    RecordError,
    check_label,
    pack_audio,
    pack_image,
    pack_text,
)
from openbrains.engine.recorded import (
    data_version,
    encode_samples,
    load_task_with_samples,
    recording_plan,
    task_spec,
    with_samples,
)
from openbrains.engine.store import Archive, Sample
from openbrains.engine.tasks.files import audio_task, images_task, load_clip
from openbrains.engine.tasks.registry import load_task
from tests.engine import feedback_data as fd


def sample(i: int, label: str, modality: str, packed: tuple, split: str = "train") -> Sample:
    data, meta = packed
    return Sample(i, label, split, modality, data, meta)


def test_plans_say_what_an_example_is_or_why_not(tmp_path: Path) -> None:
    images = recording_plan(images_task(fd.image_folder(tmp_path / "img"), size=16))
    assert images["ok"] and images["modality"] == "image" and images["size"] == [16, 16]
    assert images["classes"] == ["left", "right"] and images["channels"] == 1
    audio = recording_plan(
        audio_task(fd.audio_folder(tmp_path / "wav"), duration=fd.CLIP_S, n_mels=16)
    )
    assert audio["modality"] == "audio" and audio["clip"] == 8000 and audio["rate"] == 16000
    digits = recording_plan(load_task("digits"))
    assert digits["modality"] == "image" and digits["size"] == [8, 8]
    assert not recording_plan(load_task("xor"))["ok"]  # a vector task: nothing to record
    assert "self-play" in recording_plan(load_task("tictactoe"))["reason"]
    with pytest.raises(RecordError, match="not a class"):
        check_label(images, "up")
    with pytest.raises(RecordError, match="needs a label"):
        check_label(images, " ")
    assert check_label(images, " left ") == "left"


def test_camera_frames_join_an_image_task_like_its_own_files(tmp_path: Path) -> None:
    task = images_task(fd.image_folder(tmp_path / "img"), size=16)
    own = task.train.inputs["image"][:1]
    frame = np.zeros((48, 48, 3), np.uint8)  # what a camera gives: bigger, RGB
    frame[9:21, 6:18] = 255
    frames = [sample(i, "left", "image", pack_image(frame)) for i in range(1, 4)]
    frames.append(sample(4, "right", "image", pack_image(frame), "val"))
    frames.append(sample(5, "up", "image", pack_image(frame)))  # not a class: skipped
    extra = encode_samples(task, frames)
    assert extra["train"].inputs["image"].shape[1:] == own.shape[1:]
    assert extra["train"].target.tolist() == [0, 0, 0] and extra["val"].target.tolist() == [1]
    grown = with_samples(task, frames, version=4)
    assert len(grown.train) == len(task.train) + 3 and len(grown.val) == len(task.val) + 1
    assert len(grown.test) == len(task.test) and data_version(grown) == 4
    assert grown.settings["recorded"] == {"version": 4, "train": 3, "val": 1}
    assert len(with_samples(task, frames, version=2).train) == len(task.train) + 2


def test_digits_frames_are_scaled_to_its_units() -> None:
    task = load_task("digits")
    white = np.full((8, 8, 3), 255, np.uint8)
    x = encode_samples(task, [sample(1, "3", "image", pack_image(white))])["train"].inputs["image"]
    assert torch.allclose(x, torch.ones_like(x))  # digits pixels run 0..1, like its data
    assert float(task.train.inputs["image"].max()) == pytest.approx(1.0)


def test_audio_clips_are_cut_resampled_and_encoded(tmp_path: Path) -> None:
    task = audio_task(fd.audio_folder(tmp_path / "wav"), duration=fd.CLIP_S, n_mels=16)
    low = fd.tone(300, seconds=0.3, rate=8000)  # shorter, another rate
    extra = encode_samples(task, [sample(1, "low", "audio", pack_audio(low, 8000))])
    x = extra["train"].inputs["audio"]
    assert x.shape[1:] == task.train.inputs["audio"].shape[1:]
    assert extra["train"].target.tolist() == [task.classes.index("low")]
    # a WAV file with the same samples, loaded the way the task loads its own files
    wav = tmp_path / "same.wav"
    soundfile.write(str(wav), low, 8000, subtype="FLOAT")
    codec = codec_from_dict(task.codecs["audio"])
    reference = codec.encode([load_clip(wav, fd.CLIP_S)]).data
    assert torch.allclose(x, reference, atol=1e-4)


def test_text_samples_become_completion_windows(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    task = load_task("text", data=str(path), context=16)
    typed = [
        sample(i, "", "text", pack_text("hello world, again and again! ")) for i in range(1, 4)
    ]
    extra = encode_samples(task, typed)
    assert extra["train"].inputs["text"].shape[1:] == (16, 1)
    assert bytes(extra["train"].inputs["text"][0, :, 0].int().tolist()) == b"hello world, aga"


def test_workers_rebuild_the_task_from_a_spec_with_recordings(tmp_path: Path) -> None:
    data = fd.image_folder(tmp_path / "img")
    base = {"name": "images", "data": str(data), "size": 16}
    archive = Archive(tmp_path / "run")
    try:
        archive.add_samples([("right", "image", *pack_image(np.zeros((16, 16, 3), np.uint8)))] * 6)
    finally:
        archive.close()
    plain = load_task_with_samples(task_spec(base, tmp_path / "run", 0))
    grown = load_task_with_samples(task_spec(base, tmp_path / "run", 6))
    assert len(grown.train) == len(plain.train) + 5 and len(grown.val) == len(plain.val) + 1
    assert data_version(grown) == 6 and data_version(plain) == 0


def test_recorder_cuts_audio_into_clips_and_commits_each(tmp_path: Path) -> None:
    task = audio_task(fd.audio_folder(tmp_path / "wav"), duration=fd.CLIP_S, n_mels=16)
    plan = recording_plan(task)
    Archive(tmp_path / "run").close()
    seen: list[int] = []
    rec = Recorder(tmp_path / "run", "high", plan, on_sample=lambda i, n: seen.append(n))
    try:
        wave = fd.tone(2000, seconds=1.3)
        for start in range(0, len(wave), 512):  # 32 ms chunks, as the microphone gives
            rec.feed("audio", wave[start : start + 512])
        assert len(rec.ids) == 2 and seen == [1, 2]  # two whole 0.5 s clips so far
        assert len(rec.flush()) == 1  # 0.3 s left: at least half a clip, padded
        with pytest.raises(RecordError, match="gives image"):
            rec.feed("image", np.zeros((4, 4, 3), np.uint8))
    finally:
        rec.close()
    archive = Archive(tmp_path / "run", readonly=True)
    try:
        stored = archive.samples()
        assert [s.meta["samples"] for s in stored] == [8000, 8000, 4800]
        assert all(s.label == "high" and s.modality == "audio" for s in stored)
    finally:
        archive.close()
