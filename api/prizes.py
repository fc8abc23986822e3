"""Leaderboards, reward claims and lottery draws.

Stock is never oversold: an item's `used` counter only grows through
`UPDATE stock SET used = used + 1 WHERE … AND used < :stock`, which both databases apply atomically
(the row is locked by the update; PostgreSQL re-checks the condition after waiting for the lock).
"""
from __future__ import annotations

import random
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, func, select, update

from . import db
from .errors import ApiError
from .friends import friends_of
from .ledger import lock_member
from .rules import CampaignRules, week_of
from .scores import ALL, PERSON_KIND, TEAM_KIND
from .teams import _open, team_points, team_unlocked

_random = random.SystemRandom()


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


def _take_stock(conn: Connection, campaign: str, kind: str, item: str, limit: int | None) -> bool:
    """One unit of `item`; False when sold out. Unlimited items are counted too."""
    conn.execute(db.insert(conn, db.stock).values(campaign=campaign, kind=kind, item=item, used=0).on_conflict_do_nothing())
    s = db.stock.c
    query = update(db.stock).where(s.campaign == campaign, s.kind == kind, s.item == item).values(used=s.used + 1)
    if limit is not None:
        query = query.where(s.used < limit)
    return conn.execute(query).rowcount == 1


def used(conn: Connection, campaign: str, kind: str, item: str) -> int:
    s = db.stock.c
    return conn.execute(select(s.used).where(s.campaign == campaign, s.kind == kind, s.item == item)).scalar() or 0


def claim(conn: Connection, rules: CampaignRules, identity: str, reward_id: str, now_ms: int) -> dict[str, Any]:
    """Needs the threshold in the person's (or the team's) points, or the team unlock of this reward."""
    reward = next((r for r in rules.config.rewards if r.id == reward_id), None)
    if reward is None:
        raise ApiError(404, "unknown_reward", f'no reward "{reward_id}" in campaign "{rules.name}"')
    _open(rules, now_ms)
    member = lock_member(conn, rules.name, identity, now_ms)
    c = db.claims.c
    if reward.scope == "team":
        if member.team_id is None:
            raise ApiError(403, "no_team", "this is a team reward: join or create a team first")
        points = team_points(conn, rules.name, member.team_id)
        # one claim at a time per team
        conn.execute(select(db.teams.c.id).where(db.teams.c.id == member.team_id).with_for_update())
        taken = conn.execute(select(func.count()).where(c.campaign == rules.name, c.reward == reward.id,
                                                        c.team_id == member.team_id)).scalar_one()
    else:
        points = member.earned
        taken = conn.execute(select(func.count()).where(c.campaign == rules.name, c.reward == reward.id,
                                                        c.identity == identity)).scalar_one()
    if points < reward.threshold and not team_unlocked(conn, rules, member.team_id, reward.id):
        raise ApiError(403, "below_threshold", f"{reward.threshold} points needed, you have {points}",
                       threshold=reward.threshold, points=points)
    if taken >= reward.per_user:
        raise ApiError(409, "limit_reached", f"already claimed {taken} time(s), the limit is {reward.per_user}")
    if not _take_stock(conn, rules.name, "reward", reward.id, reward.stock):
        raise ApiError(409, "out_of_stock", f'"{reward.name}" is out of stock')
    conn.execute(db.claims.insert().values(campaign=rules.name, reward=reward.id, identity=identity,
                                           team_id=member.team_id if reward.scope == "team" else None, at_ms=now_ms))
    left = None if reward.stock is None else reward.stock - used(conn, rules.name, "reward", reward.id)
    return {"reward": reward.id, "name": reward.name, "claimed": taken + 1, "per_user": reward.per_user, "remaining": left}


def lottery_info(conn: Connection, rules: CampaignRules, lottery_id: str) -> dict[str, Any]:
    lot = _lottery(rules, lottery_id)
    prizes = []
    for i, prize in enumerate(lot.prizes):
        left = None if prize.stock is None else prize.stock - used(conn, rules.name, "prize", f"{lot.id}/{i}")
        prizes.append({"index": i, "name": prize.name, "probability": prize.probability, "stock": prize.stock, "remaining": left})
    return {"id": lot.id, "name": lot.name, "cost": lot.cost, "per_day": lot.per_day, "rules": lot.rules, "prizes": prizes,
            "no_prize": max(0.0, 1 - sum(p.probability for p in lot.prizes))}


def _lottery(rules: CampaignRules, lottery_id: str):  # type: ignore[no-untyped-def]
    lot = next((x for x in rules.config.lottery if x.id == lottery_id), None)
    if lot is None:
        raise ApiError(404, "unknown_lottery", f'no lottery "{lottery_id}" in campaign "{rules.name}"')
    return lot


def draw(conn: Connection, rules: CampaignRules, identity: str, lottery_id: str, now_ms: int) -> dict[str, Any]:
    """One draw with the published odds; a prize whose stock is gone is a draw without a prize."""
    lot = _lottery(rules, lottery_id)
    _open(rules, now_ms)
    member = lock_member(conn, rules.name, identity, now_ms)
    d = db.draws.c
    today = rules.day(now_ms)
    if lot.per_day is not None:
        n = conn.execute(select(func.count()).where(d.campaign == rules.name, d.lottery == lot.id, d.identity == identity,
                                                    d.day == today)).scalar_one()
        if n >= lot.per_day:
            raise ApiError(429, "daily_limit", f"at most {lot.per_day} draw(s) a day")
    balance = member.earned - member.spent
    if balance < lot.cost:
        raise ApiError(403, "insufficient_points", f"a draw costs {lot.cost} points, you have {balance}", balance=balance)
    if lot.cost:
        m = db.members.c
        conn.execute(update(db.members).where(m.campaign == rules.name, m.identity == identity).values(spent=m.spent + lot.cost))
    roll, edge, won = _random.random(), 0.0, None
    for i, prize in enumerate(lot.prizes):
        edge += prize.probability
        if roll < edge:
            won = i if _take_stock(conn, rules.name, "prize", f"{lot.id}/{i}", prize.stock) else None
            break
    conn.execute(db.draws.insert().values(campaign=rules.name, lottery=lot.id, identity=identity, day=today, prize=won,
                                          cost=lot.cost, at_ms=now_ms))
    return {"lottery": lot.id, "prize": None if won is None else {"index": won, "name": lot.prizes[won].name},
            "balance": balance - lot.cost}
