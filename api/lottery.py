"""Lottery draws on the server, with the published odds, a cost in points and a daily limit."""
from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Connection, func, select, update

from ..generator.config import Lottery
from . import db
from .errors import ApiError
from .members import lock_member
from .rules import CampaignRules
from .stock import take_stock, used

_random = random.SystemRandom()


def lottery_info(conn: Connection, rules: CampaignRules, lottery_id: str) -> dict[str, Any]:
    lot = _lottery(rules, lottery_id)
    prizes = []
    for i, prize in enumerate(lot.prizes):
        left = None if prize.stock is None else prize.stock - used(conn, rules.name, "prize", f"{lot.id}/{i}")
        prizes.append({"index": i, "name": prize.name, "probability": prize.probability, "stock": prize.stock, "remaining": left})
    return {"id": lot.id, "name": lot.name, "cost": lot.cost, "per_day": lot.per_day, "rules": lot.rules, "prizes": prizes,
            "no_prize": max(0.0, 1 - sum(p.probability for p in lot.prizes))}


def _lottery(rules: CampaignRules, lottery_id: str) -> Lottery:
    lot = next((x for x in rules.config.lottery if x.id == lottery_id), None)
    if lot is None:
        raise ApiError(404, "unknown_lottery", f'no lottery "{lottery_id}" in campaign "{rules.name}"')
    return lot


def draw(conn: Connection, rules: CampaignRules, identity: str, lottery_id: str, now_ms: int) -> dict[str, Any]:
    """One draw with the published odds; a prize whose stock is gone is a draw without a prize."""
    lot = _lottery(rules, lottery_id)
    rules.require_open(now_ms)
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
            won = i if take_stock(conn, rules.name, "prize", f"{lot.id}/{i}", prize.stock) else None
            break
    conn.execute(db.draws.insert().values(campaign=rules.name, lottery=lot.id, identity=identity, day=today, prize=won,
                                          cost=lot.cost, at_ms=now_ms))
    return {"lottery": lot.id, "prize": None if won is None else {"index": won, "name": lot.prizes[won].name},
            "balance": balance - lot.cost}
