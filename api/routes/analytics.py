"""`POST …/analytics`: visitor analytics from pages, with or without an identity.

`navigator.sendBeacon` cannot set headers, so the body is read as JSON whether it is sent as
`application/json` or as `text/plain` (which also needs no CORS preflight). The endpoint never
reads a token and never earns points; each address may send `analytics_rate` events per second.
"""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from ..analytics import Visit, store
from ..errors import ApiError
from ..schemas import errors
from ..state import ApiState, Campaign, State, client_host
from .campaigns import ULID, IsoTime

router = APIRouter(prefix="/api/v1/campaigns/{campaign}", tags=["analytics"])

ACCEPTED_TYPES = ("application/json", "text/plain")
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class AnalyticsEvent(BaseModel):
    """One outbox event with the visitor, session, page and variants the runtime adds to it."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(pattern=ULID, description="ULID made on the device; kept once per campaign")]
    campaign: Annotated[str, Field(max_length=64)]
    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,39}$")]
    component: Annotated[str, Field(max_length=64)] | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    at: IsoTime = Field(description="device time of the event")
    visitor: Annotated[str, Field(pattern=ULID, description="the device's pseudonymous visitor id")]
    session: Annotated[str, Field(pattern=ULID, description="new after 30 minutes without activity")]
    page: Annotated[str, Field(min_length=1, max_length=300, description='path inside the campaign, e.g. "quiz.html"')]
    variants: Annotated[dict[Key, Key], Field(max_length=32, description="experiment id → the visitor's variant",
                                              json_schema_extra={"additionalProperties": False})] = {}


class AnalyticsBatch(BaseModel):
    events: list[AnalyticsEvent] = Field(min_length=1)


class AnalyticsOut(BaseModel):
    accepted: int = Field(description="events stored now")
    duplicates: int = Field(description="events stored before (sent again): ignored")


def _inlined(node: Any, defs: dict[str, Any]) -> Any:
    """A JSON schema with its `$defs` references replaced by the definitions (no nesting cycles here)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inlined(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inlined(v, defs) for k, v in node.items() if k != "$defs"}
    return [_inlined(v, defs) for v in node] if isinstance(node, list) else node


BATCH_SCHEMA = _inlined(AnalyticsBatch.model_json_schema(), AnalyticsBatch.model_json_schema().get("$defs", {}))


def parse_batch(body: bytes) -> AnalyticsBatch:
    """The batch, or a 422 naming the first wrong field (`events.3.visitor: …`)."""
    try:
        return AnalyticsBatch.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def check_batch(batch: AnalyticsBatch, campaign: str, state: ApiState) -> None:
    """Limits a schema cannot say: batch size, the campaign of each event, the size of each payload."""
    if len(batch.events) > state.max_events:
        raise ApiError(413, "too_many_events", f"at most {state.max_events} events per batch, got {len(batch.events)}")
    for i, ev in enumerate(batch.events):
        if ev.campaign != campaign:
            raise ApiError(422, "wrong_campaign", f'events.{i}.campaign: "{ev.campaign}" is not "{campaign}"', index=i)
        size = len(json.dumps(ev.payload, ensure_ascii=False).encode("utf-8"))
        if size > state.max_payload:
            raise ApiError(413, "payload_too_large", f"events.{i}.payload is {size} bytes, more than {state.max_payload}",
                           index=i)


def visits_of(batch: AnalyticsBatch) -> list[Visit]:
    return [Visit(ev.id, ev.type, ev.component, ev.payload, int(ev.at.timestamp() * 1000), ev.visitor, ev.session,
                  ev.page, ev.variants) for ev in batch.events]


@router.post("/analytics", response_model=AnalyticsOut, summary="Send visitor analytics (no identity needed)",
             responses=errors(413, 415), openapi_extra={"requestBody": {"required": True,
                                             "content": {kind: {"schema": BATCH_SCHEMA} for kind in ACCEPTED_TYPES}}})
async def post_analytics(request: Request, rules: Campaign, state: State) -> AnalyticsOut:
    """`{"events": [...]}` as JSON, sent as `application/json` or `text/plain` (`navigator.sendBeacon`).
    Idempotent by event `id`: `duplicates` counts the events stored before."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ACCEPTED_TYPES:
        raise ApiError(415, "unsupported_media_type", f'send the batch as application/json or text/plain, not "{kind}"')
    batch = parse_batch(await request.body())
    check_batch(batch, rules.name, state)
    address, visits, now = client_host(request), visits_of(batch), state.now_ms()

    def save(conn: Connection) -> int:
        """The events and the address's rate limit (a token per event), committed together."""
        wait = state.analytics_bucket.take_in(conn, address, len(visits))
        if wait:
            raise ApiError(429, "rate_limited", "too many analytics events from this address",
                           headers={"Retry-After": str(max(1, round(wait)))})
        return store(conn, rules.name, visits, now)

    accepted = await state.writer.run(save)
    return AnalyticsOut(accepted=accepted, duplicates=len(batch.events) - accepted)
