"""The pipeline: load → parse → render → assets → service worker → write.

`build()` runs every stage, gathers every diagnostic, and writes nothing unless the whole
site built without errors. Each stage lives in its own module; this one only wires them.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import posixpath
import re
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from .. import __version__
from .assets import (
    THEME_DIR,
    Asset,
    ImageAsset,
    ImageProblem,
    hashed,
    is_image,
    make_icon,
    process_image,
    theme_variables,
)
from .components import Component, in_order, registry
from .config import CampaignConfig, SiteConfig, _absolute_url, client_rules, window
from .errors import BuildError, Diagnostic, Diagnostics
from .headers import inline_hashes, netlify_headers, nginx_conf, policy
from .incremental.cache import CACHE_DIR, BuildCache, digest
from .incremental.salt import cache_salt
from .load import Campaign, Page, Site, load_page, load_site
from .markdown import block_placeholder, parser
from .parse import Parsed, check_links, parse_page, replace_files, replace_images, resolve_local
from .render import CSP_PLACEHOLDER, environment, layout_name, minify, relative, render, template_error, template_sources
from .schema import format_path
from .sw import Entry, choose_precache, service_worker, web_manifest
from .theme import Theme, compile_theme
from .workers import fork_map
from .write import Staging, compress, compress_early, file_hashes, precompress, unchanged, update_in_place, write_changed

REPORT = "build-report.json"
_CSP_ATTR = re.compile(r'content="?' + CSP_PLACEHOLDER + '"?')


@dataclass
class BuildOptions:
    root: Path
    out: Path | None = None
    base_url: str | None = None
    only: tuple[str, ...] = ()
    strict: bool = False
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    cache: bool = True
    dev: bool = False  # `h5press serve`: service workers off (the kill switch is built instead)
    api_url: str | None = None  # overrides h5press.yaml, like base_url (`--api-url`)


@dataclass
class BuildResult:
    out: Path
    report: dict[str, Any]
    warnings: list[Diagnostic]
    written: list[str]  # output files (re)written; the rest were unchanged
    rendered: int = 0  # pages rendered by this build; the others came from the build cache
    state: DevState | None = None  # development builds: what `rebuild_page` needs for the next save


@dataclass
class DevState:
    """A development build kept in memory, so that saving one page re-renders that page alone."""

    shared: _Shared
    builds: dict[str, _CampaignBuild]
    hashes: dict[str, str]  # output path → content hash, as written
    cache: tuple[Path | None, str]  # the build cache's file and salt: written files are recorded there




class _Clock:
    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.marks[name] = round((now - self._last) * 1000, 1)
        self._last = now


def _parse_all(work: list[tuple[Page, Path, frozenset[str], dict[str, Component], MarkdownIt]], cache: BuildCache,
               components: dict[str, Component], workers: int) -> list[Parsed]:
    """Parse pages, reusing earlier results whose inputs are unchanged: the page text, the
    campaign's pages and files (links and images resolve against them), the component schemas."""
    schemas = digest(*(c.folder.joinpath("schema.py").read_bytes() for c in components.values()))
    listing: dict[Path, str] = {}
    keys = []
    for page, campaign_dir, slugs, *_ in work:
        if campaign_dir not in listing:
            files = sorted(p.relative_to(campaign_dir).as_posix() for p in campaign_dir.rglob("*"))
            listing[campaign_dir] = digest(*files, "\0", *sorted(slugs))
        keys.append(digest(__version__, schemas, listing[campaign_dir], page.source, page.body, str(page.body_line)))
    known = cache.get_objects("parse", keys)
    todo = [i for i, key in enumerate(keys) if key not in known]
    for i, result in zip(todo, fork_map(lambda i: parse_page(*work[i]), todo, workers), strict=True):
        known[keys[i]] = result
    cache.put_objects("parse", {keys[i]: known[keys[i]] for i in todo})
    for key in keys:
        known[key].key = key
    return [known[key] for key in keys]


def _image(item: tuple[str, bytes, Any, Path | None]) -> ImageAsset | str:
    """An image processed in a worker process; a problem comes back as its message."""
    try:
        return process_image(*item)
    except ImageProblem as exc:
        return str(exc)


@dataclass
class _Shared:
    """What every campaign of one build uses: options, config, templates, compiled theme."""

    site: Site
    config: SiteConfig
    env: Any
    theme: Theme
    diags: Diagnostics
    workers: int
    image_cache: Path
    cache: BuildCache
    templates: str  # digest of every layout and component template, theme's and project's
    components: dict[str, Component]  # this build's registry
    dev: bool = False
    staging: Staging | None = None  # where finished pages go as soon as they are rendered (production builds)


