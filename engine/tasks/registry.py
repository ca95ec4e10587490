"""Task names for ``--task``: what each needs (``--data``, ``--label``) and its options.

``load_task(**spec)`` is how runs, workers and exports rebuild a task from the JSON spec a
run stores, so options arrive as plain JSON values; numbers and booleans given as strings
(``"7"``, ``"true"``) are accepted too. A ``None`` option means "the default". Anything
wrong is a ``TaskError`` with one line saying what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.tasks.base import DatasetTask, TaskError
from openbrains.engine.tasks.builtin import digits_task, xor_task
from openbrains.engine.tasks.files import audio_task, csv_task, images_task, mnist_task, need_path
from openbrains.engine.tasks.game import FULL_SHARE_RANGE
from openbrains.engine.tasks.text import text_task


@dataclass(frozen=True)
class Option:
    """A task option. ``low``/``high`` and ``choices`` are what the window's New project
    form offers (a spin box's range, a list); the task itself checks what it needs."""

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TaskInfo:
    name: str
    summary: str
    build: Callable[..., DatasetTask]
    data: str | None = None  # "dir", "file" or None (no --data)
    data_help: str = ""
    label: bool = False
    options: tuple[Option, ...] = ()


VIEWS_OPTION = Option(
    "views",
    bool,
    True,
    "answer with the mean over the image and its one-pixel shifts (engine.views; 5x the "
    "forward work; where training shifts images)",
)

_GAME_OPTIONS = (
    Option(
        "selfplay_games", int, None, "self-play games per candidate at the base budget", 1, 10_000
    ),
    Option("sims", int, None, "MCTS simulations per move in self-play", 1, 2000),
    Option(
        "train_steps", int, None, "optimiser steps per candidate at the base budget", 1, 100_000
    ),
    Option(
        "replay_ratio",
        float,
        None,
        "examples from earlier candidates' games trained on per example of its own",
        0,
        16,
    ),
    Option(
        "full_share",
        float,
        None,
        "share of self-play moves searched in full and kept as examples (the rest: fast_sims)",
        *FULL_SHARE_RANGE,
    ),
    Option(
        "fast_sims",
        int,
        None,
        "MCTS simulations of the other self-play moves (0 = a fifth of sims)",
        0,
        2000,
    ),
    Option("arena_games", int, None, "arena games against each opponent", 1, 1000),
    Option(
        "arena_sims",
        int,
        None,
        "MCTS simulations per move in the arena (0 = greedy policy)",
        0,
        2000,
    ),
    Option(
        "arena_openings",
        int,
        None,
        "random moves before each pair of arena games (0 = from the empty board)",
        0,
        20,
    ),
)


def _game_task(game: str, **options: Any) -> Any:
    from openbrains.engine.tasks.game import GameTask

    defaults = {
        "tictactoe": {"references": ("random", "onestep", "minimax")},
        "connect4": {
            "references": ("random", "onestep", "minimax:2"),
            "sims": 40,
            "selfplay_games": 48,
            "arena_openings": 2,
            "arena_sims": 8,
            "train_steps": 900,
        },
    }[game]
    return GameTask(name=game, game=game, **{**defaults, **options})


def _maze_task(size: int = 6, episodes: int | None = None, **options: Any) -> Any:
    """The built-in scored environment: policy gradient on fresh mazes, fitness the mean
    score on fixed ones."""
    from openbrains.engine.tasks.game import GameTask

    return GameTask(
        name="maze",
        game="maze",
        options={"size": size},
        train_steps=30,
        episodes=episodes or 32,
        **options,
    )


TASKS: dict[str, TaskInfo] = {
    t.name: t
    for t in (
        TaskInfo(
            "xor", "the four XOR points, two classes (no data needed)", lambda seed: xor_task()
        ),
        TaskInfo(
            "digits",
            "scikit-learn's 8×8 handwritten digits, ten classes (no data needed)",
            lambda seed, **o: digits_task(seed, **o),
            options=(
                Option(
                    "labelled",
                    int,
                    0,
                    "keep only this many labelled training images (0 = all 719)",
                ),
                VIEWS_OPTION,
            ),
        ),
        TaskInfo(
            "mnist",
            "28×28 handwritten digits; validation = last 10% of train, test = t10k",
            mnist_task,
            "dir",
            "a folder holding the four MNIST idx files (.gz or not)",
            options=(
                Option(
                    "patch",
                    int,
                    4,
                    "patch side in pixels (divides 28); 2 does better under a small "
                    "--max-params (docs/modalities.md)",
                    choices=(1, 2, 4, 7, 14),
                ),
                Option(
                    "validation",
                    float,
                    0.1,
                    "share of the train file held out, from its end",
                    0.01,
                    0.5,
                ),
                Option(
                    "augment",
                    str,
                    "shift",
                    "shift (random 1–2 pixel shifts in training) or none",
                    choices=("shift", "none"),
                ),
                VIEWS_OPTION,
            ),
        ),
        TaskInfo(
            "csv",
            "a table with a header row: numeric columns predict --label (class or value)",
            lambda data, label, seed, **o: csv_task(data, label, seed, **o),
            "file",
            "a CSV file with a header row",
            label=True,
            options=(
                Option(
                    "kind",
                    str,
                    "auto",
                    "auto, classification or regression",
                    choices=("auto", "classification", "regression"),
                ),
                Option("drop", str, "", "comma-separated columns to leave out"),
            ),
        ),
        TaskInfo(
            "images",
            "one sub-folder of PNG/JPEG/BMP images per class",
            images_task,
            "dir",
            "a folder with one sub-folder of images per class",
            options=(
                Option("size", int, 32, "images are resized to size×size", 4, 256),
                Option("color", bool, False, "RGB instead of grey"),
                Option("patch", int, 4, "patch side in pixels (divides size)", 1, 64),
                Option(
                    "augment",
                    str,
                    "shift",
                    "shift (random pixel shifts in training) or none",
                    choices=("shift", "none"),
                ),
                VIEWS_OPTION,
            ),
        ),
        TaskInfo(
            "audio",
            "one sub-folder of WAV/FLAC/OGG clips per class, log-mel at 16 kHz",
            audio_task,
            "dir",
            "a folder with one sub-folder of audio clips per class",
            options=(
                Option("duration", float, 1.0, "seconds per clip (cut or zero-padded)", 0.1, 30.0),
                Option("n_mels", int, 40, "mel bands", 8, 128),
                Option("holdout", str, None, "files whose name contains this are the test set"),
            ),
        ),
        TaskInfo(
            "tictactoe",
            "tic-tac-toe by self-play (MCTS), ranked by Elo against reference players",
            lambda seed, **kw: _game_task("tictactoe", **kw),
            options=_GAME_OPTIONS,
        ),
        TaskInfo(
            "connect4",
            "Connect Four by self-play (MCTS), ranked by Elo against reference players",
            lambda seed, **kw: _game_task("connect4", **kw),
            options=_GAME_OPTIONS,
        ),
        TaskInfo(
            "maze",
            "walk random mazes to the goal (a scored environment), ranked by mean score",
            lambda seed, **kw: _maze_task(**kw),
            options=(
                Option("size", int, 6, "side of the square maze", 4, 20),
                Option("episodes", int, 32, "scored mazes per candidate", 1, 1000),
            ),
        ),
        TaskInfo(
            "text",
            "next-byte prediction on any file, in bits per character",
            text_task,
            "file",
            "a text (or any) file to learn to continue",
            options=(
                Option("context", int, 64, "bytes per window", 4, 4096),
                Option(
                    "stride", int, None, "bytes between training windows (default context)", 1, 4096
                ),
            ),
        ),
        TaskInfo(
            "callresponse",
            "answer prompts from a prompt → response file; bits per char of the responses",
            lambda data, seed, **o: _lazy("callresponse", "callresponse_task")(data, seed, **o),
            "file",
            "a TSV (prompt<TAB>response per line) or a two-column CSV",
            options=(
                Option(
                    "context", int, None, "bytes per window (default: the longest pair)", 4, 4096
                ),
            ),
        ),
        TaskInfo(
            "denoise",
            "make 8×8 digits by denoising steps: noise prediction, R² (no data needed)",
            lambda seed, **o: _lazy("denoise", "denoise_task")(seed, **o),
            options=(
                Option("steps", int, 100, "noise levels of the schedule (sampling steps)", 2, 1000),
                Option("draws", int, 32, "noisings of each training image", 1, 256),
            ),
        ),
        TaskInfo(
            "stream",
            "next-byte prediction on a growing file (a log being appended), refreshed live",
            lambda data, seed, **o: _lazy("stream", "stream_task")(data, seed, **o),
            "file",
            "a file that grows (a log being appended)",
            options=(
                Option("context", int, 64, "bytes per window", 4, 4096),
                Option(
                    "stride", int, None, "bytes between training windows (default context)", 1, 4096
                ),
                Option(
                    "tail",
                    int,
                    1_000_000,
                    "learn from the newest this many bytes",
                    1000,
                    1_000_000_000,
                ),
            ),
        ),
    )
}


def _lazy(module: str, name: str) -> Callable[..., DatasetTask]:
    """A task builder imported when first used (keeps ``--help`` fast)."""
    import importlib

    return getattr(importlib.import_module(f"openbrains.engine.tasks.{module}"), name)


TASK_NAMES = tuple(TASKS)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(task: str, opt: Option, value: Any) -> Any:
    what = {int: "an integer", float: "a number", bool: "true or false", str: "text"}[opt.type]
    bad = TaskError(f"task {task!r}: option {opt.name} must be {what}, got {value!r}")
    if opt.type is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if opt.type is str:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        if not isinstance(value, str):
            raise bad
        return value
    if isinstance(value, bool):
        raise bad
    try:
        number = float(value) if isinstance(value, str) else value
        if opt.type is int:
            if isinstance(number, float) and not number.is_integer():
                raise bad
            return int(number)
        return float(number)
    except (TypeError, ValueError):
        raise bad from None


def load_task(
    name: str,
    data: str | Path | None = None,
    label: str | None = None,
    seed: int = 0,
    **options: Any,
) -> DatasetTask:
    """The task ``name`` built from ``data`` (file or folder), ``label`` (csv) and options."""
    info = TASKS.get(name)
    if info is None and isinstance(name, str) and ":" in name:
        return user_game_task(name, data, label, options)
    if info is None:
        raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(TASK_NAMES)}")
    known = {o.name: o for o in info.options}
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key not in known:
            have = ", ".join(known) if known else "none"
            raise TaskError(f"task {name!r} has no option {key!r} (its options: {have})")
        if value is not None:
            kwargs[key] = _coerce(name, known[key], value)
    seed = 0 if seed is None else _coerce(name, Option("seed", int, 0, ""), seed)
    if info.data is None:
        if data is not None and str(data) != "":
            raise TaskError(f"task {name!r} needs no --data (got {data})")
    else:
        data = need_path(name, data, info.data, info.data_help)
    if label is not None and not info.label:
        raise TaskError(f"task {name!r} takes no --label (only csv does)")
    if info.label:
        task = info.build(data=data, label=label, seed=seed, **kwargs)
    elif info.data is None:
        task = info.build(seed=seed, **kwargs)
    else:
        task = info.build(data=data, seed=seed, **kwargs)
    if isinstance(task, DatasetTask):  # what an exported brain records (engine.export)
        task.options = {o.name: kwargs.get(o.name, o.default) for o in info.options}
    return task


