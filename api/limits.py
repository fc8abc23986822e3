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
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, bindparam, case, delete, select
from sqlalchemy.sql.dml import ReturningInsert

from . import db

PRUNE_EVERY_S = 60.0

_now, _step, _tolerance = (bindparam(name, type_=BigInteger) for name in ("now", "step", "tolerance"))
_start = case((db.limits.c.tat_ms > _now, db.limits.c.tat_ms), else_=_now)


@db.prepared
def _advance(insert: db.InsertOf) -> ReturningInsert[Any]:
    """Move the key's `tat` one step on if that keeps it within the tolerance; returns a row only then."""
    stmt = insert(db.limits).values(key=bindparam("row_key"), tat_ms=_now + _step)
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"tat_ms": _start + _step},
                                      where=_start + _step - _now <= _tolerance)
    return stmt.returning(db.limits.c.tat_ms)


TAT = select(db.limits.c.tat_ms).where(db.limits.c.key == bindparam("row_key"))


class SharedLimiter:
    """`rate` requests per second per key, at most `burst` at once, counted in the database. The same
    calling convention as `ratelimit.TokenBucket`: `take(key)` is 0 when allowed, else seconds to wait."""

    def __init__(self, engine: Engine, scope: str, rate: float, burst: int) -> None:
        self.engine, self.scope, self.rate, self.burst = engine, scope, rate, burst
        self._last_prune = 0.0

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        if self.rate <= 0:
            return 0.0
        with self._connection() as conn:
            return self.take_in(conn, key, cost, now)

    def take_in(self, conn: Connection, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """`take` as part of the caller's write transaction: a request's own writes and its limit commit once."""
        if self.rate <= 0:
            return 0.0
        now_ms = int((time.time() if now is None else now) * 1000)
        step_ms = int(cost * 1000 / self.rate)
        tolerance_ms = int(self.burst * 1000 / self.rate)
        row_key = f"{self.scope}:{key}"[:250]
        params = {"row_key": row_key, "now": now_ms, "step": step_ms, "tolerance": tolerance_ms}
        if conn.execute(_advance(conn), params).first() is not None:
            self._prune(conn, now_ms)
            return 0.0
        tat = conn.execute(TAT, params).scalar_one()
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
