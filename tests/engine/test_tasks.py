"""Task loaders on real files written here (idx, CSV, PNG/JPEG/BMP, WAV/FLAC, text): shapes,
splits, codecs that reproduce the stored inputs, one-line errors, and a short real training
run showing each toy task is learnable (DESIGN §3.4–§3.6, §5)."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
import torch

from openbrains.engine.codecs import codec_from_dict
from openbrains.engine.compile import compile_graph
from openbrains.engine.graph import Graph
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError
from openbrains.engine.tasks.files import load_clip, read_idx, split_indices
from openbrains.engine.tasks.registry import TASK_NAMES, describe_tasks, load_task
from openbrains.engine.tasks.text import order0_entropy
from openbrains.engine.train.trainer import Budget, train

MNIST_DIR = Path("/work/shared/data/mnist")

# ----- helpers -----------------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> Path:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    blob = header + array.tobytes()
    path.write_bytes(gzip.compress(blob, compresslevel=1) if path.suffix == ".gz" else blob)
    return path


def make_mnist(folder: Path, n_train: int = 200, n_test: int = 50, gz: bool = True) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for name, a in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), a)
    return arrays


def split_sets(task: DatasetTask) -> list[set[bytes]]:
    """Each split's examples as a set of hashable rows (inputs + target)."""
    out = []
    for split in (task.train, task.val, task.test):
        rows = set()
        for i in range(len(split)):
            key = b"".join(v[i].numpy().tobytes() for v in split.inputs.values())
            rows.add(key + split.target[i].numpy().tobytes())
        assert len(rows) == len(split)  # generated data has no duplicate examples
        out.append(rows)
    return out


def assert_disjoint(task: DatasetTask) -> None:
    a, b, c = split_sets(task)
    assert not (a & b) and not (a & c) and not (b & c)


def locate(stored: torch.Tensor, reference: torch.Tensor) -> list[int]:
    """Row index in ``reference`` of each row of ``stored`` (must match exactly)."""
    index = {reference[i].numpy().tobytes(): i for i in range(len(reference))}
    return [index[stored[i].numpy().tobytes()] for i in range(len(stored))]


def class_counts(split: Split, n: int) -> np.ndarray:
    return np.bincount(split.target.numpy(), minlength=n)


def assert_stratified(task: DatasetTask, tolerance: int = 2) -> None:
    n_classes = len(task.classes)
    total = sum(class_counts(s, n_classes) for s in (task.train, task.val, task.test))
    n = total.sum()
    for split in (task.train, task.val, task.test):
        expected = total * len(split) / n
        assert np.abs(class_counts(split, n_classes) - expected).max() <= tolerance


def tiny_train(
    task: DatasetTask, steps: int, width: int = 32, lr: float = 1e-2, embed: bool = False
) -> dict[str, float]:
    """input → (embedding) → (flatten) → dense → output, trained for ``steps``; test scores."""
    g = Graph(causal=task.causal)
    prev = g.add_node("input", {"name": task.input_names[0]})
    chain: list[tuple[str, dict]] = []
    if embed:
        chain.append(("embedding", {"width": 32}))
    if not task.causal:
        chain.append(("flatten", {}))
    chain.append(("dense", {"width": width}))
    for unit, params in chain:
        node = g.add_node(unit, params)
        g.connect(prev.uid, node.uid)
        prev = node
    out = g.add_node("output", {"name": task.output_name})
    g.connect(prev.uid, out.uid)
    brain = compile_graph(g, task.inputs, task.outputs, seed=0)
    result = train(brain, task, Budget(steps=steps), {"lr": lr, "batch_size": 32}, seed=0)
    assert not result.diverged, result.reason
    return result.test


# ----- registry ----------------------------------------------------------------------------


def test_registry_names_and_help() -> None:
    assert set(TASK_NAMES) >= {"xor", "digits", "mnist", "csv", "images", "audio", "text"}
    assert set(TASK_NAMES) >= {"callresponse", "denoise", "stream", "tictactoe", "connect4"}
    lines = describe_tasks()
    assert len(lines) == len(TASK_NAMES)
    assert all(line.split()[0] == name for line, name in zip(lines, TASK_NAMES))
    assert any("--label COLUMN" in line for line in lines)
    assert load_task("xor").kind == "classification"
    assert len(load_task("digits", seed=1).classes) == 10


