"""Signed identity tokens.

Format (also what an institution issues to bind its own login):

    base64url(JSON payload) "." base64url(HMAC-SHA256(key, the first part as ASCII))

without `=` padding. The payload holds `iss` (issuer), `sub` (the person, 1–128 characters),
`iat` and `exp` (seconds since the epoch). Tokens from this server have `iss` "h5press" and are
signed with the server secret; an institution's tokens name the institution in `iss` and are signed
with the key configured for it. The identity is `<iss>:<sub>`, so issuers never collide.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import TokenError

SERVER_ISSUER = "h5press"
LEEWAY_S = 60  # clock difference tolerated on `iat`/`exp`
MAX_TOKEN = 2048  # characters
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str) -> bytes:
    """Decode base64url without padding, accepting only the canonical encoding: one spelling per token."""
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:  # 4k+1 characters encode no whole number of bytes
        raise TokenError("token is not base64url")
    data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    if _b64(data) != part:  # stray trailing bits: another spelling of the same bytes
        raise TokenError("token is not canonical base64url")
    return data


def pseudonym_key(secret: str) -> bytes:
    """The key of pseudonyms, derived from the server's secret (never the token key itself)."""
    return hmac.new(secret.encode("utf-8"), b"h5press pseudonym", hashlib.sha256).digest()


def pseudonym(identity: str, key: bytes) -> str:
    """A stable name for a person on public boards and in teams. Keyed, so that an institution's
    guessable customer ids (`bank:customer-42`) cannot be recovered by hashing candidates."""
    return hmac.new(key, identity.encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def sign(payload: dict[str, object], key: bytes) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    mac = hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


@dataclass(frozen=True)
class Identity:
    iss: str
    sub: str
    exp: int
    iat: int = 0  # when the issuer made the token (seconds since the epoch)

    @property
    def key(self) -> str:
        return f"{self.iss}:{self.sub}"


class Signer:
    """Issues anonymous device tokens and verifies tokens of this server and of institutions."""

    def __init__(self, secret: str, issuers: Mapping[str, str] | None = None, ttl_s: int = 365 * 86400) -> None:
        if len(secret) < 16:
            raise ValueError("the API secret must be at least 16 characters")
        self.keys = {SERVER_ISSUER: secret.encode("utf-8")}
        for name, key in (issuers or {}).items():
            if name == SERVER_ISSUER:
                raise ValueError(f'issuer name "{SERVER_ISSUER}" is reserved for this server\'s own tokens')
            self.keys[name] = key.encode("utf-8")
        self.ttl_s = ttl_s

    def issue(self, sub: str | None = None, now: float | None = None) -> tuple[str, Identity]:
        now_s = int(now if now is not None else time.time())
        ident = Identity(SERVER_ISSUER, sub or secrets.token_urlsafe(16), now_s + self.ttl_s, now_s)
        token = sign({"iss": ident.iss, "sub": ident.sub, "iat": now_s, "exp": ident.exp}, self.keys[SERVER_ISSUER])
        return token, ident

    def verify(self, token: str, now: float | None = None) -> Identity:
        """The token's identity. The signature is checked before the payload is parsed, so nothing of an
        unsigned token is ever read; every malformed token is a `TokenError`."""
        now_s = time.time() if now is None else now
        if len(token) > MAX_TOKEN or token.count(".") != 1:
            raise TokenError("token must be two base64url parts separated by a dot")
        body, mac = token.split(".")
        issuer = self._signer_of(body, _unb64(mac))
        payload = self._payload(body)
        iss, sub, iat, exp = payload.get("iss"), payload.get("sub"), payload.get("iat"), payload.get("exp")
        if iss != issuer:
            raise TokenError(f"token issuer {iss!r} does not match its signature")
        if not isinstance(sub, str) or not 1 <= len(sub) <= 128:
            raise TokenError("token `sub` must be a string of 1-128 characters")
        if type(exp) is not int or type(iat) is not int:
            raise TokenError("token needs integer `iat` and `exp`")
        if iat > now_s + LEEWAY_S:
            raise TokenError("token issued in the future")
        if exp < now_s - LEEWAY_S:
            raise TokenError("token expired")
        return Identity(issuer, sub, exp, iat)

    def _signer_of(self, body: str, mac: bytes) -> str:
        """The issuer whose key made `mac` over `body` (every key is tried, in constant time each)."""
        signed = body.encode("ascii")
        found = [name for name, key in self.keys.items()
                 if hmac.compare_digest(hmac.new(key, signed, hashlib.sha256).digest(), mac)]
        if not found:
            raise TokenError("token signature does not match")
        return found[0]

    @staticmethod
    def _payload(body: str) -> dict[str, object]:
        try:
            payload = json.loads(_unb64(body))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise TokenError("token payload is not JSON") from None
        if not isinstance(payload, dict):
            raise TokenError("token payload is not a JSON object")
        return payload
