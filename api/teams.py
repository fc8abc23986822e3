"""Teams with invite codes and a size limit that holds under concurrent joins.

A join locks the joining person's row and then the team's row (`FOR UPDATE` on PostgreSQL; SQLite
serialises writers with `BEGIN IMMEDIATE`), counts the members and only then adds the person, so
the count it checked cannot change before it commits. Locks are always taken in that order.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from . import db
from .changes import BOARD, TEAM, note
from .db import ALL, PERSON_KIND, TEAM_KIND
from .errors import ApiError
from .members import lock_member
from .rules import CampaignRules, week_of
from .scores import add_score, score

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed on phones


@dataclass
class TeamView:
    """A team as every member sees it; `as_json(caller)` marks the caller's own entry."""

    data: dict[str, Any]
    identities: list[str]  # of `data["members"]`, in the same order

    def as_json(self, caller: str | None) -> dict[str, Any]:
        entries = zip(self.identities, self.data["members"], strict=True)
        members = [{**entry, "me": identity == caller} for identity, entry in entries]
        return {**self.data, "members": members}


def load_team(conn: Connection, rules: CampaignRules, team_id: int) -> TeamView:
    """The team, its members in joined order with their points and counted events per action (their tallies), and its unlock."""
    team = conn.execute(select(db.teams).where(db.teams.c.id == team_id)).one()
    m, t = db.members.c, db.tallies.c
    rows = conn.execute(select(m.identity, m.nickname, m.earned).where(m.campaign == rules.name, m.team_id == team_id)
                        .order_by(m.joined_ms, m.identity)).all()
    identities = [row.identity for row in rows]
    counted: dict[tuple[str, str], int] = {}
    if identities:
        query = (select(t.identity, t.action, func.sum(t.count)).where(t.campaign == rules.name, t.identity.in_(identities))
                 .group_by(t.identity, t.action))
        counted = {(identity, action): n for identity, action, n in conn.execute(query)}
    names = list(rules.config.points.actions)
    members = [{"who": rules.who(row.identity), "nickname": row.nickname, "points": row.earned,
                "actions": {name: counted.get((row.identity, name), 0) for name in names}} for row in rows]
    points = sum(row.earned for row in rows)
    cfg = rules.config.team
    unlock = cfg.unlock if cfg else None
    data = {"id": team.id, "code": team.code, "name": team.name, "size": cfg.size if cfg else None, "members": members,
            "points": points,
            "unlocked": None if unlock is None else {"reward": unlock.reward, "points": unlock.points,
                                                     "reached": points >= unlock.points}}
    return TeamView(data, identities)


def team_info(conn: Connection, rules: CampaignRules, team_id: int, caller: str | None) -> dict[str, Any]:
    return load_team(conn, rules, team_id).as_json(caller)


def team_points(conn: Connection, campaign: str, team_id: int) -> int:
    """Everything the members earned (also before they joined): what team rewards and the unlock compare."""
    m = db.members.c
    return int(conn.execute(select(func.coalesce(func.sum(m.earned), 0)).where(m.campaign == campaign, m.team_id == team_id))
               .scalar_one())


def team_unlocked(conn: Connection, rules: CampaignRules, team_id: int | None, reward_id: str) -> bool:
    """Whether `reward_id` is the team unlock reward and the team has reached `team.unlock.points`."""
    unlock = rules.config.team.unlock if rules.config.team else None
    if team_id is None or unlock is None or unlock.reward != reward_id:
        return False
    return team_points(conn, rules.name, team_id) >= unlock.points


def _require_teams(rules: CampaignRules) -> None:
    if rules.config.team is None:
        raise ApiError(404, "no_teams", f'campaign "{rules.name}" has no teams (no `team` in campaign.yaml)')


def create_team(conn: Connection, rules: CampaignRules, identity: str, name: str, now_ms: int) -> dict[str, Any]:
    _require_teams(rules)
    rules.require_open(now_ms)
    member = lock_member(conn, rules.name, identity, now_ms)
    if member.team_id is not None:
        raise ApiError(409, "already_in_team", "you are already in a team of this campaign")
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if conn.execute(select(db.teams.c.id).where(db.teams.c.code == code)).first() is None:
            break
    team_id = conn.execute(db.teams.insert().values(campaign=rules.name, code=code, name=name, owner=identity, created_ms=now_ms)
                           .returning(db.teams.c.id)).scalar_one()
    _set_team(conn, rules, member, team_id, now_ms)
    return team_info(conn, rules, team_id, identity)


def join_team(conn: Connection, rules: CampaignRules, identity: str, code: str, now_ms: int) -> dict[str, Any]:
    _require_teams(rules)
    rules.require_open(now_ms)
    assert rules.config.team is not None
    member = lock_member(conn, rules.name, identity, now_ms)
    t = db.teams.c
    query = select(db.teams).where(t.code == code.strip().upper(), t.campaign == rules.name)
    team = conn.execute(query.with_for_update()).first()
    if team is None:
        raise ApiError(404, "unknown_team", f'no team with invite code "{code}" in this campaign')
    if member.team_id == team.id:
        return team_info(conn, rules, team.id, identity)
    if member.team_id is not None:
        raise ApiError(409, "already_in_team", "you are already in another team of this campaign")
    m = db.members.c
    count = conn.execute(select(func.count()).where(m.campaign == rules.name, m.team_id == team.id)).scalar_one()
    if count >= rules.config.team.size:
        raise ApiError(409, "team_full", f"team is full ({rules.config.team.size} members)")
    _set_team(conn, rules, member, team.id, now_ms)
    return team_info(conn, rules, team.id, identity)


def _set_team(conn: Connection, rules: CampaignRules, member: Row[Any], team_id: int, now_ms: int) -> None:
    """Put the (locked) member in the team; the team's totals gain what the member already earned, reached now."""
    m = db.members.c
    conn.execute(update(db.members).where(m.campaign == rules.name, m.identity == member.identity)
                 .values(team_id=team_id, joined_ms=now_ms))
    if member.earned:
        add_score(conn, rules.name, TEAM_KIND, ALL, team_id, member.earned, now_ms)
    week = week_of(rules.day(now_ms))
    this_week = score(conn, rules.name, PERSON_KIND, week, member.identity)
    if this_week:
        add_score(conn, rules.name, TEAM_KIND, week, team_id, this_week, now_ms)
    note(conn, rules.name, [(TEAM, team_id), (BOARD, "")])
