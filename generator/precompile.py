"""`python -m h5press.generator.precompile [--check]`: write (or check) the package's precompiled
styles and scripts, `assets/precompiled.json` (see `precompiled`)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .components import registry
from .errors import Diagnostics
from .precompiled import TABLE, key, minify
from .theme import compile_styles, package_scripts


def generate() -> dict[str, str]:
    """Compile every style and script the package ships, as a build of an empty project would."""
    with tempfile.TemporaryDirectory(prefix="h5press-empty-") as tmp:
        empty, diags = Path(tmp), Diagnostics()
        components = list(registry(empty).values())
        table = {digest: css for plugins in (False, True)
                 for digest, css in compile_styles(empty, components, diags, plugins, known=None).values()}
        table |= {key("js", source): minify(source) for source in package_scripts(empty, components)}
    if diags.errors:
        raise SystemExit("\n".join(map(str, diags.errors)))
    return dict(sorted(table.items()))


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
        print(f"{TABLE} is stale: run python -m h5press.generator.precompile", file=sys.stderr)
        return 1
    TABLE.write_text(text, "utf-8")
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
