"""`GET …/stream`: Server-Sent Events of board, team and vote changes."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from ..state import Campaign, State, bearer_token, verify_bearer

router = APIRouter(prefix="/api/v1/campaigns/{campaign}", tags=["live"])

STREAM_DOC = """`text/event-stream`. First `retry: 5000`, then a `: ping` comment every 15 s and these events:

- `leaderboard` `{"at": <ms>}`: points (or a nickname shown on a board) changed; at most once per second.
- `team` (with a token only): the caller's team object as in `/me`, when its members, points or unlock changed.
- `vote` `{"id", "counts", "total"}`: a vote's tally changed.

EventSource cannot send headers: the token may come as `?token=` (access logs show it redacted)."""


@router.get("/stream", response_class=StreamingResponse, summary="Live updates (Server-Sent Events)", description=STREAM_DOC,
            responses={200: {"content": {"text/event-stream": {}}, "description": "the event stream (never cached)"}})
async def stream(rules: Campaign, state: State, token: Annotated[str | None, Query(max_length=2048)] = None,
                 authorization: Annotated[str | None, Header()] = None) -> StreamingResponse:
    raw = token or bearer_token(authorization)
    caller = verify_bearer(state, raw).key if raw else None
    return StreamingResponse(state.hub.events(rules.name, caller), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
