"""The rate-limiter interface of the server's routes and middleware, an in-process token bucket, and
which address a request comes from.

A limiter has one method, `take(key, cost=1.0) -> float`: 0 when the request may go on, else the seconds
to wait (the `Retry-After`). The server's limiters (`ApiState.ip_bucket`, `identity_bucket`,
`session_bucket`) are `limits.SharedLimiter`s, shared by every process through the database; a
`TokenBucket` counts in one process only (for a limit that need not hold across processes).
"""
from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Protocol

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Limiter(Protocol):
    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float: ...


def networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """`--trusted-proxy` values (addresses or CIDR ranges) as networks; ValueError names a bad one."""
    return tuple(ipaddress.ip_network(a.strip(), strict=False) for a in addresses if a.strip())


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address a request comes from. `X-Forwarded-For` counts only when the peer is a trusted proxy:
    read from the right, the first address that is not a trusted proxy is the client (a client cannot
    prepend its way past the proxies' own entries)."""
    if not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _within(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one request costs one token."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """0 when allowed, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                return (cost - tokens) / self.rate
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._prune(now)
            self._buckets[key] = (tokens - cost, now)
            return 0.0

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:  # still full of active keys: forget the oldest half
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: self.max_keys // 2]:
                del self._buckets[key]
