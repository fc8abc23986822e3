"""`GET /api/v1/wechat/signature`: a WeChat JS-SDK `wx.config` signature for a page of the site."""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..errors import ApiError
from ..schemas import errors
from ..state import State

router = APIRouter(prefix="/api/v1/wechat", tags=["wechat"])


class SignatureOut(BaseModel):
    appId: str
    timestamp: int
    nonceStr: str
    signature: str


def page_origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(422, "invalid_request", "url: must be an absolute http(s) URL")
    return f"{parts.scheme}://{parts.netloc}".lower()


@router.get("/signature", response_model=SignatureOut, summary="WeChat JS-SDK signature of a page URL",
            responses=errors(403, 404, 502))
async def get_signature(state: State, url: Annotated[str, Query(min_length=1, max_length=2048)]) -> Any:
    """For `wx.config`; `url` is the page's full URL (a #fragment is ignored) on an allowed CORS origin."""
    if state.wechat is None:
        raise ApiError(404, "wechat_not_configured", "WeChat is not configured: start the server with --wechat-app-id and "
                                                     "--wechat-secret")
    if page_origin(url) not in {origin.lower() for origin in state.origins}:
        raise ApiError(403, "url_not_allowed", "url: not on an origin this server allows (--cors-origin)")
    signed = await state.wechat.sign(url, state.now_ms() // 1000)
    return JSONResponse(signed, headers={"Cache-Control": "no-store"})