class _CampaignBuild:
    """Builds one bundle's files (paths relative to the bundle) from its parsed pages."""

    def __init__(self, shared: _Shared, campaign: Campaign, parsed: dict[str, Parsed]) -> None:
        assert campaign.config is not None, "campaigns with invalid config never reach rendering"
        self.s = shared
        self.c = campaign
        self.cfg: CampaignConfig = campaign.config
        self.parsed = parsed
        self.files: dict[str, bytes] = {}
        self.assets: dict[str, Asset] = {}
        self.images: dict[str, ImageAsset] = {}
        self.hashes: tuple[list[str], list[str]] = ([], [])
        self.rendered = 0  # pages rendered, not taken from the build cache
        self.compressed: dict[str, tuple[bytes, bytes]] = {}  # page → Brotli and gzip, made while rendering
        self._templates: dict[tuple[str, ...], str] = {}  # template names → digest of what they reach

    # -- helpers ---------------------------------------------------------------------------
    def url(self, asset_path: str, from_page: str) -> str:
        cdn = self.s.config.cdn_prefix
        return f"{cdn}{self.c.name}/{asset_path}" if cdn else relative(asset_path, from_page)

    def absolute(self, bundle_path: str) -> str | None:
        base = self.s.config.base_url
        return f"{base}{self.c.name}/{bundle_path}" if base else None

    def add(self, asset: Asset) -> Asset:
        self.assets[asset.logical] = asset
        self.files[asset.path] = asset.data
        return asset

    # -- stages ----------------------------------------------------------------------------
    def run(self) -> None:
        self.collect_files()
        self.collect_images()
        cfg = self.cfg
        self.css = self.add(hashed("main.css", (theme_variables(cfg.theme, cfg.elder_mode) + self.s.theme.css).encode()))
        self.js = self.add(hashed("runtime.js", self.s.theme.js.encode()))
        self.api_js = self.add(hashed("api.js", self.s.theme.api_js.encode())) if self.s.theme.api_js else None
        source = None
        if cfg.icon:
            found = self.campaign_file(cfg.icon, ("icon",))
            source = (self.c.dir / found).read_bytes() if found else None
        try:
            self.icons = [(self.add(make_icon(size, cfg.theme, source)), size) for size in (192, 512)]
        except ImageProblem as exc:
            self.s.diags.error(self.c.source, self.c.line_of(("icon",)), f"icon: {exc}")
            self.icons = [(self.add(make_icon(size, cfg.theme, None)), size) for size in (192, 512)]
        used = {b.name for p in self.parsed.values() for b in p.blocks}
        self.component_assets: dict[str, tuple[Asset | None, Asset | None]] = {}
        for name in [c.name for c in in_order(self.s.components[n] for n in used)]:
            css, js = self.s.theme.component_css.get(name), self.s.theme.component_js.get(name)
            self.component_assets[name] = (self.add(hashed(f"c-{name}.css", css.encode())) if css else None,
                                           self.add(hashed(f"c-{name}.js", js.encode())) if js else None)
        early = None if self.s.dev else compress_early(self.files, self.s.cache)  # the assets, while pages render
        self.render_pages([p for p in self.c.pages if p.slug in self.parsed])
        if early:
            self.compressed.update(early.result())
        self.render_offline()
        self.files["manifest.webmanifest"] = web_manifest(
            cfg.title, cfg.description, self.s.config.locale, cfg.theme.primary, cfg.theme.background,
            [(icon.path, size) for icon, size in self.icons])
        self.write_worker()
        manifest = {name: {"url": a.path, "size": len(a.data), "integrity": a.integrity}
                    for name, a in sorted(self.assets.items())}
        self.files["asset-manifest.json"] = _json(manifest)

    def collect_files(self) -> None:
        """Files linked from pages (a rate sheet PDF, say), published under their hashed names."""
        self.linked: dict[str, Asset] = {}
        for path in sorted({f for p in self.parsed.values() for f in p.files}):
            self.linked[path] = self.add(hashed(path, (self.c.dir / path).read_bytes()))

    def collect_images(self) -> None:
        wanted: dict[str, None] = {}
        for page in self.c.pages:
            wanted.update(dict.fromkeys(self.parsed[page.slug].images))
            for key, ref in (("cover", page.meta.cover), ("share.image", page.meta.share.image)):
                if ref:
                    found = _front_image(page, ref, self.c.dir)
                    if found is None:
                        self.s.diags.error(page.source, _key_line(page, key), f'{key}: image not found: "{ref}"')
                    else:
                        wanted[found] = None
        for i, badge in enumerate(self.cfg.badges):
            found = self.campaign_file(badge.icon, ("badges", i, "icon")) if badge.icon else None
            if found:
                wanted[found] = None
        folder = self.c.source.rsplit("/", 1)[0]
        for path in [p for p in wanted if not is_image(p)]:
            self.s.diags.error(f"{folder}/{path}", None, "not an image format h5press can process "
                                                         "(JPEG, PNG, WebP, GIF, SVG)")
        work = [(p, (self.c.dir / p).read_bytes(), self.s.config.images, self.s.image_cache) for p in wanted if is_image(p)]
        budget = self.s.config.budgets.image_kb * 1024
        for (path, *_), image in zip(work, fork_map(_image, work, self.s.workers), strict=True):
            if isinstance(image, str):
                self.s.diags.error(f"{folder}/{path}", None, image)
                continue
            self.images[image.source] = image
            for v in image.variants:
                self.add(v.asset)
            if len(image.largest.asset.data) > budget:
                self.s.diags.warning(f"{folder}/{image.source}", None,
                                     f"largest variant is {len(image.largest.asset.data) // 1024} KB, "
                                     f"over the {budget // 1024} KB image budget")

    def campaign_file(self, ref: str, key: tuple[str | int, ...]) -> str | None:
        """A file named in campaign.yaml, inside the campaign folder; else an error at its line."""
        path = posixpath.normpath(ref)
        if ref.startswith("/") or path.startswith("..") or not (self.c.dir / path).is_file():
            where = ".".join(str(k) for k in key).replace(".0.", "[0].")
            self.s.diags.error(self.c.source, self.c.line_of(key),
                               f'{where}: no file "{ref}" in the campaign folder')
            return None
        return path

    def img_tag(self, path: str, attrs: str, page_url: str, eager: bool) -> str:
        image = self.images.get(path)
        if image is None:
            return ""
        srcset = ", ".join(f"{self.url(v.asset.path, page_url)} {v.width}w" for v in image.variants)
        default = next((v for v in image.variants if v.width >= 720), image.largest)
        loading = 'fetchpriority="high"' if eager else 'loading="lazy"'
        extra = f" {attrs}" if attrs else ""
        return (f'<img src="{escape(self.url(default.asset.path, page_url))}" srcset="{escape(srcset)}" '
                f'sizes="(min-width: 720px) 720px, 100vw" width="{image.largest.width}" height="{image.largest.height}" '
                f'{loading} decoding="async"{extra}>')

    def page_context(self, page: Page, content: str, cover: str) -> dict[str, Any]:
        cfg, site = self.cfg, self.s.config
        start, end = self.window
        here = page.url
        share_img_asset = self.share_image(page)
        pages = self.summaries
        index = self.order[page.slug]
        return {
            "site": site,
            "campaign": {"name": self.c.name, "config": cfg, "pages": pages,
                         "index_href": relative("index.html", here)},
            "link": partial(relative, from_page=here),
            "page": {"title": page.meta.title, "description": page.meta.description or cfg.description,
                     "date": page.meta.date, "slug": page.slug, "url": here, "is_index": page.slug == "index",
                     "meta": page.meta.model_dump(), "content": Markup(content), "cover": Markup(cover)},
            "prev": pages[index - 1] if index > 1 else None,
            "next": pages[index + 1] if 0 < index < len(pages) - 1 else None,
            "root": "../" * here.count("/"),
            "css": {"url": self.url(self.css.path, here), "integrity": self.css.integrity},
            "js": {"url": self.url(self.js.path, here), "integrity": self.js.integrity},
            "api_js": {"url": self.url(self.api_js.path, here), "integrity": self.api_js.integrity} if self.api_js else None,
            "icon": self.url(self.icons[0][0].path, here),
            "manifest": relative("manifest.webmanifest", here),
            "canonical": self.absolute(here),
            "share": {"title": page.meta.share.title or page.meta.title,
                      "desc": page.meta.share.desc or page.meta.description or cfg.description,
                      "image": (self.absolute(share_img_asset.largest.asset.path) if share_img_asset else None)},
            "window": {"start": start, "end": end},
            "sw": self.sw_enabled,
            "components": [],
            "rules": self.rules_json,
            "csp": CSP_PLACEHOLDER,
            "generator": f"h5press {__version__}",
        }

    def share_candidate(self, page: Page) -> ImageAsset | None:
        """The image named for the share card: `share.image`, else the cover."""
        ref = page.meta.share.image or page.meta.cover
        return self.images.get(_front_image(page, ref, self.c.dir) or "") if ref else None

    def share_image(self, page: Page) -> ImageAsset | None:
        """The share card's image; share cards do not show SVG."""
        found = self.share_candidate(page)
        return None if found is None or found.source.lower().endswith(".svg") else found

    def check_share_image(self, page: Page) -> None:
        if self.share_candidate(page) and self.share_image(page) is None:
            self.s.diags.warning(page.source, _key_line(page, "share.image" if page.meta.share.image else "cover"),
                                 "share cards (WeChat and others) do not show SVG: set share.image to a JPEG or PNG")

    @functools.cached_property
    def window(self) -> tuple[str | None, str | None]:
        return window(self.cfg, self.s.config.timezone)

    @functools.cached_property
    def order(self) -> dict[str, int]:
        return {p.slug: i for i, p in enumerate(self.c.pages)}

    @functools.cached_property
    def summaries(self) -> list[dict[str, Any]]:
        """Every page of the campaign as layouts see it in lists (`link(p.url)` makes the href)."""
        return [{"title": p.meta.title, "description": p.meta.description, "date": p.meta.date, "slug": p.slug,
                 "url": p.url, "meta": p.meta.model_dump()} for p in self.c.pages]

    @functools.cached_property
    def rules_json(self) -> Markup:
        """Campaign rules for the runtime, safe inside a <script type="application/json">."""
        text = json.dumps(client_rules(self.cfg, self.s.config), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return Markup(text.replace("</", "<\\/"))

    @property
    def sw_enabled(self) -> bool:
        if self.s.dev:
            return False
        own = self.cfg.service_worker
        return self.s.config.service_worker if own is None else own

    @functools.cached_property
    def inputs(self) -> str:
        """What every page's HTML depends on beyond the page and its templates: site and
        campaign config, every page's title and place (cards, previous/next), every asset."""
        return digest(self.campaign_digest, str(self.s.dev), *sorted(a.path for a in self.assets.values()))

    def templates_digest(self, names: tuple[str, ...]) -> str:
        """Digest of the templates `names` and all they extend, include or import: a layout
        change re-renders the pages whose layout or components reach it, and no others."""
        if names not in self._templates:
            sources = template_sources(self.s.env, names)
            self._templates[names] = self.s.templates if sources is None else digest(*(x for pair in sources for x in pair))
        return self._templates[names]

    def page_key(self, page: Page) -> str:
        """The page's front matter enters as the data YAML gave (the model is made from it by
        this h5press version, part of the cache salt): its repr is ten times cheaper to make."""
        components = self.s.components
        names = (layout_name(self.s.env, page.meta.layout, page.slug)[0],
                 *sorted({components[b.name].template for b in self.parsed[page.slug].blocks}))
        return digest(self.inputs, self.templates_digest(names), self.parsed[page.slug].key, page.url, repr(page.front.data))

    def render_pages(self, pages: list[Page]) -> None:
        """Render every page whose inputs changed since it was cached. Forked worker processes
        (they inherit this build's assets, images and templates) render, add the CSP and compress;
        this process stages each page as it arrives. File creation stays in one process: workers
        creating files in one folder contend for its lock, and here it overlaps their rendering."""
        keys = {p.slug: self.page_key(p) for p in pages}
        cached = self.s.cache.get("html", keys.values())
        todo = [p for p in pages if keys[p.slug] not in cached]
        self.rendered += len(todo)
        done = {}
        for page, result in zip(todo, fork_map(lambda i: self.render_final(todo[i]), range(len(todo)), self.s.workers),
                                strict=True):
            done[page.slug] = result
            html, _, (data, *_), compressed = result
            if html and compressed and self.s.staging:
                rel = f"{self.c.name}/{page.url}"
                for path, content in ((rel, data), (rel + ".br", compressed[0]), (rel + ".gz", compressed[1])):
                    self.s.staging.put(path, content)
        fresh: dict[str, bytes] = {}
        for page in pages:
            self.check_share_image(page)
            if page.slug in done:
                html, problems, final, compressed = done[page.slug]
                self.s.diags.items.extend(problems)
                if not html:
                    continue
                fresh[keys[page.slug]] = html.encode()
                if compressed:
                    self.compressed[page.url] = compressed
            else:
                final = self.finish_html(cached[keys[page.slug]].decode())
            self.add_html(page.url, *final)
        self.s.cache.put("html", fresh)

    def render_final(self, page: Page) -> tuple[str, list[Diagnostic], tuple[bytes, list[str], list[str]],
                                               tuple[bytes, bytes] | None]:
        """A page rendered, finished with its CSP and, for production, compressed."""
        html, problems = self.render_page(page)
        if not html:
            return html, problems, (b"", [], []), None
        final = self.finish_html(html)
        compressed = None if self.s.dev else compress(f"{self.c.name}/{page.url}", final[0])
        return html, problems, final, compressed

    def render_page(self, page: Page) -> tuple[str, list[Diagnostic]]:
        """One page's minified HTML (its CSP still a placeholder), or "" and what went wrong.
        Reads the build's state, changes none of it: it may run in a worker process."""
        report = Diagnostics()
        parsed = self.parsed[page.slug]
        name, problem = layout_name(self.s.env, page.meta.layout, page.slug)
        if problem:
            report.error(page.source, _key_line(page, "layout"), problem)
            return "", report.items
        seen = {"n": 0}

        def image(path: str, attrs: str) -> str:
            seen["n"] += 1
            return self.img_tag(path, attrs, page.url, eager=seen["n"] == 1)

        cover_ref = _front_image(page, page.meta.cover, self.c.dir) if page.meta.cover else None
        cover = image(cover_ref, f'alt="{escape(page.meta.title)}"') if cover_ref else ""
        context = self.page_context(page, "", cover)
        content = self.render_blocks(page, parsed, context, report)
        content = replace_files(content, lambda path: self.url(self.linked[path].path, page.url))
        context["page"]["content"] = Markup(replace_images(content, image))
        names = [n for n in self.component_assets if n in {b.name for b in parsed.blocks}]
        context["components"] = [{"name": n, **{kind: {"url": self.url(a.path, page.url), "integrity": a.integrity}
                                                 for kind, a in zip(("css", "js"), self.component_assets[n], strict=True) if a}}
                                 for n in names]
        return self.render_html(name, context, page.source, report), report.items

    def render_blocks(self, page: Page, parsed: Parsed, context: dict[str, Any], report: Diagnostics) -> str:
        """Each component block's template, rendered in place of its placeholder."""
        html = parsed.html
        components = self.s.components
        for index, block in enumerate(parsed.blocks):
            try:
                rendered = render(self.s.env, components[block.name].template,
                                  {**context, "c": block.config, "id": block.id, "component": block.name})
            except Exception as exc:  # a component template's failure, located in the template
                report.items.append(template_error(exc, self.s.site.root, page.source))
                rendered = ""
            html = html.replace(block_placeholder(index), rendered, 1)
        return html

    def render_offline(self) -> None:
        index = self.c.page("index")
        if index is None:
            return
        context = self.page_context(index, "", "")
        context["page"].update(title="网络不可用", url="offline.html", is_index=False)
        context["canonical"] = None
        key = digest(self.inputs, self.templates_digest(("offline.html",)), "offline.html")
        cached = self.s.cache.get("html", [key]).get(key)
        html = cached.decode() if cached else self.render_html("offline.html", context, self.c.source, self.s.diags)
        if html and not cached:
            self.s.cache.put("html", {key: html.encode()})
        if html:
            self.add_html("offline.html", *self.finish_html(html))

    @functools.cached_property
    def campaign_digest(self) -> str:
        return digest(self.s.config.model_dump_json(), self.cfg.model_dump_json(), self.c.name,
                      json.dumps(self.summaries, default=_jsonable, sort_keys=True))

    def render_html(self, template: str, context: dict[str, Any], source: str, report: Diagnostics) -> str:
        """A layout rendered and minified; "" after reporting a template failure at its location."""
        try:
            return minify(render(self.s.env, template, context))
        except Exception as exc:  # any template failure is the author's, reported with its location
            found = template_error(exc, self.s.site.root, source)
            page_specific = found.path != source and not isinstance(exc, jinja2.TemplateSyntaxError)
            culprit = f" (while rendering {source})" if page_specific else ""
            report.items.append(Diagnostic(found.path, found.line, found.message + culprit))
            return ""

    def finish_html(self, html: str) -> tuple[bytes, list[str], list[str]]:
        """A rendered page with the CSP its inline code needs, and the hashes it allowed."""
        scripts, styles = inline_hashes(html)
        csp = policy(self.s.config.cdn_prefix, self.s.config.api_url, scripts, styles)
        return _CSP_ATTR.sub(lambda _: f'content="{csp}"', html, count=1).encode(), scripts, styles

    def add_html(self, path: str, data: bytes, scripts: list[str], styles: list[str]) -> None:
        """A finished page becomes a file of the bundle; its hashes go into the bundle's header CSP."""
        self.files[path] = data
        self.hashes[0].extend(scripts)
        self.hashes[1].extend(styles)

    def write_worker(self) -> None:
        entries = [Entry(p, len(self.files[p]), self.files[p]) for p in ("offline.html", "index.html") if p in self.files]
        cdn = self.s.config.cdn_prefix
        def shell(a: Asset) -> Entry:
            return Entry(f"{cdn}{self.c.name}/{a.path}" if cdn else a.path, len(a.data), a.data)
        entries += [shell(a) for a in (self.css, self.js, self.api_js, self.icons[0][0]) if a]
        entries += [shell(a) for pair in self.component_assets.values() for a in pair if a]
        entries += [Entry("manifest.webmanifest", len(self.files["manifest.webmanifest"]), self.files["manifest.webmanifest"])]
        entries += [Entry(p.url, len(self.files[p.url]), self.files[p.url]) for p in self.c.pages
                    if p.slug != "index" and p.url in self.files]
        entries += [shell(v.asset) for img in self.images.values() for v in img.variants]
        budget = self.s.config.budgets.precache_kb * 1024
        self.precache, left = choose_precache(entries, budget)
        if left:
            self.s.diags.warning(self.c.source, None, f"{len(left)} files over the {budget // 1024} KB precache budget "
                                                      "are cached when visited instead")
        self.files["sw.js"] = service_worker(self.s.site.root, self.c.name, self.precache, self.s.config.api_url,
                                             self.sw_enabled)

    def header_policy(self) -> str:
        return policy(self.s.config.cdn_prefix, self.s.config.api_url, *self.hashes)

    def report(self, compressed: dict[str, bytes]) -> dict[str, Any]:
        prefix = f"{self.c.name}/"

        def br(asset: Asset | None) -> int:
            return len(compressed.get(prefix + asset.path + ".br", b"")) if asset else 0

        css_br = br(self.css)
        pages = []
        for page in self.c.pages:
            if page.url not in self.files:
                continue
            html_br = len(compressed.get(prefix + page.url + ".br", b""))
            used = sorted({b.name for b in self.parsed[page.slug].blocks})
            blocking = css_br + sum(br(self.component_assets[n][0]) for n in used)
            pages.append({"path": prefix + page.url, "source": page.source, "title": page.meta.title,
                          "bytes": len(self.files[page.url]), "br": html_br, "first_render_br": html_br + blocking,
                          "js_br": br(self.js) + br(self.api_js) + sum(br(self.component_assets[n][1]) for n in used),
                          "images": len(self.parsed[page.slug].images), "components": used})
        return {
            "pages": pages,
            "runtime_br": br(self.js),
            "api_br": br(self.api_js),
            "components": {name: {"css_br": br(css), "js_br": br(js)} for name, (css, js) in self.component_assets.items()},
            "css_br": css_br,
            "precache": {"files": len(self.precache), "bytes": sum(e.size for e in self.precache)},
            "bytes": sum(len(d) for d in self.files.values()),
        }


def _jsonable(value: Any) -> Any:
    """JSON for cache keys: models as data, everything else by its text."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"


def _front_image(page: Page, ref: str | None, campaign_dir: Path) -> str | None:
    return resolve_local(page, ref, campaign_dir) if ref else None


def _key_line(page: Page, key: str) -> int | None:
    return page.front.line_of(tuple(key.split(".")))


def build(options: BuildOptions) -> BuildResult:
    """Build the site at `options.root`; raise `BuildError` with every problem found."""
    clock = _Clock()
    root = options.root.resolve()
    diags = Diagnostics()
    site = load_site(root, diags, options.only, options.workers)
    if site is None:
        raise BuildError(diags.errors, diags.warnings)
    config = site.config or SiteConfig()
    for key, value in (("base_url", options.base_url), ("api_url", options.api_url)):
        if value:
            try:
                config = config.model_copy(update={key: _absolute_url(value)})
            except ValueError as exc:
                raise BuildError([Diagnostic("--" + key.replace("_", "-"), None, str(exc))]) from None
    if not config.base_url:
        diags.warning("h5press.yaml", None, "base_url is not set: pages get no canonical link and share cards no image")
    cache_args = (root / CACHE_DIR / "build.sqlite" if options.cache else None, cache_salt(config.model_dump_json()))
    cache = BuildCache(*cache_args)
    clock.lap("load")

    work = []
    md, components = parser(config.markdown.specs()), registry(root)
    for campaign in site.campaigns:
        slugs = frozenset(p.slug for p in campaign.pages)
        work += [(page, campaign.dir, slugs, components, md) for page in campaign.pages]
    parsed_list = _parse_all(work, cache, components, options.workers)
    parsed: dict[str, dict[str, Parsed]] = {c.name: {} for c in site.campaigns}
    for (page, *_), result in zip(work, parsed_list, strict=True):
        parsed[page.campaign][page.slug] = result
        diags.extend(result.diagnostics)
    for campaign in site.campaigns:
        diags.extend(check_links({p.slug: (p, parsed[campaign.name][p.slug]) for p in campaign.pages}))
    for campaign in site.campaigns:
        diags.extend(check_blocks(campaign, parsed[campaign.name], components))
    clock.lap("parse")
    if diags.errors:  # rendering needs valid configs and pages
        raise BuildError(diags.errors, diags.warnings)

    out = (options.out or root / "dist").resolve()
    _check_output_folder(out, root)
    previous = cache.get_objects("output", [str(out)]).get(str(out))
    # Production builds stage their output beside `out` from the first finished page on; the
    # development server updates its folder in place.
    staging = None if options.dev else Staging(out, previous)
    try:
        used = {b.name for pages in parsed.values() for p in pages.values() for b in p.blocks}
        theme = compile_theme(root, in_order(components[name] for name in used), config, diags)
        shared = _Shared(site, config, environment(root), theme, diags, options.workers, root / CACHE_DIR / "images",
                         cache, _templates_digest(root), components, options.dev, staging)
        builds = []
        for campaign in site.campaigns:
            cb = _CampaignBuild(shared, campaign, parsed[campaign.name])
            cb.run()
            builds.append(cb)
        clock.lap("render")

        if diags.errors:
            raise BuildError(diags.errors, diags.warnings)

        files: dict[str, bytes] = {}
        bundles: dict[str, tuple[str, list[str]]] = {}
        for cb in builds:
            files.update({f"{cb.c.name}/{path}": data for path, data in cb.files.items()})
            bundles[cb.c.name] = (cb.header_policy(), [p for p in cb.files if not p.startswith("assets/")])
        kept, kept_reports = _kept_bundles(out, {cb.c.name for cb in builds}) if options.only else ({}, {})
        for name, bundle in kept.items():
            bundles[name] = _bundle_headers(config, bundle)
        files["_headers"] = netlify_headers(bundles).encode()
        files["nginx.conf"] = nginx_conf(bundles).encode()
        # The development server serves plain files: compressing them would only slow each save.
        ready = {f"{cb.c.name}/{path}": pair for cb in builds for path, pair in cb.compressed.items()}
        compressed = {} if options.dev else precompress(files, options.workers, cache, ready)
        for name, bundle in kept.items():
            files.update({f"{name}/{path}": data for path, data in bundle.items()})
        clock.lap("compress")

        reports = {cb.c.name: cb.report(compressed) for cb in builds}
        budget = config.budgets.first_render_kb * 1024
        for cb in builds if not options.dev else []:
            for page in reports[cb.c.name]["pages"]:
                if page["first_render_br"] > budget:
                    diags.warning(page["source"], None, f"first render is {page['first_render_br'] / 1024:.1f} KB Brotli "
                                                        f"(HTML + CSS), over the {budget // 1024} KB budget")
        if options.strict and diags.warnings:
            diags.extend([Diagnostic(d.path, d.line, d.message + " (--strict)") for d in diags.warnings])
        if diags.errors:
            raise BuildError(diags.errors, diags.warnings)

        report = {
            "generator": f"h5press {__version__}",
            "campaigns": {**kept_reports, **reports},
            "warnings": [str(w) for w in diags.warnings],
            "timings_ms": clock.marks,
        }
        files.update(compressed)
        hashes = file_hashes(files)
        if unchanged(out, hashes, previous, REPORT):
            written: list[str] = []  # nothing to write: dist/ (and its report) stay as they are
            if staging:
                staging.abort()
        else:
            files[REPORT] = _json(report)
            hashes.update(file_hashes({REPORT: files[REPORT]}))
            if staging:
                for rel in sorted(files):
                    staging.put(rel, files[rel], hashes[rel])
                written = staging.commit()
            else:
                written = update_in_place(out, files, previous, hashes)
            cache.put_objects("output", {str(out): hashes})
        cache.close()
        clock.lap("write")
        report["timings_ms"] = clock.marks
        dev_state = options.dev and not options.only
        state = DevState(shared, {cb.c.name: cb for cb in builds}, hashes, cache_args) if dev_state else None
        return BuildResult(out, report, diags.warnings, written, sum(cb.rendered for cb in builds), state)
    except BaseException:
        if staging:
            staging.abort()
        raise


def _reach(parsed: Parsed) -> tuple[list[tuple[str, str | None]], list[str], list[str], list[str]]:
    """What of a page other outputs depend on: its components (their assets), images, linked
    files, and heading ids (links from other pages are checked against them)."""
    return [(b.name, b.id) for b in parsed.blocks], parsed.images, parsed.files, parsed.ids


def rebuild_page(state: DevState, out: Path, path: Path) -> BuildResult | None:
    """`h5press serve`'s fast path for the commonest save, the text of one page: parse and render
    that page alone into `out`. None when the edit reaches further than the page's own HTML (its
    front matter, components, images, files, heading ids, or any problem to report): then only a
    full build gives the same output, so the caller runs one."""
    started = time.perf_counter()
    root = state.shared.site.root
    source = path.relative_to(root).as_posix() if path.is_relative_to(root) else ""
    cb = next((b for b in state.builds.values() if any(p.source == source for p in b.c.pages)), None)
    if cb is None:
        return None
    old = next(p for p in cb.c.pages if p.source == source)
    report = Diagnostics()
    page = load_page(root, cb.c.name, path, cb.c.dir, report)
    if page is None or report.items or page.meta != old.meta:
        return None
    before = cb.parsed[page.slug]
    parsed = parse_page(page, cb.c.dir, frozenset(cb.parsed), cb.s.components, parser(cb.s.config.markdown.specs()))
    if parsed.diagnostics or _reach(parsed) != _reach(before):
        return None
    parsed.key = digest(before.key, page.body)
    pages = [page if p.source == source else p for p in cb.c.pages]
    campaign = dataclasses.replace(cb.c, pages=pages)
    every = {**cb.parsed, page.slug: parsed}
    if [d for d in check_links({p.slug: (p, every[p.slug]) for p in pages}) + check_blocks(campaign, every, cb.s.components)
            if d.path == source]:
        return None
    cb.c, cb.parsed = campaign, every
    html, problems = cb.render_page(page)
    if problems or not html:
        return None
    cb.add_html(page.url, *cb.finish_html(html))
    rel = f"{cb.c.name}/{page.url}"
    data = cb.files[page.url]
    written = write_changed(out, {rel: data}, state.hashes)
    if written:  # the next full build compares against what is on disk now
        remember = BuildCache(*state.cache)
        remember.put_objects("output", {str(out): state.hashes})
        remember.close()
    report_ = {"timings_ms": {"page": round((time.perf_counter() - started) * 1000, 1)}}
    return BuildResult(out, report_, [], written, 1, state)


def check_blocks(campaign: Campaign, parsed: dict[str, Parsed], components: dict[str, Component]) -> list[Diagnostic]:
    """Rules across a campaign's blocks: unique ids, and each component's own campaign checks."""
    out: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for page in campaign.pages:
        for block in parsed[page.slug].blocks if page.slug in parsed else []:
            where = f"{page.source}:{block.line}"
            if block.id is not None:
                if block.id in seen:
                    out.append(Diagnostic(page.source, block.line,
                                          f'{block.name} "{block.id}": id already used at {seen[block.id]}; '
                                          "ids are unique in a campaign"))
                seen.setdefault(block.id, where)
            if campaign.config is None:
                continue
            label = f'{block.name} "{block.id}"' if block.id else block.name
            problems = _points_rule(block.config, campaign.config)
            check = components[block.name].check
            problems += check(block.config, campaign.config) if check else []
            out += [Diagnostic(page.source, block.line, f"{label}: {format_path(path) + ': ' if path else ''}{message}")
                    for path, message in problems]
    return out


def _check_output_folder(out: Path, root: Path) -> None:
    """The output folder is replaced whole: refuse anything that is not a previous build."""
    shown = str(out)
    if out == root or out in root.parents:
        raise BuildError([Diagnostic(shown, None, "--out would replace the project itself; choose a folder such as dist/")])
    blocker = next((p for p in [out, *out.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise BuildError([Diagnostic(shown, None, f"--out: {blocker} is a file; choose a folder")])
    if out.is_dir() and any(out.iterdir()) and not (out / "build-report.json").is_file():
        raise BuildError([Diagnostic(shown, None, "--out is a folder with other files (no build-report.json from an "
                                                  "earlier build); it would be replaced whole, so choose an empty "
                                                  "or new folder")])


def _points_rule(config: dict[str, Any], campaign: CampaignConfig) -> list[tuple[tuple, str]]:
    """Components that award points have `action` and `points` keys: the points come from the
    block or from the campaign's rule for that action; one of the two must exist."""
    action = config.get("action")
    if "points" not in config or action is None or config["points"] is not None or action in campaign.points.actions:
        return []
    return [(("points",), f"is required: campaign.yaml has no points.actions.{action}")]


