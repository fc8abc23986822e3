"""The FastAPI application factory of `h5press api`."""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from .db import make_engine
from .errors import ApiError
from .identity import Signer, pseudonym_key
from .migrations import migrate
from .project import Project, load_project
from .ratelimit import TokenBucket
from .settings import ApiSettings
from .state import ApiState
from .stream import Hub, RedactTokens
from .wechat import WeChat


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"error": "too_large", "message": f"request body is larger than {self.limit} bytes"}, 413)
        await response(scope, receive, send)


class Guard:
    """The per-IP rate limit on `/api/`, and `X-Content-Type-Options: nosniff` on every answer (JSON and
    CSV carry user text: a browser must never sniff them as HTML)."""

    def __init__(self, app: ASGIApp, bucket: TokenBucket) -> None:
        self.app, self.bucket = app, bucket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/api/"):
            wait = self.bucket.take(scope["client"][0] if scope.get("client") else "?")
            if wait:
                response = JSONResponse({"error": "rate_limited", "message": "too many requests from this address"}, 429,
                                        headers={"Retry-After": str(max(1, round(wait))), "X-Content-Type-Options": "nosniff"})
                await response(scope, receive, send)
                return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_nosniff)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
    yield
    await app.state.api.hub.close()


def create_app(project: Project, settings: ApiSettings) -> FastAPI:
    key = pseudonym_key(settings.secret)
    for rules in project.campaigns.values():
        rules.pseudonym_key = key
    engine = make_engine(settings.db)
    migrate(engine)
    if settings.cors_origins is not None:
        origins = list(settings.cors_origins)
    else:
        origins = [origin_of(project.site.base_url)] if project.site.base_url else []
    app = FastAPI(title="h5press collaboration API", version=__version__, lifespan=lifespan,
                  description="Identities, events, points, votes, teams, leaderboards, rewards, lottery draws, live updates, "
                              "admin exports and WeChat signatures for h5press campaigns. "
                              "Every error is JSON: `{\"error\": code, \"message\": text}`.")
    app.state.api = ApiState(
        engine=engine, campaigns=project.campaigns, signer=Signer(settings.secret, settings.issuers),
        max_events=settings.max_events, max_payload=settings.max_payload,
        ip_bucket=TokenBucket(settings.ip_rate, int(settings.ip_rate * 5)),
        identity_bucket=TokenBucket(settings.identity_rate, int(settings.identity_rate * 5)),
        analytics_bucket=TokenBucket(settings.analytics_rate, max(int(settings.analytics_rate * 20), settings.max_events)),
        hub=Hub(engine, project.campaigns, poll_s=settings.stream_poll, ping_s=settings.stream_ping),
        origins=origins,
        wechat=WeChat(settings.wechat_app_id, settings.wechat_secret, settings.wechat_api) if settings.wechat_app_id else None,
        admin_digest=hashlib.sha256(settings.admin_token.encode("utf-8")).digest() if settings.admin_token else None,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "message": exc.message, **exc.extra}
        return JSONResponse(body, exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": [str(p) for p in err.get("loc", ())], "message": err.get("msg", "")} for err in exc.errors()]
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(first["loc"][1:] if first["loc"][:1] == ["body"] else first["loc"])  # type: ignore[index]
        return JSONResponse({"error": "invalid_request", "message": f"{where}: {first['message']}", "details": details}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail)}, exc.status_code)

    from .routes import admin, analytics, campaigns, extras, live, session, wechat

    for module in (session, campaigns, analytics, extras, live, admin, wechat):
        app.include_router(module.router)
    app.add_middleware(Guard, bucket=app.state.api.ip_bucket)
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(BodyLimit, limit=settings.max_body)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers (`--workers N`): the CLI hands its settings over through the environment."""
    settings = ApiSettings.from_env(os.environ)
    return create_app(load_project(settings.project), settings)
