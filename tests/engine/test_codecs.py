"""Codecs: round trips on real data, specs that match, settings that survive a file."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import orjson
import pytest
import torch

from openbrains.engine.codecs import (
    CODECS,
    AudioCodec,
    BytesCodec,
    Codec,
    ImageCodec,
    VectorCodec,
    codec_from_dict,
    resample,
    sample_next,
)
from openbrains.engine.errors import FormatError
from openbrains.engine.signal import Signal, SignalMeta

SR = 16000


def chirp_plus_sine(seconds: float = 1.0, rate: int = SR) -> np.ndarray:
    """A 200 Hz → 3 kHz linear chirp plus a steady 440 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    chirp = 0.3 * np.sin(2 * np.pi * (200 * t + (3000 - 200) / 2 * t**2))
    return (chirp + 0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def assert_spec_matches(codec: Codec, signal: Signal) -> None:
    spec = codec.spec()
    assert signal.channels == spec.channels
    assert spec.time is None or signal.time == spec.time
    # a codec of variable size cannot promise a grid; each Signal still carries its own
    grid = signal.meta.grid if spec.time is not None else None
    assert replace(signal.meta, grid=grid) == spec.meta
    assert signal.data.dtype == torch.float32


# ----- bytes -------------------------------------------------------------------------------


def test_bytes_round_trip_non_ascii_with_padding_and_lengths() -> None:
    texts = ["héllo wörld 🧠", "日本語", "", "plain"]
    codec = BytesCodec(pad=7)
    signal, lengths = codec.encode(texts, return_lengths=True)
    assert lengths.tolist() == [len(t.encode()) for t in texts]
    assert signal.data.shape == (4, max(lengths), 1)
    assert signal.data[1, 0, 0] == "日".encode()[0]
    assert (signal.data[1, lengths[1] :, 0] == 7).all()  # padded with the pad id
    assert codec.decode(signal, lengths=lengths) == texts
    assert codec.decode(signal, lengths=lengths, as_bytes=True) == [t.encode() for t in texts]
    assert_spec_matches(codec, signal)


def test_bytes_single_item_and_fixed_length() -> None:
    assert BytesCodec().decode(BytesCodec().encode(b"\x00\xffab")) == ["\x00\ufffdab"]
    codec = BytesCodec(length=4)
    signal = codec.encode(["abcdef", "é"])
    assert signal.data.shape == (2, 4, 1)
    assert codec.spec().time == 4
    assert codec.decode(signal, as_bytes=True) == [b"abcd", "é".encode() + b"\x00\x00"]
    assert_spec_matches(codec, signal)


def test_bytes_decode_logits_greedy_and_refuses_other_widths() -> None:
    codec = BytesCodec()
    ids = codec.encode("greedy ✓").data.long()[..., 0]
    noise = torch.randn(1, ids.shape[1], 256, generator=torch.Generator().manual_seed(0))
    logits = torch.nn.functional.one_hot(ids, 256).float() * 10 + noise
    assert codec.decode(logits) == ["greedy ✓"]
    assert codec.decode(logits[0]) == ["greedy ✓"]  # [T, C] is one item
    with pytest.raises(ValueError, match=r"\[B, T, 256\]"):
        codec.decode(torch.zeros(1, 3, 10))


def test_sampling_is_reproducible_and_low_temperature_is_argmax() -> None:
    logits = torch.randn(4, 32, 256, generator=torch.Generator().manual_seed(1))
    a = sample_next(logits, 1.0, torch.Generator().manual_seed(5))
    b = sample_next(logits, 1.0, torch.Generator().manual_seed(5))
    c = sample_next(logits, 1.0, torch.Generator().manual_seed(6))
    assert a.shape == (4, 32) and a.dtype == torch.long
    assert torch.equal(a, b) and not torch.equal(a, c)
    greedy = logits.argmax(-1)
    assert torch.equal(sample_next(logits, 0.0), greedy)
    assert torch.equal(sample_next(logits, 1e-4, torch.Generator().manual_seed(5)), greedy)
    codec = BytesCodec()
    texts = [codec.decode(logits, temperature=0.8, generator=torch.Generator().manual_seed(3))]
    texts.append(codec.decode(logits, temperature=0.8, generator=torch.Generator().manual_seed(3)))
    assert texts[0] == texts[1]


def test_sampling_follows_softmax_of_logits_over_temperature() -> None:
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    draws = sample_next(logits.expand(40000, 4), 2.0, torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=4).float() / len(draws)
    assert torch.allclose(freq, torch.softmax(logits / 2.0, -1), atol=0.01)


# ----- audio -------------------------------------------------------------------------------


def test_frames_without_overlap_invert_exactly() -> None:
    wave = np.random.default_rng(0).uniform(-1, 1, 1000).astype(np.float32)
    codec = AudioCodec("frames", frame=160, hop=160)
    signal = codec.encode(wave)
    assert signal.data.shape == (1, 7, 160)  # 1000 samples, last frame zero-padded
    assert np.array_equal(signal.data[0, 0].numpy(), wave[:160])
    out = codec.decode(signal, length=len(wave))
    assert out.shape == (1, 1000) and np.array_equal(out[0], wave)
    assert_spec_matches(codec, signal)
    assert codec.spec().meta.rate == 100.0


def test_overlapping_frames_invert_with_window_sum_normalisation() -> None:
    wave = chirp_plus_sine(0.3)
    codec = AudioCodec("frames", frame=400, hop=160)
    signal, lengths = codec.encode([wave, wave[:1234]], return_lengths=True)
    assert signal.data.shape[2] == 400
    assert lengths.tolist() == [codec.steps(len(wave)), codec.steps(1234)]
    assert torch.equal(signal.data[0, 1], torch.from_numpy(wave[160:560]))
    out = codec.decode(signal, length=len(wave))
    np.testing.assert_allclose(out[0], wave, atol=1e-6)
    np.testing.assert_allclose(out[1, :1234], wave[:1234], atol=1e-6)
    assert np.abs(out[1, 1234:]).max() == 0  # the batch padding was silence


def test_logmel_shape_spec_and_frequency_placement() -> None:
    codec = AudioCodec("logmel", n_fft=512, hop=160, n_mels=40)
    t = np.arange(SR) / SR
    low, high = (np.sin(2 * np.pi * f * t).astype(np.float32) for f in (300, 5000))
    signal = codec.encode([low, high])
    assert signal.data.shape == (2, 1 + SR // 160, 40)
    assert_spec_matches(codec, signal)
    peaks = signal.data[:, 50].argmax(-1)
    assert peaks[0] < 10 < 30 < peaks[1]  # 300 Hz in a low band, 5 kHz in a high one


def test_logmel_decode_is_close_in_log_mel() -> None:
    """Measure: mean |Δ| in dB of the re-encoded log-mel over cells within 40 dB of the peak.

    Griffin-Lim reaches about 1.7 dB here; a 6 dB gain error or a noise stand-in fail.
    """
    wave = chirp_plus_sine(1.0)
    codec = AudioCodec("logmel")
    original = codec.encode(wave).data[0]
    decoded = codec.decode(codec.encode(wave), length=len(wave))
    assert decoded.shape == (1, len(wave))
    again = codec.encode(decoded[0]).data[0]

    def mean_db_error(other: torch.Tensor) -> float:
        loud = original > original.max() - 4 * math.log(10)  # 40 dB in natural-log power
        return float(10 / math.log(10) * (original - other).abs()[loud].mean())

    assert mean_db_error(again) < 3.0
    assert mean_db_error(codec.encode(decoded[0] * 0.5).data[0]) > 5.0  # the measure can fail
    repeat = codec.decode(codec.encode(wave), length=len(wave))
    assert np.array_equal(decoded, repeat)  # seeded Griffin-Lim: decoding is repeatable


def test_int16_and_stereo_become_mono_float() -> None:
    wave = chirp_plus_sine(0.1)
    pcm = np.round(wave * 32767).astype(np.int16)
    codec = AudioCodec("frames", frame=100, hop=100)
    from_int = codec.decode(codec.encode(pcm))[0, : len(wave)]
    np.testing.assert_allclose(from_int, pcm / 32768.0, atol=1e-7)
    stereo = np.stack([wave, -0.5 * wave], axis=1)
    mono = codec.decode(codec.encode(torch.from_numpy(stereo)))[0, : len(wave)]
    np.testing.assert_allclose(mono, 0.25 * wave, atol=1e-7)


@pytest.mark.parametrize(("src", "freq"), [(44100, 440.0), (8000, 3000.0), (22050, 6000.0)])
def test_resample_matches_the_analytic_sine(src: int, freq: float) -> None:
    x = np.sin(2 * np.pi * freq * np.arange(src) / src).astype(np.float32)
    y = resample(x, src, SR)
    assert len(y) == SR
    expected = np.sin(2 * np.pi * freq * np.arange(SR) / SR)
    assert np.abs(y - expected)[200:-200].max() < 1e-3


def test_resample_removes_tones_above_the_new_nyquist_and_keeps_dc() -> None:
    x = np.sin(2 * np.pi * 12000 * np.arange(48000) / 48000).astype(np.float32)
    y = resample(x, 48000, SR)  # 12 kHz would alias to 4 kHz if not filtered
    assert np.sqrt(np.mean(y[100:-100] ** 2)) < 1e-3
    dc = resample(np.full(4410, 0.5, np.float32), 44100, SR)
    np.testing.assert_allclose(dc[100:-100], 0.5, atol=1e-5)
    assert len(resample(np.zeros(44056, np.float32), 44056, SR)) == SR  # odd rate, approximated


def test_encode_resamples_from_another_rate() -> None:
    wave = chirp_plus_sine(0.5, rate=44100)
    codec = AudioCodec("frames", frame=160, hop=160)
    got = codec.encode(wave, rate=44100)
    assert torch.equal(got.data, codec.encode(resample(wave, 44100, SR)).data)
    assert got.time == codec.steps(SR // 2)


# ----- images ------------------------------------------------------------------------------


@pytest.mark.parametrize("patch", [1, 2, 4, 8])
def test_image_uint8_batch_round_trip_and_patch_order(patch: int) -> None:
    images = np.random.default_rng(patch).integers(0, 256, (3, 8, 16, 3), dtype=np.uint8)
    codec = ImageCodec(patch=patch, channels=3, height=8, width=16)
    signal = codec.encode(images)
    gh, gw = 8 // patch, 16 // patch
    assert signal.data.shape == (3, gh * gw, patch * patch * 3)
    assert signal.meta.grid == (gh, gw)
    assert_spec_matches(codec, signal)
    r, c = gh - 1, gw // 2  # step r*gw + c holds that patch, flattened row, column, channel
    patch_px = images[1, r * patch : (r + 1) * patch, c * patch : (c + 1) * patch]
    expected = patch_px.reshape(-1).astype(np.float32) / np.float32(255)
    np.testing.assert_array_equal(signal.data[1, r * gw + c].numpy(), expected)
    assert signal.data.min() >= 0.0 and signal.data.max() <= 1.0
    back = codec.decode(signal, as_uint8=True)
    assert back.dtype == np.uint8 and np.array_equal(back, images)


@pytest.mark.parametrize("patch", [2, 3])
def test_image_float_single_round_trip_from_torch(patch: int) -> None:
    image = torch.rand(6, 12, 3, generator=torch.Generator().manual_seed(patch))
    codec = ImageCodec(patch=patch)
    signal = codec.encode(image)
    assert signal.batch == 1 and signal.meta.grid == (6 // patch, 12 // patch)
    assert codec.spec().time is None  # size not fixed
    back = codec.decode(signal)
    assert back.shape == (1, 6, 12, 3) and back.dtype == np.float32
    assert np.array_equal(back[0], image.numpy())
    assert np.array_equal(codec.decode(signal.data, grid=signal.meta.grid), back)


def test_image_grey_batch_scale_and_standardisation() -> None:
    digits = np.random.default_rng(0).integers(0, 17, (5, 8, 8)).astype(np.float32)
    codec = ImageCodec(patch=1, channels=1, scale=16.0)
    signal = codec.encode(list(digits))
    assert signal.data.shape == (5, 64, 1) and float(signal.data.max()) <= 1.0
    np.testing.assert_allclose(codec.decode(signal)[..., 0], digits, atol=1e-5)

    images = np.random.default_rng(1).integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    codec = ImageCodec(patch=2, mean=mean, std=std)
    signal = codec.encode(images)
    expected = (images[0, :2, :2] / 255 - mean) / std
    np.testing.assert_allclose(signal.data[0, 0].numpy(), expected.reshape(-1), atol=1e-6)
    assert np.array_equal(codec.decode(signal, as_uint8=True), images)


def test_image_refuses_sizes_it_cannot_patch() -> None:
    with pytest.raises(ValueError, match="not divisible by patch 4"):
        ImageCodec(patch=4).encode(np.zeros((6, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="height 10 is not divisible by patch 4"):
        ImageCodec(patch=4, height=10, width=8)
    with pytest.raises(ValueError, match="takes 8×8 images, got 4×4"):
        ImageCodec(patch=2, height=8, width=8).encode(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"\[H, W, 3\]"):
        ImageCodec().encode(np.zeros((4, 4, 2), np.uint8))


# ----- vectors -----------------------------------------------------------------------------


def test_vector_fit_standardises_and_inverts_with_a_constant_feature() -> None:
    rng = np.random.default_rng(0)
    rows = np.stack([rng.normal(5, 3, 200), np.full(200, 0.1), rng.uniform(-1e3, 1e3, 200)], 1)
    codec = VectorCodec().fit(rows)
    assert codec.features == 3 and codec.std[1] == 1.0
    signal = codec.encode(rows)
    assert signal.data.shape == (200, 1, 3)
    assert_spec_matches(codec, signal)
    z = signal.data[:, 0].double()
    np.testing.assert_allclose(z.mean(0).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0, correction=0).numpy(), [1, 0, 1], atol=1e-5)
    np.testing.assert_allclose(codec.decode(signal), rows, rtol=1e-5, atol=1e-4)
    assert codec.decode(signal)[:, 1].tolist() == [np.float32(0.1)] * 200
    with pytest.raises(ValueError, match="expected 3 features, got 2"):
        codec.encode(rows[:, :2])


def test_unfitted_vector_codec_passes_values_through() -> None:
    codec = VectorCodec()
    row = torch.tensor([1.5, -2.0])
    signal = codec.encode(row)
    assert signal.data.shape == (1, 1, 2) and torch.equal(signal.data[0, 0], row)
    with pytest.raises(ValueError, match="fit"):
        codec.spec()


# ----- settings in files -------------------------------------------------------------------

rows = np.random.default_rng(3).normal(size=(10, 4))
EXAMPLES: list[tuple[Codec, object]] = [
    (BytesCodec(), ["abc", "dé"]),
    (BytesCodec(length=6, pad=32), "xyz"),
    (AudioCodec("frames", frame=320, hop=160, rate=8000), chirp_plus_sine(0.1, 8000)),
    (AudioCodec("logmel", n_fft=256, hop=64, n_mels=24, f_min=50, f_max=7000), chirp_plus_sine(0.1)),
    (ImageCodec(patch=2, channels=3, height=4, width=6, mean=[0.1, 0.2, 0.3], std=[1, 2, 3]),
     np.random.default_rng(0).integers(0, 256, (2, 4, 6, 3), dtype=np.uint8)),
    (ImageCodec(patch=1, channels=1, scale=16.0), np.ones((3, 8, 8), np.float32)),
    (VectorCodec().fit(rows), rows),
    (VectorCodec(), rows),
]  # fmt: skip


@pytest.mark.parametrize(("codec", "raw"), EXAMPLES, ids=lambda v: repr(v)[:40])
def test_to_dict_survives_json_and_encodes_identically(codec: Codec, raw: object) -> None:
    d = codec.to_dict()
    assert d["kind"] == codec.kind and set(d) == {"kind", *codec.setting_names()}
    again = codec_from_dict(orjson.loads(orjson.dumps(d)))
    assert type(again) is type(codec) and again == codec
    assert again.to_dict() == d
    assert torch.equal(again.encode(raw).data, codec.encode(raw).data)
    if not isinstance(codec, VectorCodec) or codec.features is not None:
        assert_spec_matches(codec, codec.encode(raw))


def test_registry_knows_every_codec() -> None:
    known = {"bytes": BytesCodec, "audio": AudioCodec, "image": ImageCodec, "vector": VectorCodec}
    assert known == CODECS
    assert codec_from_dict({"kind": "image", "patch": 1, "scale": 16.0}).spec().channels == 3
    assert BytesCodec(pad=1) != BytesCodec(pad=2)


@pytest.mark.parametrize(
    ("d", "match"),
    [
        ([1, 2], "must be a JSON object, got list"),
        ({"pad": 0}, "unknown codec kind None; known kinds: bytes, audio, image, vector"),
        ({"kind": "midi"}, "unknown codec kind 'midi'"),
        ({"kind": ["bytes"]}, "unknown codec kind"),
        (
            {"kind": "bytes", "padding": 0},
            "codec 'bytes': unknown setting.* padding; known: length, pad",
        ),
        ({"kind": "bytes", "pad": "0"}, "codec 'bytes': pad must be an integer, got '0'"),
        ({"kind": "bytes", "pad": 256}, r"pad must be in \[0, 255\], got 256"),
        ({"kind": "bytes", "length": True}, "length must be an integer, got True"),
        ({"kind": "bytes", "length": 0}, "length must be >= 1"),
        ({"kind": "audio", "mode": "mp3"}, "mode must be one of"),
        ({"kind": "audio", "rate": 16000.5}, "rate must be an integer"),
        ({"kind": "audio", "hop": 500}, r"hop \(500\) must be <= frame \(400\)"),
        (
            {"kind": "audio", "mode": "logmel", "n_mels": 128},
            "n_mels=128 is too many for n_fft=400",
        ),
        ({"kind": "audio", "f_max": 9000}, "f_max <= rate/2"),
        ({"kind": "audio", "f_min": float("nan")}, "f_min must be finite"),
        ({"kind": "image", "patch": 0}, "patch must be >= 1"),
        ({"kind": "image", "mean": [0.5]}, "mean must have 3 values, got 1"),
        ({"kind": "image", "std": [1, 0, 1]}, r"std\[1\] must be > 0"),
        ({"kind": "image", "scale": "255"}, "scale must be a number"),
        ({"kind": "vector", "features": 2, "mean": [0.0]}, "mean must have 2 values"),
        ({"kind": "vector", "mean": 3.0}, "mean must be a list of numbers"),
        ({"kind": "vector", "mean": [0, 1], "std": [1]}, "mean has 2 values but std has 1"),
    ],
)
def test_bad_codec_dicts_raise_format_errors_that_say_what(d: object, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        codec_from_dict(d)


def test_constructors_check_settings_too() -> None:
    with pytest.raises(ValueError, match="hop"):
        AudioCodec("logmel", hop=400, n_fft=400)
    with pytest.raises(ValueError, match="f_min < f_max"):
        AudioCodec(f_min=5000, f_max=4000)
    assert AudioCodec("logmel").spec().meta == SignalMeta("audio", rate=100.0)
