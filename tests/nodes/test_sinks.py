"""Sinks on real code paths: a PortAudio output stream into an ALSA ``file`` plugin, PNGs
written and read back with OpenCV, and decoded brain outputs from the real codecs.

The virtual speaker (in an ``.asoundrc`` under a temporary ``HOME``, used by a subprocess):

    pcm.!default {
        type plug
        slave.pcm "filespk"
    }
    pcm.filespk {
        type file
        slave.pcm "null"
        file "/tmp/…/out.raw"
        format "raw"
    }

The ``null`` slave accepts float32, so no conversion layer is inserted and the file holds
the stream's float32 samples exactly. Nothing paces ``null`` either: while the stream runs,
PortAudio's callback is asked for blocks as fast as it can fill them and the file grows
with silence (hundreds of MB/s), so the probe writes its audio before opening the sink,
drains it and closes at once. PortAudio starts with about a buffer of silence, hence the
offset search when the file is read back.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from openbrains.engine.codecs import AudioCodec, BytesCodec, ImageCodec
from openbrains.nodes.sinks import SINKS, SinkError, make_sink
from openbrains.nodes.sinks.image import ImageSink
from openbrains.nodes.sinks.meter import MeterSink
from openbrains.nodes.sinks.text import TextSink
from tests.nodes import media

# ----- probes (subprocess, HOME = the .asoundrc folder) -------------------------------------


def _probe_playback(workdir: str) -> None:
    from openbrains.nodes.sinks import SinkError
    from openbrains.nodes.sinks.audio import AudioOutSink, list_output_devices

    out: dict = {"devices": [d.name for d in list_output_devices()]}
    t = np.arange(8000) / 16000
    tone = (0.5 * np.sin(2 * np.pi * 440 * t) * np.minimum(1, t * 20)).astype(np.float32)
    codec = AudioCodec(mode="frames", frame=400, hop=400)
    decoded = codec.decode(codec.encode(tone[4000:]))  # what a live brain's output looks like
    sink = AudioOutSink(rate=16000)
    sink.write(tone[:4000])  # written before the device is open: waits in the buffer
    sink.write(torch.from_numpy(decoded))  # [1, N] from a codec
    with sink:
        out["describe"] = sink.describe()
        out["drained"] = sink.drain(timeout=5)
    out["count"], out["played"], out["dropped"] = sink.count, sink.played, sink.dropped
    np.save(Path(workdir) / "tone.npy", tone)
    try:
        AudioOutSink(device="no such speaker").open()
        out["bad_name"] = None
    except SinkError as e:
        out["bad_name"] = str(e)
    print(json.dumps(out))


def _probe_no_output() -> None:
    from openbrains.nodes.sinks import SinkError, make_sink
    from openbrains.nodes.sinks.audio import AudioOutSink, list_output_devices

    out: dict = {"devices": [d.name for d in list_output_devices()]}
    for name, make in {
        "default": lambda: AudioOutSink(),
        "by_index": lambda: AudioOutSink(device=3),
        "registry": lambda: make_sink("audio"),
    }.items():
        try:
            with make() as sink:
                sink.write(np.zeros(160, np.float32))
            out[name] = None
        except SinkError as e:
            out[name] = str(e)
    meter = make_sink("meter")  # the program carries on with the sinks it can have
    meter.write([1.0, 2.0])
    out["meter_mean"] = meter.mean
    print(json.dumps(out))


# ----- audio out ------------------------------------------------------------------------------


def test_audio_sink_plays_into_the_alsa_file_plugin(tmp_path: Path) -> None:
    outfile = tmp_path / "out.raw"
    media.write_asoundrc(tmp_path, media.ASOUNDRC_PLAYBACK.format(outfile=outfile))
    result = media.run_probe(
        tmp_path,
        f"from tests.nodes.test_sinks import _probe_playback; _probe_playback({str(tmp_path)!r})",
    )
    assert "default" in result["devices"]
    assert result["describe"] == "speaker 'default' (16000 Hz)"
    assert result["drained"] and result["count"] == 2 and result["dropped"] == 0
    assert result["played"] == 8000
    assert result["bad_name"].startswith("no audio output matches 'no such speaker' (outputs: ")
    tone = np.load(tmp_path / "tone.npy")
    written = np.fromfile(outfile, dtype="<f4")
    offset, corr = media.best_offset(written[:200_000], tone)
    assert corr > 0.9999, corr
    np.testing.assert_allclose(written[offset : offset + len(tone)], tone, atol=1e-6)
    assert not written[:offset].any()  # silence before, nothing invented


def test_audio_sink_without_an_output_device_is_a_clear_error(tmp_path: Path) -> None:
    media.write_asoundrc(tmp_path, media.ASOUNDRC_BROKEN)
    result = media.run_probe(
        tmp_path, "from tests.nodes.test_sinks import _probe_no_output; _probe_no_output()"
    )
    assert result["meter_mean"] == 1.5
    if result["devices"]:  # a machine with real sound cards still lists them
        pytest.skip(f"real audio outputs present: {result['devices']}")
    no_device = "no audio output device found (PortAudio sees no output devices)"
    assert result["default"] == no_device
    assert result["by_index"] == no_device
    assert result["registry"] == no_device


# ----- text -------------------------------------------------------------------------------------


def test_text_sink_collects_decoded_bytes_across_chunk_edges() -> None:
    echo = io.StringIO()
    codec = BytesCodec()
    sink = make_sink("text", echo=echo)
    assert isinstance(sink, TextSink)
    data = "héllo wörld ✓".encode()
    with sink:
        for i in range(0, len(data), 3):  # cuts through multi-byte characters
            ids = codec.encode(data[i : i + 3])
            sink.write(codec.decode(ids, as_bytes=True))
        sink.write(" and more")
    assert sink.text == "héllo wörld ✓ and more"
    assert echo.getvalue() == sink.text
    assert sink.count == math.ceil(len(data) / 3) + 1
    logits = torch.full((1, 2, 256), -10.0)
    logits[0, 0, ord("o")] = logits[0, 1, ord("k")] = 10.0
    sink.clear()
    sink.write(codec.decode(logits))  # greedy decoding of a brain's logits
    assert sink.text == "ok"
    small = TextSink(max_chars=5)
    for piece in ["abc", "def", "ghijkl"]:
        small.write(piece)
    assert small.text == "hijkl"
    dangling = TextSink()
    dangling.write(b"caf\xc3")
    dangling.close()
    assert dangling.text == "caf\ufffd"
    with pytest.raises(TypeError):
        dangling.write(3)  # type: ignore[arg-type]


# ----- image ------------------------------------------------------------------------------------


def test_image_sink_keeps_the_latest_frame_and_saves_png(tmp_path: Path) -> None:
    import cv2

    codec = ImageCodec(patch=4, height=8, width=12)
    sink = make_sink("image")
    assert isinstance(sink, ImageSink) and sink.latest is None
    with pytest.raises(SinkError, match="no image to save yet"):
        sink.save_png(tmp_path / "none.png")
    rgb = np.zeros((8, 12, 3), np.uint8)
    rgb[:, :6] = (255, 0, 0)
    rgb[:, 6:] = (0, 0, 255)
    sink.write(rgb)
    decoded = codec.decode(codec.encode(rgb[None].repeat(2, axis=0)))  # float [2, H, W, 3]
    sink.write(decoded)
    latest = sink.latest
    assert latest is not None and latest.dtype == np.uint8 and latest.shape == (8, 12, 3)
    np.testing.assert_array_equal(latest, rgb)
    latest[:] = 0  # a copy: the sink's frame is unharmed
    assert sink.latest.any()
    saved = sink.save_png(tmp_path / "frame.png")
    back = cv2.cvtColor(cv2.imread(str(saved)), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(back, rgb)
    assert not (tmp_path / "frame.png.tmp").exists()
    sink.write(np.full((4, 4), 0.5, np.float32))  # grey floats
    assert sink.latest.shape == (4, 4, 3) and (sink.latest == 128).all()
    sink.write(torch.full((2, 2, 4), 1.5))  # RGBA tensor, clipped
    assert (sink.latest == 255).all() and sink.count == 4
    assert sink.describe() == "image output (2x2, 4 frames)"
    with pytest.raises(SinkError, match="could not save"):
        sink.save_png(tmp_path / "no" / "such" / "dir.png")
    with pytest.raises(ValueError, match="expected an image"):
        sink.write(np.zeros((3, 3, 5)))


# ----- meter ------------------------------------------------------------------------------------


def test_meter_sink_statistics_and_history() -> None:
    meter = make_sink("meter", history=3)
    assert isinstance(meter, MeterSink)
    assert math.isnan(meter.level) and math.isnan(meter.mean)
    meter.write(2.0)
    meter.write(torch.tensor([[1.0, 3.0], [5.0, 7.0]]))
    meter.write(np.array([float("nan"), -1.0]))
    meter.write([10, 20])
    assert meter.count == 4 and meter.values == 8 and meter.nonfinite == 1
    assert meter.mean == pytest.approx((2 + 16 - 1 + 30) / 8)
    assert meter.min == -1.0 and meter.max == 20.0
    assert meter.history == [4.0, -1.0, 15.0]  # the last three levels, oldest first
    assert meter.level == 15.0
    np.testing.assert_array_equal(meter.latest, [10.0, 20.0])
    snap = json.loads(json.dumps(meter.snapshot()))
    assert snap["count"] == 4 and snap["history"] == [4.0, -1.0, 15.0]
    meter.reset()
    assert meter.count == 0 and meter.history == [] and meter.latest is None


def test_sink_registry() -> None:
    assert set(SINKS) == {"text", "image", "audio", "meter"}
    with pytest.raises(SinkError, match="unknown sink 'speaker'; expected one of: text, image"):
        make_sink("speaker")
    with pytest.raises(SinkError, match="history must be >= 1"):
        make_sink("meter", history=0)
    with make_sink("meter") as meter:
        meter.write(1)
    meter.close()  # closing twice is fine
