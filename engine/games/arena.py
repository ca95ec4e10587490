"""Matches and ratings: where candidates earn their fitness (DESIGN §3.7).

``play_match`` plays both colours equally (the first mover alternates) so a first-move
advantage never counts as skill. Ratings are Elo with a draw worth half a point (the
arena of alpha-zero-general drops draws, which makes drawish games look decisive).
Reference players are *anchored*: they keep their rating (``random = 0``) and everyone
else moves, so numbers mean the same thing across runs. ``round_robin`` and ``swiss``
update ratings from fresh matches; ``fit_ratings`` re-estimates all ratings at once from
any pile of results (maximum likelihood), which does not depend on the order of games.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from openbrains.engine.games.players import Player, reference_player
from openbrains.engine.tasks.game import Game, GameError, State, state_key

DEFAULT_K = 16.0
Q = math.log(10.0) / 400.0


@dataclass
class MatchResult:
    """Games from the first player's side: wins, draws, losses."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def points(self) -> float:
        """Wins plus half the draws: what Elo compares with its expectation."""
        return self.wins + 0.5 * self.draws

    @property
    def score(self) -> float:
        """Points per game, in [0, 1] (0.5 for no games)."""
        return self.points / self.games if self.games else 0.5

    @classmethod
    def of(cls, outcome: int) -> MatchResult:
        """One game's outcome (+1 a win, -1 a loss, 0 a draw) as a tally to add."""
        return cls(int(outcome > 0), int(outcome == 0), int(outcome < 0))

    def flipped(self) -> MatchResult:
        """The same games from the other player's side."""
        return MatchResult(self.losses, self.draws, self.wins)

    def __add__(self, other: MatchResult) -> MatchResult:
        return MatchResult(
            self.wins + other.wins, self.draws + other.draws, self.losses + other.losses
        )

    def to_dict(self) -> dict[str, int]:
        return {"wins": self.wins, "draws": self.draws, "losses": self.losses}


def play_game(
    game: Game,
    first: Player,
    second: Player,
    rng: np.random.Generator,
    state: State | None = None,
    max_moves: int = 10_000,
) -> int:
    """One game, ``first`` playing +1 and ``second`` -1; the outcome from +1's view.

    A player that returns an illegal move loses that game on the spot (a buggy user game
    or brain should not stop a tournament).
    """
    state = game.initial() if state is None else state
    for _ in range(max_moves):
        result = game.outcome(state)
        if result is not None:
            return int(result)
        mover = game.current_player(state)
        player = first if mover == 1 else second
        action = int(player.act(game, state, rng))
        legal = game.legal(state)
        if not (0 <= action < len(legal) and legal[action]):
            return -mover
        state = game.play(state, action)
    return 0


