"""Leaderboards: individual, team and friends, this week or the whole campaign, from the totals kept
at ingestion (`members.earned` and `scores`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, func, select

from . import db
from .db import ALL, PERSON_KIND, TEAM_KIND
from .friends import friends_of
from .rules import CampaignRules, week_of

Board = tuple[Table, list[ColumnElement[bool]], ColumnElement[int], ColumnElement[Any], ColumnElement[str]]
Ranked = tuple[int, str, int]  # rank, subject (identity or team id), points


def _board(rules: CampaignRules, kind: str, week: str | None) -> Board:
    """Where a board's totals live (table, filter, points, reached, subject): `members` for people over the whole
    campaign, else `scores`."""
    if kind == PERSON_KIND and week is None:
        m = db.members.c
        return db.members, [m.campaign == rules.name], m.earned, m.reached_ms, m.identity
    s = db.scores.c
    return db.scores, [s.campaign == rules.name, s.kind == kind, s.period == (week or ALL)], s.points, s.reached_ms, s.subject


def _ranked(conn: Connection, board: Board, limit: int, mine: str | None) -> tuple[list[Ranked], Ranked | None]:
    """The top `limit`, and `mine` ranked by counting who is ahead: range scans of the board index, also at 100k
    people. Order: points, then who reached them first, then the subject."""
    _, where, points, reached, subject = board
    query = select(subject.label("subject"), points.label("points")).where(*where, points > 0)
    top = [(rank, row.subject, row.points) for rank, row in
           enumerate(conn.execute(query.order_by(points.desc(), reached, subject).limit(limit)), start=1)]
    found = next((row for row in top if row[1] == mine), None)
    if mine is not None and found is None:
        row = conn.execute(select(points.label("points"), reached.label("reached")).where(*where, subject == mine)).first()
        if row is not None and row.points > 0:
            ahead = [select(func.count()).where(*where, *cond).scalar_subquery() for cond in (
                [points > row.points], [points == row.points, reached < row.reached],
                [points == row.points, reached == row.reached, subject < mine])]
            found = (sum(conn.execute(select(*ahead)).one()) + 1, mine, row.points)
    return top, found


def _nicknames(conn: Connection, campaign: str, identities: list[str]) -> dict[str, str | None]:
    m = db.members.c
    rows = conn.execute(select(m.identity, m.nickname).where(m.campaign == campaign, m.identity.in_(identities)))
    return {identity: nickname for identity, nickname in rows}


def _people(conn: Connection, rules: CampaignRules, ranked: list[Ranked]) -> list[dict[str, Any]]:
    """Board entries of people: a pseudonym and the nickname, never the identity."""
    names = _nicknames(conn, rules.name, [identity for _, identity, _ in ranked]) if ranked else {}
    return [{"rank": rank, "who": rules.who(identity), "nickname": names.get(identity), "points": int(points)}
            for rank, identity, points in ranked]


def _teams(conn: Connection, ranked: list[Ranked]) -> list[dict[str, Any]]:
    t = db.teams.c
    names = dict(conn.execute(select(t.id, t.name).where(t.id.in_([int(s) for _, s, _ in ranked]))).all()) if ranked else {}
    return [{"rank": rank, "team": int(team), "name": names.get(int(team), ""), "points": int(points)}
            for rank, team, points in ranked]


def _with_mine(top: list[Ranked], mine: Ranked | None) -> list[Ranked]:
    return top + [mine] if mine is not None and mine not in top else top


def _friends(conn: Connection, rules: CampaignRules, week: str | None, caller: str) -> tuple[list[Ranked], Ranked]:
    """Everyone in the caller's circle (also with 0 points), ranked; the caller always has a rank."""
    table, where, points, reached, subject = _board(rules, PERSON_KIND, week)
    circle = friends_of(rules.name, caller).subquery()
    score = func.coalesce(points, 0)
    query = (select(circle.c.identity, score.label("points"))
             .select_from(circle.outerjoin(table, and_(subject == circle.c.identity, *where)))
             .order_by(score.desc(), reached.asc().nulls_last(), circle.c.identity))
    rows = [(row.identity, row.points) for row in conn.execute(query)]
    if all(identity != caller for identity, _ in rows):  # no members row yet: nothing earned
        rows.append((caller, 0))
    ranked = [(rank, identity, points) for rank, (identity, points) in enumerate(rows, start=1)]
    return ranked, next(row for row in ranked if row[1] == caller)


def leaderboard(conn: Connection, rules: CampaignRules, scope: str, period: str, limit: int, now_ms: int,
                caller: str | None) -> dict[str, Any]:
    """Highest points first; ties go to whoever reached the score first. `me`: the caller's (team's) entry."""
    week = week_of(rules.day(now_ms)) if period == "week" else None
    if scope == "team":
        m = db.members.c
        team = conn.execute(select(m.team_id).where(m.campaign == rules.name, m.identity == caller)).scalar() if caller else None
        top, mine = _ranked(conn, _board(rules, TEAM_KIND, week), limit, None if team is None else str(team))
        entries = _teams(conn, _with_mine(top, mine))
    else:
        if scope == "friends":
            assert caller is not None, "the route asks for a token"
            ranked, mine = _friends(conn, rules, week, caller)
            top = ranked[:limit]
        else:
            top, mine = _ranked(conn, _board(rules, PERSON_KIND, week), limit, caller)
        entries = _people(conn, rules, _with_mine(top, mine))
    return {"scope": scope, "period": period, "since": rules.week_start_ms(now_ms) if week else None,
            "entries": entries[:len(top)], "me": entries[_with_mine(top, mine).index(mine)] if mine else None}

