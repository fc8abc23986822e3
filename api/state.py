"""Shared application state and the request dependencies (campaign, identity)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from sqlalchemy import Engine

from .errors import ApiError, TokenError, rate_limited, unauthorized
from .identity import Identity, Signer
from .ratelimit import Limiter
from .rules import CampaignRules
from .stream import Hub
from .wechat import WeChat


@dataclass
class ApiState:
    engine: Engine
    campaigns: dict[str, CampaignRules]
    signer: Signer
    max_events: int
    max_payload: int
    ip_bucket: Limiter  # per client address, on every /api/ request (the Guard middleware)
    identity_bucket: Limiter  # per identity, on every request with a token
    session_bucket: Limiter  # per client address, on new anonymous identities
    analytics_bucket: Limiter  # analytics events per client address: a batch costs one token per event
    hub: Hub
    origins: list[str]  # allowed CORS origins; also the pages WeChat signatures are made for
    admin_digest: bytes | None = None  # sha256 of the admin token; None: admin endpoints are off
    wechat: WeChat | None = None
    clock: list[float] = field(default_factory=list)  # tests pin "now" here (seconds); empty: real time

    def now_ms(self) -> int:
        return int((self.clock[0] if self.clock else time.time()) * 1000)


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]


def campaign_rules(state: State, campaign: Annotated[str, Path(max_length=64)]) -> CampaignRules:
    rules = state.campaigns.get(campaign)
    if rules is None:
        raise ApiError(404, "unknown_campaign", f'no campaign "{campaign}" on this server')
    return rules


Campaign = Annotated[CampaignRules, Depends(campaign_rules)]


def verify_bearer(state: ApiState, token: str) -> Identity:
    """The identity of a token (401 when it is not valid); also the per-identity rate limit."""
    try:
        ident = state.signer.verify(token.strip(), state.now_ms() / 1000)
    except TokenError as exc:
        raise ApiError(401, "bad_token", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    wait = state.identity_bucket.take(ident.key)
    if wait:
        raise rate_limited("too many requests for this identity", wait)
    return ident


def bearer_token(authorization: str | None) -> str | None:
    return authorization[7:] if authorization and authorization.startswith("Bearer ") else None


def identity(state: State, authorization: Annotated[str | None, Header()] = None) -> Identity:
    """The caller from `Authorization: Bearer <token>`."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send `Authorization: Bearer <token>` (POST /api/v1/session gives one)")
    return verify_bearer(state, token)


Caller = Annotated[Identity, Depends(identity)]


def client_host(request: Request) -> str:
    """The caller's address for per-address limits: the Guard middleware has already replaced the peer
    with the client a trusted proxy names."""
    return request.client.host if request.client else "?"
