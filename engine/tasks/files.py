"""Tasks read from the user's own files: MNIST idx files, a CSV table, folders of images or
of audio clips (one sub-folder per class).

Every loader encodes its inputs with the codecs of ``engine.codecs`` and records them in
``task.codecs``, so a graph trained here can be fed new data exactly the same way. Split
rules (DESIGN §3.4: selection sees validation only, test is for reporting):

- ``mnist``: train = the first 90 % of the 60,000 training images, validation = the last
  10 % (fixed, not seeded: every run validates on the same 6,000), test = the t10k set.
- ``csv``, ``images``, ``audio``: a seeded 70/15/15 split into train/validation/test,
  stratified by class (per-class counts within one or two of the exact fractions) for
  classification, a plain seeded shuffle for regression. ``audio`` with ``holdout=NAME``:
  the files whose name contains NAME (case-insensitive) are the test split, alone; the
  others split 85/15 into train/validation, stratified.

Any problem with the data is a ``TaskError`` whose one line names the file, folder or
column at fault.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from openbrains.engine.codecs import AudioCodec, ImageCodec, VectorCodec, resample, to_mono_float
from openbrains.engine.media_limits import (
    MediaError,
    check_clip_seconds,
    check_image,
    check_sound,
)
from openbrains.engine.signal import SignalMeta, SignalSpec
from openbrains.engine.tasks.base import DatasetTask, Split, TaskError

SPLIT = (0.70, 0.15, 0.15)  # train, validation, test
HOLDOUT_VAL = 0.15  # validation share of the non-held-out files (audio ``holdout``)
MNIST_VAL = 0.10
MAX_NUMERIC_CLASSES = 50  # a numeric label with more distinct values is a regression target
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp")
AUDIO_EXTS = (".wav", ".flac", ".ogg")
AUDIO_RATE = 16000

# ----- paths ---------------------------------------------------------------------------------


def need_path(task: str, data: str | Path | None, kind: str, what: str) -> Path:
    """``data`` as an existing folder (``kind="dir"``) or file (``kind="file"``)."""
    flag = "--data DIR" if kind == "dir" else "--data FILE"
    if data is None or str(data).strip() == "":
        raise TaskError(f"task {task!r} needs {flag}: {what}")
    path = Path(data).expanduser()
    if not path.exists():
        raise TaskError(f"task {task!r}: {path} does not exist")
    if kind == "dir" and not path.is_dir():
        raise TaskError(f"task {task!r}: {path} is not a folder; {flag} should be {what}")
    if kind == "file" and not path.is_file():
        raise TaskError(f"task {task!r}: {path} is not a file; {flag} should be {what}")
    return path


# ----- splits --------------------------------------------------------------------------------


def _stratified_order(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """All indices, ordered so that every prefix holds each class in proportion (±1).

    Each class is shuffled and its members get evenly spaced keys ``(rank + offset) / n_c``
    in [0, 1) (a random offset per class); sorting by key interleaves the classes.
    """
    n = len(labels)
    perm = rng.permutation(n)
    key = np.empty(n, dtype=np.float64)
    shuffled = labels[perm]
    for c in np.unique(labels):
        members = perm[shuffled == c]
        key[members] = (np.arange(len(members)) + rng.random()) / len(members)
    return np.lexsort((rng.random(n), key))


def split_indices(
    labels: np.ndarray | None,
    n: int,
    seed: int,
    val: float = SPLIT[1],
    test: float = SPLIT[2],
    where: str = "the data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded (train, val, test) index arrays, each sorted; stratified when ``labels`` given.

    Validation and test get ``round(n·fraction)`` examples, at least one each when their
    fraction is positive; train gets the rest and must not be empty.
    """
    n_test = max(1, round(n * test)) if test > 0 else 0
    n_val = max(1, round(n * val)) if val > 0 else 0
    if n - n_test - n_val < 1:
        raise TaskError(
            f"{where} has only {n} example(s): too few to split into train, validation"
            + (" and test" if test > 0 else "")
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(n) if labels is None else _stratified_order(labels, rng)
    parts = order[n_test + n_val :], order[n_test : n_test + n_val], order[:n_test]
    return tuple(np.sort(p) for p in parts)  # type: ignore[return-value]


def _split_of(inputs: dict[str, torch.Tensor], target: torch.Tensor, idx: np.ndarray) -> Split:
    index = torch.from_numpy(idx.astype(np.int64))
    return Split({k: v[index] for k, v in inputs.items()}, target[index])


# ----- MNIST (idx files) ---------------------------------------------------------------------

MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def _find_idx(folder: Path, names: Sequence[str]) -> Path:
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise TaskError(f"mnist: {folder} has no {names[0]}[.gz] (the four MNIST idx files expected)")


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise TaskError(f"cannot read {path}: {e}") from None
    return raw


def read_idx(path: str | Path, ndim: int | None = None) -> np.ndarray:
    """An idx file of unsigned bytes (``.gz`` or not) as a uint8 array of its dimensions.

    Refuses a wrong magic number, another element type, an unexpected number of dimensions
    (``ndim``), and a payload shorter or longer than the header's sizes promise.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise TaskError(f"{path} is truncated: {len(raw)} bytes, not even an idx header")
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or (ndim is not None and raw[3] != ndim):
        want = f"0x0000080{ndim}" if ndim is not None else "0x000008NN"
        raise TaskError(
            f"{path} is not an idx file of bytes: bad magic number 0x{raw[:4].hex()} "
            f"(expected {want})"
        )
    dims_n = raw[3]
    header = 4 + 4 * dims_n
    if len(raw) < header:
        raise TaskError(f"{path} is truncated inside its header ({len(raw)} bytes)")
    dims = [int(d) for d in np.frombuffer(raw, ">u4", count=dims_n, offset=4)]
    size = int(np.prod(dims, dtype=np.int64))
    have = len(raw) - header
    if have != size:
        shape = "×".join(map(str, dims))
        problem = "is truncated" if have < size else "has wrong sizes"
        raise TaskError(
            f"{path} {problem}: its header says {shape} = {size} bytes of data, but it holds {have}"
        )
    return np.frombuffer(raw, np.uint8, count=size, offset=header).reshape(dims)


AUGMENTS = ("shift", "none")


def _check_augment(task: str, augment: str) -> None:
    if augment not in AUGMENTS:
        raise TaskError(f"{task}: augment must be one of {', '.join(AUGMENTS)}, got {augment!r}")


def _encode_images(codec: ImageCodec, images: np.ndarray, chunk: int = 8192) -> torch.Tensor:
    """``codec.encode`` in chunks into one preallocated tensor (keeps 60k images light)."""
    spec = codec.spec()
    out = torch.empty(len(images), spec.time or 0, spec.channels)
    for start in range(0, len(images), chunk):
        out[start : start + chunk] = codec.encode(images[start : start + chunk]).data
    return out


def mnist_task(
    data: str | Path | None,
    seed: int = 0,
    patch: int = 4,
    validation: float = MNIST_VAL,
    augment: str = "shift",
    views: bool = True,
) -> DatasetTask:
    """MNIST from the four idx files in ``data``: 28×28 grey digits as ``patch``² patches.

    Validation is the *last* ``validation`` share of the training file (not seeded, so runs
    with different seeds still compare on the same images); test is the t10k set.
    """
    folder = need_path("mnist", data, "dir", "a folder holding the four MNIST idx files")
    _check_augment("mnist", augment)
    if not 0 < validation < 1:
        raise TaskError(f"mnist: validation must be a fraction in (0, 1), got {validation}")
    arrays = {key: _find_idx(folder, names) for key, names in MNIST_FILES.items()}
    x_train = read_idx(arrays["train_images"], 3)
    y_train = read_idx(arrays["train_labels"], 1)
    x_test = read_idx(arrays["test_images"], 3)
    y_test = read_idx(arrays["test_labels"], 1)
    for x, y, xf, yf in (
        (x_train, y_train, "train_images", "train_labels"),
        (x_test, y_test, "test_images", "test_labels"),
    ):
        if len(x) != len(y):
            raise TaskError(
                f"mnist: {arrays[xf].name} holds {len(x)} images but {arrays[yf].name} "
                f"holds {len(y)} labels"
            )
        if len(x) == 0:
            raise TaskError(f"mnist: {arrays[xf].name} holds no images")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise TaskError(
            f"mnist: train images are {x_train.shape[1]}×{x_train.shape[2]} but test images "
            f"are {x_test.shape[1]}×{x_test.shape[2]}"
        )
    h, w = x_train.shape[1:]
    if h % patch or w % patch:
        raise TaskError(f"mnist: patch {patch} does not divide the {h}×{w} images")
    n_classes = max(2, int(max(y_train.max(), y_test.max())) + 1)
    codec = ImageCodec(patch=patch, channels=1, height=h, width=w, scale=255.0)
    n_val = max(1, round(len(x_train) * validation))
    if n_val >= len(x_train):
        raise TaskError(f"mnist: {len(x_train)} training images are too few to hold out {n_val}")
    cut = len(x_train) - n_val
    train_x, test_x = _encode_images(codec, x_train), _encode_images(codec, x_test)
    train_y = torch.from_numpy(y_train.astype(np.int64))
    return DatasetTask(
        name="mnist",
        kind="classification",
        inputs={"image": codec.spec()},
        outputs={"label": SignalSpec(n_classes, 1)},
        train=Split({"image": train_x[:cut]}, train_y[:cut]),
        val=Split({"image": train_x[cut:]}, train_y[cut:]),
        test=Split({"image": test_x}, torch.from_numpy(y_test.astype(np.int64))),
        codecs={"image": codec.to_dict()},
        settings={
            "patch": patch,
            "validation": validation,
            "validation_rule": "last",
            "augment": augment,
            "views": bool(views),
        },
        classes=[str(i) for i in range(n_classes)],
    )


# ----- CSV tables ----------------------------------------------------------------------------


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows and their line numbers; blank lines are skipped."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if not text.strip():
        raise TaskError(f"csv: {path} is empty (a header row and data rows are needed)")
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append([cell.strip() for cell in row])
                lines.append(reader.line_num)
    except csv.Error as e:
        raise TaskError(f"csv: {path} line {reader.line_num}: {e}") from None
    if not rows:
        raise TaskError(f"csv: {path} is empty (a header row and data rows are needed)")
    header, body, lines = rows[0], rows[1:], lines[1:]
    if all(_is_number(h) for h in header if h):
        raise TaskError(
            f"csv: {path} has no header row: its first line holds numbers; "
            "add a line of column names"
        )
    missing = [i + 1 for i, h in enumerate(header) if not h]
    if missing:
        raise TaskError(f"csv: {path} header has an empty column name (column {missing[0]})")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise TaskError(f"csv: {path} header repeats column name(s) {', '.join(dupes)}")
    if not body:
        raise TaskError(f"csv: {path} has a header but no data rows")
    for row, line in zip(body, lines):
        if len(row) != len(header):
            raise TaskError(
                f"csv: {path} line {line} has {len(row)} values but the header has "
                f"{len(header)} columns"
            )
    return header, body, lines


def _numeric_column(values: list[str], name: str, lines: list[int], path: Path) -> np.ndarray:
    try:
        col = np.array(values, dtype=np.float64)
    except ValueError:
        col = None
    if col is not None and np.isfinite(col).all():
        return col
    for value, line in zip(values, lines):
        if value == "":
            raise TaskError(f"csv: {path} column {name!r}, line {line}: empty value")
        if not _is_number(value) or not np.isfinite(float(value)):
            raise TaskError(
                f"csv: {path} column {name!r}, line {line}: {value!r} is not a finite number "
                "(feature columns must be numeric)"
            )
    raise AssertionError("unreachable")  # pragma: no cover


def _class_name(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def csv_task(
    data: str | Path | None,
    label: str | None,
    seed: int = 0,
    kind: str = "auto",
    drop: Sequence[str] | str = (),
) -> DatasetTask:
    """A table with a header row: numeric feature columns predict the ``label`` column.

    ``kind="auto"``: a label that is not numeric, or has at most 50 distinct values, is a
    class (classification), else a value (regression). ``drop``: columns to leave out (an
    id, a date). Features are standardised by a VectorCodec fitted on the train split only;
    regression targets likewise (codec ``value``), which R² does not notice.
    """
    path = need_path("csv", data, "file", "a CSV file with a header row")
    if kind not in ("auto", "classification", "regression"):
        raise TaskError(f"csv: kind must be auto, classification or regression, got {kind!r}")
    header, body, lines = _read_csv(path)
    if not label:
        raise TaskError(f"task 'csv' needs --label COLUMN; {path} has columns {', '.join(header)}")
    if label not in header:
        raise TaskError(f"csv: {path} has no column {label!r}; columns: {', '.join(header)}")
    drops = [d.strip() for d in drop.split(",")] if isinstance(drop, str) else list(drop)
    drops = [d for d in drops if d]
    for d in drops:
        if d not in header:
            raise TaskError(f"csv: cannot drop {d!r}: {path} has columns {', '.join(header)}")
    features = [h for h in header if h != label and h not in drops]
    if not features:
        raise TaskError(f"csv: {path} has no feature column besides the label {label!r}")
    columns = list(zip(*body))
    li = header.index(label)
    label_raw = list(columns[li])
    for value, line in zip(label_raw, lines):
        if value == "":
            raise TaskError(f"csv: {path} column {label!r}, line {line}: empty label")
    x = np.stack(
        [_numeric_column(list(columns[header.index(f)]), f, lines, path) for f in features],
        axis=1,
    )
    numeric = all(_is_number(v) and np.isfinite(float(v)) for v in label_raw)
    label_num = np.array([float(v) for v in label_raw]) if numeric else None
    distinct = np.unique(label_num) if label_num is not None else sorted(set(label_raw))
    if kind == "auto":
        kind = (
            "classification"
            if label_num is None or len(distinct) <= MAX_NUMERIC_CLASSES
            else "regression"
        )
    if kind == "regression" and label_num is None:
        bad = next(
            (v, ln) for v, ln in zip(label_raw, lines) if not _is_number(v) or v.lower() == "nan"
        )
        raise TaskError(
            f"csv: {path} column {label!r}, line {bad[1]}: {bad[0]!r} is not a number, "
            "so it cannot be a regression target"
        )
    n = len(body)
    where = f"csv: {path}"
    if kind == "classification":
        if label_num is not None:
            classes = [_class_name(v) for v in distinct]
            y = np.searchsorted(distinct, label_num)
        else:
            classes = list(distinct)
            lookup = {c: i for i, c in enumerate(classes)}
            y = np.array([lookup[v] for v in label_raw])
        if len(classes) < 2:
            raise TaskError(
                f"csv: {path} column {label!r} has fewer than 2 classes ({', '.join(classes)})"
            )
        train_i, val_i, test_i = split_indices(y, n, seed, where=where)
        target = torch.from_numpy(y.astype(np.int64))
        outputs = {"label": SignalSpec(len(classes), 1)}
    else:
        classes = []
        train_i, val_i, test_i = split_indices(None, n, seed, where=where)
        assert label_num is not None
        y_codec = VectorCodec().fit(label_num[train_i, None])
        target = y_codec.encode(label_num[:, None]).data[:, 0, :]
        outputs = {"value": SignalSpec(1, 1)}
    codec = VectorCodec().fit(x[train_i])
    inputs = {"x": codec.encode(x).data}
    codecs = {"x": codec.to_dict()}
    if kind == "regression":
        codecs["value"] = y_codec.to_dict()
    return DatasetTask(
        name="csv",
        kind=kind,
        inputs={"x": codec.spec()},
        outputs=outputs,
        train=_split_of(inputs, target, train_i),
        val=_split_of(inputs, target, val_i),
        test=_split_of(inputs, target, test_i),
        codecs=codecs,
        settings={
            "label": label,
            "features": features,
            "split": list(SPLIT),
            "stratified": kind == "classification",
            "seed": seed,
        },
        classes=classes,
    )


# ----- class folders (images, audio) ---------------------------------------------------------


def _class_files(
    task: str, root: Path, exts: tuple[str, ...], what: str
) -> tuple[list[str], list[list[Path]]]:
    """Class names (sorted sub-folder names) and each class's files (sorted, recursive)."""
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        names = ", ".join(p.name for p in folders) or "none"
        raise TaskError(
            f"{task}: {root} has fewer than 2 classes (sub-folders: {names}); "
            "it needs one sub-folder per class"
        )
    files = []
    for folder in folders:
        found = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in exts and not p.name.startswith(".")
        )
        if not found:
            raise TaskError(f"{task}: empty class {folder.name!r}: {folder} holds no {what} files")
        files.append(found)
    return [p.name for p in folders], files


