"""Stage: the site's shared styles and scripts, compiled once per build for every bundle.

The theme's SCSS with the project's partials laid over it, each used component's SCSS, and the
runtime, API client and component scripts, minified. Bundles hash and compress them.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sass

from .assets import THEME_DIR, compile_scss, minify_js, theme_file
from .components import Component
from .config import SiteConfig
from .errors import Diagnostics


@dataclass(frozen=True)
class Theme:
    css: str  # main.css without the campaign's colours
    js: str  # the runtime, on every page
    api_js: str | None  # the API client, on every page when the site has an api_url
    component_css: dict[str, str]  # component name → compiled CSS (components used anywhere)
    component_js: dict[str, str]  # component name → minified JS


def compile_theme(root: Path, components: list[Component], config: SiteConfig, diags: Diagnostics) -> Theme:
    """The shared styles and scripts of a build whose pages use `components`; SCSS errors go to `diags`."""
    css, component_css = _compile_styles(root, components, diags, bool(config.markdown.plugins))
    component_js = {c.name: minify_js(script.read_text("utf-8")) for c in components if (script := c.file("script.js"))}
    js = minify_js(theme_file(root, "assets/js/runtime.js").read_text("utf-8"))
    api_js = minify_js(theme_file(root, "assets/js/api.js").read_text("utf-8")) if config.api_url else None
    return Theme(css, js, api_js, component_css, component_js)


def _compile_styles(root: Path, components: list[Component], diags: Diagnostics,
                    plugins: bool) -> tuple[str, dict[str, str]]:
    """Compile the theme SCSS and each component's, with the project's files laid over the theme's;
    the styles of Markdown plugins' output join main.css when the site uses `plugins`.

    libsass resolves an @import next to the importing file first, so overrides only work if
    theme and project partials sit in one folder: a temporary overlay of both. Component styles
    see the theme's tokens (`$radius`, `$gap`, mixins).
    """
    layers = [THEME_DIR / "assets" / "scss", root / "assets" / "scss"]
    origin: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="h5press-scss-") as tmp:
        overlay = Path(tmp)

        def place(source: Path, name: str) -> None:
            target = overlay / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            origin[name] = (source.relative_to(root).as_posix() if source.is_relative_to(root)
                            else "(theme) " + source.relative_to(THEME_DIR).as_posix())

        for layer in layers:
            for path in sorted(layer.rglob("*.scss")) if layer.is_dir() else []:
                place(path, path.relative_to(layer).as_posix())
        entries = {"": "main.scss"}
        if plugins:
            (overlay / "site.scss").write_text('@import "main";\n@import "markdown-plugins";\n')
            entries[""] = "site.scss"
        for component in components:
            style = component.file("style.scss")
            if style:
                place(style, f"components/_{component.name}.scss")
                entry = f"component-{component.name}.scss"
                (overlay / entry).write_text(f'@import "tokens";\n@import "components/{component.name}";\n')
                entries[component.name] = entry
        compiled: dict[str, str] = {}
        for key, entry in entries.items():
            try:
                compiled[key] = compile_scss(overlay / entry, [overlay])
            except sass.CompileError as exc:
                text = str(exc)
                where = re.search(r"on line (\d+):\d+ of (\S+)", text)
                name = Path(where.group(2)).resolve().relative_to(overlay.resolve()).as_posix() if where else entry
                diags.error(origin.get(name, name), int(where.group(1)) if where else None,
                            "SCSS: " + text.splitlines()[0].removeprefix("Error: "))
                compiled[key] = ""
    main = compiled.pop("")
    return main, compiled
