"""The run archive: one SQLite file (WAL) per run folder, and a lock so one process owns it.

Every finished individual is one committed transaction (row, weights, scores, event), so a
power cut or ``kill -9`` loses at most the work in flight and the run resumes where it was.
Weights are safetensors blobs; graphs are JSON. Retention keeps the weights that matter
(the living population, the Pareto front, species champions, the champion's lineage).

Schema version 2 adds what people give a run (docs/decisions.md, "Recording and ratings"):
``samples`` (recorded examples, raw bytes), ``ratings`` (0–10 slider scores), and per
individual the data version and training-set size it was trained on. Version 1 folders are
upgraded in place when opened for writing and read as they are when opened read-only.
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from openbrains.engine import __version__, runlock
from openbrains.engine.diskspace import DiskFullError, free_bytes, is_disk_full
from openbrains.engine.errors import OpenBrainsError

SCHEMA_VERSION = 2
DB_NAME = "run.sqlite"
WAL_LIMIT_BYTES = 1024 * 1024  # the write-ahead log is checkpointed and cut back at this

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
    curve TEXT NOT NULL DEFAULT '[]',
    trained_version INTEGER NOT NULL DEFAULT 0,
    train_size INTEGER NOT NULL DEFAULT 0,
    scored_version INTEGER NOT NULL DEFAULT 0
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
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    label TEXT NOT NULL,
    split TEXT NOT NULL,
    modality TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY,
    individual INTEGER NOT NULL REFERENCES individuals(id),
    input_id TEXT NOT NULL,
    score REAL NOT NULL,
    rater TEXT NOT NULL DEFAULT '',
    time REAL NOT NULL,
    batch TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ratings_individual ON ratings(individual);
"""

# columns added to older tables, by the schema version that added them
_ADDED_COLUMNS = {
    2: (
        ("individuals", "trained_version", "INTEGER NOT NULL DEFAULT 0"),
        ("individuals", "train_size", "INTEGER NOT NULL DEFAULT 0"),
        ("individuals", "scored_version", "INTEGER NOT NULL DEFAULT 0"),
    ),
}


class ArchiveError(OpenBrainsError):
    """A run folder that cannot be used: locked, corrupt, or from a newer version."""


class ArchiveLocked(ArchiveError):
    """Another process owns the run folder now (it may let go: worth trying again)."""


_V1_TASKS = re.compile(r'"tasks"\s*:\s*\[')


def _current_graph(graph_json: str) -> str:
    """A stored graph in the current format: archives written before format v2 hold v1
    graphs (``tasks`` a list), upgraded here as they are read. The format package (and
    torch with it) is imported only for such an old graph."""
    if not _V1_TASKS.search(graph_json):
        return graph_json
    from openbrains.engine.format.migrations import upgrade_graph_json

    return upgrade_graph_json(graph_json)


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
    trained_version: int = 0  # the recorded-data version its training data had
    train_size: int = 0  # training examples it trained on
    scored_version: int = 0  # the data version its validation score is on (rescoring moves it)

    def summary(self) -> dict[str, Any]:
        """The individual as the GUI's population dock and plots take it (no graph, no
        curve): one shape for the service's replies and for a run folder read from disk."""
        return {
            "id": self.id,
            "origin": self.origin,
            "parents": self.parents,
            "status": self.status,
            "score": self.val_metric,
            "test_score": self.test_metric,
            "fitness": self.fitness,
            "params": self.params,
            "species": self.species,
            "mutation": self.mutation,
            "detail": self.detail,
            "rung": self.rung,
            "steps": self.steps,
            "alive": self.alive,
            "created": self.created,
            "latency_ms": self.latency_ms,
        }


@dataclass
class Standing:
    """An individual's lineage and scores, without its graph (retention's view)."""

    id: int
    parents: list[int]
    fitness: float | None
    rung: int
    species: int
    params: int


VAL_EVERY = 5  # every 5th recorded sample of a label goes to validation


@dataclass
class Sample:
    """One recorded example: raw bytes in the layout ``meta`` describes (see engine.recorded)."""

    id: int
    label: str
    split: str
    modality: str
    data: bytes
    meta: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0