def test_registry_errors(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"unknown task 'nope'; known tasks: xor, digits, mnist"):
        load_task("nope")
    with pytest.raises(TaskError, match=r"task 'mnist' needs --data DIR"):
        load_task("mnist")
    with pytest.raises(TaskError, match=r"task 'csv' needs --data FILE"):
        load_task("csv", label="y")
    with pytest.raises(TaskError, match=r"does not exist"):
        load_task("images", data=tmp_path / "missing")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(TaskError, match=r"is not a folder"):
        load_task("audio", data=tmp_path / "f.txt")
    with pytest.raises(TaskError, match=r"is not a file"):
        load_task("text", data=tmp_path)
    with pytest.raises(TaskError, match=r"task 'images' has no option 'bogus'"):
        load_task("images", data=tmp_path, bogus=1)
    with pytest.raises(TaskError, match=r"option size must be an integer, got 'big'"):
        load_task("images", data=tmp_path, size="big")
    with pytest.raises(TaskError, match=r"task 'xor' needs no --data"):
        load_task("xor", data=tmp_path)
    with pytest.raises(TaskError, match=r"task 'text' takes no --label"):
        load_task("text", data=tmp_path / "f.txt", label="y")


# ----- MNIST -------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_files(tmp_path: Path, gz: bool) -> None:
    arrays = make_mnist(tmp_path, gz=gz)
    task = load_task("mnist", data=tmp_path)
    assert (len(task.train), len(task.val), len(task.test)) == (180, 20, 50)
    x = task.train.inputs["image"]
    assert x.shape == (180, 49, 16) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert task.train.target.dtype == torch.long
    assert task.inputs["image"].meta.grid == (7, 7)
    assert task.classes == [str(i) for i in range(10)]
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    # validation is the *last* 10 % of the train file, test is t10k; the codec reproduces both
    codec = codec_from_dict(task.codecs["image"])
    raw = arrays["train-images-idx3-ubyte"]
    assert torch.equal(codec.encode(raw[:180]).data, x)
    assert torch.equal(codec.encode(raw[180:]).data, task.val.inputs["image"])
    assert torch.equal(
        codec.encode(arrays["t10k-images-idx3-ubyte"]).data, task.test.inputs["image"]
    )
    assert torch.equal(
        task.val.target, torch.from_numpy(arrays["train-labels-idx1-ubyte"][180:]).long()
    )
    # the patch is an option
    task7 = load_task("mnist", data=tmp_path, patch=7)
    assert task7.train.inputs["image"].shape == (180, 16, 49)
    assert task7.inputs["image"].meta.grid == (4, 4)
    # image shifts in training are on unless the task says "none" (engine.train.augment)
    assert task.settings["augment"] == "shift"
    assert load_task("mnist", data=tmp_path, augment="none").settings["augment"] == "none"


def test_mnist_errors(tmp_path: Path) -> None:
    arrays = make_mnist(tmp_path, gz=False)
    images = tmp_path / "train-images-idx3-ubyte"
    labels = tmp_path / "train-labels-idx1-ubyte"
    good = images.read_bytes()
    images.write_bytes(b"\x00\x00\x08\x01" + good[4:])
    with pytest.raises(TaskError, match=r"train-images-idx3-ubyte is not an idx file.*bad magic"):
        load_task("mnist", data=tmp_path)
    images.write_bytes(good[:-100])
    with pytest.raises(TaskError, match=r"train-images-idx3-ubyte is truncated: .*200×28×28"):
        load_task("mnist", data=tmp_path)
    images.write_bytes(good + b"\x00" * 7)
    with pytest.raises(TaskError, match=r"train-images-idx3-ubyte has wrong sizes"):
        load_task("mnist", data=tmp_path)
    images.write_bytes(good)
    write_idx(labels, arrays["train-labels-idx1-ubyte"][:150])
    with pytest.raises(TaskError, match=r"holds 200 images but train-labels-idx1-ubyte holds 150"):
        load_task("mnist", data=tmp_path)
    write_idx(labels, arrays["train-labels-idx1-ubyte"])
    with pytest.raises(TaskError, match=r"patch 5 does not divide the 28×28"):
        load_task("mnist", data=tmp_path, patch=5)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(TaskError, match=r"has no t10k-labels-idx1-ubyte\[\.gz\]"):
        load_task("mnist", data=tmp_path)
    gz = tmp_path / "broken.gz"
    gz.write_bytes(gzip.compress(good)[:-50])
    with pytest.raises(TaskError, match=r"cannot read .*broken\.gz"):
        read_idx(gz, 3)


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="real MNIST files not present")
def test_real_mnist() -> None:
    task = load_task("mnist", data=MNIST_DIR)
    assert (len(task.train), len(task.val), len(task.test)) == (54000, 6000, 10000)
    assert task.inputs["image"].meta.grid == (7, 7)
    assert task.train.inputs["image"].shape == (54000, 49, 16)
    assert task.test.inputs["image"].dtype == torch.float32
    assert set(task.test.target.unique().tolist()) == set(range(10))


