"""What dist/ publishes: one object per served file, with the headers `dist/_headers` gives it.

Cache-Control is read from `_headers` (the build's own contract), never re-derived, so object
storage serves exactly what Netlify or nginx would.
"""
from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..generator.headers import MEDIA_TYPES, Rule, headers_for, parse_headers
from ..generator.write import is_text

HEADERS_FILE = "_headers"
# Server configuration and the build's own report are not part of the site.
NOT_PUBLISHED = {HEADERS_FILE, "nginx.conf", "build-report.json"}
SIBLING = {"gzip": ".gz", "br": ".br"}
# Upload groups, in order: what pages reference exists before the pages, and the pages before
# the service worker that precaches them.
ASSETS, PAGES, WORKER = 0, 1, 2
GROUP_NAMES = ("hashed assets", "pages and other revalidated files", "service workers")


class DistError(Exception):
    """dist/ is missing or is not an h5press build."""


@dataclass(frozen=True)
class LocalObject:
    key: str  # path in dist/, e.g. "green/assets/app.1a2b3c4d.css"; the bucket key is prefix + key
    source: Path  # the file uploaded as the body: the precompressed sibling for encoded text
    size: int
    headers: dict[str, str]  # Content-Type, Cache-Control, Content-Encoding as sent by the storage
    digest: str  # of the body and the headers: what decides whether the stored object is current
    group: int

    @property
    def hashed(self) -> bool:
        return self.group == ASSETS


def read_rules(dist: Path) -> list[Rule]:
    if not dist.is_dir():
        raise DistError(f"{dist}: no such folder (build first with `h5press build`)")
    headers = dist / HEADERS_FILE
    if not headers.is_file():
        raise DistError(f"{dist} has no {HEADERS_FILE}: not an h5press build (run `h5press build`)")
    return parse_headers(headers.read_text("utf-8"))


def scan(dist: Path, rules: list[Rule], encoding: str) -> list[LocalObject]:
    """Every object dist/ publishes, sorted by key."""
    files = {p.relative_to(dist).as_posix(): p for p in dist.rglob("*") if p.is_file()}
    return [describe(key, files, rules, encoding) for key in sorted(files) if published(key, files)]


def published(key: str, files: dict[str, Path]) -> bool:
    """Not server configuration, and not a `.br`/`.gz` sibling: those are bodies of their file."""
    path = PurePosixPath(key)
    return key not in NOT_PUBLISHED and not (path.suffix in (".br", ".gz") and key[: -len(path.suffix)] in files)


def content_type(key: str) -> str:
    """By extension; text says UTF-8, the only encoding the build writes."""
    suffix = PurePosixPath(key).suffix.lower()
    kind = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if is_text(key) else kind


def describe(key: str, files: dict[str, Path], rules: list[Rule], encoding: str) -> LocalObject:
    """One published file: its headers, the body that goes with them (the build's `.gz`/`.br`
    for encoded text) and their digest."""
    headers = {"Content-Type": content_type(key)}
    cache = ", ".join(value for name, value in headers_for(rules, f"/{key}") if name.lower() == "cache-control")
    if cache:
        headers["Cache-Control"] = cache
    sibling = f"{key}{SIBLING.get(encoding, '')}"
    encoded = encoding in SIBLING and is_text(key) and sibling in files
    if encoded:
        headers["Content-Encoding"] = encoding
    source = files[sibling if encoded else key]
    body = source.read_bytes()
    return LocalObject(key, source, len(body), headers, digest(body, headers), group(key, cache))


def group(key: str, cache_control: str) -> int:
    """Hashed assets are the files `_headers` makes immutable: content-addressed, safe to upload first."""
    if "immutable" in cache_control:
        return ASSETS
    return WORKER if PurePosixPath(key).name == "sw.js" else PAGES


def digest(body: bytes, headers: dict[str, str]) -> str:
    """Of the body and the headers: a changed Cache-Control or encoding needs an upload too."""
    hasher = hashlib.sha256(body)
    for name, value in sorted(headers.items()):
        hasher.update(f"\n{name}: {value}".encode())
    return hasher.hexdigest()


def cdn_rules(rules: list[Rule], prefix: str) -> list[str]:
    """The `_headers` lines object storage cannot send per object, as CDN rules on the bucket's
    paths: everything but Cache-Control (CSP, nosniff, Referrer-Policy, CORS on assets)."""
    return [f"/{prefix}{rule.path.lstrip('/')}  {name}: {value}"
            for rule in rules for name, value in rule.headers if name.lower() != "cache-control"]
