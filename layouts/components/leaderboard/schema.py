"""leaderboard: the campaign's ranking by points, read from the collaboration server
(GET …/leaderboard), live while the page is open, the caller's own row always shown.

    ::: leaderboard weekly
    title: 低碳排行榜
    scope: [individual, team, friends]
    period: [week, all]
    limit: 10
    :::

Several scopes or periods become tabs (the first of each is shown first). Without `api_url` the
block shows the visitor's own points and says that rankings need the campaign's server: the
device never invents other people's scores.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from h5press.generator.config import CampaignConfig
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = True
ORDER = 24

SCOPES = {"individual": "个人", "team": "团队", "friends": "好友"}
PERIODS = {"week": "本周", "all": "总榜"}


def _choices(value: Any, allowed: dict[str, str], what: str) -> list[str]:
    """One name or a list of names, each known and none twice."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ValueError(f"expected one {what} or a list of them: {', '.join(allowed)}")
    for name in names:
        if name not in allowed:
            raise ValueError(f'"{name}" is not a {what} (one of {", ".join(allowed)}){did_you_mean(str(name), list(allowed))}')
        if names.count(name) > 1:
            raise ValueError(f'"{name}" is listed twice')
    return names


class Schema(Strict):
    title: str = Field("排行榜", min_length=1, description="heading of the board")
    scope: list[str] = Field(["individual"], description="individual, team and/or friends: one board, or tabs in this order")
    period: list[str] = Field(["all"], description="week (from Monday) and/or all (the whole campaign)")
    limit: int = Field(10, ge=1, le=50, description="rows shown; the visitor's own row is shown even below them")

    @field_validator("scope", mode="before")
    @classmethod
    def _scopes(cls, value: Any) -> list[str]:
        return _choices(value, SCOPES, "board scope")

    @field_validator("period", mode="before")
    @classmethod
    def _periods(cls, value: Any) -> list[str]:
        return _choices(value, PERIODS, "period")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str | int, ...], str]]:
    if "team" in config["scope"] and campaign.team is None:
        return [(("scope",), "the team board needs teams: add team: to campaign.yaml")]
    return []
