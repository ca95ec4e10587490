"""Training plans are data: every key known, built-in tasks only, data pinned by sha256 and
downloaded once into our cache (a wrong hash, a cut download or no network keep nothing),
local paths only with the user's say. The shipped plans in plans/ all read."""

from __future__ import annotations

import gzip
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from openbrains.engine.exchange.errors import ExchangeError
from openbrains.engine.exchange.plandata import download, resolve, tree_sha256
from openbrains.engine.exchange.plans import Download, parse_plan, read_plan
from openbrains.engine.tasks.registry import load_task
from tests.exchange_kit import closed_port_url, file_server

ROOT = Path(__file__).resolve().parents[2]
SHA = "0" * 64

HEAD = b'[plan]\nid = "t"\nversion = 1\ntitle = "T"\n[budget]\nminutes = 1\n'


def _plan(text: str) -> bytes:
    return HEAD + text.encode()


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[task]\nname = "xor"\ncolour = "red"\n', "unknown key 'task.colour'"),
        ('[task]\nname = "xor"\n[extras]\na = 1\n', "unknown table [extras]"),
        ('[task]\nname = "xor"\n[run]\npopulaton = 4\n', "unknown key 'run.populaton'"),
        ('[task]\nname = "os:system"\n', "is Python code, and code named in a file"),
        ('[task]\nname = "othello.OthelloGame:OthelloGame"\n', "a plan names built-in tasks only"),
        ('[task]\nname = "nosuch"\n', "unknown task 'nosuch'"),
        ('[task]\nname = "xor"\noptions = {size = 3}\n', "has no option 'size'"),
        (
            '[task]\nname = "text"\n[data]\nurl = "https://x/y"\nsha256 = "abc"\n',
            "must be 64 lowercase hex",
        ),
        ('[task]\nname = "text"\n[data]\nurl = "https://x/y"\n', "needs 'data.sha256'"),
        (
            '[task]\nname = "text"\n[data]\nurl = "file:///etc/passwd"\nsha256 = "' + SHA + '"\n',
            "must be an https://",
        ),
        ('[task]\nname = "text"\n', "needs data"),
        ('[task]\nname = "xor"\n[data]\npath = "x"\n', "takes no data"),
        (
            '[task]\nname = "mnist"\n[data]\nurl = "https://x/y"\nsha256 = "' + SHA + '"\n',
            "reads a folder",
        ),
        (
            '[task]\nname = "xor"\n[seed]\nfrom = "/home/x/brain"\ncontent_id = "' + SHA + '"\n',
            "must be a Hub brain",
        ),
        ('[task]\nname = "xor"\n[run]\nworkers = "many"\n', "'run.workers' must be int"),
        ("[task\n", "not a valid TOML plan"),
    ],
)
def test_bad_plans_are_one_line(text: str, words: str) -> None:
    with pytest.raises(ExchangeError) as err:
        parse_plan(_plan(text), "p.toml")
    message = str(err.value)
    assert words in message and message.startswith("p.toml: ")
    assert "\n" not in message


def test_the_shipped_plans_read() -> None:
    plans = sorted((ROOT / "plans").glob("*.toml"))
    assert len(plans) == 4
    read = {p.name: read_plan(p)[0] for p in plans}
    tasks = {p.task for p in read.values()}
    assert tasks == {"mnist", "text", "audio", "connect4"}
    mnist = next(p for p in read.values() if p.task == "mnist")
    assert mnist.max_params == 10_000 and mnist.run["max_params"] == 10_000
    text = next(p for p in read.values() if p.task == "text")
    assert text.data is not None
    # Project Gutenberg's own repository for eBook #11, pinned to one commit
    assert re.match(
        r"^https://raw\.githubusercontent\.com/gutenbergbooks/11/[0-9a-f]{40}/11-0\.txt$",
        text.data.downloads[0].url,
    )
    metrics = {"mnist": "accuracy", "text": "bpc", "audio": "accuracy", "connect4": "elo"}
    for plan in read.values():
        assert plan.minutes > 0 and plan.key == f"{plan.id}-v{plan.version}"
        assert plan.metric == metrics[plan.task]


def test_a_download_is_kept_once_and_only_when_it_is_right(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with file_server({"book.txt": b"It was a dark and stormy night.\n" * 100}) as served:
        good = Download(f"{served.url}/book.txt", served.sha256("book.txt"))
        path = download(good, cache)
        assert path == cache / good.sha256 and path.read_bytes() == served.files["book.txt"]
        assert download(good, cache) == path
        assert served.hits["book.txt"] == 1  # the second time came from the cache

        wrong = Download(f"{served.url}/book.txt", "1" * 64)
        with pytest.raises(ExchangeError, match="not the plan's 1111"):
            download(wrong, cache)
        served.cut.add("book.txt")
        with pytest.raises(ExchangeError, match="broke off"):
            download(Download(f"{served.url}/book.txt", "2" * 64), cache)
        with pytest.raises(ExchangeError, match="answered 404"):
            download(Download(f"{served.url}/missing", "3" * 64), cache)
    with pytest.raises(ExchangeError, match="no network"):
        download(Download(f"{closed_port_url()}/book.txt", "4" * 64), cache)
    assert sorted(p.name for p in cache.iterdir()) == [good.sha256]  # nothing half-kept


def _idx(array: np.ndarray) -> bytes:
    head = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(head + array.astype(np.uint8).tobytes(), mtime=0)


def test_a_folder_task_is_assembled_from_its_downloads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    files = {
        "a.gz": _idx(rng.integers(0, 255, (40, 28, 28))),
        "b.gz": _idx(rng.integers(0, 10, (40,))),
        "c.gz": _idx(rng.integers(0, 255, (20, 28, 28))),
        "d.gz": _idx(rng.integers(0, 10, (20,))),
    }
    roles = dict(zip(files, ("train_images", "train_labels", "test_images", "test_labels")))
    with file_server(files) as served:
        entries = "".join(
            f'[[data.files]]\nrole = "{roles[n]}"\nurl = "{served.url}/{n}"\nsha256 = "{served.sha256(n)}"\n'
            for n in files
        )
        plan = parse_plan(_plan('[task]\nname = "mnist"\n' + entries), "mnist.toml")
        used = resolve(plan, None, lambda _p: False, tmp_path / "cache")
    task = load_task("mnist", data=used.path)
    assert len(task.test) == 20
    assert {d["sha256"] for d in used.identity} == {served.sha256(n) for n in files}


def test_a_local_path_is_used_only_with_the_users_say(tmp_path: Path) -> None:
    data = tmp_path / "notes.txt"
    data.write_text("private\n")
    plan = parse_plan(_plan(f'[task]\nname = "text"\n[data]\npath = "{data}"\n'), "p.toml")
    asked: list[str] = []

    def no(path: str) -> bool:
        asked.append(path)
        return False

    with pytest.raises(ExchangeError, match="used only when you say so: give --data PATH"):
        resolve(plan, None, no, tmp_path / "cache")
    assert asked == [str(data)]
    assert resolve(plan, None, lambda _p: True, tmp_path / "cache").path == str(data)
    mine = tmp_path / "mine.txt"
    mine.write_text("mine\n")
    assert resolve(plan, mine, no, tmp_path / "cache").path == str(mine)

    pinned = parse_plan(
        _plan(f'[task]\nname = "text"\n[data]\npath = "{tmp_path}"\nsha256 = "{SHA}"\n'), "p.toml"
    )
    with pytest.raises(ExchangeError, match="not the plan's data"):
        resolve(pinned, None, lambda _p: True, tmp_path / "cache")
    assert tree_sha256(tmp_path) != SHA