# ----- CSV ---------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_csv_classes(path: Path, n: int = 300, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three animals separated by their feature means, plus an id column to drop."""
    rng = np.random.default_rng(seed)
    names = ["eel", "cat", "dog"]
    y = rng.integers(0, 3, n)
    centres = np.array([[0, 0, 50], [4, 0, 50], [0, 4, 60]], dtype=np.float64)
    x = centres[y] + rng.normal(0, 1.0, (n, 3)) * [1, 1, 5]
    rows = [[i, *np.round(x[i], 4).tolist(), names[y[i]]] for i in range(n)]
    write_csv(path, ["id", "a", "b", "c", "animal"], rows)
    return x, [names[i] for i in y]


def test_csv_classification(tmp_path: Path) -> None:
    path = tmp_path / "animals.csv"
    x, labels = make_csv_classes(path)
    task = load_task("csv", data=path, label="animal", seed=3, drop="id")
    assert task.kind == "classification" and task.classes == ["cat", "dog", "eel"]
    assert task.settings["features"] == ["a", "b", "c"]
    assert (len(task.train), len(task.val), len(task.test)) == (210, 45, 45)
    assert (
        task.train.inputs["x"].shape == (210, 1, 3)
        and task.train.inputs["x"].dtype == torch.float32
    )
    assert task.train.target.dtype == torch.long
    assert_disjoint(task)
    assert_stratified(task)
    # standardised on the train split only
    xt = task.train.inputs["x"][:, 0]
    assert torch.allclose(xt.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(xt.std(0, unbiased=False), torch.ones(3), atol=1e-4)
    # the recorded codec turns the raw rows into exactly the stored inputs
    codec = codec_from_dict(task.codecs["x"])
    every = codec.encode(np.round(x, 4)).data
    rows = locate(
        torch.cat([task.train.inputs["x"], task.val.inputs["x"], task.test.inputs["x"]]), every
    )
    assert sorted(rows) == list(range(300))
    targets = torch.cat([task.train.target, task.val.target, task.test.target]).tolist()
    assert [task.classes[t] for t in targets] == [labels[r] for r in rows]
    # seeds: same seed same split, other seed another split
    again = load_task("csv", data=path, label="animal", seed=3, drop="id")
    assert torch.equal(again.val.inputs["x"], task.val.inputs["x"])
    other = load_task("csv", data=path, label="animal", seed=4, drop="id")
    assert not torch.equal(other.val.inputs["x"], task.val.inputs["x"])
    # learnable: well above the 1/3 of chance
    assert tiny_train(task, steps=200)["accuracy"] > 0.8


def test_csv_numeric_labels_and_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (200, 2))
    few = write_csv(tmp_path / "few.csv", ["p", "q", "k"], [[*r, i % 3] for i, r in enumerate(x)])
    task = load_task("csv", data=few, label="k")
    assert task.kind == "classification" and task.classes == ["0", "1", "2"]
    value = 1000 + 300 * x[:, 0] - 200 * x[:, 1]
    many = write_csv(
        tmp_path / "many.csv", ["p", "q", "price"], [[*r, v] for r, v in zip(x, value)]
    )
    task = load_task("csv", data=many, label="price", seed=2)
    assert task.kind == "regression" and task.outputs["value"].channels == 1
    assert task.train.target.shape == (140, 1) and task.train.target.dtype == torch.float32
    assert_disjoint(task)
    # the "value" codec gives targets back in the file's units
    y_codec = codec_from_dict(task.codecs["value"])
    back = y_codec.decode(task.test.target[:, None, :])[:, 0]
    assert np.abs(back[:, None] - value[None, :]).min(axis=1).max() < 1e-2
    assert tiny_train(task, steps=300)["r2"] > 0.9
    forced = load_task("csv", data=few, label="k", kind="regression")
    assert forced.kind == "regression"


