"""The exceptions of the collaboration server. A leaf: it imports nothing of h5press, so every layer
(storage, the domain modules, the routes) can raise them without importing each other."""
from __future__ import annotations


class ApiError(Exception):
    """A 4xx or 5xx answer: `{"error": code, "message": text, ...extra}`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra


class TokenError(ValueError):
    """The token is malformed, forged, expired or from an unknown issuer."""


def unauthorized(message: str) -> ApiError:
    """401 for a request without the bearer token it needs."""
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def rate_limited(message: str, wait: float) -> ApiError:
    """429 with the whole seconds to wait (at least 1) in `Retry-After`."""
    return ApiError(429, "rate_limited", message, headers={"Retry-After": str(max(1, round(wait)))})
