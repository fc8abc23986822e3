"""A person's row in a campaign: created on first write and locked to serialise that person's writes
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite transactions take the write lock at `BEGIN IMMEDIATE`);
what the rules need to know about them; their nickname."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.engine import Row

from . import db
from .changes import BOARD, TEAM, note
from .rules import CampaignRules, MemberState


def lock_member(conn: Connection, campaign: str, identity: str, now_ms: int) -> Row[Any]:
    """The person's row, made on their first write and locked until the transaction ends: their writes queue here."""
    conn.execute(db.insert(conn, db.members).values(campaign=campaign, identity=identity, earned=0, spent=0,
                                                    created_ms=now_ms).on_conflict_do_nothing())
    query = select(db.members).where(db.members.c.campaign == campaign, db.members.c.identity == identity)
    return conn.execute(query.with_for_update()).one()


def load_state(conn: Connection, campaign: str, identity: str, earned: int) -> MemberState:
    """Counted events per action and day, check-in days and badges: read once per batch, then kept in memory."""
    state = MemberState(earned=earned)
    e = db.events.c
    counted = (select(e.action, e.day, func.count()).where(e.campaign == campaign, e.identity == identity, e.status == "counted")
               .group_by(e.action, e.day))
    for action, day, n in conn.execute(counted):
        state.counts[action] += n
        state.daily[(action, day)] += n
    c = db.checkins.c
    state.checkin_days = set(conn.execute(select(c.day).where(c.campaign == campaign, c.identity == identity)).scalars())
    b = db.badges.c
    state.badges = set(conn.execute(select(b.badge).where(b.campaign == campaign, b.identity == identity)).scalars())
    return state


def set_nickname(conn: Connection, rules: CampaignRules, identity: str, nickname: str | None, now_ms: int) -> None:
    """Store the caller's nickname for the campaign; boards and the caller's team show it."""
    member = lock_member(conn, rules.name, identity, now_ms)
    m = db.members.c
    conn.execute(update(db.members).where(m.campaign == rules.name, m.identity == identity).values(nickname=nickname))
    note(conn, rules.name, [(BOARD, "")] + ([(TEAM, member.team_id)] if member.team_id is not None else []))