def load_image(path: str | Path, size: int, color: bool = False) -> np.ndarray:
    """One image file as uint8 ``[size, size, ch]`` (RGB when ``color``, else grey), resized
    with area averaging when shrinking and bilinear when growing: exactly how ``images``
    feeds a graph."""
    import cv2

    path = Path(path)
    try:
        buf = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise TaskError(f"cannot read image {path}: {e}") from None
    try:
        check_image(buf.tobytes(), f"cannot read image {path}")  # its header, before decoding
    except MediaError as e:
        raise TaskError(str(e)) from None
    flag = cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE
    img = cv2.imdecode(buf, flag) if buf.size else None
    if img is None:
        raise TaskError(f"cannot read image {path}: not a valid PNG, JPEG or BMP file")
    if color:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    if (h, w) != (size, size):
        shrink = h >= size and w >= size
        img = cv2.resize(
            img, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
    return img.reshape(size, size, 3 if color else 1)


def images_task(
    data: str | Path | None,
    seed: int = 0,
    size: int = 32,
    color: bool = False,
    patch: int = 4,
    augment: str = "shift",
    views: bool = True,
) -> DatasetTask:
    """A folder of class sub-folders of PNG/JPEG/BMP images, resized to ``size``×``size``,
    grey (or RGB with ``color``), cut into ``patch``×``patch`` patches; seeded stratified
    70/15/15 split."""
    root = need_path("images", data, "dir", "a folder with one sub-folder of images per class")
    _check_augment("images", augment)
    if size < 1 or patch < 1 or size % patch:
        raise TaskError(f"images: size {size} is not divisible by patch {patch}")
    classes, files = _class_files("images", root, IMAGE_EXTS, "PNG, JPEG or BMP")
    images = np.stack([load_image(f, size, color) for group in files for f in group])
    y = np.concatenate([np.full(len(group), i) for i, group in enumerate(files)])
    codec = ImageCodec(
        patch=patch, channels=3 if color else 1, height=size, width=size, scale=255.0
    )
    inputs = {"image": _encode_images(codec, images)}
    target = torch.from_numpy(y.astype(np.int64))
    train_i, val_i, test_i = split_indices(y, len(y), seed, where=f"images: {root}")
    return DatasetTask(
        name="images",
        kind="classification",
        inputs={"image": codec.spec()},
        outputs={"label": SignalSpec(len(classes), 1)},
        train=_split_of(inputs, target, train_i),
        val=_split_of(inputs, target, val_i),
        test=_split_of(inputs, target, test_i),
        codecs={"image": codec.to_dict()},
        settings={
            "size": size,
            "color": color,
            "patch": patch,
            "augment": augment,
            "views": bool(views),
            "split": list(SPLIT),
            "seed": seed,
        },
        classes=classes,
    )


# ----- audio clips ---------------------------------------------------------------------------


def load_clip(path: str | Path, duration: float = 1.0) -> np.ndarray:
    """One audio file as mono float32 at 16 kHz, cut or zero-padded at the end to exactly
    ``duration`` seconds: exactly how ``audio`` feeds a graph."""
    import soundfile as sf

    path = Path(path)
    try:
        check_clip_seconds(duration, "audio")
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            check_sound(rate, f.channels, f"audio file {path}")
            # only what the clip keeps, mixed to mono a second at a time: a long file or
            # one of many channels costs no more than the clip
            blocks = f.blocks(
                blocksize=rate, frames=math.ceil(duration * rate), dtype="float32", always_2d=True
            )
            parts = [b.mean(axis=1, dtype=np.float32) for b in blocks]
            wave = np.concatenate(parts)[:, None] if parts else np.zeros((0, 1), np.float32)
    except MediaError as e:
        raise TaskError(str(e)) from None
    except Exception as e:  # soundfile raises LibsndfileError, RuntimeError, TypeError…
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TaskError(f"cannot read audio file {path}: {reason}") from None
    if wave.shape[0] == 0:
        raise TaskError(f"audio file {path} holds no samples")
    try:
        clip = to_mono_float(wave)
    except ValueError as e:
        raise TaskError(f"audio file {path}: {e}") from None
    if rate != AUDIO_RATE:
        clip = resample(clip, int(rate), AUDIO_RATE)
    n = round(duration * AUDIO_RATE)
    out = np.zeros(n, dtype=np.float32)
    out[: min(n, len(clip))] = clip[:n]
    return out


def audio_task(
    data: str | Path | None,
    seed: int = 0,
    duration: float = 1.0,
    n_mels: int = 40,
    holdout: str | None = None,
) -> DatasetTask:
    """A folder of class sub-folders of WAV/FLAC/OGG clips → log-mel at 16 kHz (10 ms hop).

    Every clip is cut or zero-padded to ``duration`` seconds, so T is fixed. ``holdout``:
    files whose name contains it (case-insensitive) form the test split alone (e.g. a voice
    never heard in training); the rest split 85/15 into train/validation.
    """
    root = need_path("audio", data, "dir", "a folder with one sub-folder of audio clips per class")
    try:
        check_clip_seconds(duration, "audio: duration")
    except MediaError as e:
        raise TaskError(str(e)) from None
    try:
        codec = AudioCodec(mode="logmel", rate=AUDIO_RATE, n_mels=n_mels)
    except ValueError as e:
        raise TaskError(f"audio: {e}") from None
    classes, files = _class_files("audio", root, AUDIO_EXTS, "WAV, FLAC or OGG")
    flat = [f for group in files for f in group]
    y = np.concatenate([np.full(len(group), i) for i, group in enumerate(files)])
    clips = np.stack([load_clip(f, duration) for f in flat])
    t = codec.steps(clips.shape[1])
    x = torch.empty(len(clips), t, n_mels)
    for start in range(0, len(clips), 256):
        x[start : start + 256] = codec.encode(list(clips[start : start + 256])).data
    where = f"audio: {root}"
    if holdout:
        held = np.array([holdout.lower() in f.name.lower() for f in flat])
        if not held.any():
            raise TaskError(f"audio: holdout {holdout!r} matches no file name in {root}")
        if held.all():
            raise TaskError(f"audio: holdout {holdout!r} matches every file in {root}")
        rest = np.flatnonzero(~held)
        tr, va, _ = split_indices(y[rest], len(rest), seed, val=HOLDOUT_VAL, test=0.0, where=where)
        train_i, val_i, test_i = rest[tr], rest[va], np.flatnonzero(held)
    else:
        train_i, val_i, test_i = split_indices(y, len(y), seed, where=where)
    target = torch.from_numpy(y.astype(np.int64))
    inputs = {"audio": x}
    spec = SignalSpec(n_mels, t, SignalMeta("audio", rate=AUDIO_RATE / codec.hop))
    return DatasetTask(
        name="audio",
        kind="classification",
        inputs={"audio": spec},
        outputs={"label": SignalSpec(len(classes), 1)},
        train=_split_of(inputs, target, train_i),
        val=_split_of(inputs, target, val_i),
        test=_split_of(inputs, target, test_i),
        codecs={"audio": codec.to_dict()},
        settings={
            "duration": duration,
            "n_mels": n_mels,
            "holdout": holdout,
            "split": [1 - HOLDOUT_VAL, HOLDOUT_VAL] if holdout else list(SPLIT),
            "seed": seed,
        },
        classes=classes,
    )
