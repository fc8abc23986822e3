"""Teams, leaderboards, reward claims and lottery draws."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, Field, field_validator

from .. import db
from ..boards import leaderboard
from ..errors import TokenError, unauthorized
from ..lottery import draw, lottery_info
from ..rewards import claim
from ..schemas import BoardOut, TeamOut, errors
from ..state import Caller, Campaign, State, bearer_token, verify_bearer
from ..teams import create_team, join_team
from ..text import clean_name, name_schema

router = APIRouter(prefix="/api/v1/campaigns/{campaign}", tags=["campaigns"])


TEAM_NAME_MAX = 20


class TeamIn(BaseModel):
    name: Annotated[str, Field(description=f"shown on the team board: 1-{TEAM_NAME_MAX} characters (grapheme clusters) "
                                           "after trimming, no control characters",
                               json_schema_extra=name_schema(TEAM_NAME_MAX, "青铜队"))]

    @field_validator("name")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_name(value, TEAM_NAME_MAX)


class JoinIn(BaseModel):
    code: Annotated[str, Field(min_length=4, max_length=16, pattern=r"^[0-9A-Za-z]+$", description="the invite code")]


@router.post("/teams", response_model=TeamOut, summary="Create a team (the caller joins it)", responses=errors(403, 409))
def post_team(body: TeamIn, rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    now = state.now_ms()
    with db.transaction(state.engine) as conn:
        return create_team(conn, rules, caller.key, body.name, now)


@router.post("/teams/join", response_model=TeamOut, summary="Join a team by invite code", responses=errors(403, 409))
def post_join(body: JoinIn, rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    now = state.now_ms()
    with db.transaction(state.engine) as conn:
        return join_team(conn, rules, caller.key, body.code, now)


@router.get("/leaderboard", response_model=BoardOut,
            summary="Individual, team or friends board, this week or the whole campaign")
def get_leaderboard(rules: Campaign, state: State, scope: Literal["individual", "team", "friends"] = "individual",
                    period: Literal["week", "all"] = "all", limit: Annotated[int, Query(ge=1, le=100)] = 20,
                    authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Public for `individual` and `team` (with a token, `me` is the caller's or the caller's team's entry);
    `friends` (the caller, team mates and people linked by share links) needs a token."""
    token = bearer_token(authorization)
    caller = None
    if scope == "friends":
        if token is None:
            raise unauthorized("the friends board needs `Authorization: Bearer <token>`")
        caller = verify_bearer(state, token).key
    elif token is not None:
        try:
            caller = state.signer.verify(token.strip(), state.now_ms() / 1000).key
        except TokenError:  # a public board: a stale token only loses the `me` entry
            caller = None
    with state.engine.connect() as conn:
        return leaderboard(conn, rules, scope, period, limit, state.now_ms(), caller)


@router.post("/rewards/{reward}/claim", summary="Claim an unlocked reward", responses=errors(403, 409))
def post_claim(reward: str, rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    now = state.now_ms()
    with db.transaction(state.engine) as conn:
        return claim(conn, rules, caller.key, reward, now)


@router.get("/lottery/{lottery}", summary="Published rules, odds and remaining stock of a lottery")
def get_lottery(lottery: str, rules: Campaign, state: State) -> dict[str, Any]:
    with state.engine.connect() as conn:
        return lottery_info(conn, rules, lottery)


@router.post("/lottery/{lottery}/draw", summary="Draw once, on the server", responses=errors(403))
def post_draw(lottery: str, rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    now = state.now_ms()
    with db.transaction(state.engine) as conn:
        return draw(conn, rules, caller.key, lottery, now)
