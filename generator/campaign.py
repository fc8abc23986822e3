"""One campaign's bundle, stage by stage: its hashed files, its pages, the offline page, the web
manifest, the service worker that precaches them, and the asset manifest."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import brotli

from .assets import Asset
from .bundle import Bundle, collect_bundle
from .context import PageContexts
from .headers import policy
from .incremental.keys import TemplateDigests
from .inputs import BuildInputs
from .load import Campaign
from .pages import PageRenderer
from .parse import Parsed
from .sw import Entry, choose_precache, service_worker, web_manifest
from .write import compress_early


@dataclass
class CampaignOutput:
    """A built campaign: its bundle and what rendered it (kept by `serve` for one-page rebuilds)."""

    campaign: Campaign
    parsed: dict[str, Parsed]
    bundle: Bundle
    renderer: PageRenderer
    precache: list[Entry]
    rendered: int  # pages rendered, not taken from the build cache

    def header_policy(self, inputs: BuildInputs) -> str:
        return policy(inputs.config.cdn_prefix, inputs.config.api_url, *self.bundle.hashes)


def build_campaign(inputs: BuildInputs, campaign: Campaign, parsed: dict[str, Parsed],
                   templates: TemplateDigests) -> CampaignOutput:
    assert campaign.config is not None, "campaigns with invalid config never reach rendering"
    cfg = campaign.config
    bundle = collect_bundle(inputs, campaign, parsed)
    contexts = PageContexts(inputs, campaign, bundle)
    renderer = PageRenderer(inputs, campaign, parsed, bundle, contexts, templates)
    early = None if inputs.dev else compress_early(bundle.files, inputs.cache)  # the assets, while pages render
    rendered = renderer.render_all([p for p in campaign.pages if p.slug in parsed])
    if early:
        bundle.compressed.update(early.result())
    renderer.render_offline()
    bundle.files["manifest.webmanifest"] = web_manifest(
        cfg.title, cfg.description, inputs.config.locale, cfg.theme.primary, cfg.theme.background,
        [(icon.path, size) for icon, size in bundle.icons])
    precache = _precache(inputs, campaign, bundle)
    bundle.files["sw.js"] = service_worker(inputs.site.root, campaign.name, precache, inputs.config.api_url,
                                           contexts.sw_enabled)
    manifest = {name: {"url": a.path, "size": len(a.data), "integrity": a.integrity} for name, a in sorted(bundle.assets.items())}
    bundle.files["asset-manifest.json"] = as_json(manifest)
    return CampaignOutput(campaign, parsed, bundle, renderer, precache, rendered)


def _precache(inputs: BuildInputs, campaign: Campaign, bundle: Bundle) -> list[Entry]:
    """What the service worker stores at install, in priority order, within the precache budget."""
    files, cdn = bundle.files, inputs.config.cdn_prefix

    def shell(a: Asset) -> Entry:
        return Entry(f"{cdn}{campaign.name}/{a.path}" if cdn else a.path, len(a.data), a.data)

    def page(path: str) -> Entry:
        return Entry(path, len(files[path]), files[path])

    entries = [page(p) for p in ("offline.html", "index.html") if p in files]
    entries += [shell(a) for a in (*bundle.styles.values(), bundle.js, bundle.api_js, bundle.icons[0][0]) if a]
    entries += [shell(a) for a in bundle.component_js.values()]
    entries += [page("manifest.webmanifest")]
    entries += [page(p.url) for p in campaign.pages if p.slug != "index" and p.url in files]
    entries += [shell(v.asset) for img in bundle.images.values() for v in img.variants]
    budget = inputs.config.budgets.precache_kb * 1024
    precache, left = choose_precache(entries, budget)
    if left:
        inputs.diags.warning(campaign.source, None, f"{len(left)} files over the {budget // 1024} KB precache budget "
                                                    "are cached when visited instead")
    return precache


def campaign_report(output: CampaignOutput, compressed: dict[str, bytes]) -> dict[str, Any]:
    """Sizes of the bundle for build-report.json: per page, HTML and first render, Brotli."""
    bundle, prefix = output.bundle, f"{output.campaign.name}/"

    def br(asset: Asset | None) -> int:
        return len(compressed.get(prefix + asset.path + ".br", b"")) if asset else 0

    pages = []
    for page in output.campaign.pages:
        if page.url not in bundle.files:
            continue
        html_br = len(compressed.get(prefix + page.url + ".br", b""))
        used = sorted({b.name for b in output.parsed[page.slug].blocks})
        blocking = br(bundle.stylesheet(set(used)))
        pages.append({"path": prefix + page.url, "source": page.source, "title": page.meta.title,
                      "bytes": len(bundle.files[page.url]), "br": html_br, "first_render_br": html_br + blocking,
                      "stylesheet_br": blocking,
                      "js_br": br(bundle.js) + br(bundle.api_js) + sum(br(bundle.component_js.get(n)) for n in used),
                      "images": len(output.parsed[page.slug].images), "components": used})
    names = [*bundle.component_css, *(n for n in bundle.component_js if n not in bundle.component_css)]
    return {
        "pages": pages,
        "runtime_br": br(bundle.js),
        "api_br": br(bundle.api_js),
        # a component's CSS ships inside its pages' stylesheets: its own share, compressed alone
        "components": {name: {"css_br": len(brotli.compress(bundle.component_css[name])) if name in bundle.component_css else 0,
                              "js_br": br(bundle.component_js.get(name))} for name in names},
        "css_br": br(bundle.css),
        "precache": {"files": len(output.precache), "bytes": sum(e.size for e in output.precache)},
        "bytes": sum(len(d) for d in bundle.files.values()),
    }


def as_json(data: Any) -> bytes:
    """JSON as h5press writes its manifests and report: sorted keys, readable, UTF-8."""
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).encode() + b"\n"
