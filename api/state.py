"""Shared application state and the request dependencies (campaign, identity)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy import Engine

from .errors import ApiError, TokenError, rate_limited, unauthorized
from .identity import Identity, Signer
from .limits import SharedLimiter
from .rules import CampaignRules
from .stream import Hub
from .wechat import WeChat
from .writer import Writer


@dataclass
class ApiState:
    engine: Engine
    campaigns: dict[str, CampaignRules]
    signer: Signer
    max_events: int
    max_payload: int
    ip_bucket: SharedLimiter  # per client address, on every /api/ request (the Guard middleware)
    identity_bucket: SharedLimiter  # per identity, on every request with a token
    session_bucket: SharedLimiter  # per client address, on new anonymous identities
    analytics_bucket: SharedLimiter  # analytics events per client address: a batch costs one token per event
    hub: Hub
    writer: Writer  # runs the request path's write transactions (group commit on SQLite)
    origins: list[str]  # allowed CORS origins; also the pages WeChat signatures are made for
    admin_digest: bytes | None = None  # sha256 of the admin token; None: admin endpoints are off
    wechat: WeChat | None = None
    clock: list[float] = field(default_factory=list)  # tests pin "now" here (seconds); empty: real time

    def now_ms(self) -> int:
        return int((self.clock[0] if self.clock else time.time()) * 1000)


async def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]


async def campaign_rules(state: State, campaign: Annotated[str, Path(max_length=64)]) -> CampaignRules:
    rules = state.campaigns.get(campaign)
    if rules is None:
        raise ApiError(404, "unknown_campaign", f'no campaign "{campaign}" on this server')
    return rules


Campaign = Annotated[CampaignRules, Depends(campaign_rules)]


def verify_bearer(state: ApiState, token: str) -> Identity:
    """The identity of a token (401 when it is not valid); also the per-identity rate limit."""
    ident = verify_signature(state, token)
    refuse_over_limit(state.identity_bucket.take(ident.key))
    return ident


def verify_signature(state: ApiState, token: str) -> Identity:
    """The identity of a token, 401 when it is not valid: CPU only, no database."""
    try:
        return state.signer.verify(token.strip(), state.now_ms() / 1000)
    except TokenError as exc:
        raise ApiError(401, "bad_token", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


def refuse_over_limit(wait: float) -> None:
    """429 when the per-identity limit says to wait."""
    if wait:
        raise rate_limited("too many requests for this identity", wait)


def bearer_token(authorization: str | None) -> str | None:
    return authorization[7:] if authorization and authorization.startswith("Bearer ") else None


async def signed(state: State, authorization: Annotated[str | None, Header()] = None) -> Identity:
    """The caller from `Authorization: Bearer <token>`, its signature checked. The route must take the
    per-identity limit itself (`refuse_over_limit(state.identity_bucket.take_in(conn, …))`), in its own write
    transaction: one commit for both."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send `Authorization: Bearer <token>` (POST /api/v1/session gives one)")
    return verify_signature(state, token)


def identity(state: State, caller: Annotated[Identity, Depends(signed)]) -> Identity:
    """The caller from `Authorization: Bearer <token>`, within the per-identity rate limit."""
    refuse_over_limit(state.identity_bucket.take(caller.key))
    return caller


Caller = Annotated[Identity, Depends(identity)]


def client_host(request: Request) -> str:
    """The caller's address for per-address limits: the Guard middleware has already replaced the peer
    with the client a trusted proxy names."""
    return request.client.host if request.client else "?"


@dataclass(frozen=True)
class SignedRequest:
    """The state, the campaign and the signed caller of a request, solved as one dependency: each dependency
    FastAPI solves costs about as much as checking the token (the events route is the busiest)."""

    state: ApiState
    rules: CampaignRules
    caller: Identity


async def signed_request(request: Request, campaign: Annotated[str, Path(max_length=64)],
                         authorization: Annotated[str | None, Header()] = None) -> SignedRequest:
    state = await api_state(request)
    return SignedRequest(state, await campaign_rules(state, campaign), await signed(state, authorization))


SignedCampaign = Annotated[SignedRequest, Depends(signed_request)]
