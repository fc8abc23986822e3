"""Stage: the site's shared styles and scripts, compiled once per build for every bundle.

The theme's SCSS with the project's partials laid over it, each used component's SCSS, and the
runtime, API client and component scripts, minified. Bundles hash and compress them.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .assets import THEME_DIR, ScssError, compile_scss, theme_file
from .components import Component
from .config import SiteConfig
from .config import Theme as ThemeColours
from .contrast import report_campaign, theme_pairings
from .errors import Diagnostics
from .load import Campaign
from .precompiled import key, lookup, minify_js


@dataclass(frozen=True)
class Theme:
    css: str  # main.css without the campaign's colours
    js: str  # the runtime, on every page
    api_js: str | None  # the API client, on every page when the site has an api_url
    component_css: dict[str, str]  # component name → compiled CSS (components used anywhere)
    component_js: dict[str, str]  # component name → minified JS


def compile_theme(root: Path, components: list[Component], config: SiteConfig, diags: Diagnostics) -> Theme:
    """The shared styles and scripts of a build whose pages use `components`; SCSS errors go to `diags`."""
    styles = {name: css for name, (_, css) in compile_styles(root, components, diags, bool(config.markdown.plugins)).items()}
    component_js = {c.name: minify_js(script.read_text("utf-8")) for c in components if (script := c.file("script.js"))}
    js = minify_js(theme_file(root, "assets/js/runtime.js").read_text("utf-8"))
    api_js = minify_js(theme_file(root, "assets/js/api.js").read_text("utf-8")) if config.api_url else None
    return Theme(styles.pop(""), js, api_js, styles, component_js)


def package_scripts(root: Path, components: list[Component]) -> list[str]:
    """Every script a build of `root` minifies: the precompiled table holds these for the package."""
    names = ["runtime.js", "api.js", "sw.js", "sw-kill.js"]
    return ([theme_file(root, f"assets/js/{name}").read_text("utf-8") for name in names] +
            [script.read_text("utf-8") for c in components if (script := c.file("script.js"))])


@dataclass(frozen=True)
class StyleJob:
    """One stylesheet to compile: its entry file in the overlay and the digest of what it reads."""

    name: str  # "" for main.css, else the component's name
    entry: str
    text: str | None  # the entry's text when it is written for the build (not a file of a layer)
    digest: str


def _style_sources(root: Path, components: list[Component]) -> tuple[dict[str, Path], dict[str, Path]]:
    """Overlay name → source file: the theme's partials with the project's laid over them, and each
    component's partial. libsass resolves an @import next to the importing file first, so
    overrides only work if theme and project partials sit in one folder."""
    layers = [THEME_DIR / "assets" / "scss", root / "assets" / "scss"]
    shared = {path.relative_to(layer).as_posix(): path
              for layer in layers if layer.is_dir() for path in sorted(layer.rglob("*.scss"))}
    parts = {f"components/_{c.name}.scss": style for c in components if (style := c.file("style.scss"))}
    return shared, parts


def _style_jobs(shared: dict[str, Path], parts: dict[str, Path], plugins: bool) -> list[StyleJob]:
    """Main styles (with the Markdown plugins' when the site uses plugins) and one per component;
    component styles see the theme's tokens (`$radius`, `$gap`, mixins)."""
    base = [part for name in sorted(shared) for part in (name, shared[name].read_text("utf-8"))]
    main_text = '@import "main";\n@import "markdown-plugins";\n' if plugins else None
    main = "site.scss" if plugins else "main.scss"
    jobs = [StyleJob("", main, main_text, key("scss", main, main_text or "", *base))]
    for name, path in sorted(parts.items()):
        component = name.removeprefix("components/_").removesuffix(".scss")
        text = f'@import "tokens";\n@import "components/{component}";\n'
        jobs.append(StyleJob(component, f"component-{component}.scss", text,
                             key("scss", text, path.read_text("utf-8"), *base)))
    return jobs


def compile_styles(root: Path, components: list[Component], diags: Diagnostics, plugins: bool,
                   known: Callable[[str], str | None] | None = lookup) -> dict[str, tuple[str, str]]:
    """Stylesheet name → (digest, CSS): looked up in the precompiled table (`known`) where the
    sources are the package's own, compiled from a temporary overlay of the sources otherwise."""
    shared, parts = _style_sources(root, components)
    jobs = _style_jobs(shared, parts, plugins)
    done = {job.name: (job.digest, css) for job in jobs if known and (css := known(job.digest)) is not None}
    missing = [job for job in jobs if job.name not in done]
    if missing:
        done |= _compile_overlay(root, shared | parts, missing, diags)
    return done


def _compile_overlay(root: Path, sources: dict[str, Path], jobs: list[StyleJob],
                     diags: Diagnostics) -> dict[str, tuple[str, str]]:
    def origin(name: str) -> str:
        source = sources.get(name)
        if source is None:
            return name
        return (source.relative_to(root).as_posix() if source.is_relative_to(root)
                else "(theme) " + source.relative_to(THEME_DIR).as_posix())

    compiled: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="h5press-scss-") as tmp:
        overlay = Path(tmp)
        for name, source in sources.items():
            (overlay / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, overlay / name)
        for job in jobs:
            if job.text is not None:
                (overlay / job.entry).write_text(job.text, "utf-8")
            try:
                css = compile_scss(overlay / job.entry, [overlay])
            except ScssError as exc:
                diags.error(origin(exc.file) if exc.file else job.entry, exc.line, "SCSS: " + exc.message)
                css = ""
            compiled[job.name] = (job.digest, css)
    return compiled


def check_contrast(root: Path, campaigns: list[Campaign], used: list[Component], report: Diagnostics) -> None:
    """Each campaign's theme against the colour pairings of the page chrome and the components used
    (the build's check, and `h5press lint`'s)."""
    paths = [theme_file(root, "assets/scss/contrast.yaml"), *(p for c in used if (p := c.file("contrast.yaml")))]
    pairings = theme_pairings(root, paths, tuple(ThemeColours.model_fields), report)
    for campaign in campaigns:
        if campaign.config:
            report_campaign(campaign.source, campaign.line_of, campaign.config.theme.model_dump(),
                            campaign.config.elder_mode, pairings, report)