@dataclass
class Rating:
    """One person's 0–10 score for one individual's output on one input. Ratings given
    side by side share a ``batch``, which is what makes them preference pairs."""

    id: int
    individual: int
    input_id: str
    score: float
    rater: str = ""
    time: float = 0.0
    batch: str = ""


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
                    f"file:{self.path}?mode=ro",
                    uri=True,
                    timeout=30,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._check_version()
                self.db.execute("SELECT COUNT(*) FROM individuals").fetchone()
                self._columns = self._select_list()
            except sqlite3.DatabaseError as exc:
                raise ArchiveError(f"{self.path} is not a readable run archive ({exc})") from None
            return
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise ArchiveError(f"{self.run_dir} is a file, not a run folder")
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if is_disk_full(exc):
                raise DiskFullError(self.run_dir, free_bytes(self.run_dir), None) from None
            raise ArchiveError(
                f"cannot make the run folder {self.run_dir}: {exc.strerror}"
            ) from None
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
            # the log is cut back to this after each checkpoint: it would otherwise keep the
            # size of its largest burst for the run's whole life
            self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_LIMIT_BYTES // 4096}")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
            with self.transaction():
                self._migrate()
                self.db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                self.db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('created_by', ?)",
                    (f"openbrains {__version__}",),
                )
            self._columns = self._select_list()
        except DiskFullError:
            self.release()
            raise
        except sqlite3.DatabaseError as exc:
            self.release()
            if is_disk_full(exc, self.run_dir):
                raise self.disk_full() from None
            raise ArchiveError(f"{self.path} is not a readable run archive ({exc})") from None

    # ----- schema versions -------------------------------------------------------------
    def _table_columns(self, table: str) -> set[str]:
        return {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}

    def _migrate(self) -> None:
        """Add what newer versions added to an older archive (new tables came with _SCHEMA)."""
        for _version, columns in sorted(_ADDED_COLUMNS.items()):
            for table, column, decl in columns:
                if column not in self._table_columns(table):
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")

    def _select_list(self) -> str:
        """The individuals columns to read; an older archive opened read-only reads the
        columns it lacks as their defaults."""
        have = self._table_columns("individuals")
        return ", ".join(
            c if c in have else f"0 AS {c}" for c in (x.strip() for x in self._COLUMNS.split(","))
        )

    def has_table(self, name: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)
        ).fetchone()
        return row is not None

    # ----- locking -------------------------------------------------------------------
    def _take_lock(self) -> None:
        try:
            self._lock_fd = runlock.take(self.run_dir)
        except runlock.RunLocked as exc:
            raise ArchiveLocked(str(exc)) from None

    def announce(self, control: str) -> None:
        """Say in the lock where this owner listens (engine.control)."""
        if self._lock_fd is not None:
            runlock.announce(self._lock_fd, control)

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
        if row and not str(row[0]).isdigit():
            raise ArchiveError(
                f"{self.path} is not a readable run archive (its schema version is "
                f"{str(row[0])[:40]!r}, not a number)"
            )
        if row and int(row[0]) > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.run_dir} was written by a newer Open Brains (archive version {row[0]}); "
                f"this version reads up to {SCHEMA_VERSION} — upgrade openbrains"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write. A full disk rolls it back and raises ``DiskFullError`` (the
        archive keeps every earlier transaction)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:  # SQLite may have rolled back already
                    with suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if is_disk_full(exc, self.run_dir):
                raise self.disk_full() from None
            raise

    def disk_full(self) -> DiskFullError:
        """The one line a full disk gets, with what the archive holds."""
        try:
            kept: int | None = self.count()
        except (sqlite3.Error, AttributeError):  # not even open yet
            kept = None
        return DiskFullError(self.run_dir, free_bytes(self.run_dir), kept)

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
                "val_metric, test_metric, fitness, alive, curve, trained_version, train_size, "
                "scored_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    rec.trained_version,
                    rec.train_size,
                    rec.scored_version,
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

    def rescore(
        self, changes: Iterable[tuple[int, dict[str, float], float | None, float | None, int]]
    ) -> None:
        """Living members measured again on refreshed validation data, in one transaction:
        ``(id, val scores, val metric, fitness, data_version)``."""
        with self.transaction() as db:
            for ind, val, metric, fitness, version in changes:
                db.execute("DELETE FROM scores WHERE individual=? AND split='val'", (ind,))
                for name, value in val.items():
                    db.execute("INSERT INTO scores VALUES (?,'val',?,?)", (ind, name, _num(value)))
                db.execute(
                    "UPDATE individuals SET val_metric=?, fitness=?, scored_version=? WHERE id=?",
                    (_num(metric), _num(fitness), version, ind),
                )

    def set_fitness(self, changes: Iterable[tuple[int, float | None]]) -> None:
        """New fitness values (ratings moved), in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE individuals SET fitness=? WHERE id=?",
                [(_num(f), ind) for ind, f in changes],
            )

    def log_event(self, kind: str, data: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (time, kind, data) VALUES (?,?,?)",
                (time.time(), kind, orjson.dumps(data).decode()),
            )

    def last_event(self, kind: str) -> dict[str, Any] | None:
        """The data of the newest event of ``kind`` (None if there is none)."""
        row = self.db.execute(
            "SELECT data FROM events WHERE kind=? ORDER BY id DESC LIMIT 1", (kind,)
        ).fetchone()
        return None if row is None else orjson.loads(row[0])

    _COLUMNS = (
        "id, origin, parents, graph, structure, status, rung, steps, train_seconds, params, flops, "
        "latency_ms, val_metric, test_metric, fitness, species, mutation, detail, alive, created, "
        "curve, trained_version, train_size, scored_version"
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
            trained_version,
            train_size,
            scored_version,
        ) = row
        return Record(
            id=i,
            origin=origin,
            parents=orjson.loads(parents),
            graph_json=_current_graph(graph),
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
            trained_version=int(trained_version or 0),
            train_size=int(train_size or 0),
            scored_version=int(scored_version or 0),
        )

    def get(self, ind: int) -> Record:
        row = self.db.execute(
            f"SELECT {self._columns} FROM individuals WHERE id=?", (ind,)
        ).fetchone()
        if row is None:
            raise ArchiveError(f"no individual {ind} in {self.run_dir}")
        return self._record(row)

    def records(self, alive_only: bool = False, since_id: int = 0) -> list[Record]:
        where = "WHERE id > ?" + (" AND alive=1" if alive_only else "")
        rows = self.db.execute(
            f"SELECT {self._columns} FROM individuals {where} ORDER BY id", (since_id,)
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
        """Highest validation fitness (selection's view); ties go to the smaller brain.

        Only scores on the newest validation data compete: after recordings refreshed it,
        an individual scored on older data is not comparable (the living are rescored).
        """
        newest = ""
        if "scored_version" in self._columns.split(", "):
            newest = (
                "AND scored_version = "
                "(SELECT MAX(scored_version) FROM individuals WHERE fitness IS NOT NULL) "
            )
        row = self.db.execute(
            f"SELECT {self._columns} FROM individuals WHERE fitness IS NOT NULL {newest}"
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

    def standings(self) -> list[Standing]:
        """Every individual's place in the search without its graph or curve: what the
        retention rule reads, cheap enough to read every few births for weeks."""
        rows = self.db.execute(
            "SELECT id, parents, fitness, rung, species, params FROM individuals ORDER BY id"
        )
        return [Standing(i, orjson.loads(p), f, r, s, n) for i, p, f, r, s, n in rows]

    def weights_count(self) -> int:
        """How many individuals still have their weights (retention drops the rest)."""
        return int(self.db.execute("SELECT COUNT(*) FROM weights").fetchone()[0])

    def disk_bytes(self) -> int:
        """The archive on disk: the database, its write-ahead log and the log's index."""
        return sum(
            p.stat().st_size
            for p in (
                self.path,
                self.path.with_name(DB_NAME + "-wal"),
                self.path.with_name(DB_NAME + "-shm"),
            )
            if p.exists()
        )

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # ----- recorded samples ----------------------------------------------------------------
    def add_samples(
        self,
        items: Iterable[tuple[str, str, bytes, dict[str, Any]]],
        split: str | None = None,
    ) -> list[int]:
        """Store recorded examples ``(label, modality, data, meta)`` in one transaction.

        The split is decided here, once, and stored: every ``VAL_EVERY``-th sample of a label
        goes to validation, the rest to training (``split`` forces one). Recordings never go
        to test, so a run's test score stays comparable over its whole life.
        """
        if split not in (None, "train", "val"):
            raise ArchiveError(f"a recorded sample goes to 'train' or 'val', not {split!r}")
        ids = []
        now = time.time()
        with self.transaction() as db:
            for label, modality, data, meta in items:
                where = split
                if where is None:
                    row = db.execute("SELECT COUNT(*) FROM samples WHERE label=?", (label,))
                    n = int(row.fetchone()[0])
                    where = "val" if n % VAL_EVERY == VAL_EVERY - 1 else "train"
                cur = db.execute(
                    "INSERT INTO samples (created, label, split, modality, meta, data) "
                    "VALUES (?,?,?,?,?,?)",
                    (
                        now,
                        label,
                        where,
                        modality,
                        orjson.dumps(meta, option=orjson.OPT_SORT_KEYS).decode(),
                        bytes(data),
                    ),
                )
                ids.append(int(cur.lastrowid))
        return ids

    def samples(self, upto: int | None = None, with_data: bool = True) -> list[Sample]:
        """Recorded samples in id order (``upto``: only ids up to it, a data version)."""
        if not self.has_table("samples"):
            return []
        data = "data" if with_data else "x''"
        rows = self.db.execute(
            f"SELECT id, label, split, modality, {data}, meta, created FROM samples "
            "WHERE id <= ? ORDER BY id",
            (upto if upto is not None else 2**62,),
        )
        return [
            Sample(i, label, split, mod, bytes(blob), orjson.loads(meta), created)
            for i, label, split, mod, blob, meta, created in rows
        ]

    def samples_version(self) -> int:
        """The newest sample id: the data version a task with every recording has."""
        if not self.has_table("samples"):
            return 0
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM samples").fetchone()[0])

    def sample_counts(self) -> dict[str, dict[str, int]]:
        """``{label: {"train": n, "val": m}}`` over every recorded sample."""
        out: dict[str, dict[str, int]] = {}
        if not self.has_table("samples"):
            return out
        for label, split, n in self.db.execute(
            "SELECT label, split, COUNT(*) FROM samples GROUP BY label, split"
        ):
            out.setdefault(label, {"train": 0, "val": 0})[split] = int(n)
        return out

    # ----- ratings ---------------------------------------------------------------------
    def add_ratings(self, items: Iterable[tuple[int, str, float, str, str]]) -> list[int]:
        """Store ``(individual, input_id, score 0–10, rater, batch)`` rows in one transaction."""
        ids = []
        now = time.time()
        with self.transaction() as db:
            for ind, input_id, score, rater, batch in items:
                score = float(score)
                if not 0.0 <= score <= 10.0:
                    raise ArchiveError(f"a rating is a number from 0 to 10, got {score:g}")
                if db.execute("SELECT 1 FROM individuals WHERE id=?", (ind,)).fetchone() is None:
                    raise ArchiveError(f"no individual {ind} in {self.run_dir} to rate")
                cur = db.execute(
                    "INSERT INTO ratings (individual, input_id, score, rater, time, batch) "
                    "VALUES (?,?,?,?,?,?)",
                    (int(ind), str(input_id), score, str(rater), now, str(batch)),
                )
                ids.append(int(cur.lastrowid))
        return ids

    def ratings(self, since_id: int = 0) -> list[Rating]:
        if not self.has_table("ratings"):
            return []
        rows = self.db.execute(
            "SELECT id, individual, input_id, score, rater, time, batch FROM ratings "
            "WHERE id > ? ORDER BY id",
            (since_id,),
        )
        return [Rating(*row) for row in rows]

    def ratings_version(self) -> int:
        if not self.has_table("ratings"):
            return 0
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM ratings").fetchone()[0])
