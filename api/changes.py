"""The change log behind the live stream: writers append `(campaign, kind, key)` rows in their own
transaction, and each worker process polls the rows after the last it has seen.

Appending (instead of bumping one counter row) keeps writers of different people from waiting on
each other. Rows older than `KEEP_MS` are deleted by the writers, at most once a minute per process.
"""
from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import Connection, delete

from . import db, driver

KEEP_MS = 10 * 60 * 1000
PRUNE_EVERY_S = 60.0
BOARD, TEAM, VOTE = "board", "team", "vote"

_last_prune = [0.0]
APPEND = db.changes.insert()  # built once: see `db.prepared`


def note(conn: Connection, campaign: str, changed: Iterable[tuple[str, object]]) -> None:
    """Record what this transaction changed: `(BOARD, "")`, `(TEAM, team_id)`, `(VOTE, vote_id)`."""
    now = now_ms()
    rows = [{"campaign": campaign, "kind": kind, "key": str(key), "at_ms": now} for kind, key in dict.fromkeys(changed)]
    if not rows:
        return
    driver.each(conn, APPEND, rows)
    prune(conn, now)


def now_ms() -> int:
    """The wall time of a write, as the change log stores it (not the tests' pinned campaign clock)."""
    return int(time.time() * 1000)


def prune(conn: Connection, now: int) -> None:
    """Delete the rows older than `KEEP_MS`, at most once a minute per process."""
    if time.monotonic() - _last_prune[0] >= PRUNE_EVERY_S:
        _last_prune[0] = time.monotonic()
        conn.execute(delete(db.changes).where(db.changes.c.at_ms < now - KEEP_MS))