def _templates_digest(root: Path) -> str:
    parts: list[str | bytes] = []
    for base in (THEME_DIR / "layouts", root / "layouts"):
        for path in sorted(base.rglob("*.html")) if base.is_dir() else []:
            parts += [path.relative_to(base).as_posix(), path.read_bytes()]
    return digest(*parts)


def _kept_bundles(out: Path, rebuilt: set[str]) -> tuple[dict[str, dict[str, bytes]], dict[str, Any]]:
    """With --only, the bundles already in `out` that this build does not replace, kept as they are."""
    kept: dict[str, dict[str, bytes]] = {}
    for folder in sorted(out.iterdir()) if out.is_dir() else []:
        if folder.is_dir() and folder.name not in rebuilt:
            kept[folder.name] = {p.relative_to(folder).as_posix(): p.read_bytes()
                                 for p in sorted(folder.rglob("*")) if p.is_file()}
    try:
        old = json.loads((out / "build-report.json").read_text("utf-8"))["campaigns"]
    except (OSError, ValueError, KeyError):
        old = {}
    return kept, {name: old[name] for name in kept if name in old}


def _bundle_headers(config: SiteConfig, bundle: dict[str, bytes]) -> tuple[str, list[str]]:
    """CSP and uncached files of an existing bundle, read back from its own files."""
    scripts: list[str] = []
    styles: list[str] = []
    for path, data in bundle.items():
        if path.endswith(".html"):
            found = inline_hashes(data.decode("utf-8"))
            scripts += found[0]
            styles += found[1]
    uncached = [p for p in bundle if not p.startswith("assets/") and not p.endswith((".br", ".gz"))]
    return policy(config.cdn_prefix, config.api_url, scripts, styles), uncached
