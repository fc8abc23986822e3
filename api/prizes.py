"""Leaderboards, reward claims and lottery draws.

Stock is never oversold: an item's `used` counter only grows through
`UPDATE stock SET used = used + 1 WHERE … AND used < :stock`, which both databases apply atomically
(the row is locked by the update; PostgreSQL re-checks the condition after waiting for the lock).
"""
from __future__ import annotations

import hashlib
import random
from typing import Any

from sqlalchemy import Connection, func, select, update

from . import db
from .ledger import lock_member
from .rules import CampaignRules
from .state import ApiError
from .teams import _open, team_info

_random = random.SystemRandom()


def pseudonym(identity: str) -> str:
    """A stable, non-reversible name for a person on public boards."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:10]


def leaderboard(conn: Connection, rules: CampaignRules, scope: str, period: str, limit: int, now_ms: int,
                caller: str | None) -> dict[str, Any]:
    """Highest points first; ties go to whoever reached the score first."""
    m, e, t = db.members.c, db.events.c, db.teams.c
    since = rules.week_start_ms(now_ms) if period == "week" else None
    if since is None:
        points, reached = m.earned, m.reached_ms
        base = select(m.identity, m.team_id, points.label("points"), reached.label("reached")).where(m.campaign == rules.name,
                                                                                                    m.earned > 0)
    else:
        base = (select(e.identity, m.team_id, func.sum(e.points).label("points"), func.max(e.at_ms).label("reached"))
                .join(db.members, (m.campaign == e.campaign) & (m.identity == e.identity))
                .where(e.campaign == rules.name, e.status == "counted", e.points > 0, e.at_ms >= since)
                .group_by(e.identity, m.team_id))
    rows = base.subquery()
    if scope == "team":
        query = (select(rows.c.team_id, t.name, func.sum(rows.c.points).label("points"),
                        func.max(rows.c.reached).label("reached"))
                 .join(db.teams, t.id == rows.c.team_id).group_by(rows.c.team_id, t.name))
    else:
        query = select(rows.c.identity, rows.c.points, rows.c.reached)
    ranked = conn.execute(query.order_by(query.selected_columns.points.desc(), query.selected_columns.reached.asc())).all()
    entries: list[dict[str, Any]] = []
    mine = None
    caller_team = None
    if caller and scope == "team":
        caller_team = conn.execute(select(m.team_id).where(m.campaign == rules.name, m.identity == caller)).scalar()
    for rank, row in enumerate(ranked, start=1):
        if scope == "team":
            entry = {"rank": rank, "team": row.team_id, "name": row.name, "points": int(row.points)}
            is_me = caller_team is not None and row.team_id == caller_team
        else:
            entry = {"rank": rank, "who": pseudonym(row.identity), "points": int(row.points)}
            is_me = row.identity == caller
        if is_me:
            mine = entry
        if rank <= limit:
            entries.append(entry)
    return {"scope": scope, "period": period, "since": since, "entries": entries, "me": mine}


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
    reward = next((r for r in rules.config.rewards if r.id == reward_id), None)
    if reward is None:
        raise ApiError(404, "unknown_reward", f'no reward "{reward_id}" in campaign "{rules.name}"')
    _open(rules, now_ms)
    member = lock_member(conn, rules.name, identity, now_ms)
    c = db.claims.c
    if reward.scope == "team":
        if member.team_id is None:
            raise ApiError(403, "no_team", "this is a team reward: join or create a team first")
        points = team_info(conn, rules, member.team_id)["points"]
        # one claim at a time per team
        conn.execute(select(db.teams.c.id).where(db.teams.c.id == member.team_id).with_for_update())
        taken = conn.execute(select(func.count()).where(c.campaign == rules.name, c.reward == reward.id,
                                                        c.team_id == member.team_id)).scalar_one()
    else:
        points = member.earned
        taken = conn.execute(select(func.count()).where(c.campaign == rules.name, c.reward == reward.id,
                                                        c.identity == identity)).scalar_one()
    if points < reward.threshold:
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
