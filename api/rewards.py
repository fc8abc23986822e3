"""Reward claims: a person's or a team's points against the threshold, a per-person limit and the stock.

A team reward is unlocked by the team's points and claimed by each member for themselves (`per_user`
claims each), from the one stock of the reward."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from . import db
from .errors import ApiError
from .members import lock_member
from .rules import CampaignRules
from .stock import take_stock, used
from .teams import team_points, team_unlocked


def claim(conn: Connection, rules: CampaignRules, identity: str, reward_id: str, now_ms: int) -> dict[str, Any]:
    """Needs the threshold in the person's (or the team's) points, or the team unlock of this reward."""
    reward = next((r for r in rules.config.rewards if r.id == reward_id), None)
    if reward is None:
        raise ApiError(404, "unknown_reward", f'no reward "{reward_id}" in campaign "{rules.name}"')
    rules.require_open(now_ms)
    member = lock_member(conn, rules.name, identity, now_ms)
    if reward.scope == "team":
        if member.team_id is None:
            raise ApiError(403, "no_team", "this is a team reward: join or create a team first")
        points = team_points(conn, rules.name, member.team_id)
    else:
        points = member.earned
    c = db.claims.c  # `per_user` is per person for team rewards too: every member may claim their own
    taken = conn.execute(select(func.count()).where(c.campaign == rules.name, c.reward == reward.id,
                                                    c.identity == identity)).scalar_one()
    if points < reward.threshold and not team_unlocked(conn, rules, member.team_id, reward.id):
        raise ApiError(403, "below_threshold", f"{reward.threshold} points needed, you have {points}",
                       threshold=reward.threshold, points=points)
    if taken >= reward.per_user:
        raise ApiError(409, "limit_reached", f"already claimed {taken} time(s), the limit is {reward.per_user}")
    if not take_stock(conn, rules.name, "reward", reward.id, reward.stock):
        raise ApiError(409, "out_of_stock", f'"{reward.name}" is out of stock')
    conn.execute(db.claims.insert().values(campaign=rules.name, reward=reward.id, identity=identity,
                                           team_id=member.team_id if reward.scope == "team" else None, at_ms=now_ms))
    left = None if reward.stock is None else reward.stock - used(conn, rules.name, "reward", reward.id)
    return {"reward": reward.id, "name": reward.name, "claimed": taken + 1, "per_user": reward.per_user, "remaining": left}

