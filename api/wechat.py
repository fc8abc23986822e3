"""WeChat JS-SDK signatures (`wx.config`) for share cards inside WeChat.

The jsapi_ticket is fetched with a stable access token (`/cgi-bin/stable_token`, which does not
invalidate the access token other services of the same official account use) and kept until five
minutes before it expires; one request refreshes it while the others wait. Each worker process
keeps its own ticket.
"""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import string
import time
from typing import Any

import httpx

from .errors import ApiError

NONCE_ALPHABET = string.ascii_letters + string.digits


def signature(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    """sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, the URL without its #fragment."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#', 1)[0]}"
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


class WeChat:
    def __init__(self, app_id: str, secret: str, api: str, timeout_s: float = 10.0,
                 margin_s: float = 300.0) -> None:
        self.app_id, self.secret, self.api = app_id, secret, api.rstrip("/")
        self.timeout_s, self.margin_s = timeout_s, margin_s
        self._ticket: tuple[str, float] | None = None  # (ticket, monotonic time to refresh at)
        self._lock = asyncio.Lock()

    async def ticket(self) -> str:
        if self._ticket and time.monotonic() < self._ticket[1]:
            return self._ticket[0]
        async with self._lock:
            if self._ticket and time.monotonic() < self._ticket[1]:  # another request refreshed it meanwhile
                return self._ticket[0]
            async with httpx.AsyncClient(base_url=self.api, timeout=self.timeout_s) as http:
                token = await self._call(http, "POST", "/cgi-bin/stable_token",
                                         json={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret})
                got = await self._call(http, "GET", "/cgi-bin/ticket/getticket",
                                       params={"access_token": token.get("access_token", ""), "type": "jsapi"})
            if not isinstance(got.get("ticket"), str) or not isinstance(got.get("expires_in"), int):
                raise ApiError(502, "wechat_error", "WeChat getticket answered without `ticket` and `expires_in`")
            lifetime = got["expires_in"]
            self._ticket = (got["ticket"], time.monotonic() + max(0.0, lifetime - min(self.margin_s, lifetime / 5)))
            return got["ticket"]

    async def _call(self, http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await http.request(method, path, **kwargs)
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ApiError(502, "wechat_unreachable", f"WeChat {path}: {type(exc).__name__}: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(502, "wechat_error", f"WeChat {path}: HTTP {response.status_code}, not a JSON object")
        if data.get("errcode", 0) != 0:
            raise ApiError(502, "wechat_error", f"WeChat {path}: errcode {data.get('errcode')}: {data.get('errmsg', '')}",
                           errcode=data.get("errcode"))
        return data

    async def sign(self, url: str, timestamp: int) -> dict[str, Any]:
        nonce = "".join(secrets.choice(NONCE_ALPHABET) for _ in range(16))
        return {"appId": self.app_id, "timestamp": timestamp, "nonceStr": nonce,
                "signature": signature(await self.ticket(), nonce, timestamp, url)}
