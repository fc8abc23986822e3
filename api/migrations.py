"""Versioned schema migrations: a one-row `schema_version` table and an ordered list of functions.

Each migration runs once, in order, inside one transaction; several workers starting at the same
time serialise on a lock (PostgreSQL advisory lock, SQLite `BEGIN IMMEDIATE`). A migration never
changes after release: new columns or tables are a new function appended to `MIGRATIONS`.
The first one creates its tables from the current definitions in `db`, so later steps add a column
or an index only where it is missing (a new database already has it).
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Column, Connection, Engine, Index, Table, func, inspect, select, text

from . import db
from .db import ALL, PERSON_KIND, TEAM_KIND
from .rules import week_of
from .shares import ref_of

LOCK_ID = 0x48357072  # "H5pr": the advisory lock taken while migrating on PostgreSQL


def _v1_initial(conn: Connection) -> None:
    tables: list[Table] = [db.events, db.members, db.badges, db.checkins, db.votes, db.teams, db.claims, db.stock, db.draws]
    for table in tables:
        table.create(conn, checkfirst=True)


def _add_column(conn: Connection, column: Column[object]) -> None:
    table = column.table
    if column.name not in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _v2_social(conn: Connection) -> None:
    """Nicknames, the board index, board totals, share links and the change log of the live stream; the
    totals and share links are filled from what the database already holds."""
    _add_column(conn, db.members.c.nickname)
    for index in db.members.indexes:
        Index.create(index, conn, checkfirst=True)
    for table in (db.scores, db.refs, db.changes):
        table.create(conn, checkfirst=True)
    m, e = db.members.c, db.events.c
    teams = {(c, i): t for c, i, t in conn.execute(select(m.campaign, m.identity, m.team_id).where(m.team_id.is_not(None)))}
    totals: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])

    def add(key: tuple[str, str, str, str], points: int, reached: int) -> None:
        totals[key][0] += points
        totals[key][1] = max(totals[key][1], reached)

    query = (select(e.campaign, e.identity, e.day, func.sum(e.points), func.max(e.at_ms))
             .where(e.status == "counted", e.points > 0).group_by(e.campaign, e.identity, e.day))
    for campaign, identity, day, points, reached in conn.execute(query):
        add((campaign, PERSON_KIND, week_of(day), identity), int(points), int(reached))
        if (campaign, identity) in teams:
            add((campaign, TEAM_KIND, week_of(day), str(teams[(campaign, identity)])), int(points), int(reached))
    for campaign, team_id, points, reached in conn.execute(
            select(m.campaign, m.team_id, func.sum(m.earned), func.max(func.coalesce(m.reached_ms, m.joined_ms)))
            .where(m.team_id.is_not(None), m.earned > 0).group_by(m.campaign, m.team_id)):
        add((campaign, TEAM_KIND, ALL, str(team_id)), int(points), int(reached))
    rows = [{"campaign": c, "kind": k, "period": p, "subject": s, "points": n, "reached_ms": r}
            for (c, k, p, s), (n, r) in totals.items()]
    if rows:
        conn.execute(db.scores.insert(), rows)
    links = []
    for campaign, identity, type_, payload, at_ms in conn.execute(select(e.campaign, e.identity, e.type, e.payload, e.at_ms)
                                                                  .where(e.type.in_(["share", "view"]))):
        found = ref_of(type_, json.loads(payload))
        if found:
            links.append({"campaign": campaign, "role": found[0], "code": found[1], "identity": identity, "at_ms": at_ms})
    if links:
        conn.execute(db.insert(conn, db.refs).on_conflict_do_nothing(), links)


def _v3_analytics(conn: Connection) -> None:
    """The append-only analytics table of anonymous and identified visitors."""
    db.analytics.create(conn, checkfirst=True)


def _v4_scale(conn: Connection) -> None:
    """Per-person tallies of counted events (filled from the event log), the shared rate-limit table, and
    names wide enough for 16-20 grapheme clusters (SQLite does not enforce lengths)."""
    for table in (db.tallies, db.limits):
        table.create(conn, checkfirst=True)
    e = db.events.c
    counted = (select(e.campaign, e.identity, e.action, e.day, func.count()).where(e.status == "counted", e.action.is_not(None))
               .group_by(e.campaign, e.identity, e.action, e.day))
    conn.execute(db.tallies.insert().from_select(["campaign", "identity", "action", "day", "count"], counted))
    if db.is_postgres(conn):
        conn.execute(text("ALTER TABLE teams ALTER COLUMN name TYPE varchar(80)"))
        conn.execute(text("ALTER TABLE members ALTER COLUMN nickname TYPE varchar(64)"))


MIGRATIONS: list[Callable[[Connection], None]] = [_v1_initial, _v2_social, _v3_analytics, _v4_scale]


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(db.schema_version.c.version)).scalar() or 0


def migrate(engine: Engine) -> tuple[int, int]:
    """Bring the database to the latest version; returns (version before, version after)."""
    with db.transaction(engine) as conn:
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