def test_csv_errors(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", ["a", "b", "y"], [[i, i * 2, i % 2] for i in range(20)])
    with pytest.raises(TaskError, match=r"has no column 'label'; columns: a, b, y"):
        load_task("csv", data=good, label="label")
    with pytest.raises(TaskError, match=r"needs --label COLUMN; .* has columns a, b, y"):
        load_task("csv", data=good)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(TaskError, match=r"empty\.csv is empty"):
        load_task("csv", data=empty, label="y")
    only_header = tmp_path / "header.csv"
    only_header.write_text("a,b,y\n")
    with pytest.raises(TaskError, match=r"header\.csv has a header but no data rows"):
        load_task("csv", data=only_header, label="y")
    rows = [[i, i * 2, i % 2] for i in range(20)]
    rows[6][1] = "seven"
    bad = write_csv(tmp_path / "bad.csv", ["a", "b", "y"], rows)
    with pytest.raises(
        TaskError, match=r"bad\.csv column 'b', line 8: 'seven' is not a finite number"
    ):
        load_task("csv", data=bad, label="y")
    rows[6][1] = ""
    write_csv(bad, ["a", "b", "y"], rows)
    with pytest.raises(TaskError, match=r"column 'b', line 8: empty value"):
        load_task("csv", data=bad, label="y")
    no_header = tmp_path / "noheader.csv"
    no_header.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(TaskError, match=r"noheader\.csv has no header row"):
        load_task("csv", data=no_header, label="3")
    one_class = write_csv(tmp_path / "one.csv", ["a", "y"], [[i, "same"] for i in range(20)])
    with pytest.raises(TaskError, match=r"column 'y' has fewer than 2 classes"):
        load_task("csv", data=one_class, label="y")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,0\n3,4\n")
    with pytest.raises(TaskError, match=r"ragged\.csv line 3 has 2 values but the header has 3"):
        load_task("csv", data=ragged, label="y")
    with pytest.raises(TaskError, match=r"'cat' is not a number, so it cannot be a regression"):
        write_csv(bad, ["a", "y"], [[1, "cat"], [2, "dog"]])
        load_task("csv", data=bad, label="y", kind="regression")


# ----- images ------------------------------------------------------------------------------

SHAPES = ("bars", "columns", "spot")


def draw(kind: str, rng: np.random.Generator, size: int = 20) -> np.ndarray:
    """A grey ``size``×``size`` picture of its class with random phase and noise."""
    yy, xx = np.mgrid[:size, :size]
    phase = rng.integers(0, 4)
    if kind == "bars":
        img = ((yy + phase) // 2) % 2 * 200.0
    elif kind == "columns":
        img = ((xx + phase) // 2) % 2 * 200.0
    else:
        cy, cx = size / 2 + rng.normal(0, 1.5, 2)
        img = (np.hypot(yy - cy, xx - cx) < size / 4) * 200.0
    return np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)


def make_images(root: Path, per_class: int = 20, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    exts = (".png", ".jpg", ".bmp", ".PNG")
    for kind in SHAPES:
        (root / kind).mkdir(parents=True)
        for i in range(per_class):
            img = draw(kind, rng)
            ext = exts[i % len(exts)] if kind != "spot" else ".png"
            if ext in (".png", ".PNG"):  # colour PNGs too: the loader greys them
                img = np.stack([img, img // 2, 255 - img], -1) if i % 2 else img
            assert cv2.imwrite(str(root / kind / f"{kind}_{i:02d}{ext}"), img)
    (root / "bars" / "notes.txt").write_text("not an image; ignored")


def raw_images(root: Path, size: int, color: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every image read independently (cv2.imread + area resize), in class/file order."""
    images, labels = [], []
    for c, kind in enumerate(sorted(SHAPES)):
        for f in sorted((root / kind).iterdir()):
            if f.suffix.lower() not in (".png", ".jpg", ".bmp"):
                continue
            img = cv2.imread(str(f), cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
            if color:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
            images.append(img.reshape(size, size, -1))
            labels.append(c)
    return np.stack(images), np.array(labels)


@pytest.mark.parametrize("color", [False, True])
def test_images_task(tmp_path: Path, color: bool) -> None:
    make_images(tmp_path)
    task = load_task("images", data=tmp_path, size=16, color=color, seed=5)
    channels = 3 if color else 1
    assert task.classes == sorted(SHAPES)
    assert (len(task.train), len(task.val), len(task.test)) == (42, 9, 9)
    assert task.train.inputs["image"].shape == (42, 16, 16 * channels)
    assert task.inputs["image"].meta.grid == (4, 4)
    assert task.train.inputs["image"].dtype == torch.float32
    assert [class_counts(s, 3).tolist() for s in (task.train, task.val, task.test)] == [
        [14, 14, 14],
        [3, 3, 3],
        [3, 3, 3],
    ]
    assert_disjoint(task)
    # the codec re-encodes independently read raw images into exactly the stored inputs
    raw, labels = raw_images(tmp_path, 16, color)
    every = codec_from_dict(task.codecs["image"]).encode(raw).data
    seen: list[int] = []
    for split in (task.train, task.val, task.test):
        rows = locate(split.inputs["image"], every)
        assert labels[rows].tolist() == split.target.tolist()
        seen += rows
    assert sorted(seen) == list(range(60))
    again = load_task("images", data=tmp_path, size=16, color=color, seed=5)
    assert torch.equal(again.test.inputs["image"], task.test.inputs["image"])


def test_images_learnable(tmp_path: Path) -> None:
    make_images(tmp_path, per_class=40)
    task = load_task("images", data=tmp_path, size=16)
    assert tiny_train(task, steps=150)["accuracy"] > 0.85


def test_images_errors(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    cv2.imwrite(str(tmp_path / "only" / "a.png"), np.zeros((8, 8), np.uint8))
    with pytest.raises(TaskError, match=r"fewer than 2 classes \(sub-folders: only\)"):
        load_task("images", data=tmp_path)
    (tmp_path / "void").mkdir()
    (tmp_path / "void" / "readme.txt").write_text("no pictures here")
    with pytest.raises(TaskError, match=r"empty class 'void'"):
        load_task("images", data=tmp_path)
    (tmp_path / "void" / "broken.jpg").write_bytes(b"definitely not a jpeg")
    with pytest.raises(TaskError, match=r"cannot read image .*broken\.jpg"):
        load_task("images", data=tmp_path)
    with pytest.raises(TaskError, match=r"size 30 is not divisible by patch 4"):
        load_task("images", data=tmp_path, size=30)
    with pytest.raises(TaskError, match=r"augment must be one of shift, none, got 'flip'"):
        load_task("images", data=tmp_path, augment="flip")


# ----- audio -------------------------------------------------------------------------------

TONES = {"high": 3000.0, "low": 300.0, "mid": 1000.0}
VOICES = ("alice", "bob", "carol")


def make_audio(root: Path, per_voice: int = 3) -> None:
    """Tones per class, spoken by three "voices" (file-name prefixes), at mixed rates,
    lengths and formats (16 kHz WAV, 8 kHz FLAC, 22.05 kHz stereo WAV)."""
    rng = np.random.default_rng(0)
    for label, freq in TONES.items():
        (root / label).mkdir(parents=True)
        for v, voice in enumerate(VOICES):
            for i in range(per_voice):
                rate, ext = [(16000, ".wav"), (8000, ".flac"), (22050, ".wav")][(v + i) % 3]
                seconds = (0.6, 1.3, 1.0)[i % 3]
                t = np.arange(int(rate * seconds)) / rate
                wave = 0.3 * np.sin(2 * np.pi * freq * (1 + 0.02 * v) * t) + rng.normal(
                    0, 0.01, len(t)
                )
                if rate == 22050:
                    wave = np.stack([wave, 0.5 * wave], -1)
                sf.write(str(root / label / f"{voice}_{i}{ext}"), wave.astype(np.float32), rate)


def test_audio_task(tmp_path: Path) -> None:
    make_audio(tmp_path)
    task = load_task("audio", data=tmp_path, seed=1)
    assert task.classes == ["high", "low", "mid"]
    assert (len(task.train), len(task.val), len(task.test)) == (19, 4, 4)
    x = task.train.inputs["audio"]
    assert x.shape == (19, 101, 40) and x.dtype == torch.float32
    assert task.inputs["audio"].time == 101 and task.inputs["audio"].meta.rate == 100.0
    assert_disjoint(task)
    assert_stratified(task)
    # re-encode the 16 kHz WAVs read independently: identical to what the task stored
    codec = codec_from_dict(task.codecs["audio"])
    stored = torch.cat(
        [task.train.inputs["audio"], task.val.inputs["audio"], task.test.inputs["audio"]]
    )
    keys = {stored[i].numpy().tobytes() for i in range(len(stored))}
    checked = 0
    for f in sorted(tmp_path.rglob("*.wav")):
        wave, rate = sf.read(str(f), dtype="float32")
        if rate != 16000:
            continue
        clip = np.zeros(16000, np.float32)
        clip[: min(16000, len(wave))] = wave[:16000]
        assert codec.encode(clip).data[0].numpy().tobytes() in keys
        checked += 1
    assert checked >= 3
    # every clip, resampled or not, is what load_clip gives
    flac = next(tmp_path.rglob("*.flac"))
    assert load_clip(flac).shape == (16000,)
    short = load_task("audio", data=tmp_path, duration=0.5, n_mels=20)
    assert short.train.inputs["audio"].shape[1:] == (51, 20)


def test_audio_holdout_voice(tmp_path: Path) -> None:
    make_audio(tmp_path)
    task = load_task("audio", data=tmp_path, holdout="BOB")
    assert len(task.test) == 9 and (len(task.train), len(task.val)) == (15, 3)
    assert class_counts(task.test, 3).tolist() == [3, 3, 3]
    assert class_counts(task.val, 3).tolist() == [1, 1, 1]
    assert_disjoint(task)
    # the held-out voice is exactly the test set: its clips appear nowhere else
    codec = codec_from_dict(task.codecs["audio"])
    bob = [load_clip(f) for f in sorted(tmp_path.rglob("bob_*"))]
    bob_keys = {codec.encode(c).data[0].numpy().tobytes() for c in bob}
    for split, expect in ((task.test, True), (task.train, False), (task.val, False)):
        for i in range(len(split)):
            assert (split.inputs["audio"][i].numpy().tobytes() in bob_keys) is expect


def test_audio_errors(tmp_path: Path) -> None:
    make_audio(tmp_path, per_voice=1)
    with pytest.raises(TaskError, match=r"holdout 'dave' matches no file name"):
        load_task("audio", data=tmp_path, holdout="dave")
    with pytest.raises(TaskError, match=r"holdout '_' matches every file"):
        load_task("audio", data=tmp_path, holdout="_")
    (tmp_path / "low" / "alice_9.wav").write_bytes(b"RIFF....WAVEnonsense")
    with pytest.raises(TaskError, match=r"cannot read audio file .*alice_9\.wav"):
        load_task("audio", data=tmp_path)
    (tmp_path / "low" / "alice_9.wav").unlink()
    (tmp_path / "silence").mkdir()
    with pytest.raises(TaskError, match=r"empty class 'silence'"):
        load_task("audio", data=tmp_path)


# ----- text --------------------------------------------------------------------------------


def make_text(n_bytes: int = 24000, seed: int = 0) -> bytes:
    """Words from a small vocabulary: letters follow each other predictably inside a word,
    so a next-byte model beats the order-0 entropy by a wide margin."""
    rng = np.random.default_rng(seed)
    words = ["the", "brain", "grows", "tiny", "nets", "by", "evolution", "and", "learns", "fast"]
    out = []
    size = 0
    while size < n_bytes:
        w = words[rng.integers(len(words))] + (". " if rng.random() < 0.1 else " ")
        out.append(w)
        size += len(w)
    return "".join(out).encode()[:n_bytes]


def test_order0_entropy() -> None:
    assert order0_entropy(b"") == 0.0
    assert order0_entropy(b"aaaa") == 0.0
    assert order0_entropy(b"aabb") == pytest.approx(1.0)
    assert order0_entropy(bytes(range(256)) * 3) == pytest.approx(8.0)


def test_text_task(tmp_path: Path) -> None:
    blob = make_text(10_000)
    path = tmp_path / "corpus.txt"
    path.write_bytes(blob)
    task = load_task("text", data=path, context=32)
    assert task.kind == "completion" and task.causal and task.metric == "bpc"
    assert task.inputs["text"].meta.vocab == 256
    assert task.outputs["next"].channels == 256
    x, y = task.train.inputs["text"], task.train.target
    assert x.dtype == torch.float32 and y.dtype == torch.long
    assert x.shape == (len(task.train), 32, 1) and y.shape == (len(task.train), 32)
    assert torch.equal(x[:, 1:, 0].long(), y[:, :-1])  # targets are the inputs shifted by one
    # contiguous 80/10/10: each split's windows read its own stretch of the file, in order
    for split, lo, hi in ((task.train, 0, 8000), (task.val, 8000, 9000), (task.test, 9000, 10000)):
        assert len(split) == (hi - lo - 1) // 32
        first = bytes(split.inputs["text"][0, :, 0].long().tolist())
        assert first == blob[lo : lo + 32]
        text = bytes(split.inputs["text"][:, 0, 0].long().tolist())  # each window's first byte
        assert text == blob[lo : hi - 1 : 32][: len(split)]
    # the codec encodes the raw windows into exactly the stored inputs
    codec = codec_from_dict(task.codecs["text"])
    windows = [blob[8000 + 32 * i : 8000 + 32 * i + 32] for i in range(len(task.val))]
    assert torch.equal(codec.encode(windows).data, task.val.inputs["text"])
    dense = load_task("text", data=path, context=32, stride=8)
    assert len(dense.train) == (8000 - 33) // 8 + 1 and len(dense.val) == len(task.val)
    assert task.settings["order0_entropy"] == pytest.approx(order0_entropy(blob), abs=1e-6)


def test_text_learnable(tmp_path: Path) -> None:
    blob = make_text(24_000)
    path = tmp_path / "corpus.txt"
    path.write_bytes(blob)
    task = load_task("text", data=path, context=32)
    bpc = tiny_train(task, steps=300, width=64, embed=True)["bpc"]
    assert math.isfinite(bpc) and bpc < order0_entropy(blob) - 0.8


def test_text_errors(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text("too short for sixty-four bytes of context, surely")
    with pytest.raises(TaskError, match=r"short\.txt has 49 bytes, too short for context 64"):
        load_task("text", data=short)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(TaskError, match=r"empty\.txt has 0 bytes"):
        load_task("text", data=empty, context=4)
    with pytest.raises(TaskError, match=r"context must be >= 1"):
        load_task("text", data=short, context=0)


# ----- splits ------------------------------------------------------------------------------


def test_split_indices_stratified_and_seeded() -> None:
    labels = np.repeat(np.arange(4), [100, 50, 30, 7])
    tr, va, te = split_indices(labels, len(labels), seed=0)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(labels)))
    assert (len(va), len(te)) == (28, 28)
    for part, share in ((va, 0.15), (te, 0.15), (tr, 0.70)):
        counts = np.bincount(labels[part], minlength=4)
        assert np.abs(counts - share * np.bincount(labels)).max() <= 2
    again = split_indices(labels, len(labels), seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again))
    assert not np.array_equal(split_indices(labels, len(labels), seed=1)[1], va)
    with pytest.raises(TaskError, match=r"only 2 example\(s\)"):
        split_indices(np.array([0, 1]), 2, seed=0)
