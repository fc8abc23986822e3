"""Events, a person's summary and vote tallies."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlalchemy import Connection

from .. import db
from ..errors import ApiError
from ..ledger import Incoming, ingest, summary, vote_tally
from ..members import lock_member_within, set_nickname
from ..schemas import MeOut, VoteTally, errors
from ..state import Caller, Campaign, SignedCampaign, State, refuse_over_limit
from ..text import clean_name, name_schema

router = APIRouter(prefix="/api/v1/campaigns/{campaign}", tags=["campaigns"])

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def _iso_text(value: object) -> object:
    if not isinstance(value, str):  # not a number of seconds: the contract is ISO 8601 text
        raise ValueError("must be an ISO 8601 date-time with offset, as text")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]  # a device's time, as the runtime writes it


class EventIn(BaseModel):
    """One event as the browser runtime queues it."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(pattern=ULID, description="ULID made on the device; the server keeps each id once")]
    v: Literal[1] = 1
    campaign: Annotated[str, Field(max_length=64)]
    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,39}$")]
    component: Annotated[str, Field(max_length=64)] | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    at: IsoTime | None = Field(None, description="device time; counts only within the skew rule")


class Batch(BaseModel):
    events: list[EventIn] = Field(min_length=1)


class EventResult(BaseModel):
    id: str
    status: Literal["counted", "capped", "outside_window", "unknown_action", "recorded", "rejected", "duplicate"]
    points: int


class BatchOut(BaseModel):
    acknowledged: list[str] = Field(description="every id of the batch: the outbox may drop them")
    results: list[EventResult]
    points: int = Field(description="points this batch earned")
    badges: list[str] = Field(description="badges this batch earned")
    me: MeOut


@router.post("/events", response_model=BatchOut, summary="Send a batch of events", responses=errors(413))
async def post_events(batch: Batch, signed: SignedCampaign) -> dict[str, Any]:
    """Idempotent by event `id`; the server decides the points (see the rules in the README)."""
    state, rules, caller = signed.state, signed.rules, signed.caller
    if len(batch.events) > state.max_events:
        raise ApiError(413, "too_many_events", f"at most {state.max_events} events per batch, got {len(batch.events)}")
    for i, ev in enumerate(batch.events):
        if ev.campaign != rules.name:
            raise ApiError(422, "wrong_campaign", f'events[{i}] is for campaign "{ev.campaign}", not "{rules.name}"', index=i)
        size = len(json.dumps(ev.payload, ensure_ascii=False).encode("utf-8"))
        if size > state.max_payload:
            raise ApiError(413, "payload_too_large", f"events[{i}].payload is {size} bytes, more than {state.max_payload}",
                           index=i)
    incoming = [Incoming(ev.id, ev.type, ev.component, ev.payload, ev.at) for ev in batch.events]
    now = state.now_ms()

    def record(conn: Connection) -> dict[str, Any]:
        """The batch's writes and the caller's rate limit, committed together."""
        wait, member = lock_member_within(conn, state.identity_bucket, rules.name, caller.key, now)
        refuse_over_limit(wait)
        return ingest(conn, rules, caller.key, incoming, now, since_ms=caller.iat * 1000, member=member)

    return await state.writer.run(record)


@router.get("/me", response_model=MeOut, summary="The caller's points, level, badges, streak and team")
def get_me(rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    with state.engine.connect() as conn:
        return summary(conn, rules, caller.key, state.now_ms())


NICKNAME_MAX = 16


class NicknameIn(BaseModel):
    nickname: str | None = Field(description=f"1-{NICKNAME_MAX} characters (grapheme clusters) after trimming, no control "
                                             "characters; null removes it", json_schema_extra={"anyOf": [
                                                 {"type": "string", **name_schema(NICKNAME_MAX, "小青")}, {"type": "null"}]})

    @field_validator("nickname")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        return None if value is None else clean_name(value, NICKNAME_MAX)


@router.post("/me", response_model=MeOut, summary="Set the caller's nickname for this campaign")
def post_me(body: NicknameIn, rules: Campaign, caller: Caller, state: State) -> dict[str, Any]:
    """Boards and the caller's team show the nickname beside the pseudonym; it is returned as JSON text only."""
    now = state.now_ms()
    with db.transaction(state.engine) as conn:
        set_nickname(conn, rules, caller.key, body.nickname, now)
        return summary(conn, rules, caller.key, now)


@router.get("/votes/{vote}", response_model=VoteTally, summary="Tally of a vote block")
def get_votes(vote: Annotated[str, Field(max_length=64)], rules: Campaign, state: State) -> dict[str, Any]:
    if vote not in rules.votes:
        raise ApiError(404, "unknown_vote", f'no vote block "{vote}" in campaign "{rules.name}"')
    with state.engine.connect() as conn:
        return vote_tally(conn, rules, vote)
