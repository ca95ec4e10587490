"""A small grid maze: the built-in single-player scored environment.

Each ``reset(seed)`` draws a square grid with random walls (re-drawn until the goal can be
reached), puts the walker in the top-left corner and the goal in the bottom-right one.
Every step costs ``step_penalty``; reaching the goal pays ``1``; an episode also ends after
``max_steps``. The score is the episode's total reward, so a shorter route scores higher
and ``optimal_score()`` (from a breadth-first search) is the ceiling to compare with.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from openbrains.engine.signal import SignalSpec
from openbrains.engine.tasks.game import board_spec

MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # up, right, down, left
ARROWS = "^>v<"


class Maze:
    """A ``size × size`` maze; see ``engine.tasks.game.ScoredEnv`` for the protocol.

    Observation planes (``[size * size, 3]``, an image grid): wall, walker, goal.
    Walking into a wall or the edge costs a step and leaves the walker where it was.
    """

    name = "maze"
    action_size = len(MOVES)

    def __init__(
        self,
        size: int = 6,
        wall_density: float = 0.25,
        step_penalty: float = 0.02,
        max_steps: int | None = None,
    ) -> None:
        if size < 2:
            raise ValueError(f"a maze needs size >= 2, got {size}")
        if not 0.0 <= wall_density < 0.9:
            raise ValueError(f"wall_density must be in [0, 0.9), got {wall_density}")
        self.size = int(size)
        self.wall_density = float(wall_density)
        self.step_penalty = float(step_penalty)
        self.max_steps = int(max_steps or 4 * size * size)
        self._rng = np.random.default_rng()
        self.walls = np.zeros((size, size), dtype=bool)
        self.pos = (0, 0)
        self.goal = (size - 1, size - 1)
        self.steps = 0
        self.total = 0.0
        self.done = True

    # ----- protocol ------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> np.ndarray:
        """A new maze: the same ``seed`` gives the same layout; ``None`` draws a fresh one."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        n = self.size
        while True:
            walls = self._rng.random((n, n)) < self.wall_density
            walls[0, 0] = walls[n - 1, n - 1] = False
            self.walls = walls
            if self._distance((0, 0)) is not None:
                break
        self.pos = (0, 0)
        self.steps = 0
        self.total = 0.0
        self.done = False
        return self.observe()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        if self.done:
            raise ValueError("the episode is over; call reset()")
        dr, dc = MOVES[int(action)]
        r, c = self.pos[0] + dr, self.pos[1] + dc
        if 0 <= r < self.size and 0 <= c < self.size and not self.walls[r, c]:
            self.pos = (r, c)
        self.steps += 1
        reward = -self.step_penalty
        if self.pos == self.goal:
            reward += 1.0
            self.done = True
        elif self.steps >= self.max_steps:
            self.done = True
        self.total += reward
        return self.observe(), reward, self.done

    def score(self) -> float:
        return self.total

    def spec(self) -> SignalSpec:
        return board_spec(self.size, self.size, 3)

    # ----- helpers -------------------------------------------------------------------------
    def observe(self) -> np.ndarray:
        out = np.zeros((self.size * self.size, 3), dtype=np.float32)
        out[:, 0] = self.walls.reshape(-1)
        out[self.pos[0] * self.size + self.pos[1], 1] = 1.0
        out[self.goal[0] * self.size + self.goal[1], 2] = 1.0
        return out

    def _distance(self, start: tuple[int, int]) -> int | None:
        """Steps from ``start`` to the goal on the shortest route (None: unreachable)."""
        seen = {start: 0}
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            if cell == self.goal:
                return seen[cell]
            for dr, dc in MOVES:
                r, c = cell[0] + dr, cell[1] + dc
                nxt = (r, c)
                if (
                    0 <= r < self.size
                    and 0 <= c < self.size
                    and not self.walls[r, c]
                    and nxt not in seen
                ):
                    seen[nxt] = seen[cell] + 1
                    queue.append(nxt)
        return None

    def best_action(self) -> int:
        """A move on a shortest route from here (a reference player for tests)."""
        best, best_d = 0, None
        for a, (dr, dc) in enumerate(MOVES):
            r, c = self.pos[0] + dr, self.pos[1] + dc
            if 0 <= r < self.size and 0 <= c < self.size and not self.walls[r, c]:
                d = self._distance((r, c))
                if d is not None and (best_d is None or d < best_d):
                    best, best_d = a, d
        return best

    def optimal_score(self) -> float:
        """The score of a shortest route in the current maze, from the start."""
        d = self._distance((0, 0)) or 0
        return 1.0 - self.step_penalty * d

    def render(self) -> str:
        rows = []
        for r in range(self.size):
            row = []
            for c in range(self.size):
                if (r, c) == self.pos:
                    row.append("@")
                elif (r, c) == self.goal:
                    row.append("G")
                else:
                    row.append("#" if self.walls[r, c] else ".")
            rows.append(" ".join(row))
        return "\n".join(rows)
