"""Rate limits every server process shares, kept in the database (`db.limits`): with N processes on M
machines a key still gets the configured rate, not N×M times it.

The algorithm is GCRA (a token bucket written as one timestamp per key): a key's "theoretical arrival
time" `tat` moves on by `1/rate` seconds per request; a request is allowed when the moved `tat` is at
most `burst/rate` seconds ahead of now. One conditional upsert decides and records it atomically, so
concurrent processes never both take the last token. On SQLite the statement queues with the other
writers of the process (`db.transaction`); it holds the write lock for one row.
"""
from __future__ import annotations

import functools
import time
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, Row, bindparam, case, delete, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import ReturningInsert

from . import db, driver

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


@functools.cache
def _with_advance(statement: ReturningInsert[Any]) -> ReturningInsert[Any]:
    """PostgreSQL: `statement` with the limit's advance as a CTE; column `h5press_taken` is 1 when it was taken."""
    taken = _advance.build(postgresql.insert).cte("h5press_advance")
    return statement.add_cte(taken).returning(select(func.count()).select_from(taken).scalar_subquery().label("h5press_taken"))


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
        params = self._params(key, cost, now)
        return self._verdict(conn, params, bool(driver.rows(conn, _advance(conn), params)))

    def take_with(self, conn: Connection, key: str, statement: ReturningInsert[Any],
                  params: dict[str, Any]) -> tuple[float, Row[Any]]:
        """`take_in`, and `statement` (an INSERT … RETURNING one row, whose parameters are `params`) run in the same
        transaction; returns the wait and that row. On PostgreSQL the two are one statement, the limit's upsert a
        data-modifying CTE of the other: one round trip fewer per request."""
        if self.rate <= 0 or not db.is_postgres(conn):
            wait = self.take_in(conn, key)
            return wait, driver.rows(conn, statement, params)[0]
        limit = self._params(key, 1.0, None)
        row = conn.execute(_with_advance(statement), {**params, **limit}).one()
        return self._verdict(conn, limit, bool(row.h5press_taken)), row

    def _params(self, key: str, cost: float, now: float | None) -> dict[str, Any]:
        return {"row_key": f"{self.scope}:{key}"[:250], "now": int((time.time() if now is None else now) * 1000),
                "step": int(cost * 1000 / self.rate), "tolerance": int(self.burst * 1000 / self.rate)}

    def _verdict(self, conn: Connection, params: dict[str, Any], taken: bool) -> float:
        """0 when the advance was taken, else the seconds until it would be."""
        if taken:
            self._prune(conn, params["now"])
            return 0.0
        tat = conn.execute(TAT, params).scalar_one()
        return float(max(0.001, (tat + params["step"] - params["tolerance"] - params["now"]) / 1000))

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
