"""Response models: the JSON shapes of the README contract, as OpenAPI documents them at /docs.

User text (nicknames, team names) is JSON data: clients insert it as text, never as HTML.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LevelOut(BaseModel):
    name: str
    min: int


class ActionCount(BaseModel):
    count: int = Field(description="counted events of this action in the whole campaign")
    today: int = Field(description="counted today (local day of the campaign timezone)")


class StreakOut(BaseModel):
    current: int
    today: bool
    days: list[str]


class UnlockOut(BaseModel):
    reward: str
    points: int
    reached: bool = Field(description="the team has the points: every member may claim `reward` without its threshold")


class TeamMemberOut(BaseModel):
    who: str = Field(description="stable pseudonym (never the identity)")
    nickname: str | None
    points: int
    actions: dict[str, int] = Field(description="counted events per action of `points.actions`, every action present")
    me: bool = Field(description="this entry is the caller")


class TeamOut(BaseModel):
    id: int
    code: str = Field(description="8-character invite code")
    name: str
    size: int | None = Field(description="most members a team may have")
    members: list[TeamMemberOut] = Field(description="in joined order")
    points: int = Field(description="sum of the members' points")
    unlocked: UnlockOut | None = Field(description="`team.unlock` of campaign.yaml, null without one")


class MeOut(BaseModel):
    campaign: str
    identity: str
    who: str = Field(description="the caller's pseudonym on boards and in teams")
    nickname: str | None
    points: int = Field(description="everything earned: levels, boards and thresholds use it")
    balance: int = Field(description="points left after lottery costs")
    level: LevelOut | None
    next_level: LevelOut | None
    badges: list[str]
    actions: dict[str, ActionCount]
    streak: StreakOut
    team: TeamOut | None
    window: Literal["before", "open", "after"]


class PersonEntry(BaseModel):
    rank: int
    who: str
    nickname: str | None
    points: int


class TeamEntry(BaseModel):
    rank: int
    team: int
    name: str
    points: int


class BoardOut(BaseModel):
    scope: Literal["individual", "team", "friends"]
    period: Literal["week", "all"]
    since: int | None = Field(description="start of the week (ms since the epoch) for `week`, else null")
    entries: list[PersonEntry] | list[TeamEntry]
    me: PersonEntry | TeamEntry | None = Field(description="the caller's (or the caller's team's) entry, also below `limit`")


class VoteTally(BaseModel):
    counts: list[int] = Field(description="votes per option, in option order")
    total: int = Field(description="people who voted")


class ErrorOut(BaseModel):
    """Every 4xx and 5xx answer; some add fields (`index`, `threshold`, `points`, `details`)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="a stable code, e.g. `bad_token`, `limit_reached`")
    message: str = Field(description="what went wrong, for people")


ERROR_MEANINGS = {
    400: "bad request", 401: "no token, or a token that is malformed, forged or expired", 403: "not allowed now",
    404: "no such campaign or item", 405: "method not allowed (see `Allow`)", 409: "conflicts with the current state",
    413: "body, batch or payload too large", 415: "a body type the route does not read",
    422: "invalid request: `message` names the location",
    429: "rate limited (see `Retry-After`)", 502: "an upstream service failed",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route answering these error codes with `ErrorOut`."""
    return {code: {"model": ErrorOut, "description": ERROR_MEANINGS[code]} for code in codes}
