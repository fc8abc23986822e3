"""The package's own styles and scripts, compiled ahead and shipped as `assets/precompiled.json`.

libsass has no wheel for Linux on ARM, and rjsmin none for macOS or Windows, so neither can be a
dependency everywhere (h5press installs from wheels only). Everything the package brings (the
theme's SCSS, each component's, the runtime and component scripts) is therefore compiled here
ahead of time, keyed by a digest of its sources; a build looks its inputs up and calls a compiler
only for what a project adds or overrides. `python -m h5press.generator.precompile` writes the
table after the package's SCSS or scripts change; `--check` (run by the tests) fails when it is stale.
"""
from __future__ import annotations

import functools
import hashlib
import json

from .assets import THEME_DIR

TABLE = THEME_DIR / "assets" / "precompiled.json"


def key(*parts: str) -> str:
    """The digest that names one compiler input (its sources, in a fixed order)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:32]


@functools.cache
def _table() -> dict[str, str]:
    return json.loads(TABLE.read_text("utf-8")) if TABLE.is_file() else {}


def lookup(digest: str) -> str | None:
    return _table().get(digest)


def minify(source: str) -> str:
    import rjsmin  # optional: only needed where a project's own script has no precompiled entry

    return str(rjsmin.jsmin(source)).strip() + "\n"


def minify_js(source: str) -> str:
    """The package's scripts come precompiled; a project's own are minified by rjsmin where it is
    installed, otherwise shipped as written (Brotli still compresses them)."""
    known = lookup(key("js", source))
    if known is not None:
        return known
    try:
        return minify(source)
    except ImportError:
        return source.strip() + "\n"
