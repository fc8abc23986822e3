"""Rate limits every server process shares, kept in the database (`db.limits`): with N processes on M
machines a key still gets the configured rate, not N×M times it.

The algorithm is GCRA (a token bucket written as one timestamp per key): a key's "theoretical arrival
time" `tat` moves on by `1/rate` seconds per request; a request is allowed when the moved `tat` is at
most `burst/rate` seconds ahead of now. One conditional upsert decides and records it atomically, so
concurrent processes never both take the last token. On SQLite the statement queues with the other
writers of the process (`db.transaction`); it holds the write lock for one row.
"""
from __future__ import annotations

import time
from contextlib import AbstractContextManager

from sqlalchemy import Connection, Engine, case, delete, select

from . import db

PRUNE_EVERY_S = 60.0


class SharedLimiter:
    """`rate` requests per second per key, at most `burst` at once, counted in the database. The same
    calling convention as `ratelimit.TokenBucket`: `take(key)` is 0 when allowed, else seconds to wait."""

    def __init__(self, engine: Engine, scope: str, rate: float, burst: int) -> None:
        self.engine, self.scope, self.rate, self.burst = engine, scope, rate, burst
        self._last_prune = 0.0

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        if self.rate <= 0:
            return 0.0
        now_ms = int((time.time() if now is None else now) * 1000)
        step_ms = int(cost * 1000 / self.rate)
        tolerance_ms = int(self.burst * 1000 / self.rate)
        row_key = f"{self.scope}:{key}"[:250]
        limits = db.limits.c
        start = case((limits.tat_ms > now_ms, limits.tat_ms), else_=now_ms)
        with self._connection() as conn:
            stmt = db.insert(conn, db.limits).values(key=row_key, tat_ms=now_ms + step_ms)
            stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"tat_ms": start + step_ms},
                                              where=start + step_ms - now_ms <= tolerance_ms)
            if conn.execute(stmt.returning(limits.tat_ms)).first() is not None:
                self._prune(conn, now_ms)
                return 0.0
            tat = conn.execute(select(limits.tat_ms).where(limits.key == row_key)).scalar_one()
        return max(0.001, (tat + step_ms - tolerance_ms - now_ms) / 1000)

    def _connection(self) -> AbstractContextManager[Connection]:
        """PostgreSQL: autocommit (one statement, no BEGIN/COMMIT round trips); SQLite: a write transaction
        that queues with the process's other writers."""
        if db.is_postgres(self.engine):
            return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return db.transaction(self.engine)

    def _prune(self, conn: Connection, now_ms: int) -> None:
        """Forget keys whose bucket is full again (their `tat` has passed), at most once a minute per process."""
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = time.monotonic()
            conn.execute(delete(db.limits).where(db.limits.c.tat_ms < now_ms))
