"""`build()`: the pipeline, stage by stage.

load (config, front matter) → parse (Markdown, component blocks, link and block checks) →
theme (shared SCSS and scripts) → campaigns (per bundle: hashed files, pages, offline page,
service worker), with the compliance gate beside them → finish (headers, compression, budgets,
report) → write (atomic swap).
Each stage is a module of its own; this one wires them and owns the build's options and
result. Stages record problems instead of raising, so one run reports every problem, and
nothing is written unless there are none.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..compliance.gate import run_gate
from .assets import THEME_DIR
from .campaign import CampaignOutput, as_json, build_campaign, campaign_report
from .components import Component, in_order, registry
from .config import SiteConfig, _absolute_url
from .errors import BuildError, Diagnostic, Diagnostics
from .headers import inline_hashes, netlify_headers, nginx_conf, policy
from .incremental.cache import CACHE_DIR, BuildCache, digest
from .incremental.dev import DevState
from .incremental.keys import TemplateDigests
from .incremental.salt import cache_salt
from .inputs import BuildInputs
from .load import Site, load_site
from .markdown import parser
from .parse import Parsed, check_blocks, check_links, parse_all
from .render import environment
from .theme import check_contrast, compile_theme
from .workers import PARALLEL_THRESHOLD, fork_call
from .write import Staging, file_hashes, precompress, unchanged, update_in_place

REPORT = "build-report.json"


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
    timings_ms: dict[str, float] = field(default_factory=dict)  # per stage; kept out of dist/, which is byte-identical


class _Clock:
    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.marks[name] = round((now - self._last) * 1000, 1)
        self._last = now


def build(options: BuildOptions) -> BuildResult:
    """Build the site at `options.root`; raise `BuildError` with every problem found."""
    clock, diags, root = _Clock(), Diagnostics(), options.root.resolve()
    site, config = _load(options, root, diags)
    cache_args = (root / CACHE_DIR / "build.sqlite" if options.cache else None, cache_salt(config.model_dump_json()))
    cache = BuildCache(*cache_args)
    components = registry(root)
    clock.lap("load")
    parsed = _parse(site, config, components, cache, options.workers, diags)
    clock.lap("parse")
    out = (options.out or root / "dist").resolve()
    _check_output_folder(out, root)
    previous = cache.get_objects("output", [str(out)]).get(str(out))
    staging = None if options.dev else Staging(out, previous)  # production pages are staged as they are made
    gate, before = _start_gate(site, config, parsed, options.workers), list(diags.items)
    try:
        used = {b.name for pages in parsed.values() for p in pages.values() for b in p.blocks}
        theme = compile_theme(root, in_order(components[name] for name in used), config, diags)
        check_contrast(root, site.campaigns, [components[name] for name in sorted(used)], diags)
        inputs = BuildInputs(site, config, environment(root), theme, diags, options.workers, root / CACHE_DIR / "images",
                             cache, _templates_digest(root), components, options.dev, staging)
        templates = TemplateDigests(inputs.env, inputs.templates)
        try:
            outputs = [build_campaign(inputs, c, parsed[c.name], templates) for c in site.campaigns]
        finally:
            clock.lap("render")
            _comply(gate(), before, options.strict, diags)
            clock.lap("compliance")  # the wait for the gate beside the render
        files, report = _finish(options, inputs, outputs, out, clock)
        written, hashes = _write(out, files, report, previous, staging, cache)
        clock.lap("write")
        keep = options.dev and not options.only
        state = DevState(inputs, {o.campaign.name: o for o in outputs}, hashes, cache_args) if keep else None
        return BuildResult(out, report, diags.warnings, written, sum(o.rendered for o in outputs), state, clock.marks)
    except BaseException:
        if staging:
            staging.abort()
        raise
    finally:
        cache.close()


def _load(options: BuildOptions, root: Path, diags: Diagnostics) -> tuple[Site, SiteConfig]:
    """The site and its config, with the command line's overrides; every problem raised at once."""
    site = load_site(root, diags, options.only)
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
    return site, config


def _parse(site: Site, config: SiteConfig, components: dict[str, Component], cache: BuildCache, workers: int,
           diags: Diagnostics) -> dict[str, dict[str, Parsed]]:
    """Every page's Markdown, then the checks across pages: links, anchors, block ids and rules."""
    slugs = {c.name: frozenset(p.slug for p in c.pages) for c in site.campaigns}
    work = [(page, c.dir, slugs[c.name]) for c in site.campaigns for page in c.pages]
    parsed: dict[str, dict[str, Parsed]] = {c.name: {} for c in site.campaigns}
    md = parser(config.markdown.specs())
    for (page, *_), result in zip(work, parse_all(work, md, components, cache, workers), strict=True):
        parsed[page.campaign][page.slug] = result
        diags.extend(result.diagnostics)
    for campaign in site.campaigns:
        diags.extend(check_links({p.slug: (p, parsed[campaign.name][p.slug]) for p in campaign.pages}))
        diags.extend(check_blocks(campaign, parsed[campaign.name], components))
    if diags.errors:  # rendering needs valid configs and pages
        raise BuildError(diags.errors, diags.warnings)
    return parsed


