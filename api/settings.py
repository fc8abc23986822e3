"""Everything `h5press api` runs with, as one typed object.

The CLI builds it once from its options (and the environment variables they read); the app factory
takes it, and worker processes (`--workers N`, see `processes`) get it back from the
`H5PRESS_API_<FIELD>` variables the CLI sets. Only the standard library is imported here, so the CLI
reads the defaults without the api extra installed.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .ratelimit import networks

ENV_PREFIX = "H5PRESS_API_"


def parse_issuers(values: Iterable[str]) -> dict[str, str]:
    """`name=key` pairs (from `--issuer` or comma-separated `H5PRESS_API_ISSUERS`)."""
    issuers = {}
    for value in values:
        name, sep, key = value.partition("=")
        if not sep or not name or not key:
            raise ValueError(f'issuer must be NAME=KEY, got "{value}"')
        issuers[name.strip()] = key.strip()
    return issuers


def _items(raw: str) -> list[str]:
    return [v for v in raw.split(",") if v]


@dataclass(frozen=True)
class ApiSettings:
    """Checked when made: a server never starts with a short secret or half a WeChat account."""

    project: Path = Path(".")  # site project whose campaign.yaml files hold the rules
    db: str = "h5press-api.sqlite3"
    host: str = "127.0.0.1"
    port: int = 8100
    workers: int = 1  # worker processes, each with its own listening socket
    secret: str = ""
    issuers: Mapping[str, str] = field(default_factory=dict)  # institution → HMAC key
    cors_origins: tuple[str, ...] | None = None  # None: the site's base_url origin
    max_body: int = 1024 * 1024  # bytes per request
    max_events: int = 1000  # events per batch
    max_payload: int = 4096  # bytes of one event's payload (JSON)
    ip_rate: float = 20.0  # requests per second per IP (burst: 5×); 0: no limit
    identity_rate: float = 10.0  # requests per second per identity (burst: 5×); 0: no limit
    session_rate: float = 1.0  # new identities per second per IP (burst: 30×); 0: no limit
    trusted_proxies: tuple[str, ...] = ()  # addresses or CIDR ranges whose X-Forwarded-For is believed
    analytics_rate: float = 50.0  # analytics events per second per IP (burst: 20×, at least one batch); 0: no limit
    admin_token: str = ""  # empty: admin endpoints answer 404
    wechat_app_id: str = ""
    wechat_secret: str = ""
    wechat_api: str = "https://api.weixin.qq.com"
    stream_poll: float = 1.0  # seconds between two looks at the change log (per process and campaign)
    stream_ping: float = 15.0  # seconds between `: ping` comments on a live stream

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("set a token secret: --secret or the environment variable H5PRESS_API_SECRET (16+ characters)")
        if len(self.secret) < 16:
            raise ValueError("the token secret must be at least 16 characters")
        if self.admin_token and len(self.admin_token) < 16:
            raise ValueError("the admin token must be at least 16 characters")
        try:
            networks(self.trusted_proxies)
        except ValueError as exc:
            raise ValueError(f"--trusted-proxy: {exc}") from None
        if bool(self.wechat_app_id) != bool(self.wechat_secret):
            raise ValueError("WeChat signatures need both --wechat-app-id and --wechat-secret")

    @classmethod
    def from_options(cls, options: Mapping[str, Any], env: Mapping[str, str]) -> ApiSettings:
        """From the `h5press api` options, one per field as click passes them: `--issuer` values joined by
        `H5PRESS_API_ISSUERS` (comma-separated), no `--cors-origin`: None, no `--secret`: empty."""
        issuers = parse_issuers([*options["issuers"], *_items(env.get(ENV_PREFIX + "ISSUERS", ""))])
        return cls(**{**options, "project": Path(options["project"]).resolve(), "secret": options["secret"] or "",
                      "issuers": issuers, "cors_origins": tuple(options["cors_origins"]) or None,
                      "trusted_proxies": tuple(options["trusted_proxies"])})

    def as_env(self) -> dict[str, str]:
        """The settings as `H5PRESS_API_<FIELD>` variables, which `from_env` reads back."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = ",".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, tuple):
                value = ",".join(value)
            if value is not None:
                env[ENV_PREFIX + f.name.upper()] = str(value)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ApiSettings:
        """The settings of a worker process; a variable that is not set leaves the default."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name == "issuers":
                values[f.name] = parse_issuers(_items(raw))
            elif f.name in ("cors_origins", "trusted_proxies"):
                values[f.name] = tuple(_items(raw))
            else:  # a str, int, float or Path, like its default
                kind: Any = type(f.default)
                values[f.name] = kind(raw)
        return cls(**values)
