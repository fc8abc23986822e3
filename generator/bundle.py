"""Stage: one campaign's hashed files, collected before its pages render (pages name them by
hashed URL): files linked from pages, images in every width, icons, the runtime, the script of each
component it uses and its stylesheets.

A page makes one stylesheet request, render-blocking on a slow phone: the campaign's colours and
the theme's styles joined with those of the components on the page. Pages with the same set of
components share that file (and the browser's cache of it); `main.css` alone serves the pages
without styled components and the offline page."""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assets import Asset, ImageAsset, ImageProblem, hashed, is_image, make_icon, process_image, theme_variables
from .components import in_order
from .inputs import BuildInputs
from .load import Campaign, Page
from .parse import Parsed, resolve_local
from .workers import fork_map


@dataclass
class Bundle:
    """A campaign's output files (paths relative to the bundle) as they are made."""

    name: str
    files: dict[str, bytes]
    assets: dict[str, Asset]  # logical name → hashed asset
    images: dict[str, ImageAsset]  # campaign-relative source → its widths
    linked: dict[str, Asset]  # campaign-relative path of a linked file → its hashed copy
    css: Asset  # main.css: colours and theme styles, no component's
    styles: dict[tuple[str, ...], Asset]  # styled components of a page (page order) → its one stylesheet
    js: Asset
    api_js: Asset | None
    icons: list[tuple[Asset, int]]  # (icon, size in px)
    component_css: dict[str, bytes]  # styled component → its CSS, in page order (for the size report)
    component_js: dict[str, Asset]  # component with a script → that script, in page order
    hashes: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))  # inline scripts, styles (CSP)
    compressed: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # path → Brotli and gzip, made early

    def add_html(self, path: str, data: bytes, scripts: list[str], styles: list[str]) -> None:
        """A finished page becomes a file of the bundle; its hashes go into the bundle's header CSP."""
        self.files[path] = data
        self.hashes[0].extend(scripts)
        self.hashes[1].extend(styles)

    def stylesheet(self, components: set[str]) -> Asset:
        """The one stylesheet of a page using `components`."""
        return self.styles[tuple(name for name in self.component_css if name in components)]


def collect_bundle(inputs: BuildInputs, campaign: Campaign, parsed: dict[str, Parsed]) -> Bundle:
    """Every hashed file of the campaign; problems (missing or broken images) go to the diagnostics."""
    assert campaign.config is not None, "campaigns with invalid config never reach rendering"
    cfg, theme = campaign.config, inputs.theme
    files: dict[str, bytes] = {}
    assets: dict[str, Asset] = {}

    def add(asset: Asset) -> Asset:
        assets[asset.logical] = asset
        files[asset.path] = asset.data
        return asset

    linked = {path: add(hashed(path, (campaign.dir / path).read_bytes()))
              for path in sorted({f for p in parsed.values() for f in p.files})}
    images = _collect_images(inputs, campaign, parsed, add)
    css = add(hashed("main.css", (theme_variables(cfg.theme, cfg.elder_mode) + theme.css).encode()))
    js = add(hashed("runtime.js", theme.js.encode()))
    api_js = add(hashed("api.js", theme.api_js.encode())) if theme.api_js else None
    icons = _icons(inputs, campaign, add)
    used = {b.name for p in parsed.values() for b in p.blocks}
    order = [c.name for c in in_order(inputs.components[n] for n in used)]
    component_css = {name: theme.component_css[name].encode() for name in order if theme.component_css.get(name)}
    component_js = {name: add(hashed(f"c-{name}.js", theme.component_js[name].encode()))
                    for name in order if theme.component_js.get(name)}
    styles: dict[tuple[str, ...], Asset] = {(): css}
    for names in sorted({tuple(n for n in component_css if n in {b.name for b in p.blocks}) for p in parsed.values()}):
        if names:
            styles[names] = add(hashed("+".join(("main", *names)) + ".css", css.data + b"".join(component_css[n] for n in names)))
    return Bundle(campaign.name, files, assets, images, linked, css, styles, js, api_js, icons, component_css, component_js)