GAME_TASK_OPTIONS = {o.name: o for o in _GAME_OPTIONS} | {
    "episodes": Option("episodes", int, None, "scored episodes per candidate (environments)")
}
"""Options of the game task itself (self-play, arena); every other option of a user's
game goes to its constructor."""


def user_game_task(
    name: str, data: Any = None, label: Any = None, options: dict[str, Any] | None = None
) -> DatasetTask:
    """A user's own game or environment, ``package.module:Class`` (granted by the user:
    ``engine.trust``). Options named in ``GAME_TASK_OPTIONS`` tune the task; the others
    are the game's constructor options (numbers and true/false for its named parameters)."""
    from openbrains.engine.tasks.game import GameTask, game_options

    if data is not None and str(data) != "":
        raise TaskError(f"task {name!r} is a game; it needs no --data (got {data})")
    if label is not None:
        raise TaskError(f"task {name!r} takes no --label (only csv does)")
    options = dict(options or {})
    tuning = {
        k: _coerce(name, GAME_TASK_OPTIONS[k], v)
        for k, v in options.items()
        if k in GAME_TASK_OPTIONS and v is not None
    }
    constructor = game_options(
        name, {k: v for k, v in options.items() if k not in GAME_TASK_OPTIONS}
    )
    task = GameTask(name=name, game=name, options=constructor)
    if not task.two_player:  # an environment: the maze's budget, not self-play's
        task.train_steps, task.episodes = 30, 32
    for key, value in tuning.items():
        setattr(task, key, value)
    return task  # type: ignore[return-value]


