"""Sources on real code paths: PortAudio through ALSA, OpenCV on real videos, real files.

The virtual microphone is ALSA's ``file`` plugin, configured in an ``.asoundrc`` under a
temporary ``HOME`` (PortAudio reads it when sounddevice is imported, so the microphone code
runs in a subprocess started with that ``HOME``). The working configuration, and why:

    pcm.!default {
        type asym
        capture.pcm "filemic"
        playback.pcm "null"
    }
    pcm.filemic {
        type plug
        slave.pcm "filemic_raw"
    }
    pcm.filemic_raw {
        type file
        slave.pcm "null"
        file "/dev/null"
        infile "/tmp/…/speech.raw"     # espeak-ng speech, s16le mono 16 kHz
        format "raw"
    }

- The ``null`` slave accepts any format and rate, so the ``file`` plugin hands the infile
  over in whatever format the reader asked for. Capturing float32 would read the 16-bit file
  as floats (garbage); forcing ``slave { format S16_LE }`` under the ``plug`` makes alsa-lib
  insert a conversion layer, and then samples go missing: ``pcm_file``'s ``mmap_begin``
  reads as many frames from the infile as the begin offers, while the conversion layer
  commits fewer at its ring-buffer wrap, so whole periods are skipped. ``MicSource``
  therefore captures int16 by default (``plug`` then passes S16 straight through) and
  converts to float itself; the capture then equals the file sample for sample.
- Nothing paces the ``null`` device: the callback runs tens of thousands of times a second.
  The content checks use ``drop="newest"`` (keep the take from its start); the default
  ``drop="oldest"`` is checked on the same flood, where it must overrun and count it.
- At the end of the infile the plugin leaves the ring buffer as it was, so the stale last
  periods repeat: only the first ``len(file)`` samples are compared.
- A second device, ``mic22k`` (a ``plug`` over a ``file`` pcm reading 22050 Hz speech),
  exercises ``device_rate=22050`` and the streaming resampler; ``micgone`` has its infile
  deleted after PortAudio listed it, which makes opening it fail like an unplugged device.
- The missing microphone is an ``.asoundrc`` whose default pcm is a card that does not
  exist (``type hw; card 29``): PortAudio then lists no devices at all.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from openbrains.nodes.sources import (
    SOURCES,
    ChunkQueue,
    SourceError,
    StreamResampler,
    open_source,
    parse_spec,
)
from openbrains.nodes.sources.camera import CameraSource
from openbrains.nodes.sources.files import FileSource
from openbrains.nodes.sources.text import FollowSource, TextSource
from tests.nodes import media

SPEECH = "one two three four five"
CHUNK = 512  # 32 ms at 16 kHz

needs_espeak = pytest.mark.skipif(not media.HAVE_ESPEAK, reason="espeak-ng is not installed")


# ----- probes: run in a subprocess whose HOME holds the .asoundrc ---------------------------


def _probe_capture(workdir: str) -> None:
    """Everything that needs the virtual microphone, in one interpreter (imports are slow)."""
    import torch

    from openbrains.engine.codecs import AudioCodec
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.graph import Graph
    from openbrains.nodes.sinks.meter import MeterSink
    from openbrains.nodes.sources.mic import MicSource, list_input_devices

    work = Path(workdir)
    out: dict = {"devices": [d.to_dict() for d in list_input_devices()]}

    # 1. the take, from its start, at the native 16 kHz
    with MicSource(max_queue=512, drop="newest") as mic:
        out["describe"] = mic.describe()
        chunks = [mic.read(timeout=10) for _ in range(60)]
    out["sizes"] = sorted({len(c.data) for c in chunks})
    out["dtypes"] = sorted({str(c.data.dtype) for c in chunks})
    out["kinds"] = sorted({c.kind for c in chunks})
    out["indices"] = [c.index for c in chunks]
    out["times_sorted"] = all(a.time <= b.time for a, b in itertools.pairwise(chunks))
    np.save(work / "mic16k.npy", np.concatenate([c.data for c in chunks]))

    # 2. a reader too slow for the device: the oldest audio goes, and it is counted
    with MicSource(chunk_ms=20, max_queue=8) as mic:
        time.sleep(0.3)
        out["slow_queued"] = len(mic._queue)
        out["slow_overruns"] = mic.overruns
        out["slow_sizes"] = sorted({len(mic.read(timeout=5).data) for _ in range(20)})

    # 3. a device run at 22050 Hz, resampled to 16 kHz as one continuous stream
    with MicSource("mic22k", device_rate=22050, max_queue=512, drop="newest") as mic:
        out["resampled_describe"] = mic.describe()
        out["capture_rate"] = mic.capture_rate
        chunks = [mic.read(timeout=10) for _ in range(60)]
    out["resampled_sizes"] = sorted({len(c.data) for c in chunks})
    np.save(work / "mic22k.npy", np.concatenate([c.data for c in chunks]))

    # 4. live: microphone → log-mel → a causal GRU brain, state carried → meter
    codec = AudioCodec(mode="logmel", n_mels=20, n_fft=400, hop=160)
    g = Graph(causal=True)
    spec = {"name": "audio", "modality": "audio", "channels": 20, "time": 0}
    x_in = g.add_node("input", spec, uid="in").uid
    gru = g.add_node("gru", {"width": 8}, uid="gru").uid
    y_out = g.add_node("output", {"name": "y", "channels": 3, "time": 0}, uid="out").uid
    g.connect(x_in, gru)
    g.connect(gru, y_out)
    brain = compile_graph(g, seed=0).eval()
    meter = MeterSink()
    state = None
    diffs, steps = [], []
    with MicSource(max_queue=512, drop="newest") as mic, torch.no_grad():
        for _ in range(24):
            chunk = mic.read(timeout=10)
            x = codec.encode(chunk.data).data
            y, state = brain.step({"audio": x}, state)
            fresh, _ = brain.step({"audio": x}, None)
            meter.write(y["y"])
            diffs.append(float((y["y"] - fresh["y"]).abs().max()))
            steps.append(int(y["y"].shape[1]))
    out["brain"] = {
        "meter": meter.snapshot(),
        "diffs": diffs,
        "steps": steps,
        "state_keys": sorted(state),
        "finite": bool(np.isfinite(meter.latest).all()),
    }

    # 5. a device that vanished after it was listed: a clear error; when it is back, the
    #    same source opens (the app's "try again" button)
    os.remove(work / "gone.raw")
    gone = MicSource("micgone", max_queue=64, drop="newest")
    try:
        gone.open()
        out["gone"] = "opened"
    except Exception as e:
        out["gone"] = f"{type(e).__name__}: {e}"
    shutil.copyfile(work / "speech.raw", work / "gone.raw")  # plugged back in
    with gone:
        first = gone.read(timeout=10)
        out["after_error"] = [len(first.data), first.index, float(np.abs(first.data).max())]
    print(json.dumps(out))


def _probe_missing(workdir: str) -> None:
    from openbrains.nodes.sources import SourceError, open_source
    from openbrains.nodes.sources.files import FileSource
    from openbrains.nodes.sources.mic import MicSource, list_input_devices

    out: dict = {"devices": [d.to_dict() for d in list_input_devices()], "errors": {}}
    for name, make in {
        "default": lambda: MicSource(),
        "by_name": lambda: MicSource(device="no such mic"),
        "by_index": lambda: MicSource(device=7),
        "spec": lambda: open_source("mic"),
    }.items():
        try:
            with make() as mic:
                mic.read(timeout=1)
            out["errors"][name] = None
        except SourceError as e:
            out["errors"][name] = str(e)
    with FileSource(Path(workdir) / "tone.wav") as src:  # the program carries on
        out["file_chunks"] = sum(1 for _ in src)
    print(json.dumps(out))


# ----- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, np.ndarray, np.ndarray]:
    if not media.HAVE_ESPEAK:
        pytest.skip("espeak-ng is not installed")
    home = tmp_path_factory.mktemp("alsa-capture")
    s16 = media.speech(SPEECH, home, 16000)
    s22 = media.speech(SPEECH, home, 22050)
    media.write_raw_s16(home / "speech.raw", s16)
    media.write_raw_s16(home / "speech22.raw", s22)
    media.write_raw_s16(home / "gone.raw", s16)
    media.write_asoundrc(
        home,
        media.ASOUNDRC_CAPTURE.format(infile=home / "speech.raw")
        + media.ASOUNDRC_EXTRA_MIC.format(name="mic22k", infile=home / "speech22.raw")
        + media.ASOUNDRC_EXTRA_MIC.format(name="micgone", infile=home / "gone.raw"),
    )
    result = media.run_probe(
        home, f"from tests.nodes.test_sources import _probe_capture; _probe_capture({str(home)!r})"
    )
    return result, home, media.as_float(s16), media.as_float(s22)


# ----- the virtual microphone --------------------------------------------------------------------


def test_mic_lists_the_default_device(capture) -> None:
    devices = capture[0]["devices"]
    defaults = [d for d in devices if d["is_default"]]
    assert len(defaults) == 1 and defaults[0]["name"] == "default"
    assert {"filemic", "mic22k"} <= {d["name"] for d in devices}
    assert all(d["channels"] >= 1 for d in devices)


def test_mic_chunks_match_the_spoken_file(capture) -> None:
    result, home, speech16, _ = capture
    assert result["sizes"] == [CHUNK]
    assert result["dtypes"] == ["float32"] and result["kinds"] == ["audio"]
    assert result["indices"] == list(range(60)) and result["times_sorted"]
    assert "microphone 'default'" in result["describe"]
    got = np.load(home / "mic16k.npy")
    offset, corr = media.best_offset(got, speech16)
    assert corr > 0.999, corr
    assert offset < 4 * CHUNK  # the take starts (almost) at the start of the file
    np.testing.assert_allclose(got[offset : offset + len(speech16)], speech16, atol=1e-6)


def test_slow_reader_drops_the_oldest_audio_and_counts_it(capture) -> None:
    result = capture[0]
    assert result["slow_queued"] <= 8
    assert result["slow_overruns"] > 0
    assert result["slow_sizes"] == [320]  # 20 ms at 16 kHz, whatever was dropped


def test_mic_at_another_device_rate_is_resampled_seamlessly(capture) -> None:
    from openbrains.engine.codecs import resample

    result, home, _, speech22 = capture
    assert (
        result["capture_rate"] == 22050
        and "resampled from 22050 Hz" in result["resampled_describe"]
    )
    assert result["resampled_sizes"] == [CHUNK]
    got = np.load(home / "mic22k.npy")
    want = resample(speech22, 22050, 16000)
    offset, corr = media.best_offset(got, want)
    assert corr > 0.999, corr
    n = len(want) - 64  # the stream's tail still waits in the resampler's margin
    # equal to resampling the whole file at once: no seams at the chunk edges
    np.testing.assert_allclose(got[offset : offset + n], want[:n], atol=1e-5)


def test_mic_stream_drives_a_stateful_brain_into_a_meter(capture) -> None:
    brain = capture[0]["brain"]
    assert brain["finite"] and brain["meter"]["nonfinite"] == 0
    assert brain["meter"]["count"] == 24 and len(brain["meter"]["history"]) == 24
    assert brain["steps"] == [1 + CHUNK // 160] * 24  # log-mel frames per chunk
    assert brain["state_keys"] == ["gru"]
    assert brain["diffs"][0] == 0.0  # first chunk: nothing carried yet
    assert min(brain["diffs"][1:]) > 1e-6  # later chunks remember earlier ones


def test_unplugged_mic_is_a_clear_error_and_capture_goes_on(capture) -> None:
    result = capture[0]
    assert result["gone"].startswith("SourceError: microphone 'micgone' is busy or unavailable: ")
    assert "\n" not in result["gone"]
    assert result["after_error"][:2] == [CHUNK, 0] and result["after_error"][2] > 0


def test_missing_microphone_is_a_clear_error(tmp_path: Path) -> None:
    media.write_asoundrc(tmp_path, media.ASOUNDRC_BROKEN)
    soundfile.write(tmp_path / "tone.wav", np.zeros(3200, np.float32), 16000)
    result = media.run_probe(
        tmp_path,
        f"from tests.nodes.test_sources import _probe_missing; _probe_missing({str(tmp_path)!r})",
    )
    errors = result["errors"]
    assert all(msg is not None and "\n" not in msg for msg in errors.values()), errors
    if not result["devices"]:  # this machine: no sound card at all
        for name in ("default", "by_name", "by_index", "spec"):
            assert errors[name] == "no microphone found (PortAudio sees no input devices)"
    else:  # a machine with real cards still lists them; a bad name is still named
        assert "no such mic" in errors["by_name"]
    assert result["file_chunks"] == 7  # 3200 samples: six chunks of 512 and a short one


def test_importing_sources_loads_no_heavy_library() -> None:
    code = (
        "import json, sys, openbrains.nodes.sources, openbrains.nodes.sinks;"
        "print(json.dumps([m for m in ('torch', 'sounddevice', 'cv2') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=media.REPO, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == []


# ----- specs -------------------------------------------------------------------------------------


def test_open_source_parses_every_spec_form(tmp_path: Path) -> None:
    from openbrains.nodes.sources.mic import MicSource

    assert set(SOURCES) == {"mic", "camera", "text", "follow", "file"}
    assert open_source("mic").device is None
    assert open_source("mic:2").device == 2
    assert open_source("mic:USB Audio", rate=8000).device == "USB Audio"
    assert isinstance(open_source("MIC"), MicSource)
    assert open_source("camera").source == 0
    assert open_source("camera:3").source == 3
    cam = open_source(f"camera:{tmp_path / 'clip.mp4'}", size=(32, 24))
    assert cam.source == str(tmp_path / "clip.mp4") and cam.size == (32, 24)
    assert isinstance(open_source("text"), TextSource) and open_source("text").stream is None
    assert open_source("text:-").stream is sys.stdin.buffer
    follow = open_source(f"follow:{tmp_path / 'log.txt'}", from_start=True)
    assert isinstance(follow, FollowSource) and follow.from_start
    assert open_source("file:C:/data/a.wav").path == Path("C:/data/a.wav")  # one split only
    assert parse_spec("camera:a:b") == ("camera", "a:b")
    for bad, match in [
        ("", "empty source spec"),
        ("microphone", "unknown source 'microphone'; expected one of: mic, mic:DEVICE"),
        ("follow", "follow needs a path"),
        ("file:", "file needs a path"),
        ("text:hello", "text takes no argument"),
        ("mic:0", None),
    ]:
        if match is None:
            open_source(bad)
            continue
        with pytest.raises(SourceError, match=match):
            open_source(bad)
    with pytest.raises(SourceError, match="unexpected keyword"):
        open_source("mic", colour="blue")
    with pytest.raises(SourceError, match="chunk_ms must be > 0"):
        open_source("mic", chunk_ms=0)


# ----- camera ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fourcc", "ext"), [("mp4v", "mp4"), ("MJPG", "avi")])
def test_camera_reads_every_frame_of_a_video_resized_rgb(
    tmp_path: Path, fourcc: str, ext: str
) -> None:
    path = tmp_path / f"square.{ext}"
    xs = media.moving_square_video(path, fourcc, frames=20, size=(96, 80))
    with CameraSource(str(path), size=(48, 40)) as cam:
        assert cam.describe() == f"video {str(path)!r} (48x40)"
        frames = list(cam)
        assert cam.read() is None  # stays ended
    assert len(frames) == 20
    assert [f.index for f in frames] == list(range(20))
    assert [f.meta["frame"] for f in frames] == list(range(20))
    for f in frames:
        assert f.kind == "image" and f.data.dtype == np.uint8 and f.data.shape == (40, 48, 3)
    centres = [media.red_centroid_x(f.data) for f in frames]
    expected = [(x + 8) / 2 for x in xs]  # the square's centre, at half the width
    np.testing.assert_allclose(centres, expected, atol=1.5)  # red in RGB: it was BGR-swapped
    assert centres[-1] - centres[0] > 30  # the square moves


def test_camera_native_size_and_pacing(tmp_path: Path) -> None:
    path = tmp_path / "square.avi"
    media.moving_square_video(path, "MJPG", frames=6, size=(64, 48))
    with CameraSource(path, size=None, fps=40) as cam:
        start = time.monotonic()
        frames = list(cam)
        took = time.monotonic() - start
    assert [f.data.shape for f in frames] == [(48, 64, 3)] * 6
    assert took >= 5 / 40 - 0.01  # six frames at 40 fps: five periods between them


def test_camera_errors_are_clear_and_recoverable(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        CameraSource(9).open()
    assert str(err.value) == (
        "camera 9 could not be opened (is it connected, or used by another program?)"
    )
    with pytest.raises(SourceError, match="no such video file"):
        CameraSource(tmp_path / "nope.mp4").open()
    (tmp_path / "junk.mp4").write_bytes(b"not a video" * 50)
    with pytest.raises(SourceError, match="could not be opened"):
        CameraSource(tmp_path / "junk.mp4").open()
    cam = CameraSource(9)
    with pytest.raises(SourceError):
        cam.read()
    cam.close()
    assert cam.read() is None
    path = tmp_path / "ok.avi"  # after all that, a good one still works
    media.moving_square_video(path, "MJPG", frames=3)
    with CameraSource(path) as ok:
        assert len(list(ok)) == 3


def test_camera_frames_drive_an_image_brain_into_a_meter(tmp_path: Path) -> None:
    import torch

    from openbrains.engine.codecs import ImageCodec
    from openbrains.engine.compile import compile_graph
    from openbrains.engine.graph import Graph
    from openbrains.nodes.sinks.meter import MeterSink

    path = tmp_path / "square.mp4"
    media.moving_square_video(path, "mp4v", frames=12, size=(96, 80))
    codec = ImageCodec(patch=4, height=32, width=32)
    spec = codec.spec()
    g = Graph(causal=True)
    inp = {"name": "image", "modality": "image", "channels": spec.channels, "time": 64}
    inp |= {"grid_h": 8, "grid_w": 8}
    x_in = g.add_node("input", inp, uid="in").uid
    dense = g.add_node("dense", {"width": 12}, uid="dense").uid
    gru = g.add_node("gru", {"width": 6}, uid="gru").uid
    y_out = g.add_node("output", {"name": "y", "channels": 2, "time": 0}, uid="out").uid
    g.connect(x_in, dense)
    g.connect(dense, gru)
    g.connect(gru, y_out)
    brain = compile_graph(g, seed=1).eval()
    meter = MeterSink()
    state = None
    diffs = []
    with CameraSource(path, size=(32, 32)) as cam, torch.no_grad():
        for frame in cam:
            x = codec.encode(frame.data).data
            y, state = brain.step({"image": x}, state)
            fresh, _ = brain.step({"image": x}, None)
            meter.write(y["y"])
            # the first patch of a frame is where memory of the last frame shows most
            diffs.append(float((y["y"][:, 0] - fresh["y"][:, 0]).abs().max()))
    assert meter.count == 12 and meter.values == 12 * 64 * 2
    assert meter.nonfinite == 0 and np.isfinite(meter.latest).all()
    assert diffs[0] == 0.0
    assert min(diffs[1:]) > 1e-5  # state flowed from frame to frame


# ----- text ---------------------------------------------------------------------------------------


def test_typed_text_from_several_threads(tmp_path: Path) -> None:
    src = TextSource()
    src.push("before open is fine")

    def typist(k: int) -> None:
        for i in range(50):
            src.push(f"{k}:{i};")

    with src:
        threads = [threading.Thread(target=typist, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        src.push("")  # ignored
        src.push("naïve ✓")
        src.finish()
        chunks = list(src)
    assert chunks[0].data == b"before open is fine"
    assert chunks[-1].data == "naïve ✓".encode()
    assert {c.kind for c in chunks} == {"bytes"} and len(chunks) == 202
    got = {c.data.decode() for c in chunks[1:-1]}
    assert got == {f"{k}:{i};" for k in range(4) for i in range(50)}
    assert [c.index for c in chunks] == list(range(202))
    with pytest.raises(TypeError):
        src.push(3)  # type: ignore[arg-type]


def test_text_times_out_without_ending() -> None:
    with TextSource() as src:
        with pytest.raises(TimeoutError):
            src.read(timeout=0.05)
        src.push("late")
        assert src.read(timeout=1).data == b"late"
    assert src.read() is None  # closed: end of stream


def test_text_lines_from_a_stream_and_from_stdin() -> None:
    with TextSource(stream=io.BytesIO(b"first\nsecond line\nno newline")) as src:
        assert [c.data for c in src] == [b"first\n", b"second line\n", b"no newline"]
    with TextSource(stream=io.StringIO("h\u00e9llo\n")) as src:
        assert [c.data for c in src] == ["héllo\n".encode()]
    code = (
        "import json; from openbrains.nodes.sources import open_source\n"
        "with open_source('text:-') as s: print(json.dumps([c.data.decode() for c in s]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=media.REPO,
        input="héllo\nworld\n".encode(),
        capture_output=True,
        check=True,
    )
    assert json.loads(out.stdout) == ["héllo\n", "world\n"]


def test_follow_reads_exactly_the_new_bytes(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"old line\n")
    with FollowSource(path, poll_interval=0.01) as src:
        with pytest.raises(TimeoutError):
            src.read(timeout=0.05)  # starts at the end: old content is not news
        with open(path, "ab") as f:
            f.write(b"new 1\n")
        assert src.read(timeout=2).data == b"new 1\n"
        with open(path, "ab") as f:
            f.write(b"a")
            f.flush()
            f.write("bé\n".encode())
        assert src.read(timeout=2).data == "abé\n".encode()  # both appends, once
        # truncated in place and rewritten shorter: read again from the start
        path.write_bytes(b"xyz")
        assert src.read(timeout=2).data == b"xyz"
        assert src.truncations == 1
        # replaced (new inode under the same name) after a last append to the old file
        with open(path, "ab") as f:
            f.write(b"!")
        fresh = tmp_path / "log.txt.new"
        fresh.write_bytes(b"rotated\n")
        os.replace(fresh, path)
        assert src.read(timeout=2).data == b"!"  # the old file's tail first
        assert src.read(timeout=2).data == b"rotated\n"
        assert src.rotations == 1
        # the name vanishes for a while, then comes back
        path.unlink()
        with pytest.raises(TimeoutError):
            src.read(timeout=0.05)
        path.write_bytes(b"back\n")
        assert src.read(timeout=2).data == b"back\n"
        with pytest.raises(TimeoutError):
            src.read(timeout=0.03)
    assert src.read() is None


def test_follow_from_start_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"0123456789")
    with FollowSource(path, from_start=True, max_chunk=4, poll_interval=0.01) as src:
        got = [src.read(timeout=1) for _ in range(3)]
    assert [c.data for c in got] == [b"0123", b"4567", b"89"]
    assert [c.meta["offset"] for c in got] == [0, 4, 8]
    with pytest.raises(SourceError, match="no such file"):
        FollowSource(tmp_path / "missing.log").open()
    with pytest.raises(SourceError, match="is a folder"):
        FollowSource(tmp_path).open()


# ----- files --------------------------------------------------------------------------------------


def test_wav_file_in_exact_chunks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    wave = (rng.standard_normal(16000 // 2) * 0.2).clip(-1, 1).astype(np.float32)
    path = tmp_path / "noise.wav"
    soundfile.write(path, wave, 16000, subtype="FLOAT")
    with FileSource(path) as src:
        assert src.kind == "audio"
        chunks = list(src)
    assert [len(c.data) for c in chunks] == [CHUNK] * 15 + [8000 - 15 * CHUNK]
    assert all(c.data.dtype == np.float32 for c in chunks)
    np.testing.assert_array_equal(np.concatenate([c.data for c in chunks]), wave)
    short = tmp_path / "short.wav"
    soundfile.write(short, wave[:3200], 16000)  # 0.2 s
    with FileSource(short, real_time=True) as src:
        start = time.monotonic()
        first = src.read()
        with pytest.raises(TimeoutError):
            src.read(timeout=0.001)  # the next chunk is 32 ms away
        rest = list(src)
        took = time.monotonic() - start
    assert [c.index for c in [first, *rest]] == list(range(7))  # nothing lost to the timeout
    assert took >= 0.18  # played at its own speed


@needs_espeak
def test_flac_stereo_44k_is_mixed_and_resampled(tmp_path: Path) -> None:
    from openbrains.engine.codecs import resample

    voice = media.as_float(media.speech(SPEECH, tmp_path, 44100))
    stereo = np.stack([voice, 0.5 * voice], axis=1)
    path = tmp_path / "speech.flac"
    soundfile.write(path, stereo, 44100, subtype="PCM_16")
    stored, _ = soundfile.read(path, dtype="float32")
    want = resample(stored.mean(axis=1, dtype=np.float32), 44100, 16000)
    with open_source(f"file:{path}", chunk_ms=20) as src:
        chunks = list(src)
    got = np.concatenate([c.data for c in chunks])
    assert all(len(c.data) == 320 for c in chunks[:-1]) and 0 < len(chunks[-1].data) <= 320
    assert len(got) == len(want)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_stream_resampler_equals_resampling_at_once() -> None:
    from openbrains.engine.codecs import resample

    rng = np.random.default_rng(1)
    wave = rng.standard_normal(9000).astype(np.float32)
    for src_rate, dst_rate in [(44100, 16000), (48000, 16000), (16000, 22050), (8000, 16000)]:
        rs = StreamResampler(src_rate, dst_rate)
        pieces, pos = [], 0
        for n in rng.integers(1, 700, 40):
            pieces.append(rs.feed(wave[pos : pos + n]))
            pos += int(n)
        pieces.append(rs.feed(wave[pos:]))
        pieces.append(rs.flush())
        got, want = np.concatenate(pieces), resample(wave, src_rate, dst_rate)
        assert len(got) == len(want), (src_rate, dst_rate)
        np.testing.assert_allclose(got, want, atol=2e-5, err_msg=f"{src_rate}→{dst_rate}")
    same = StreamResampler(16000, 16000)
    assert same.identity and np.array_equal(same.feed(wave[:10]), wave[:10])


def test_image_folder_sorted_rgb_resized(tmp_path: Path) -> None:
    import cv2

    folder = tmp_path / "pics"
    folder.mkdir()
    colours = {"b.png": (255, 0, 0), "a.png": (0, 0, 255), "c.jpg": (0, 255, 0)}  # BGR
    for name, bgr in colours.items():
        cv2.imwrite(str(folder / name), np.full((30, 40, 3), bgr, np.uint8))
    cv2.imwrite(str(folder / "d.png"), np.full((10, 10), 200, np.uint8))  # grey
    (folder / "notes.txt").write_text("not an image")
    with FileSource(folder, size=(20, 15)) as src:
        assert src.kind == "image"
        frames = list(src)
    assert [f.meta["file"] for f in frames] == ["a.png", "b.png", "c.jpg", "d.png"]
    assert all(f.data.shape == (15, 20, 3) and f.data.dtype == np.uint8 for f in frames)
    means = [tuple(np.round(f.data.reshape(-1, 3).mean(0)).astype(int)) for f in frames]
    assert means[0] == (255, 0, 0) and means[1] == (0, 0, 255) and means[3] == (200, 200, 200)
    assert abs(means[2][1] - 255) <= 2 and max(means[2][0], means[2][2]) <= 2  # JPEG green
    with FileSource(folder / "b.png") as one:
        (frame,) = list(one)
    assert frame.data.shape == (30, 40, 3)  # no size: as stored
    (folder / "e.png").write_bytes(b"broken")
    with pytest.raises(SourceError, match=r"e\.png is not a readable image"):
        list(FileSource(folder))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no images in folder"):
        FileSource(empty).open()


def test_raw_bytes_video_and_bad_files(tmp_path: Path) -> None:
    blob = os.urandom(1000)
    (tmp_path / "blob.bin").write_bytes(blob)
    with FileSource(tmp_path / "blob.bin", chunk_bytes=256) as src:
        chunks = list(src)
    assert [len(c.data) for c in chunks] == [256, 256, 256, 232]
    assert b"".join(c.data for c in chunks) == blob and chunks[0].kind == "bytes"
    assert [c.meta["offset"] for c in chunks] == [0, 256, 512, 768]
    video = tmp_path / "clip.avi"
    media.moving_square_video(video, "MJPG", frames=5)
    with FileSource(video, size=(16, 16)) as src:
        assert src.kind == "image"
        assert [c.data.shape for c in src] == [(16, 16, 3)] * 5
    with pytest.raises(SourceError, match="no such file"):
        FileSource(tmp_path / "nope.wav").open()
    (tmp_path / "fake.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(SourceError, match=r"fake\.wav is not a readable sound file"):
        FileSource(tmp_path / "fake.wav").open()
    with pytest.raises(SourceError, match="only a folder of images"):
        FileSource(tmp_path, kind="audio").open()


def test_chunk_queue_policies() -> None:
    q = ChunkQueue(3)
    for i in range(5):
        q.put(i)
    assert q.overruns == 2 and [q.get(0), q.get(0), q.get(0)] == [2, 3, 4]
    with pytest.raises(TimeoutError):
        q.get(0.01)
    keep = ChunkQueue(2, drop="newest")
    assert [keep.put(i) for i in range(4)] == [True, True, False, False]
    keep.end()
    assert [keep.get(), keep.get(), keep.get()] == [0, 1, None]
    failing = ChunkQueue(None)
    failing.end(SourceError("microphone 'x' stopped delivering audio"))
    with pytest.raises(SourceError, match="stopped"):
        failing.get()
