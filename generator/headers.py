"""The publishing contract: Content-Security-Policy, `_headers` and the nginx snippet.

Only content-hashed files (everything under a bundle's `assets/`) are `immutable`; HTML, the
service worker, manifests and JSON are `no-cache` so a deploy is seen at once.
"""
from __future__ import annotations

import base64
import hashlib
import re
from typing import NamedTuple
from urllib.parse import urlsplit

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)([^>]*)>(.*?)</script>", re.S | re.I)
_INLINE_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_DATA_TYPES = ("application/json", "application/ld+json", "text/template")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# Media types of the files a build writes, as every server of dist/ (the local one, object storage) sends them.
MEDIA_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".json": "application/json",
               ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml", ".xml": "application/xml",
               ".txt": "text/plain", ".webp": "image/webp", ".png": "image/png", ".jpg": "image/jpeg",
               ".jpeg": "image/jpeg", ".gif": "image/gif", ".ico": "image/x-icon", ".woff2": "font/woff2",
               ".woff": "font/woff"}
IMMUTABLE = "public, max-age=31536000, immutable"
# Text files have .br/.gz siblings a server may send instead: a shared cache must key them by encoding.
VARY = "Accept-Encoding"
NO_CACHE = "no-cache"


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def inline_hashes(html: str) -> tuple[list[str], list[str]]:
    """CSP hashes of the inline scripts (not data blocks) and styles a page contains."""
    scripts = [_sha(body) for attrs, body in _INLINE_SCRIPT.findall(html)
               if not any(t in attrs for t in _DATA_TYPES) and body.strip()]
    styles = [_sha(body) for body in _INLINE_STYLE.findall(html)]
    return scripts, styles


def origin(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    return f" {parts.scheme}://{parts.netloc}"


def policy(cdn_prefix: str | None, api_url: str | None, scripts: list[str], styles: list[str]) -> str:
    cdn, api = origin(cdn_prefix), origin(api_url)
    script_extra = "".join(f" {h}" for h in sorted(set(scripts)))
    style_extra = "".join(f" {h}" for h in sorted(set(styles)))
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self'{cdn}{script_extra}",
        f"style-src 'self'{cdn}{style_extra}",
        f"img-src 'self' data: blob:{cdn}",
        f"font-src 'self'{cdn}",
        f"connect-src 'self'{cdn}{api}",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ])


def netlify_headers(bundles: dict[str, tuple[str, list[str]]]) -> str:
    """`_headers` for Netlify / Cloudflare Pages. `bundles`: name → (CSP, uncached files).

    Both hosts merge every rule that matches a path, so Cache-Control is set by rules that
    never overlap: one for the hashed `assets/` folder, and one per uncached file. `Vary` covers
    the whole bundle: a host that serves the `.br`/`.gz` siblings may do so for any text file.
    """
    out = ["/*"] + [f"  {k}: {v}" for k, v in SECURITY_HEADERS.items()] + [""]
    for name, (csp, uncached) in sorted(bundles.items()):
        out += [f"/{name}/*", f"  Content-Security-Policy: {csp}", f"  Vary: {VARY}", ""]
        out += [f"/{name}/assets/*", f"  Cache-Control: {IMMUTABLE}", "  Access-Control-Allow-Origin: *", ""]
        for path in [f"/{name}/", *(f"/{name}/{p}" for p in sorted(uncached))]:
            out += [path, f"  Cache-Control: {NO_CACHE}", ""]
    return "\n".join(out)


def nginx_conf(bundles: dict[str, tuple[str, list[str]]]) -> str:
    """A snippet to `include` in the nginx `server {}` whose root is dist/."""
    common = "".join(f'        add_header {k} "{v}" always;\n' for k, v in SECURITY_HEADERS.items())
    out = [
        "# h5press: include this inside the server {} block whose root is dist/.",
        "# Serves the precompressed .gz files (with Vary: Accept-Encoding wherever one exists);",
        "# with the ngx_brotli module also add `brotli_static on;`.",
        "",
    ]
    for name, (csp, _) in sorted(bundles.items()):
        out.append(f"""location ^~ /{name}/ {{
    gzip_static on;
    gzip_vary on;
    index index.html;
    add_header Cache-Control "{NO_CACHE}" always;
    add_header Content-Security-Policy "{csp}" always;
{common.replace('        ', '    ')}    location ^~ /{name}/assets/ {{
        gzip_static on;
        gzip_vary on;
        add_header Cache-Control "{IMMUTABLE}" always;
        add_header Access-Control-Allow-Origin "*" always;
{common}    }}
    location ~ \\.webmanifest$ {{
        default_type application/manifest+json;
        gzip_static on;
        gzip_vary on;
        add_header Cache-Control "{NO_CACHE}" always;
{common}    }}
}}
""")
    return "\n".join(out)


class Rule(NamedTuple):
    """One `_headers` block: the path as written, its pattern, and its headers in file order."""

    path: str
    pattern: re.Pattern[str] | None  # None for a literal path (a build writes one per page): compared as text
    headers: list[tuple[str, str]]

    def matches(self, path: str) -> bool:
        return self.pattern.fullmatch(path) is not None if self.pattern else path == self.path


def parse_headers(text: str) -> list[Rule]:
    """Netlify / Cloudflare `_headers`: a path pattern, then indented `Name: value` lines."""
    rules: list[Rule] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            path = line.strip()
            pattern = re.sub(r":[A-Za-z]\w*", "[^/]+", re.escape(path).replace(r"\*", ".*"))
            rules.append(Rule(path, re.compile(pattern) if pattern != re.escape(path) else None, []))
        elif rules and ":" in line:
            name, value = line.strip().split(":", 1)
            rules[-1].headers.append((name.strip(), value.strip()))
    return rules


def headers_for(rules: list[Rule], path: str) -> list[tuple[str, str]]:
    """Every matching rule applies, in file order (as on Netlify and Cloudflare Pages)."""
    return [header for rule in rules if rule.matches(path) for header in rule.headers]
