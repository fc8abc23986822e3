"""`POST /api/v1/session`: an anonymous device identity."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..errors import rate_limited
from ..state import State, client_host

router = APIRouter(prefix="/api/v1", tags=["identity"])


class SessionOut(BaseModel):
    token: str
    identity: str
    expires_at: dt.datetime


@router.post("/session", response_model=SessionOut, summary="Create an anonymous device identity")
def create_session(request: Request, state: State) -> SessionOut:
    """A new anonymous identity and its signed token; send it as `Authorization: Bearer <token>`. Limited per
    client address (`--session-rate`): minting identities must not get around the per-identity limit."""
    wait = state.session_bucket.take(client_host(request))
    if wait:
        raise rate_limited("too many new identities from this address", wait)
    token, ident = state.signer.issue(now=state.now_ms() / 1000)
    return SessionOut(token=token, identity=ident.key, expires_at=dt.datetime.fromtimestamp(ident.exp, dt.UTC))
