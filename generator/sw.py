"""Stage 5, service worker: `sw.js` (or its kill switch), the precache list and the web manifest.

The precache list is chosen here against a byte budget: the offline shell first, then pages in
reading order, then images; what does not fit is cached when visited instead.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .assets import theme_file
from .precompiled import minify_js

NAV_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class Entry:
    url: str  # relative to the bundle root, or absolute on the CDN
    size: int
    data: bytes  # what is cached; its hash versions the precache


def choose_precache(entries: list[Entry], budget: int) -> tuple[list[Entry], list[Entry]]:
    """Keep entries in priority order while they fit the budget; return (kept, left out)."""
    kept, left, total = [], [], 0
    for entry in entries:
        if total + entry.size <= budget:
            kept.append(entry)
            total += entry.size
        else:
            left.append(entry)
    return kept, left


def _config_line(config: dict[str, object]) -> str:
    return "self.H5_SW_CONFIG=" + json.dumps(config, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + ";\n"


def service_worker(root: Path, campaign: str, precache: list[Entry], api_url: str | None, enabled: bool) -> bytes:
    """The bundle's `sw.js`; its bytes change whenever anything precached changes."""
    if not enabled:
        source = theme_file(root, "assets/js/sw-kill.js").read_text("utf-8")
        return (_config_line({"campaign": campaign}) + minify_js(source)).encode()
    version = hashlib.sha256()
    for entry in precache:
        version.update(entry.url.encode() + b"\0" + hashlib.sha256(entry.data).digest())
    config = {
        "campaign": campaign,
        "version": version.hexdigest()[:12],
        "precache": [e.url for e in precache],
        "offline": "offline.html",
        "timeout": NAV_TIMEOUT_MS,
        "api": api_url,
    }
    source = theme_file(root, "assets/js/sw.js").read_text("utf-8")
    return (_config_line(config) + minify_js(source)).encode()


def web_manifest(title: str, description: str, lang: str, theme: str, background: str, icons: list[tuple[str, int]]) -> bytes:
    manifest = {
        "name": title,
        "short_name": title[:12],
        "description": description,
        "lang": lang,
        "start_url": "./index.html",
        "scope": "./",
        "display": "standalone",
        "theme_color": theme,
        "background_color": background,
        "icons": [{"src": url, "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"} for url, size in icons],
    }
    return json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
