"""What people typed to a live brain and what it answered, kept in the run archive so
plain use can teach: a teacher reads the messages later and tags their intent (a label
for a text classifier) or their sentiment about the answer before them (a rating of the
brain that gave it) — ``engine.teachers.roles.tag``.

The table belongs to this module (``CREATE TABLE IF NOT EXISTS`` on first write); a run
folder without it simply has no interactions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from openbrains.engine.store import Archive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    session TEXT NOT NULL,
    individual INTEGER NOT NULL,
    modality TEXT NOT NULL,
    data BLOB NOT NULL,
    reply TEXT NOT NULL DEFAULT '{}'
);
"""
MAX_TEXT = 4096  # bytes of one typed message kept


@dataclass
class Interaction:
    """One message a person gave a live brain (``data``: UTF-8 text) and the brain's
    answer to it (``reply``: its decoded outputs, as the live panel shows them)."""

    id: int
    time: float
    session: str
    individual: int
    modality: str
    data: bytes
    reply: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def add_interaction(
    archive: Archive,
    session: str,
    individual: int,
    text: str | bytes,
    reply: dict[str, Any] | None = None,
) -> int:
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    archive.db.executescript(_SCHEMA)
    with archive.transaction() as db:
        cur = db.execute(
            "INSERT INTO interactions (time, session, individual, modality, data, reply) "
            "VALUES (?,?,?,?,?,?)",
            (
                time.time(),
                str(session),
                int(individual),
                "text",
                data[:MAX_TEXT],
                orjson.dumps(reply or {}, default=str).decode(),
            ),
        )
    return int(cur.lastrowid)


def interactions(archive: Archive, since_id: int = 0) -> list[Interaction]:
    if not archive.has_table("interactions"):
        return []
    rows = archive.db.execute(
        "SELECT id, time, session, individual, modality, data, reply FROM interactions "
        "WHERE id > ? ORDER BY id",
        (since_id,),
    )
    return [
        Interaction(i, t, s, ind, m, bytes(d), orjson.loads(r)) for i, t, s, ind, m, d, r in rows
    ]