def describe_tasks() -> list[str]:
    """One line per task for ``--help``: name, what it is, what it needs, its options."""
    width = max(len(n) for n in TASK_NAMES)
    lines = []
    for info in TASKS.values():
        needs = []
        if info.data:
            needs.append("--data " + ("DIR" if info.data == "dir" else "FILE"))
        if info.label:
            needs.append("--label COLUMN")
        text = f"{info.name:<{width}}  {info.summary}"
        if needs:
            text += f"; needs {' '.join(needs)}"
        if info.options:
            text += "; options: " + ", ".join(
                f"{o.name}={'-' if o.default in (None, '') else o.default}" for o in info.options
            )
        lines.append(text)
    return lines


def _option_line(o: Option) -> str:
    kind = {int: "integer", float: "number", bool: "true/false", str: "text"}[o.type]
    default = "" if o.default in (None, "") else f", default {o.default}"
    return f"  --option {o.name}=VALUE  ({kind}{default}) {o.help}"


def describe_task(name: str) -> list[str]:
    """``openbrains run --help TASK``: what the task is, what it needs, each option in full.
    A user's game (granted by the user: ``engine.trust``) lists its constructor's parameters."""
    info = TASKS.get(name)
    if info is None and ":" in name:
        from openbrains.engine.tasks.game import GameError
        from openbrains.engine.trust import load_code, parameters

        try:
            params = parameters(load_code(name, "game"))
        except OpenBrainsError as exc:
            raise GameError(str(exc)) from None
        lines = [f"{name}: your own game or scored environment (self-play / scored episodes)"]
        lines.append("options of the game (its constructor's parameters; numbers or true/false):")
        for p in params.values():
            default = "" if p.default is p.empty else f" (default {p.default})"
            lines.append(f"  --option {p.name}=VALUE{default}")
        if not params:
            lines.append("  none")
        lines.append("options of the game task:")
        lines += [_option_line(o) for o in GAME_TASK_OPTIONS.values()]
        return lines
    if info is None:
        raise TaskError(f"unknown task {name!r}; known tasks: {', '.join(TASK_NAMES)}")
    lines = [f"{info.name}: {info.summary}"]
    if info.data:
        lines.append(f"needs --data {'DIR' if info.data == 'dir' else 'FILE'}: {info.data_help}")
    if info.label:
        lines.append("needs --label COLUMN: the column to predict")
    lines.append("options:" if info.options else "options: none")
    lines += [_option_line(o) for o in info.options]
    return lines
