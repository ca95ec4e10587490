"""The run archive: one SQLite file (WAL) per run folder, and a lock so one process owns it.

Every finished individual is one committed transaction (row, weights, scores, event), so a
power cut or ``kill -9`` loses at most the work in flight and the run resumes where it was.
Weights are safetensors blobs; graphs are JSON. Retention keeps the weights that matter
(the living population, the Pareto front, species champions, the champion's lineage).
"""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine import __version__
from engine.errors import OpenBrainsError

SCHEMA_VERSION = 1
DB_NAME = "run.sqlite"
LOCK_NAME = "run.lock"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS individuals (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    origin TEXT NOT NULL,
    parents TEXT NOT NULL,
    mutation TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    graph TEXT NOT NULL,
    structure TEXT NOT NULL,
    species INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    rung INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,
    train_seconds REAL NOT NULL DEFAULT 0,
    params INTEGER NOT NULL DEFAULT 0,
    flops INTEGER NOT NULL DEFAULT 0,
    latency_ms REAL NOT NULL DEFAULT 0,
    val_metric REAL,
    test_metric REAL,
    fitness REAL,
    alive INTEGER NOT NULL DEFAULT 1,
    curve TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS individuals_alive ON individuals(alive);
CREATE TABLE IF NOT EXISTS weights (
    individual INTEGER PRIMARY KEY REFERENCES individuals(id),
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS scores (
    individual INTEGER NOT NULL REFERENCES individuals(id),
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (individual, split, metric)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    last_seen REAL NOT NULL
);
"""


class ArchiveError(OpenBrainsError):
    """A run folder that cannot be used: locked, corrupt, or from a newer version."""


@dataclass
class Record:
    """One finished individual as the archive holds it."""

    id: int
    origin: str
    parents: list[int]
    graph_json: str
    structure: str
    status: str
    rung: int = 0
    steps: int = 0
    train_seconds: float = 0.0
    params: int = 0
    flops: int = 0
    latency_ms: float = 0.0
    val_metric: float | None = None
    test_metric: float | None = None
    fitness: float | None = None
    species: int = 0
    mutation: str = ""
    detail: str = ""
    alive: bool = True
    created: float = 0.0
    curve: list[Any] = field(default_factory=list)


def _num(x: float | None) -> float | None:
    """SQLite stores no infinities portably; None stands for 'no score' (diverged)."""
    return None if x is None or not math.isfinite(x) else float(x)


class Archive:
    """Open (creating if needed) the archive of ``run_dir``, holding its lock."""

    def __init__(
        self, run_dir: Path, create: bool = True, lock: bool = True, readonly: bool = False
    ) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / DB_NAME
        if not self.path.exists() and (not create or readonly):
            raise ArchiveError(f"{self.run_dir} is not a run folder (no {DB_NAME})")
        self._lock_fd: int | None = None
        if readonly:  # status and export while a run may be writing: never write, never lock
            try:
                self.db = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, timeout=30, isolation_level=None
                )
                self._check_version()
                self.db.execute("SELECT COUNT(*) FROM individuals").fetchone()
            except sqlite3.DatabaseError as exc:
                raise ArchiveError(f"{self.path} is not a readable run archive ({exc})") from None
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if lock:
            self._take_lock()
        try:
            # one user at a time, but maybe not the thread that opened it (the service hands
            # a run to its search thread)
            self.db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._check_version()  # before anything writes to a file we may not own
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
            with self.transaction():
                self.db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                self.db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('created_by', ?)",
                    (f"openbrains {__version__}",),
                )
        except sqlite3.DatabaseError as exc:
            self.release()
            raise ArchiveError(f"{self.path} is not a readable run archive ({exc})") from None

    # ----- locking -------------------------------------------------------------------
    def _take_lock(self) -> None:
        path = self.run_dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ArchiveError(
                f"{self.run_dir} is in use by another openbrains process (pid {other}); "
                "stop it first or choose another --run-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self.release()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_version(self) -> None:
        row = None
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return  # a new archive
            raise
        if row and int(row[0]) > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.run_dir} was written by a newer Open Brains (archive version {row[0]}); "
                f"this version reads up to {SCHEMA_VERSION} — upgrade openbrains"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # ----- meta ------------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (key, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()),
            )

    # ----- individuals ---------------------------------------------------------------
    def next_id(self) -> int:
        row = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM individuals").fetchone()
        return int(row[0]) + 1

    def add(
        self,
        rec: Record,
        weights: bytes | None,
        scores: dict[str, dict[str, float]],
        retire: Iterable[int] = (),
        event: dict[str, Any] | None = None,
    ) -> int:
        """Store a finished individual and everything about it in one transaction."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO individuals (id, created, origin, parents, mutation, detail, graph, "
                "structure, species, status, rung, steps, train_seconds, params, flops, latency_ms, "
                "val_metric, test_metric, fitness, alive, curve) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rec.id if rec.id > 0 else None,
                    rec.created or time.time(),
                    rec.origin,
                    orjson.dumps(rec.parents).decode(),
                    rec.mutation,
                    rec.detail,
                    rec.graph_json,
                    rec.structure,
                    rec.species,
                    rec.status,
                    rec.rung,
                    rec.steps,
                    rec.train_seconds,
                    rec.params,
                    rec.flops,
                    rec.latency_ms,
                    _num(rec.val_metric),
                    _num(rec.test_metric),
                    _num(rec.fitness),
                    int(rec.alive),
                    orjson.dumps(rec.curve).decode(),
                ),
            )
            ind = int(cur.lastrowid)
            if weights is not None:
                db.execute("INSERT INTO weights VALUES (?, ?)", (ind, weights))
            for split, metrics in scores.items():
                for metric, value in metrics.items():
                    db.execute(
                        "INSERT INTO scores VALUES (?,?,?,?)", (ind, split, metric, _num(value))
                    )
            retire = list(retire)
            if retire:
                db.executemany("UPDATE individuals SET alive=0 WHERE id=?", [(r,) for r in retire])
            db.execute(
                "INSERT INTO events (time, kind, data) VALUES (?, 'individual', ?)",
                (time.time(), orjson.dumps({"id": ind, **(event or {})}).decode()),
            )
        return ind

    def update_score(self, ind: int, val_metric: float | None, fitness: float | None) -> None:
        """A living member's rating moved (arena games against newcomers)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE individuals SET val_metric=?, fitness=? WHERE id=?",
                (_num(val_metric), _num(fitness), ind),
            )

    def log_event(self, kind: str, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (time, kind, data) VALUES (?,?,?)",
                (time.time(), kind, orjson.dumps(data).decode()),
            )

    _COLUMNS = (
        "id, origin, parents, graph, structure, status, rung, steps, train_seconds, params, flops, "
        "latency_ms, val_metric, test_metric, fitness, species, mutation, detail, alive, created, curve"
    )

    def _record(self, row: tuple) -> Record:
        (
            i,
            origin,
            parents,
            graph,
            structure,
            status,
            rung,
            steps,
            secs,
            params,
            flops,
            lat,
            val,
            test,
            fit,
            species,
            mutation,
            detail,
            alive,
            created,
            curve,
        ) = row
        return Record(
            id=i,
            origin=origin,
            parents=orjson.loads(parents),
            graph_json=graph,
            structure=structure,
            status=status,
            rung=rung,
            steps=steps,
            train_seconds=secs,
            params=params,
            flops=flops,
            latency_ms=lat,
            val_metric=val,
            test_metric=test,
            fitness=fit,
            species=species,
            mutation=mutation,
            detail=detail,
            alive=bool(alive),
            created=created,
            curve=orjson.loads(curve),
        )

    def get(self, ind: int) -> Record:
        row = self.db.execute(
            f"SELECT {self._COLUMNS} FROM individuals WHERE id=?", (ind,)
        ).fetchone()
        if row is None:
            raise ArchiveError(f"no individual {ind} in {self.run_dir}")
        return self._record(row)

    def records(self, alive_only: bool = False, since_id: int = 0) -> list[Record]:
        where = "WHERE id > ?" + (" AND alive=1" if alive_only else "")
        rows = self.db.execute(
            f"SELECT {self._COLUMNS} FROM individuals {where} ORDER BY id", (since_id,)
        )
        return [self._record(r) for r in rows]

    def weights(self, ind: int) -> bytes | None:
        row = self.db.execute("SELECT data FROM weights WHERE individual=?", (ind,)).fetchone()
        return None if row is None else bytes(row[0])

    def scores(self, ind: int) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        for split, metric, value in self.db.execute(
            "SELECT split, metric, value FROM scores WHERE individual=?", (ind,)
        ):
            out.setdefault(split, {})[metric] = value
        return out

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM individuals").fetchone()[0])

    def best(self) -> Record | None:
        """Highest validation fitness (selection's view); ties go to the smaller brain."""
        row = self.db.execute(
            f"SELECT {self._COLUMNS} FROM individuals WHERE fitness IS NOT NULL "
            "ORDER BY fitness DESC, params ASC, id ASC LIMIT 1"
        ).fetchone()
        return None if row is None else self._record(row)

    # ----- sessions (elapsed time across resumes) ----------------------------------------
    def start_session(self) -> int:
        now = time.time()
        with self.transaction() as db:
            cur = db.execute("INSERT INTO sessions (started, last_seen) VALUES (?, ?)", (now, now))
        return int(cur.lastrowid)

    def touch_session(self, session: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE sessions SET last_seen=? WHERE id=?", (time.time(), session))

    def elapsed(self) -> float:
        row = self.db.execute(
            "SELECT COALESCE(SUM(last_seen - started), 0) FROM sessions"
        ).fetchone()
        return float(row[0])

    # ----- retention -----------------------------------------------------------------
    def apply_retention(self, keep: set[int]) -> int:
        """Drop the weights of every individual not in ``keep``; returns how many were dropped."""
        with self.transaction() as db:
            ids = [r[0] for r in db.execute("SELECT individual FROM weights")]
            drop = [(i,) for i in ids if i not in keep]
            db.executemany("DELETE FROM weights WHERE individual=?", drop)
        return len(drop)

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
