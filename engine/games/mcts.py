"""PUCT Monte-Carlo tree search, as in AlphaZero, over any ``engine.tasks.game.Game``.

Priors and values come from an *evaluator*: ``evaluator(states) -> (priors [N, A], values
[N])``, values in [-1, 1] from the view of the player to move in each state. Leaves are
evaluated in batches: ``search_many`` grows several trees side by side (one leaf from each
per round, e.g. all the games of a self-play batch), and ``leaves_per_call > 1`` collects
several leaves of one tree per call with a virtual loss; a brain pays its Python overhead
once per batch instead of once per leaf. Terminal positions are scored exactly by the
game's ``outcome``, never by the evaluator, so forced wins are found without a trained net.

Exact results also travel up the tree (MCTS-Solver, Winands, Björnsson and Saito 2008): a
position is *proven* once one of its moves is a proven win for the player to move, or every
legal move is proven (its value is then the best of them). A proven-losing move is never
selected while another remains, and the move played is a proven win when there is one,
never a proven loss while a move is unproven, and the slowest loss when all are lost.
Each expansion also looks for moves that end the game at once (``expand``). Without this,
a move whose reply wins at once keeps the average of all the replies it was tried with,
and with a few dozen simulations that average can still look good.

No torch here: ``engine.games.players.BrainEvaluator`` turns a brain into an evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from openbrains.engine.tasks.game import Game, State

Evaluator = Callable[[Sequence[State]], tuple[np.ndarray, np.ndarray]]

# added to a proven win's selection score (subtracted from a loss's): beyond any Q + U
PROVEN_WEIGHT = 1e9


class Node:
    """One position in a search tree. Edge statistics live in the parent, as arrays over
    actions: ``N`` (visits), ``W`` (summed value from *this node's* player's view) and
    ``prior``; children are made when first visited, or on expansion where the move
    ends the game (``expand``)."""

    __slots__ = (
        "N",
        "W",
        "children",
        "expanded",
        "legal",
        "n_total",
        "player",
        "prior",
        "proven",
        "proven_in",
        "solved",
        "solved_in",
        "state",
        "terminal",
    )

    def __init__(self, game: Game, state: State) -> None:
        self.state = state
        self.player = game.current_player(state)
        outcome = game.outcome(state)
        # value of a finished game from the view of the player "to move" there
        self.terminal: float | None = None if outcome is None else float(outcome * self.player)
        # the exact value from this node's player's view, once the search proved it
        self.proven: float | None = self.terminal
        self.proven_in = 0  # plies from here to the proven end
        self.expanded = False
        self.children: dict[int, Node] = {}
        self.n_total = 0
        self.legal: np.ndarray | None = None
        self.prior: np.ndarray | None = None
        self.N: np.ndarray | None = None
        self.W: np.ndarray | None = None
        # per action: the proven value of playing it, from this node's player's view (NaN:
        # not proven); ``None`` until a child is proven, so most nodes pay nothing for it
        self.solved: np.ndarray | None = None
        self.solved_in: np.ndarray | None = None  # plies to the end after each proven move

    def expand(self, game: Game, prior: np.ndarray) -> None:
        """Store the evaluator's priors, masked to legal moves and renormalised, and try
        each move for a game that ends at once: those children are kept, proven, so a win
        in one is seen on expansion and the move that allowed it is proven lost by the
        parent without waiting for the search to visit that reply."""
        legal = np.asarray(game.legal(self.state), dtype=bool)
        p = np.where(legal, np.maximum(np.asarray(prior, dtype=np.float64), 0.0), 0.0)
        total = p.sum()
        if not np.isfinite(total) or total <= 0:
            p = legal.astype(np.float64)
            total = p.sum()
        self.legal = legal
        self.prior = p / max(total, 1e-12)
        self.N = np.zeros(len(legal), dtype=np.float64)
        self.W = np.zeros(len(legal), dtype=np.float64)
        self.expanded = True
        quick = getattr(game, "ending_moves", None)  # optional: the moves that end the game
        for a in quick(self.state) if quick is not None else np.flatnonzero(legal):
            child = self.children.get(int(a)) or Node(game, game.play(self.state, int(a)))
            self.children[int(a)] = child  # kept: a later visit reuses it
            if child.terminal is not None:
                self.prove(int(a), child)

    def select(self, c_puct: float, fpu: float) -> int:
        """The action maximising Q + U (PUCT). Unvisited moves count as ``fpu``; with no
        visits yet the exploration term still follows the priors. A proven move counts its
        exact value, and a proven win or loss outranks (or falls below) every unproven move."""
        n = self.N
        q = np.where(n > 0, self.W / np.maximum(n, 1.0), fpu)
        u = c_puct * self.prior * math.sqrt(max(self.n_total, 1)) / (1.0 + n)
        if self.solved is None:
            score = q + u
        else:
            known = ~np.isnan(self.solved)
            exact = np.where(known, self.solved, 0.0)
            score = np.where(known, exact, q) + u + PROVEN_WEIGHT * np.trunc(exact)
        return int(np.argmax(np.where(self.legal, score, -np.inf)))

    def prove(self, action: int, child: Node) -> bool:
        """Record that ``child`` (reached by ``action``) is proven; returns whether this
        node is now proven too. A proven win counts the plies to its quickest end, any other
        result those to its slowest."""
        if self.solved is None:
            self.solved = np.full(len(self.legal), np.nan)
            self.solved_in = np.zeros(len(self.legal))
        self.solved[action] = child.proven if child.player == self.player else -child.proven
        self.solved_in[action] = child.proven_in + 1
        known = self.solved[self.legal]
        if (known >= 1.0).any():
            self.proven = 1.0
            self.proven_in = int(self.solved_in[self.legal & (self.solved >= 1.0)].min())
        elif not np.isnan(known).any():
            self.proven = float(known.max())
            self.proven_in = int(self.solved_in[self.legal].max())
        return self.proven is not None

    def choices(self) -> np.ndarray:
        """The moves worth playing: the quickest proven wins if there are any, else the
        legal moves not proven lost, else (every move lost) those that lose slowest, for an
        opponent may not see that far."""
        legal = self.legal.copy()
        if self.solved is None:
            return legal
        wins = legal & (self.solved >= 1.0)
        if wins.any():
            return wins & (self.solved_in == self.solved_in[wins].min())
        alive = legal & ~(self.solved <= -1.0)
        if alive.any():
            return alive
        return legal & (self.solved_in == self.solved_in[legal].max())

    def value(self) -> float:
        """Mean value of the visits below this node, from its player's view (the exact
        value once proven)."""
        if self.proven is not None:
            return self.proven
        if not self.n_total:
            return 0.0
        return float(self.W.sum() / self.n_total)


def uniform_evaluator(game: Game) -> Evaluator:
    """Flat priors and a neutral value: MCTS with this is pure tree search plus exact
    terminal values, the baseline that must already find short forced wins."""

    def evaluate(states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        return np.ones((len(states), game.action_size)), np.zeros(len(states))

    return evaluate


def rollout_evaluator(game: Game, seed: int = 0, rollouts: int = 1) -> Evaluator:
    """Flat priors and the mean result of random playouts: classic MCTS, a reference
    player that needs no training (much slower per leaf than a brain)."""
    rng = np.random.default_rng(seed)

    def evaluate(states: Sequence[State]) -> tuple[np.ndarray, np.ndarray]:
        values = np.zeros(len(states))
        for i, s in enumerate(states):
            me = game.current_player(s)
            total = 0.0
            for _ in range(rollouts):
                cur = s
                while (o := game.outcome(cur)) is None:
                    cur = game.play(cur, int(rng.choice(np.flatnonzero(game.legal(cur)))))
                total += o * me
            values[i] = total / rollouts
        return np.ones((len(states), game.action_size)), values

    return evaluate


class MCTS:
    """PUCT search with a fixed budget of ``sims`` simulations per move.

    ``dirichlet_alpha=None`` picks ``min(1, 10 / legal moves)`` (AlphaZero's rule of
    thumb); noise is mixed into the root priors only when asked (self-play), with weight
    ``noise_frac``. ``evaluations`` and ``calls`` count leaves and evaluator calls.
    """

    def __init__(
        self,
        game: Game,
        evaluator: Evaluator,
        sims: int = 50,
        c_puct: float = 1.5,
        dirichlet_alpha: float | None = None,
        noise_frac: float = 0.25,
        fpu: float = 0.0,
        leaves_per_call: int = 1,
    ) -> None:
        if sims < 1:
            raise ValueError(f"MCTS needs sims >= 1, got {sims}")
        self.game = game
        self.evaluator = evaluator
        self.sims = int(sims)
        self.c_puct = float(c_puct)
        self.dirichlet_alpha = dirichlet_alpha
        self.noise_frac = float(noise_frac)
        self.fpu = float(fpu)
        self.leaves_per_call = max(1, int(leaves_per_call))
        self.evaluations = 0
        self.calls = 0

    # ----- public ------------------------------------------------------------------------
    def search(
        self, state: State, rng: np.random.Generator | None = None, noise: bool = False
    ) -> Node:
        """Search from ``state``; returns the root (read ``root.N`` or ``visit_policy``)."""
        return self.search_many([state], rng, noise)[0]

    def search_many(
        self,
        states: Sequence[State],
        rng: np.random.Generator | None = None,
        noise: bool = False,
    ) -> list[Node]:
        """Grow one tree per state, batching their leaves into shared evaluator calls."""
        rng = rng if rng is not None else np.random.default_rng()
        roots = [Node(self.game, s) for s in states]
        self._evaluate([([], r) for r in roots if r.terminal is None])
        if noise:
            for r in roots:
                if r.terminal is None:
                    self._add_noise(r, rng)
        while active := [r for r in roots if r.terminal is None and r.n_total < self.sims]:
            pending: list[tuple[list[tuple[Node, int]], Node]] = []
            for root in active:  # every round adds at least one visit to every active root
                pending.extend(self._collect(root, self.sims - root.n_total))
            self._evaluate(pending)
        return roots

    def policy(
        self,
        state: State,
        temperature: float = 1.0,
        rng: np.random.Generator | None = None,
        noise: bool = False,
    ) -> np.ndarray:
        """The visit-count policy at ``state`` (see ``visit_policy``)."""
        return visit_policy(self.search(state, rng, noise), temperature, rng)

    # ----- internals ---------------------------------------------------------------------
    def _collect(self, root: Node, room: int) -> list[tuple[list[tuple[Node, int]], Node]]:
        """Up to ``leaves_per_call`` leaves of one tree. Terminal leaves are backed up at
        once; with more than one leaf a virtual loss steers later descents elsewhere."""
        out: list[tuple[list[tuple[Node, int]], Node]] = []
        virtual = self.leaves_per_call > 1
        seen: set[int] = set()
        for _ in range(min(self.leaves_per_call, room)):
            path, leaf = self._descend(root)
            if leaf.proven is not None:
                _backup(path, leaf, leaf.proven)
                _prove(path)
                continue
            if id(leaf) in seen:  # the same leaf again: this round is done
                break
            seen.add(id(leaf))
            if virtual:
                for node, a in path:
                    node.N[a] += 1
                    node.W[a] -= 1.0
                    node.n_total += 1
            out.append((path, leaf))
        if virtual:
            for path, _leaf in out:
                for node, a in path:
                    node.N[a] -= 1
                    node.W[a] += 1.0
                    node.n_total -= 1
        return out

    def _descend(self, root: Node) -> tuple[list[tuple[Node, int]], Node]:
        node, path = root, []
        # a proven node is a leaf with an exact value; the root is searched on regardless, so
        # its visits gather on the proven win (or spread over the lost moves)
        while node.expanded and node.terminal is None and (node is root or node.proven is None):
            a = node.select(self.c_puct, self.fpu)
            path.append((node, a))
            child = node.children.get(a)
            if child is None:
                child = Node(self.game, self.game.play(node.state, a))
                node.children[a] = child
            node = child
        return path, node

    def _evaluate(self, pending: list[tuple[list[tuple[Node, int]], Node]]) -> None:
        if not pending:
            return
        priors, values = self.evaluator([leaf.state for _, leaf in pending])
        self.calls += 1
        self.evaluations += len(pending)
        for (path, leaf), p, v in zip(pending, priors, values):
            if not leaf.expanded:
                leaf.expand(self.game, p)
            if leaf.proven is not None:  # a win in one, seen on expansion
                _backup(path, leaf, leaf.proven)
                _prove(path)
            else:
                _backup(path, leaf, float(np.clip(v, -1.0, 1.0)))

    def _add_noise(self, root: Node, rng: np.random.Generator) -> None:
        legal = np.flatnonzero(root.legal)
        if len(legal) < 2:
            return
        alpha = self.dirichlet_alpha or min(1.0, 10.0 / len(legal))
        noise = rng.dirichlet(np.full(len(legal), alpha))
        mixed = root.prior.copy()
        mixed[legal] = (1 - self.noise_frac) * mixed[legal] + self.noise_frac * noise
        root.prior = mixed


def _prove(path: list[tuple[Node, int]]) -> None:
    """Carry a proof up the path, as far as each parent becomes proven in turn."""
    for node, a in reversed(path):
        if not node.prove(a, node.children[a]):
            return


def _backup(path: list[tuple[Node, int]], leaf: Node, value: float) -> None:
    """Add ``value`` (from ``leaf``'s player's view) to every edge on the path, each from
    its own node's player's view."""
    for node, a in path:
        node.N[a] += 1
        node.W[a] += value if node.player == leaf.player else -value
        node.n_total += 1


def visit_policy(
    root: Node, temperature: float = 1.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Visits turned into a distribution: ``N^(1/τ)`` normalised; ``τ = 0`` puts all mass
    on the most visited move (ties broken at random with ``rng``, else the first). Only
    ``root.choices()`` count: a proven win is played even when it was proven too late in
    the search to gather the most visits, and a proven loss is not."""
    if root.N is None:
        return np.zeros(0)
    allowed = root.choices()
    n = np.where(allowed, root.N, 0.0)
    if n.sum() <= 0:  # no simulations among them yet: fall back to the priors
        n = np.where(allowed, root.prior, 0.0)
    if temperature <= 1e-6:
        best = np.flatnonzero(n == n.max())
        pick = int(rng.choice(best)) if rng is not None and len(best) > 1 else int(best[0])
        out = np.zeros_like(n)
        out[pick] = 1.0
        return out
    n = n ** (1.0 / temperature)
    return n / n.sum()


def sample_action(policy: np.ndarray, rng: np.random.Generator) -> int:
    """Draw an action from a distribution (float rounding tolerated)."""
    p = np.asarray(policy, dtype=np.float64)
    return int(rng.choice(len(p), p=p / p.sum()))
