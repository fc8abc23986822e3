"""Versioned schema migrations: a one-row `schema_version` table and an ordered list of functions.

Each migration runs once, in order, inside one transaction; several workers starting at the same
time serialise on a lock (PostgreSQL advisory lock, SQLite `BEGIN IMMEDIATE`). A migration never
changes after release: new columns or tables are a new function appended to `MIGRATIONS`.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, Table, inspect, select, text

from . import db

LOCK_ID = 0x48357072  # "H5pr": the advisory lock taken while migrating on PostgreSQL


def _v1_initial(conn: Connection) -> None:
    tables: list[Table] = [db.events, db.members, db.badges, db.checkins, db.votes, db.teams, db.claims, db.stock, db.draws]
    for table in tables:
        table.create(conn, checkfirst=True)


MIGRATIONS: list[Callable[[Connection], None]] = [_v1_initial]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(db.schema_version.c.version)).scalar() or 0


def migrate(engine: Engine) -> tuple[int, int]:
    """Bring the database to the latest version; returns (version before, version after)."""
    with engine.begin() as conn:
        if db.is_postgres(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        db.schema_version.create(conn, checkfirst=True)
        before = current_version(conn)
        if before > len(MIGRATIONS):
            raise RuntimeError(f"the database is at schema version {before}, newer than this h5press ({len(MIGRATIONS)})")
        for number, step in enumerate(MIGRATIONS[before:], start=before + 1):
            step(conn)
            conn.execute(db.schema_version.delete())
            conn.execute(db.schema_version.insert().values(version=number))
        return before, len(MIGRATIONS)
