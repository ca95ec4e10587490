"""Scored tasks, AlphaZero style (DESIGN §3.7): the game protocol and ``GameTask``.

A *game* here is two-player, zero-sum, with perfect information and alternating (or at
least announced) turns; its semantics follow alpha-zero-general's ``Game`` class closely so
that ``AlphaZeroGeneralAdapter`` can wrap one of those in a few lines. A *scored
environment* is the single-player cousin: reset, step, and a score at the end.

States are opaque to the engine: only the game reads them. Everything the engine needs
goes through the protocol, and everything a brain sees goes through ``encode``, which is
always from the point of view of the player to move, so one network plays both sides.

Nothing here imports torch; the brains that play live in ``engine/games``.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from openbrains.engine.errors import OpenBrainsError
from openbrains.engine.signal import SignalMeta, SignalSpec

State = Any
"""Whatever the game uses for a position; the engine never looks inside."""

POLICY = "policy"
VALUE = "value"
BOARD = "board"
OBSERVATION = "observation"


class GameError(OpenBrainsError):
    """A game or environment that cannot be loaded or used: says which and why."""


FULL_SHARE_RANGE = (0.01, 1.0)
"""The share of self-play moves searched in full (playout cap randomisation): below a
hundredth a candidate keeps too few examples to train on; 1 searches every move in full."""


def check_full_share(value: float) -> float:
    """``value`` as a share of full searches, or a one-line GameError saying the range."""
    low, high = FULL_SHARE_RANGE
    if not low <= value <= high:
        raise GameError(f"full_share must be in [{low}, {high}], got {value}")
    return value


# ----- the protocols -----------------------------------------------------------------------


@runtime_checkable
class Game(Protocol):
    """A two-player, zero-sum, perfect-information game.

    Players are ``+1`` and ``-1``. ``play`` is pure (returns a new state) so search trees
    can share parents. ``outcome`` is ``None`` while the game runs, else ``+1`` / ``-1`` /
    ``0`` *from player +1's view*. ``encode`` is from the *player to move*'s view, shaped
    ``[T, C]`` with ``T = rows * cols`` so conv units can use the grid from ``spec()``.

    Optional, found with ``getattr``: ``ordering(state)`` (legal moves, likely best first,
    for alpha-beta), ``heuristic(state)`` (a guess in (-1, 1) for the player to move, for
    minimax's leaves) and ``ending_moves(state)`` (the moves that end the game at once;
    MCTS asks on every expansion, and without it plays every legal move to find them).
    """

    name: str
    action_size: int

    def initial(self) -> State: ...

    def current_player(self, state: State) -> int: ...

    def legal(self, state: State) -> np.ndarray: ...

    def play(self, state: State, action: int) -> State: ...

    def outcome(self, state: State) -> int | None: ...

    def encode(self, state: State) -> np.ndarray: ...

    def spec(self) -> SignalSpec: ...

    def symmetries(self, state: State, policy: np.ndarray) -> list[tuple[State, np.ndarray]]: ...

    def render(self, state: State) -> str: ...


@runtime_checkable
class ScoredEnv(Protocol):
    """A single-player environment with a score: the player is the brain, the opponent is
    the world. ``step`` returns ``(observation, reward, done)``; ``score`` is what the run
    ranks by (usually the sum of rewards of the episode so far)."""

    name: str
    action_size: int

    def reset(self, seed: int | None = None) -> np.ndarray: ...

    def step(self, action: int) -> tuple[np.ndarray, float, bool]: ...

    def score(self) -> float: ...

    def spec(self) -> SignalSpec: ...


GAME_METHODS = (
    "initial",
    "current_player",
    "legal",
    "play",
    "outcome",
    "encode",
    "spec",
    "symmetries",
    "render",
)
ENV_METHODS = ("reset", "step", "score", "spec")
AZG_METHODS = (
    "getInitBoard",
    "getBoardSize",
    "getActionSize",
    "getNextState",
    "getValidMoves",
    "getGameEnded",
    "getCanonicalForm",
    "getSymmetries",
    "stringRepresentation",
)


def state_key(game: Game, state: State) -> Hashable:
    """A hashable identity of ``state`` for caches and transposition tables.

    Games may offer ``key(state)``; otherwise the encoding plus the player to move is the
    identity (two positions that look the same to the brain are the same to a cache).
    """
    key = getattr(game, "key", None)
    if key is not None:
        return key(state)
    return (game.current_player(state), np.ascontiguousarray(game.encode(state)).tobytes())


def board_spec(rows: int, cols: int, channels: int) -> SignalSpec:
    """The Signal of a ``rows × cols`` board with ``channels`` planes (an image grid)."""
    return SignalSpec(channels, rows * cols, SignalMeta("image", grid=(rows, cols)))


def planes(board: np.ndarray, player: int) -> np.ndarray:
    """``[T, 3]`` float32 planes (mine, theirs, empty) of a ±1/0 board, seen by ``player``.

    The explicit *empty* plane lets a zero-padded convolution tell an empty cell from the
    edge of the board.
    """
    flat = board.reshape(-1) * player
    out = np.empty((flat.size, 3), dtype=np.float32)
    out[:, 0] = flat > 0
    out[:, 1] = flat < 0
    out[:, 2] = flat == 0
    return out


# ----- a helper state for board games -------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class BoardState:
    """A position of a board game: ``board`` (int8, +1 / -1 / 0), the player to move, the
    outcome (decided when the last move was played, so ``outcome`` is O(1)), the number of
    moves so far, and game-specific ``extra`` data (bitboards, heights). Never mutate
    ``board``: states are shared by search trees."""

    board: np.ndarray
    player: int
    result: int | None
    moves: int
    extra: Any = None

    def key(self) -> bytes:
        return self.board.tobytes() + (b"+" if self.player > 0 else b"-")


# ----- alpha-zero-general adapter ----------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class AZGState:
    """A position of a wrapped alpha-zero-general game: its board and the player to move."""

    board: Any
    player: int


class AlphaZeroGeneralAdapter:
    """Wraps a game written for alpha-zero-general (suragnair/alpha-zero-general).

    Mapping: ``getGameEnded(board, 1)`` gives +1's view (a small non-zero value such as
    ``1e-4`` is a draw); ``getValidMoves`` and ``getSymmetries`` are called on the
    canonical form with player 1, as alpha-zero-general's own MCTS does. Symmetric states
    are therefore returned in canonical form with player +1 to move: they encode and mask
    exactly like the original, which is what training needs; do not continue play from
    them. Boards are encoded as three planes (mine, theirs, empty) of the canonical form.
    """

    def __init__(self, game: Any, name: str | None = None) -> None:
        missing = [m for m in AZG_METHODS if not callable(getattr(game, m, None))]
        if missing:
            raise GameError(
                f"{type(game).__name__} is not an alpha-zero-general game: missing {missing}"
            )
        self.game = game
        self.name = name or type(game).__name__
        self.action_size = int(game.getActionSize())
        rows, cols = game.getBoardSize()
        self.rows, self.cols = int(rows), int(cols)

    def initial(self) -> AZGState:
        return AZGState(self.game.getInitBoard(), 1)

    def current_player(self, state: AZGState) -> int:
        return state.player

    def _canonical(self, state: AZGState) -> Any:
        return self.game.getCanonicalForm(state.board, state.player)

    def legal(self, state: AZGState) -> np.ndarray:
        valid = np.asarray(self.game.getValidMoves(self._canonical(state), 1))
        return valid.reshape(-1)[: self.action_size] > 0

    def play(self, state: AZGState, action: int) -> AZGState:
        board, player = self.game.getNextState(state.board, state.player, int(action))
        return AZGState(board, int(player))

    def outcome(self, state: AZGState) -> int | None:
        r = float(self.game.getGameEnded(state.board, 1))
        if r == 0:
            return None
        if abs(r) < 1:
            return 0
        return 1 if r > 0 else -1

    def encode(self, state: AZGState) -> np.ndarray:
        return planes(np.asarray(self._canonical(state), dtype=np.float32), 1)

    def spec(self) -> SignalSpec:
        return board_spec(self.rows, self.cols, 3)

    def symmetries(self, state: AZGState, policy: np.ndarray) -> list[tuple[AZGState, np.ndarray]]:
        pairs = self.game.getSymmetries(self._canonical(state), list(np.asarray(policy)))
        return [(AZGState(b, 1), np.asarray(p, dtype=np.float32)) for b, p in pairs]

    def key(self, state: AZGState) -> Hashable:
        return (state.player, self.game.stringRepresentation(state.board))

    def render(self, state: AZGState) -> str:
        display = getattr(self.game, "display", None)
        if callable(display):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                display(state.board)
            return buf.getvalue()
        return str(np.asarray(state.board))


# ----- loading games by entry point --------------------------------------------------------


def installed_games() -> dict[str, str]:
    """Names a user may type → the games they load: the ``openbrains.games`` entry points
    of installed packages (engine.plugins), Open Brains' own first. Installed code is the
    program's own table, like installed units: a name from a file only picks among them,
    so importing one needs no grant (``engine.trust``)."""
    from openbrains.engine.plugins import GAMES, installed

    return {name: ep.value for name, ep in sorted(installed(GAMES).items())}


def _installed(entry: str) -> bool:
    return entry in installed_games().values()


def is_game(obj: Any) -> bool:
    return all(callable(getattr(obj, m, None)) for m in GAME_METHODS)


def is_env(obj: Any) -> bool:
    return all(callable(getattr(obj, m, None)) for m in ENV_METHODS)


def load_user_game(entry: str, **options: Any) -> Game | ScoredEnv:
    """The game or environment ``"package.module:Class"`` names, built with ``options``.

    This runs the user's own code *on purpose*, and only when the user named it with their
    own hands (``engine.trust``: ``--task``, ``--game`` or the window's Task dialog); a
    name that comes only from a file or a run folder is refused with ``UntrustedCode``
    (DESIGN §12.1). Options reach the constructor only as numbers or true/false for
    parameters its signature names (``engine.trust.code_options``).

    A class (or factory) is called with ``options``; an instance is used as is. Objects
    with alpha-zero-general's method names are wrapped in ``AlphaZeroGeneralAdapter``.
    Anything wrong is a ``GameError`` with one line.
    """
    from openbrains.engine.trust import UntrustedCode, load_builtin, load_code

    try:
        obj = load_builtin(entry) if _installed(entry) else load_code(entry, "game")
    except UntrustedCode:
        raise
    except OpenBrainsError as e:
        raise GameError(str(e)) from None
    return build_game(entry, obj, options)


def build_game(entry: str, obj: Any, options: Mapping[str, Any]) -> Game | ScoredEnv:
    """``obj`` (a class, a factory or an instance) made into a game or environment."""
    from openbrains.engine.trust import code_options

    if isinstance(obj, type) or (callable(obj) and not (is_game(obj) or is_env(obj))):
        try:
            kwargs = code_options(entry, obj, options)
        except OpenBrainsError as e:
            raise GameError(str(e)) from None
        try:
            obj = obj(**kwargs)
        except Exception as e:
            raise GameError(f"building game {entry!r} failed: {type(e).__name__}: {e}") from e
    elif options:
        raise GameError(f"{entry!r} is an object, not a class: it takes no options")
    if is_game(obj) or is_env(obj):
        return obj
    if all(callable(getattr(obj, m, None)) for m in AZG_METHODS):
        return AlphaZeroGeneralAdapter(obj)
    missing = [m for m in GAME_METHODS if not callable(getattr(obj, m, None))]
    raise GameError(
        f"{entry!r} is neither a game (missing {missing}), a scored environment "
        f"(needs {list(ENV_METHODS)}) nor an alpha-zero-general game"
    )


def game_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked and converted for game ``name``'s constructor (what
    ``make_game`` would pass it), without building the game."""
    from openbrains.engine.trust import UntrustedCode, code_options, load_builtin, load_code

    entry = installed_games().get(name, name)
    try:
        target = load_builtin(entry) if _installed(entry) else load_code(entry, "game")
        return code_options(entry, target, options)
    except UntrustedCode:
        raise
    except OpenBrainsError as e:
        raise GameError(str(e)) from None


def make_game(name: str, **options: Any) -> Game | ScoredEnv:
    """An installed game by name (``"tictactoe"``, engine.plugins) or a user's game by
    entry point (``"package.module:Class"``)."""
    games = installed_games()
    if name in games:
        return load_user_game(games[name], **options)
    if ":" in name:
        return load_user_game(name, **options)
    raise GameError(
        f"unknown game {name!r}; built-ins are {sorted(games)}, "
        "or give your own as 'package.module:Class'"
    )


# ----- what a policy + value brain looks like ----------------------------------------------


def game_io(game: Game | ScoredEnv) -> tuple[dict[str, SignalSpec], dict[str, SignalSpec]]:
    """Input and output specs of a policy+value brain for ``game``.

    One input (``board`` for games, ``observation`` for environments) and two outputs:
    ``policy`` (``action_size`` logits, time 1) and ``value`` (one channel, time 1; tanh
    is applied by the loss and the evaluator so the graph's output stays linear). Pass
    them to ``compile_graph``, ``random_graph`` or ``template_graph``.
    """
    name = BOARD if is_game(game) else OBSERVATION
    inputs = {name: game.spec()}
    outputs = {
        POLICY: SignalSpec(int(game.action_size), 1),
        VALUE: SignalSpec(1, 1),
    }
    return inputs, outputs


# ----- the task ----------------------------------------------------------------------------


@dataclass
class GameTask:
    """What "good" means for a game: self-play learning, then Elo in an arena.

    ``game`` is a built-in name or a ``"package.module:Class"`` entry (see
    ``load_user_game``); ``options`` go to its constructor. For two-player games each
    candidate trains by self-play (``selfplay_games`` games of ``sims`` MCTS simulations,
    ``train_steps`` optimiser steps on its own games plus ``replay_ratio`` times as many
    examples from its worker's replay of earlier candidates' games; with ``full_share`` < 1
    only that share of moves gets the full search and becomes an example, the others a
    fast search of ``fast_sims``) and is then rated by
    ``arena_games`` games against
    others and against ``references`` (player names understood by
    ``engine.games.players.reference_player``); ``anchors`` pin reference ratings so Elo
    is an absolute yardstick. With ``arena_openings`` each pair of arena games starts
    after that many random moves, once from each side: a greedy brain and a
    depth-limited minimax choose without chance, so from the empty board their 20 games
    are one game per side, replayed. For scored environments fitness is the mean ``score`` over
    ``episodes`` episodes.
    """

    name: str
    game: str
    options: dict[str, Any] = field(default_factory=dict)
    selfplay_games: int = 32
    sims: int = 25
    train_steps: int = 200
    replay_ratio: float = 1.0
    full_share: float = 1.0
    fast_sims: int = 0
    lr: float = 3e-3
    arena_games: int = 20
    arena_sims: int = 0
    arena_openings: int = 0
    references: tuple[str, ...] = ("random", "onestep", "minimax:2")
    anchors: dict[str, float] = field(default_factory=lambda: {"random": 0.0})
    episodes: int = 20
    kind: str = "game"
    settings: dict[str, Any] = field(default_factory=dict)
    _instance: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_full_share(self.full_share)
        if self.fast_sims < 0:
            raise GameError(f"fast_sims must be 0 or more, got {self.fast_sims}")

    def make(self) -> Game | ScoredEnv:
        """The game object (built once per task instance; games are stateless, envs are
        cheap to reset)."""
        if self._instance is None:
            self._instance = make_game(self.game, **self.options)
        return self._instance

    @property
    def two_player(self) -> bool:
        return is_game(self.make())

    @property
    def runner(self) -> str:
        """Which runner trains its candidates (engine.runners): self-play and an arena for
        two-player games, policy gradient for scored environments."""
        return "game" if self.two_player else "environment"

    @property
    def inputs(self) -> dict[str, SignalSpec]:
        return game_io(self.make())[0]

    @property
    def outputs(self) -> dict[str, SignalSpec]:
        return game_io(self.make())[1]

    @property
    def input_names(self) -> list[str]:
        return list(self.inputs)

    @property
    def size_hint(self) -> int:
        """How many examples a candidate learns from (for sizing the first graphs)."""
        return self.selfplay_games * 40

    @property
    def causal(self) -> bool:
        return False

    @property
    def metric(self) -> str:
        return "elo" if self.two_player else "score"

    @property
    def higher_is_better(self) -> bool:
        return True

    @property
    def worst_metric(self) -> float:
        return -math.inf

    def fitness(self, metric_value: float) -> float:
        return metric_value if math.isfinite(metric_value) else -math.inf

    def describe(self) -> dict[str, Any]:
        """What a graph records about the task it learned (``graph.tasks``); JSON-safe."""
        return {
            "name": self.name,
            "kind": self.kind,
            "metric": self.metric,
            "game": self.game,
            "options": dict(self.options),
            "selfplay_games": self.selfplay_games,
            "sims": self.sims,
            "train_steps": self.train_steps,
            "replay_ratio": self.replay_ratio,
            "full_share": self.full_share,
            "fast_sims": self.fast_sims,
            "lr": self.lr,
            "arena_games": self.arena_games,
            "arena_sims": self.arena_sims,
            "arena_openings": self.arena_openings,
            "references": list(self.references),
            "anchors": dict(self.anchors),
            "episodes": self.episodes,
            "settings": dict(self.settings),
            "inputs": {k: v.to_dict() for k, v in self.inputs.items()},
            "outputs": {k: v.to_dict() for k, v in self.outputs.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GameTask:
        """Rebuild from ``describe()`` output (unknown keys are ignored)."""
        known = {
            "name",
            "game",
            "options",
            "selfplay_games",
            "sims",
            "train_steps",
            "replay_ratio",
            "full_share",
            "fast_sims",
            "lr",
            "arena_games",
            "arena_sims",
            "arena_openings",
            "references",
            "anchors",
            "episodes",
            "settings",
        }
        kw = {k: v for k, v in d.items() if k in known}
        if "references" in kw:
            kw["references"] = tuple(kw["references"])
        if "game" not in kw:
            raise GameError("a game task needs 'game' (a built-in name or 'package.module:Class')")
        kw.setdefault("name", kw["game"])
        return cls(**kw)


def legal_actions(game: Game, state: State) -> Sequence[int]:
    """Indices of the legal moves of ``state`` (a convenience over the boolean mask)."""
    return np.flatnonzero(game.legal(state)).tolist()
