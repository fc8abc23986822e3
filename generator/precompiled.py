"""The package's own styles and scripts, compiled ahead and shipped as `assets/precompiled.json`.

libsass has no wheel for Linux on ARM, and rjsmin none for macOS or Windows, so neither can be a
dependency everywhere (h5press installs from wheels only). Everything the package brings (the
theme's SCSS, each component's, the runtime and component scripts) is therefore compiled here
ahead of time, keyed by a digest of its sources; a build looks its inputs up and calls a compiler
only for what a project adds or overrides. Run `python -m h5press.generator.precompiled` after
editing the package's SCSS or scripts; `--check` (run by the tests) fails when the table is stale.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import tempfile
from pathlib import Path

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


def generate() -> dict[str, str]:
    """Compile every style and script the package ships, as a build of an empty project would."""
    from .components import registry
    from .errors import Diagnostics
    from .theme import compile_styles, package_scripts

    with tempfile.TemporaryDirectory(prefix="h5press-empty-") as tmp:
        empty, diags = Path(tmp), Diagnostics()
        components = list(registry(empty).values())
        table = {digest: css for plugins in (False, True)
                 for digest, css in compile_styles(empty, components, diags, plugins, known=None).values()}
        table |= {key("js", source): _minify(source) for source in package_scripts(empty, components)}
    if diags.errors:
        raise SystemExit("\n".join(map(str, diags.errors)))
    return dict(sorted(table.items()))


def _minify(source: str) -> str:
    import rjsmin  # optional: only needed where a project's own script has no precompiled entry

    return str(rjsmin.jsmin(source)).strip() + "\n"


def minify_js(source: str) -> str:
    """The package's scripts come precompiled; a project's own are minified by rjsmin where it is
    installed, otherwise shipped as written (Brotli still compresses them)."""
    known = lookup(key("js", source))
    if known is not None:
        return known
    try:
        return _minify(source)
    except ImportError:
        return source.strip() + "\n"


def _render(table: dict[str, str]) -> str:
    return json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate (or --check) the package's precompiled styles and scripts.")
    parser.add_argument("--check", action="store_true", help="fail if assets/precompiled.json is not current")
    args = parser.parse_args(argv)
    text = _render(generate())
    if args.check:
        if TABLE.is_file() and TABLE.read_text("utf-8") == text:
            return 0
        print(f"{TABLE} is stale: run python -m h5press.generator.precompiled", file=sys.stderr)
        return 1
    TABLE.write_text(text, "utf-8")
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
