"""The FastAPI application factory of `h5press api`."""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from .db import CONCURRENCY, make_engine
from .errors import ApiError
from .identity import Signer, pseudonym_key
from .limits import SharedLimiter
from .migrations import migrate
from .project import Project, load_project
from .ratelimit import Limiter, Network, client_address, networks
from .schemas import errors
from .settings import ApiSettings
from .state import ApiState
from .stream import Hub, RedactTokens
from .text import MAX_DEPTH, may_refuse, refusal
from .wechat import WeChat
from .writer import Writer


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def invalid_request(loc: Sequence[str | int], message: str, details: list[dict[str, object]] | None = None) -> JSONResponse:
    """422 `invalid_request`: `loc` is where in the request (`["body", "events", 0, "id"]`), as FastAPI says it;
    `details` lists every problem (default: this one)."""
    loc = list(loc)
    where = ".".join(str(p) for p in (loc[1:] if loc[:1] == ["body"] and len(loc) > 1 else loc))
    return JSONResponse({"error": "invalid_request", "message": f"{where}: {message}",
                         "details": details or [{"loc": [str(p) for p in loc], "message": message}]}, 422)


def json_refusal(scope: Scope, body: bytes) -> JSONResponse | None:
    """The 422 of a JSON body that is not UTF-8, not JSON, nested too deep or holding text no database
    stores (a lone surrogate, NUL); None for a good body and for bodies that are not JSON."""
    kind = dict(scope["headers"]).get(b"content-type", b"application/json")
    if not body or b"json" not in kind.lower():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return invalid_request(["body", exc.start], f"invalid UTF-8 at byte {exc.start}")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return invalid_request(["body", exc.pos], f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except RecursionError:
        return invalid_request(["body"], f"nested deeper than {MAX_DEPTH} levels")
    found = refusal(value) if may_refuse(body) else None
    return invalid_request(["body", *found[0]], found[1]) if found else None


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, whether or not Content-Length is sent, and JSON
    bodies that are not valid JSON text with 422 (`json_refusal`), before any route reads them."""

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
        refused = json_refusal(scope, body)
        if refused is not None:
            await refused(scope, receive, send)
            return
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
    """Who is asking and how often: the client's address (the peer, or what a `--trusted-proxy` says in
    `X-Forwarded-For`) replaces `scope["client"]`, so every route sees the same `request.client`; the
    per-IP rate limit on `/api/`; and `X-Content-Type-Options: nosniff` on every answer (JSON and CSV
    carry user text: a browser must never sniff them as HTML)."""

    def __init__(self, app: ASGIApp, bucket: Limiter | None, trusted: tuple[Network, ...]) -> None:
        """`bucket`: the per-IP limit, None when it is off (`--ip-rate 0`: no thread hop per request for it)."""
        self.app, self.bucket, self.trusted = app, bucket, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer, port = scope.get("client") or ("?", 0)
        forwarded = dict(scope["headers"]).get(b"x-forwarded-for")
        address = client_address(peer, forwarded.decode("latin-1") if forwarded else None, self.trusted)
        scope["client"] = (address, port)
        if self.bucket is not None and scope["path"].startswith("/api/"):
            wait = await run_in_threadpool(self.bucket.take, address)
            if wait:
                await rate_limited("too many requests from this address", wait)(scope, receive, send)
                return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_nosniff)


def rate_limited(message: str, wait: float) -> JSONResponse:
    return JSONResponse({"error": "rate_limited", "message": message}, 429,
                        headers={"Retry-After": str(max(1, round(wait))), "X-Content-Type-Options": "nosniff"})


def allowed_methods(routes: list[APIRoute], scope: Scope) -> list[str]:
    """Every method some route of this path answers (a path can have one route per method)."""
    methods = {m for route in routes if route.matches(scope)[0] != Match.NONE for m in route.methods or ()}
    return sorted(methods | ({"HEAD"} if "GET" in methods else set()))


def document_errors(routes: list[APIRoute]) -> None:
    """Add to every route's OpenAPI answers the errors every route of its kind can give: 429 (rate limits),
    404 (unknown campaign), 401 (a route reading a token), 413 and 422 (a route with a body or parameters)."""
    for route in routes:
        params = get_flat_params(route.dependant)
        codes = [429] if route.path.startswith("/api/") else []
        codes += [404] if "{campaign}" in route.path else []
        codes += [401] if any(p.alias.lower() == "authorization" for p in params) else []
        codes += [413, 422] if route.body_field is not None else [422] if params else []
        route.responses = {**errors(*codes), **route.responses}


def name_campaigns(app: FastAPI, names: list[str]) -> None:
    """The OpenAPI document lists the campaigns this server serves: as the `{campaign}` of every path and
    as what an event's `campaign` must be (the campaign of its URL)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operation in (op for ops in schema["paths"].values() for op in ops.values()):
                for param in operation.get("parameters", []):
                    if param["in"] == "path" and param["name"] == "campaign":
                        param["schema"]["enum"] = names
            event = schema.get("components", {}).get("schemas", {}).get("EventIn")
            if event:
                event["properties"]["campaign"]["enum"] = names
            for body in _analytics_bodies(schema):
                body["properties"]["events"]["items"]["properties"]["campaign"]["enum"] = names
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _analytics_bodies(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The analytics batch schemas, written inline for both body types the route reads."""
    post = schema["paths"].get("/api/v1/campaigns/{campaign}/analytics", {}).get("post", {})
    return [kind["schema"] for kind in post.get("requestBody", {}).get("content", {}).values()]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    to_thread.current_default_thread_limiter().total_tokens = CONCURRENCY  # the connection pool's size
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
    yield
    await app.state.api.hub.close()
    app.state.api.writer.close()


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
        ip_bucket=SharedLimiter(engine, "ip", settings.ip_rate, max(1, int(settings.ip_rate * 5))),
        identity_bucket=SharedLimiter(engine, "identity", settings.identity_rate, max(1, int(settings.identity_rate * 5))),
        session_bucket=SharedLimiter(engine, "session", settings.session_rate, max(1, int(settings.session_rate * 30))),
        analytics_bucket=SharedLimiter(engine, "analytics", settings.analytics_rate,
                                       max(int(settings.analytics_rate * 20), settings.max_events)),
        hub=Hub(engine, project.campaigns, poll_s=settings.stream_poll, ping_s=settings.stream_ping),
        writer=Writer(engine),
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
        details: list[dict[str, object]] = [{"loc": [str(p) for p in err.get("loc", ())], "message": err.get("msg", "")}
                                            for err in exc.errors()]
        first = exc.errors()[0] if details else {"loc": (), "msg": "invalid request"}
        return invalid_request(first.get("loc", ()), str(first.get("msg", "")), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(routes, request.scope))
        return JSONResponse({"error": code, "message": str(exc.detail)}, exc.status_code, headers=headers)

    from .routes import admin, analytics, campaigns, extras, live, session, wechat

    routers = [module.router for module in (session, campaigns, analytics, extras, live, admin, wechat)]
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    document_errors(routes)
    for router in routers:
        app.include_router(router)
    name_campaigns(app, sorted(project.campaigns))
    app.add_middleware(Guard, bucket=app.state.api.ip_bucket if settings.ip_rate > 0 else None,
                       trusted=networks(settings.trusted_proxies))
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
                       allow_headers=["Authorization", "Content-Type"], max_age=600)
    app.add_middleware(BodyLimit, limit=settings.max_body)
    return app


PARENT_ENV = "H5PRESS_API_PARENT"  # the pid of `h5press api`, whose worker processes these are


def die_with_parent(parent: int, poll_s: float = 0.5) -> None:
    """Shut this worker process down (SIGTERM: uvicorn's graceful shutdown) once its parent is gone, e.g.
    after `kill -9` of `h5press api`: orphaned workers would keep serving and holding the port. `parent` is
    the pid the parent wrote down before starting the workers: a worker still starting when the parent was
    killed already has another parent, and stops at once."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="h5press-parent-watch", daemon=True).start()


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers (`--workers N`): the CLI hands its settings over through the environment."""
    die_with_parent(int(os.environ.get(PARENT_ENV) or os.getppid()))
    settings = ApiSettings.from_env(os.environ)
    return frozen_heap(create_app(load_project(settings.project), settings))


def frozen_heap(app: FastAPI) -> FastAPI:
    """`app`, with every object made so far (modules, models, compiled statements, the campaigns) moved out of
    the garbage collector's sight: each full collection walked all of them again, a pause of tens of ms that
    every request queued behind (p99 of single-event POSTs 77-95 ms; 47-50 ms frozen, same run)."""
    gc.collect()
    gc.freeze()
    return app