def _icons(inputs: BuildInputs, campaign: Campaign, add: Callable[[Asset], Asset]) -> list[tuple[Asset, int]]:
    """The home-screen icons: the campaign's own picture, else one drawn in its colours."""
    assert campaign.config is not None
    cfg = campaign.config
    found = campaign_file(inputs, campaign, cfg.icon, ("icon",)) if cfg.icon else None
    source = (campaign.dir / found).read_bytes() if found else None
    try:
        return [(add(make_icon(size, cfg.theme, source)), size) for size in (192, 512)]
    except ImageProblem as exc:
        inputs.diags.error(campaign.source, campaign.line_of(("icon",)), f"icon: {exc}")
        return [(add(make_icon(size, cfg.theme, None)), size) for size in (192, 512)]


def _wanted_images(inputs: BuildInputs, campaign: Campaign, parsed: dict[str, Parsed]) -> list[str]:
    """Campaign-relative paths of every image the pages, their front matter and the badges name."""
    assert campaign.config is not None
    wanted: dict[str, None] = {}
    for page in campaign.pages:
        wanted.update(dict.fromkeys(parsed[page.slug].images))
        for key, ref in (("cover", page.meta.cover), ("share.image", page.meta.share.image)):
            found = front_image(page, ref, campaign.dir)
            if ref and found is None:
                inputs.diags.error(page.source, key_line(page, key), f'{key}: image not found: "{ref}"')
            elif found:
                wanted[found] = None
    for i, badge in enumerate(campaign.config.badges):
        found = campaign_file(inputs, campaign, badge.icon, ("badges", i, "icon")) if badge.icon else None
        if found:
            wanted[found] = None
    return list(wanted)


def _collect_images(inputs: BuildInputs, campaign: Campaign, parsed: dict[str, Parsed],
                    add: Callable[[Asset], Asset]) -> dict[str, ImageAsset]:
    """Each wanted image in every configured width, encoded in worker processes (and cached)."""
    folder = campaign.source.rsplit("/", 1)[0]
    wanted = _wanted_images(inputs, campaign, parsed)
    for path in [p for p in wanted if not is_image(p)]:
        inputs.diags.error(f"{folder}/{path}", None, "not an image format h5press can process (JPEG, PNG, WebP, GIF, SVG)")
    work = [(p, (campaign.dir / p).read_bytes(), inputs.config.images, inputs.image_cache) for p in wanted if is_image(p)]
    budget = inputs.config.budgets.image_kb * 1024
    images: dict[str, ImageAsset] = {}
    for (path, *_), image in zip(work, fork_map(_image, work, inputs.workers), strict=True):
        if isinstance(image, str):
            inputs.diags.error(f"{folder}/{path}", None, image)
            continue
        images[image.source] = image
        for variant in image.variants:
            add(variant.asset)
        if len(image.largest.asset.data) > budget:
            inputs.diags.warning(f"{folder}/{image.source}", None,
                                 f"largest variant is {len(image.largest.asset.data) // 1024} KB, "
                                 f"over the {budget // 1024} KB image budget")
    return images


def _image(item: tuple[str, bytes, Any, Path | None]) -> ImageAsset | str:
    """An image processed in a worker process; a problem comes back as its message."""
    try:
        return process_image(*item)
    except ImageProblem as exc:
        return str(exc)


def campaign_file(inputs: BuildInputs, campaign: Campaign, ref: str, key: tuple[str | int, ...]) -> str | None:
    """A file named in campaign.yaml, inside the campaign folder; else an error at its line."""
    path = posixpath.normpath(ref)
    if ref.startswith("/") or path.startswith("..") or not (campaign.dir / path).is_file():
        where = ".".join(str(k) for k in key).replace(".0.", "[0].")
        inputs.diags.error(campaign.source, campaign.line_of(key), f'{where}: no file "{ref}" in the campaign folder')
        return None
    return path


def front_image(page: Page, ref: str | None, campaign_dir: Path) -> str | None:
    """The campaign-relative path of an image named in front matter, if it exists."""
    return resolve_local(page, ref, campaign_dir) if ref else None


def key_line(page: Page, key: str) -> int | None:
    """The front-matter line of a dotted key, for a diagnostic."""
    return page.front.line_of(tuple(key.split(".")))
