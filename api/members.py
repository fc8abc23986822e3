"""A person's row in a campaign: created on first write and locked to serialise that person's writes
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions take the write lock at `BEGIN IMMEDIATE`);
what the rules need to know about them; their nickname."""
from __future__ import annotations

from typing import Any

from sqlalchemy import CompoundSelect, Connection, String, bindparam, literal, select, union_all, update
from sqlalchemy.engine import Row
from sqlalchemy.sql.dml import ReturningInsert

from . import db, driver
from .changes import BOARD, TEAM, note
from .limits import SharedLimiter
from .rules import CampaignRules, MemberState


@db.prepared
def _lock(insert: db.InsertOf) -> ReturningInsert[Any]:
    stmt = insert(db.members).values(campaign=bindparam("campaign"), identity=bindparam("identity"), earned=0, spent=0,
                                     created_ms=bindparam("now_ms"))
    stmt = stmt.on_conflict_do_update(index_elements=["campaign", "identity"], set_={"campaign": stmt.excluded.campaign})
    return stmt.returning(*db.members.c)


def lock_member(conn: Connection, campaign: str, identity: str, now_ms: int) -> Row[Any]:
    """The person's row, made on their first write and locked until the transaction ends: their writes queue here.
    One upsert does both (an update of the row, even to the same value, locks it on PostgreSQL)."""
    return driver.rows(conn, _lock(conn), {"campaign": campaign, "identity": identity, "now_ms": now_ms})[0]


def lock_member_within(conn: Connection, limiter: SharedLimiter, campaign: str, identity: str,
                       now_ms: int) -> tuple[float, Row[Any]]:
    """`limiter.take_in(conn, identity)` and `lock_member` together (one statement on PostgreSQL): the seconds to
    wait (0: go on) and the person's row. A refused request is to fail its transaction, which undoes both."""
    return limiter.take_with(conn, identity, _lock(conn), {"campaign": campaign, "identity": identity, "now_ms": now_ms})


def _state_query() -> CompoundSelect[Any]:
    t, c, b = db.tallies.c, db.checkins.c, db.badges.c
    campaign, identity = bindparam("campaign", type_=String), bindparam("identity", type_=String)
    return union_all(
        select(literal("tally"), t.action, t.day, t.count).where(t.campaign == campaign, t.identity == identity),
        select(literal("checkin"), c.day, literal(""), literal(0)).where(c.campaign == campaign, c.identity == identity),
        select(literal("badge"), b.badge, literal(""), b.at_ms).where(b.campaign == campaign, b.identity == identity))


STATE = _state_query()


def load_state(conn: Connection, campaign: str, identity: str, earned: int) -> MemberState:
    """Counted events per action and day, check-in days and badges: a few rows per person and day (the
    tallies kept at ingestion), never the event log; one query per request, then kept in memory."""
    state = MemberState(earned=earned)
    badges = []
    for kind, name, day, n in driver.rows(conn, STATE, {"campaign": campaign, "identity": identity}):
        if kind == "tally":
            state.counts[name] += n
            state.daily[(name, day)] += n
        elif kind == "checkin":
            state.checkin_days.add(name)
        else:
            badges.append((n, name))
    state.badges = [name for _, name in sorted(badges)]
    return state


@db.prepared
def _add_tally(insert: db.InsertOf) -> db.Insert:
    stmt = insert(db.tallies)
    return stmt.on_conflict_do_update(index_elements=["campaign", "identity", "action", "day"],
                                      set_={"count": db.tallies.c.count + stmt.excluded["count"]})


def add_tallies(conn: Connection, campaign: str, identity: str, rows: list[dict[str, Any]]) -> None:
    """Add newly counted events (rows of action, day and count) to the person's tallies."""
    if rows:
        driver.each(conn, _add_tally(conn), [{"campaign": campaign, "identity": identity, **row} for row in rows])


def set_nickname(conn: Connection, rules: CampaignRules, identity: str, nickname: str | None, now_ms: int) -> None:
    """Store the caller's nickname for the campaign; boards and the caller's team show it."""
    member = lock_member(conn, rules.name, identity, now_ms)
    m = db.members.c
    conn.execute(update(db.members).where(m.campaign == rules.name, m.identity == identity).values(nickname=nickname))
    note(conn, rules.name, [(BOARD, "")] + ([(TEAM, member.team_id)] if member.team_id is not None else []))

