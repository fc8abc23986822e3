"""Friends: the people linked to someone by a team (same team) or by a share link.

Both sides of a share link (see `shares`) are stored in `refs` as they arrive, and links are found by
joining them when a board is read, so the order in which the two events arrive does not matter.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, select, union

from . import db
from .shares import ref_of


@db.prepared
def _keep(insert: db.InsertOf) -> db.Insert:
    return insert(db.refs).on_conflict_do_nothing()


def share_refs(events: Iterable[tuple[str, dict[str, Any], int]]) -> list[dict[str, Any]]:
    """The share codes of (type, payload, at_ms) events, as `refs` rows without their campaign and identity."""
    rows = []
    for type_, payload, at_ms in events:
        found = ref_of(type_, payload)
        if found:
            rows.append({"role": found[0], "code": found[1], "at_ms": at_ms})
    return rows


def record_refs(conn: Connection, campaign: str, identity: str, refs: list[dict[str, Any]]) -> None:
    """Store share codes (`share_refs`); a code is kept once per person and role."""
    if refs:
        conn.execute(_keep(conn), [{"campaign": campaign, "identity": identity, **ref} for ref in refs])


def _linked(campaign: str, identity: str, mine: str, theirs: str) -> Select[Any]:
    """People who used a code in role `theirs` that `identity` used in role `mine` (the codes first, so both
    lookups are primary-key seeks)."""
    r = db.refs.c
    codes = select(r.code).where(r.campaign == campaign, r.identity == identity, r.role == mine)
    return select(r.identity).where(r.campaign == campaign, r.role == theirs, r.code.in_(codes))


def friends_of(campaign: str, identity: str) -> CompoundSelect[Any]:
    """The identities of `identity` (once it has a members row), its team mates and everyone linked
    to it by a share code (column `identity`)."""
    m = db.members.c
    team = select(m.team_id).where(m.campaign == campaign, m.identity == identity).scalar_subquery()
    return union(select(m.identity).where(m.campaign == campaign, m.identity == identity),
                 select(m.identity).where(m.team_id == team, m.campaign == campaign),
                 _linked(campaign, identity, "share", "view"), _linked(campaign, identity, "view", "share"))