def play_match(
    p1: Player,
    p2: Player,
    game: Game,
    n_games: int,
    seed: int = 0,
    opening_plies: int = 0,
) -> MatchResult:
    """``n_games`` games; ``p1`` starts the even-numbered ones, ``p2`` the odd ones (use an
    even number for exact fairness). Game ``i`` draws its randomness from ``(seed, i)``,
    so a match is reproducible and its games independent of each other.

    With ``opening_plies`` each pair of games starts from its own position after that many
    random moves, once with each player first (positions repeat only when the game has
    too few). Two players that pick their moves without chance (a greedy brain, a
    depth-limited minimax, which seldom meets a tie) otherwise replay one game per side."""
    starts = opening_cycle(game, (n_games + 1) // 2, seed, opening_plies)
    result = MatchResult()
    for _i, outcome in match_games(p1, p2, game, n_games, seed, starts):
        result += MatchResult.of(outcome)
    return result


def match_games(
    p1: Player, p2: Player, game: Game, n_games: int, seed: int, starts: Sequence[State]
) -> Iterator[tuple[int, int]]:
    """Game number and outcome from ``p1``'s view of each game of a match: ``p1`` first in
    the even-numbered ones, game ``i`` seeded ``(seed, i)``, pair ``k`` started from
    ``starts[k]`` (the empty board when ``starts`` is empty)."""
    for i in range(n_games):
        rng = np.random.default_rng([seed, i])
        state = starts[i // 2] if starts else None
        if i % 2 == 0:
            yield i, play_game(game, p1, p2, rng, state=state)
        else:
            yield i, -play_game(game, p2, p1, rng, state=state)


OPENING_TRIES = 50
"""Random openings drawn per one asked for before deciding the game has too few."""


def openings(game: Game, count: int, seed: int, plies: int) -> list[State]:
    """``count`` distinct unfinished positions after ``plies`` random moves (seeded;
    moves in another order that reach the same position count once).

    Raises ``GameError`` when the game has fewer such positions than asked for."""
    found = distinct_openings(game, count, seed, plies)
    if len(found) < count:
        raise GameError(
            f"{game.name} has too few unfinished positions after {plies} moves for "
            f"{count} openings (found {len(found)}); play fewer games or longer openings"
        )
    return found


def opening_cycle(game: Game, count: int, seed: int, plies: int) -> list[State]:
    """``count`` openings as ``openings`` draws them, the distinct ones repeated in turn
    when the game has fewer; none for ``plies`` 0."""
    if plies <= 0 or count <= 0:
        return []
    found = distinct_openings(game, count, seed, plies) or [game.initial()]
    return [found[i % len(found)] for i in range(count)]


def distinct_openings(game: Game, count: int, seed: int, plies: int) -> list[State]:
    """Up to ``count`` distinct unfinished positions after ``plies`` random moves."""
    rng = np.random.default_rng([seed, plies])
    found: dict[Hashable, State] = {}
    for _ in range(OPENING_TRIES * count):
        if len(found) == count:
            break
        state = game.initial()
        for _ in range(plies):
            if game.outcome(state) is not None:
                break
            state = game.play(state, int(rng.choice(np.flatnonzero(game.legal(state)))))
        if game.outcome(state) is None:
            found.setdefault(state_key(game, state), state)
    return list(found.values())


# ----- Elo -----------------------------------------------------------------------------------


def expected(ra: float, rb: float) -> float:
    """Expected points per game of a player rated ``ra`` against one rated ``rb``."""
    return 1.0 / (1.0 + 10.0 ** ((rb - ra) / 400.0))


def update(
    ra: float, rb: float, score_a: float, k: float = DEFAULT_K, games: int = 1
) -> tuple[float, float]:
    """New ratings after ``games`` games in which A scored ``score_a`` points in total
    (1 a win, 0.5 a draw, 0 a loss per game); the change is zero-sum."""
    delta = k * (score_a - games * expected(ra, rb))
    return ra + delta, rb - delta


@dataclass
class Tournament:
    """Ratings after a tournament and every match played in it (A's side first)."""

    ratings: dict[str, float]
    results: list[tuple[str, str, MatchResult]] = field(default_factory=list)

    def table(self) -> str:
        """Ratings, best first, as a small text table for the terminal."""
        width = max((len(n) for n in self.ratings), default=4)
        rows = sorted(self.ratings.items(), key=lambda kv: -kv[1])
        return "\n".join(f"{name:<{width}}  {r:8.1f}" for name, r in rows)


def _start(
    names: Iterable[str],
    ratings: Mapping[str, float] | None,
    anchors: Mapping[str, float] | None,
    initial: float,
) -> dict[str, float]:
    out = {n: float((ratings or {}).get(n, initial)) for n in names}
    out.update({n: float(r) for n, r in (anchors or {}).items() if n in out})
    return out


def _apply(
    ratings: dict[str, float],
    matches: list[tuple[str, str, MatchResult]],
    anchors: Mapping[str, float] | None,
    k: float,
) -> None:
    """Elo updates of one round, all computed from the ratings before it (so the order of
    matches inside a round does not matter); anchored players never move."""
    deltas = dict.fromkeys(ratings, 0.0)
    for a, b, res in matches:
        d = k * (res.points - res.games * expected(ratings[a], ratings[b]))
        deltas[a] += d
        deltas[b] -= d
    for name, d in deltas.items():
        if not anchors or name not in anchors:
            ratings[name] += d


def round_robin(
    players: Mapping[str, Player],
    game: Game,
    n_games: int = 10,
    seed: int = 0,
    ratings: Mapping[str, float] | None = None,
    anchors: Mapping[str, float] | None = None,
    k: float = DEFAULT_K,
    initial: float = 0.0,
) -> Tournament:
    """Every pair plays ``n_games`` games; returns updated ratings and the results.

    Players missing from ``ratings`` start at ``initial``; ``anchors`` (e.g. ``{"random":
    0}``) fix those players' ratings. Pair ``(i, j)`` uses seed ``(seed, i, j)``.
    """
    names = list(players)
    current = _start(names, ratings, anchors, initial)
    matches = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            res = play_match(players[a], players[b], game, n_games, seed=_pair_seed(seed, i, j))
            matches.append((a, b, res))
    _apply(current, matches, anchors, k)
    return Tournament(current, matches)


def swiss(
    players: Mapping[str, Player],
    game: Game,
    rounds: int = 3,
    n_games: int = 10,
    seed: int = 0,
    ratings: Mapping[str, float] | None = None,
    anchors: Mapping[str, float] | None = None,
    k: float = DEFAULT_K,
    initial: float = 0.0,
) -> Tournament:
    """``rounds`` rounds; each pairs players of similar rating who have not met yet.

    Much cheaper than a round robin for a large population (``n/2`` matches a round) and
    informative, since even matches carry the most information per game. With an odd
    number of players the lowest rated unpaired one sits the round out.
    """
    names = list(players)
    index = {n: i for i, n in enumerate(names)}
    current = _start(names, ratings, anchors, initial)
    met: set[frozenset[str]] = set()
    all_matches: list[tuple[str, str, MatchResult]] = []
    for rnd in range(rounds):
        pairs = swiss_pairs(current, met)
        matches = []
        for a, b in pairs:
            s = _pair_seed(seed + 7919 * rnd, index[a], index[b])
            res = play_match(players[a], players[b], game, n_games, seed=s)
            matches.append((a, b, res))
            met.add(frozenset((a, b)))
        _apply(current, matches, anchors, k)
        all_matches.extend(matches)
    return Tournament(current, all_matches)


def swiss_pairs(ratings: Mapping[str, float], met: set[frozenset[str]]) -> list[tuple[str, str]]:
    """Pairs by rating, best first: each player meets the nearest-rated one it has not met
    (a rematch only when nobody else is left)."""
    order = sorted(ratings, key=lambda n: (-ratings[n], n))
    pairs = []
    free = list(order)
    while len(free) >= 2:
        a = free.pop(0)
        j = next((i for i, b in enumerate(free) if frozenset((a, b)) not in met), 0)
        pairs.append((a, free.pop(j)))
    return pairs


def _pair_seed(seed: int, i: int, j: int) -> int:
    return int(np.random.SeedSequence([seed, i, j]).generate_state(1)[0])


def fit_ratings(
    results: Iterable[tuple[str, str, MatchResult]],
    anchors: Mapping[str, float] | None = None,
    prior_games: float = 1.0,
    iters: int = 100,
) -> dict[str, float]:
    """Maximum-likelihood Elo ratings (Bradley-Terry, draws as half points) of everyone in
    ``results``, with anchored players fixed (without anchors the mean is 0).

    Each free player gets ``prior_games`` virtual draws against the anchor level, so one
    who won (or lost) every game gets a large but finite rating.
    """
    results = list(results)
    names = sorted({n for a, b, _ in results for n in (a, b)} | set(anchors or {}))
    idx = {n: i for i, n in enumerate(names)}
    m = len(names)
    points = np.zeros((m, m))  # points[i, j]: what i scored against j
    games = np.zeros((m, m))
    for a, b, res in results:
        i, j = idx[a], idx[b]
        points[i, j] += res.points
        points[j, i] += res.games - res.points
        games[i, j] += res.games
        games[j, i] += res.games
    fixed = np.array([n in (anchors or {}) for n in names])
    level = float(np.mean(list(anchors.values()))) if anchors else 0.0
    r = np.array([float((anchors or {}).get(n, level)) for n in names])
    for _ in range(iters):
        e = 1.0 / (1.0 + 10.0 ** ((r[None, :] - r[:, None]) / 400.0))
        e_prior = 1.0 / (1.0 + 10.0 ** ((level - r) / 400.0))
        grad = (points - games * e).sum(axis=1) + prior_games * (0.5 - e_prior)
        hess = (games * e * (1 - e)).sum(axis=1) + prior_games * e_prior * (1 - e_prior)
        step = np.clip(grad / (Q * np.maximum(hess, 1e-9)), -400.0, 400.0)
        step[fixed] = 0.0
        r = r + step
        if not anchors:
            r -= r.mean()
        if np.abs(step).max() < 1e-6:
            break
    return {n: float(r[idx[n]]) for n in names}


# ----- the absolute yardstick ------------------------------------------------------------------


def calibrate_references(
    game: Game,
    names: Sequence[str] = ("random", "onestep", "minimax:2"),
    n_games: int = 40,
    seed: int = 0,
    anchors: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Ratings of reference players (names as ``reference_player`` reads them) from a
    round robin among themselves, with ``random`` anchored at 0 by default. Do this once
    per game and keep the numbers: they are what candidates are measured against."""
    anchors = {"random": 0.0} if anchors is None else dict(anchors)
    players = {n: reference_player(n, game, seed) for n in names}
    t = round_robin(players, game, n_games, seed, anchors=anchors)
    return fit_ratings(t.results, anchors)


def rate_player(
    player: Player,
    game: Game,
    references: Mapping[str, Player],
    reference_ratings: Mapping[str, float],
    n_games: int = 20,
    seed: int = 0,
    name: str = "candidate",
) -> tuple[float, list[tuple[str, str, MatchResult]]]:
    """A rating for ``player`` on the references' scale: it plays ``n_games`` against each
    reference (both colours) and its rating is fitted with every reference held at its
    known rating. Cheap enough for a worker to run per candidate; the results can also
    join the run's pile for ``fit_ratings`` later."""
    results = []
    for i, (ref_name, ref) in enumerate(references.items()):
        res = play_match(player, ref, game, n_games, seed=_pair_seed(seed, 0, i + 1))
        results.append((name, ref_name, res))
    anchors = {n: float(reference_ratings[n]) for n in references}
    return fit_ratings(results, anchors=anchors)[name], results