def _start_gate(site: Site, config: SiteConfig, parsed: dict[str, dict[str, Parsed]],
                workers: int) -> Callable[[], list[Diagnostic]]:
    """The compliance gate, started in a process of its own beside the render (it reads only
    the loaded and parsed site). Its findings decide the build before anything is published:
    the render works in the staging folder, which a failure throws away."""
    regions = {p.source: parsed[c.name][p.slug].regions for c in site.campaigns for p in c.pages}

    def gate() -> list[Diagnostic]:
        found = Diagnostics()
        run_gate(site, config, found, regions)
        return found.items
    pages = sum(len(c.pages) for c in site.campaigns)
    return fork_call(gate, workers if pages >= PARALLEL_THRESHOLD else 1)  # a small site's gate costs less than a fork


def _comply(found: list[Diagnostic], before: list[Diagnostic], strict: bool, diags: Diagnostics) -> None:
    """The gate's findings into `diags`. An error (a finding's warning with --strict) stops the
    build with the problems known `before` the render: the render's own are left out."""
    diags.extend(found)
    known = Diagnostics([*before, *found])
    if any(d.level == "error" for d in found) or (strict and any(d.rule for d in known.warnings)):
        raise BuildError(known.errors + [replace(d, message=d.message + " (--strict)", level="error")
                                         for d in known.warnings if strict and d.rule], known.warnings)


def _finish(options: BuildOptions, inputs: BuildInputs, outputs: list[CampaignOutput], out: Path,
            clock: _Clock) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Every output file (with `_headers`, `nginx.conf` and the compressed variants) and the report."""
    diags, config = inputs.diags, inputs.config
    if diags.errors:
        raise BuildError(diags.errors, diags.warnings)
    files: dict[str, bytes] = {}
    bundles: dict[str, tuple[str, list[str]]] = {}
    for o in outputs:
        files.update({f"{o.campaign.name}/{path}": data for path, data in o.bundle.files.items()})
        bundles[o.campaign.name] = (o.header_policy(inputs), [p for p in o.bundle.files if not p.startswith("assets/")])
    kept, kept_reports = _kept_bundles(out, {o.campaign.name for o in outputs}) if options.only else ({}, {})
    bundles.update({name: _bundle_headers(config, bundle) for name, bundle in kept.items()})
    files["_headers"] = netlify_headers(bundles).encode()
    files["nginx.conf"] = nginx_conf(bundles).encode()
    # The development server serves plain files: compressing them would only slow each save.
    ready = {f"{o.campaign.name}/{path}": pair for o in outputs for path, pair in o.bundle.compressed.items()}
    compressed = {} if options.dev else precompress(files, options.workers, inputs.cache, ready)
    for name, bundle in kept.items():
        files.update({f"{name}/{path}": data for path, data in bundle.items()})
    clock.lap("compress")
    reports = {o.campaign.name: campaign_report(o, compressed) for o in outputs}
    _check_budgets(config, reports if not options.dev else {}, diags)
    if options.strict and diags.warnings:
        diags.extend([replace(d, message=d.message + " (--strict)", level="error") for d in diags.warnings])
    if diags.errors:
        raise BuildError(diags.errors, diags.warnings)
    files.update(compressed)
    report = {"generator": f"h5press {__version__}", "campaigns": {**kept_reports, **reports},
              "warnings": [str(w) for w in diags.warnings]}
    return files, report


def _check_budgets(config: SiteConfig, reports: dict[str, Any], diags: Diagnostics) -> None:
    budget = config.budgets.first_render_kb * 1024
    for report in reports.values():
        for page in report["pages"]:
            if page["first_render_br"] > budget:
                diags.warning(page["source"], None, f"first render is {page['first_render_br'] / 1024:.1f} KB Brotli "
                                                    f"(HTML + CSS), over the {budget // 1024} KB budget")


def _write(out: Path, files: dict[str, bytes], report: dict[str, Any], previous: dict[str, str] | None,
           staging: Staging | None, cache: BuildCache) -> tuple[list[str], dict[str, str]]:
    """The files into `out`: swapped in whole (production) or updated in place (`serve`); nothing
    at all when every file is as the last build left it."""
    files[REPORT] = as_json(report)
    hashes = file_hashes(files)
    if unchanged(out, hashes, previous):
        if staging:
            staging.abort()
        return [], hashes
    if staging:
        for rel in sorted(files):
            staging.put(rel, files[rel], hashes[rel])
        written = staging.commit()
    else:
        written = update_in_place(out, files, previous, hashes)
    cache.put_objects("output", {str(out): hashes})
    return written, hashes


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
