"""Leaderboards, reward claims and lottery draws.

Stock is never oversold: an item's `used` counter only grows through
`UPDATE stock SET used = used + 1 WHERE … AND used < :stock`, which both databases apply atomically
(the row is locked by the update; PostgreSQL re-checks the condition after waiting for the lock).
"""
from __future__ import annotations

import random
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, func, or_, select, update

from . import db
from .friends import friends_of
from .identity import pseudonym
from .ledger import lock_member
from .rules import CampaignRules, week_of
from .state import ApiError
from .teams import _open, team_points, team_unlocked

_random = random.SystemRandom()


Scores = tuple[Table, list[ColumnElement[bool]], ColumnElement[int], ColumnElement[Any]]


def _scores(rules: CampaignRules, week: str | None) -> Scores:
    """Where a person's board points live: `members` (all time) or `week_points` (one week)."""
    if week is None:
        m = db.members.c
        return db.members, [m.campaign == rules.name], m.earned, m.reached_ms
    w = db.week_points.c
    return db.week_points, [w.campaign == rules.name, w.week == week], w.points, w.reached_ms


def _nicknames(conn: Connection, campaign: str, identities: list[str]) -> dict[str, str | None]:
    m = db.members.c
    rows = conn.execute(select(m.identity, m.nickname).where(m.campaign == campaign, m.identity.in_(identities)))
    return {identity: nickname for identity, nickname in rows}


def _people(conn: Connection, campaign: str, ranked: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
    """Board entries of (rank, identity, points): a pseudonym and the nickname, never the identity."""
    names = _nicknames(conn, campaign, [identity for _, identity, _ in ranked]) if ranked else {}
    return [{"rank": rank, "who": pseudonym(identity), "nickname": names.get(identity), "points": int(points)}
            for rank, identity, points in ranked]


def _individual_board(conn: Connection, rules: CampaignRules, week: str | None, limit: int,
                      caller: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The top `limit` and the caller's rank, both from the board index (no full scan at 100k people)."""
    table, where, points, reached = _scores(rules, week)
    who = table.c.identity
    top = [(rank, row.identity, row.points) for rank, row in enumerate(conn.execute(
        select(who, points.label("points")).where(*where, points > 0).order_by(points.desc(), reached, who).limit(limit)),
        start=1)]
    ranked = list(top)
    mine = next((row for row in top if row[1] == caller), None)
    if caller and mine is None:
        row = conn.execute(select(points.label("points"), reached.label("reached")).where(*where, who == caller)).first()
        if row is not None and row.points > 0:
            ahead = or_(points > row.points, and_(points == row.points, or_(reached < row.reached, and_(reached == row.reached,
                                                                                                     who < caller))))
            mine = (conn.execute(select(func.count()).where(*where, ahead)).scalar_one() + 1, caller, row.points)
            ranked.append(mine)
    entries = _people(conn, rules.name, ranked)
    me = entries[ranked.index(mine)] if mine else None
    return entries[:len(top)], me


def _friends_board(conn: Connection, rules: CampaignRules, week: str | None, limit: int,
                   caller: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The caller's circle, everyone in it listed (also with 0 points), the caller always ranked."""
    table, where, points, reached = _scores(rules, week)
    circle = friends_of(rules.name, caller).subquery()
    query = (select(circle.c.identity, func.coalesce(points, 0).label("points"))
             .select_from(circle.outerjoin(table, and_(table.c.identity == circle.c.identity, *where)))
             .order_by(func.coalesce(points, 0).desc(), reached.asc().nulls_last(), circle.c.identity))
    rows = [(row.identity, row.points) for row in conn.execute(query)]
    if all(identity != caller for identity, _ in rows):  # no members row yet: nothing earned
        rows.append((caller, 0))
    ranked = [(rank, identity, points) for rank, (identity, points) in enumerate(rows, start=1)]
    mine = next(row for row in ranked if row[1] == caller)
    shown = ranked[:limit] + ([mine] if mine[0] > limit else [])
    entries = _people(conn, rules.name, shown)
    return entries[:limit], entries[shown.index(mine)]


def _team_board(conn: Connection, rules: CampaignRules, week: str | None, limit: int,
                caller: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    m, t = db.members.c, db.teams.c
    table, where, points, reached = _scores(rules, week)
    scores = select(m.team_id, points.label("points"), reached.label("reached")).where(*where, points > 0, m.team_id.is_not(None))
    if week is not None:
        scores = scores.join_from(table, db.members, (m.campaign == table.c.campaign) & (m.identity == table.c.identity))
    rows = scores.subquery()
    total = func.sum(rows.c.points)
    query = (select(rows.c.team_id, t.name, total.label("points"), func.max(rows.c.reached).label("reached"))
             .join(db.teams, t.id == rows.c.team_id).group_by(rows.c.team_id, t.name)
             .order_by(total.desc(), func.max(rows.c.reached), rows.c.team_id))
    caller_team = None
    if caller:
        caller_team = conn.execute(select(m.team_id).where(m.campaign == rules.name, m.identity == caller)).scalar()
    entries: list[dict[str, Any]] = []
    mine = None
    for rank, row in enumerate(conn.execute(query), start=1):
        entry = {"rank": rank, "team": row.team_id, "name": row.name, "points": int(row.points)}
        if caller_team is not None and row.team_id == caller_team:
            mine = entry
        if rank <= limit:
            entries.append(entry)
        elif mine is not None or caller_team is None:
            break
    return entries, mine


def leaderboard(conn: Connection, rules: CampaignRules, scope: str, period: str, limit: int, now_ms: int,
                caller: str | None) -> dict[str, Any]:
    """Highest points first; ties go to whoever reached the score first (then a fixed order)."""
    week = week_of(rules.day(now_ms)) if period == "week" else None
    if scope == "team":
        entries, mine = _team_board(conn, rules, week, limit, caller)
    elif scope == "friends":
        assert caller is not None, "the route asks for a token"
        entries, mine = _friends_board(conn, rules, week, limit, caller)
    else:
        entries, mine = _individual_board(conn, rules, week, limit, caller)
    return {"scope": scope, "period": period, "since": rules.week_start_ms(now_ms) if week else None, "entries": entries,
            "me": mine}


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
