"""The page context: everything a layout or component template sees, assembled in one place.

`PageContexts` is made once per campaign (the campaign's page list, rules and window are the
same for all its pages) and gives each page its dict: `site`, `campaign`, `page`, neighbours,
the URLs of the bundle's stylesheet, scripts and icon, share card, window and rules.
"""
from __future__ import annotations

import functools
import json
from functools import partial
from typing import Any

from markupsafe import Markup, escape

from .. import __version__
from .assets import ImageAsset
from .bundle import Bundle, front_image, key_line
from .config import CampaignConfig, client_experiments, client_rules, window
from .inputs import BuildInputs
from .load import Campaign, Page
from .parse import Parsed
from .render import CSP_PLACEHOLDER, relative


class PageContexts:
    """The template data of one campaign's pages, and the URLs pages use for the bundle's files."""

    def __init__(self, inputs: BuildInputs, campaign: Campaign, bundle: Bundle) -> None:
        assert campaign.config is not None, "campaigns with invalid config never reach rendering"
        self.inputs = inputs
        self.campaign = campaign
        self.cfg: CampaignConfig = campaign.config
        self.bundle = bundle

    def use(self, campaign: Campaign) -> None:
        """The campaign as `serve` changed it (an edited page): page lists are made again."""
        self.campaign = campaign
        for derived in ("order", "summaries"):
            self.__dict__.pop(derived, None)

    def url(self, asset_path: str, from_page: str) -> str:
        cdn = self.inputs.config.cdn_prefix
        return f"{cdn}{self.campaign.name}/{asset_path}" if cdn else relative(asset_path, from_page)

    def absolute(self, bundle_path: str) -> str | None:
        base = self.inputs.config.base_url
        return f"{base}{self.campaign.name}/{bundle_path}" if base else None

    def asset(self, path: str, integrity: str, here: str) -> dict[str, str]:
        return {"url": self.url(path, here), "integrity": integrity}

    def page(self, page: Page, content: str, cover: str) -> dict[str, Any]:
        """The context of one page (its content and cover already rendered)."""
        cfg, here, bundle = self.cfg, page.url, self.bundle
        start, end = self.window
        share_image = self.share_image(page)
        pages, index = self.summaries, self.order[page.slug]
        return {
            "site": self.inputs.config,
            "campaign": {"name": self.campaign.name, "config": cfg, "pages": pages, "index_href": relative("index.html", here)},
            "link": partial(relative, from_page=here),
            "page": {"title": page.meta.title, "description": page.meta.description or cfg.description,
                     "date": page.meta.date, "slug": page.slug, "url": here, "is_index": page.slug == "index",
                     "meta": page.meta.model_dump(), "content": Markup(content), "cover": Markup(cover)},
            "prev": pages[index - 1] if index > 1 else None,
            "next": pages[index + 1] if 0 < index < len(pages) - 1 else None,
            "root": "../" * here.count("/"),
            "css": self.asset(bundle.css.path, bundle.css.integrity, here),
            "js": self.asset(bundle.js.path, bundle.js.integrity, here),
            "api_js": self.asset(bundle.api_js.path, bundle.api_js.integrity, here) if bundle.api_js else None,
            "icon": self.url(bundle.icons[0][0].path, here),
            "manifest": relative("manifest.webmanifest", here),
            "canonical": self.absolute(here),
            "share": {"title": page.meta.share.title or page.meta.title,
                      "desc": page.meta.share.desc or page.meta.description or cfg.description,
                      "image": self.absolute(share_image.largest.asset.path) if share_image else None},
            "window": {"start": start, "end": end},
            "sw": self.sw_enabled,
            "components": [],
            "rules": self.rules_json,
            "experiments": self.experiments,
            "csp": CSP_PLACEHOLDER,
            "generator": f"h5press {__version__}",
        }

    def components(self, page: Page, parsed: Parsed) -> list[dict[str, Any]]:
        """The script of each component on the page, in page order (their styles are in `stylesheet`)."""
        used = {b.name for b in parsed.blocks}
        return [{"name": name, "js": self.asset(a.path, a.integrity, page.url)}
                for name, a in self.bundle.component_js.items() if name in used]

    def stylesheet(self, page: Page, parsed: Parsed) -> dict[str, str]:
        """The page's one stylesheet: the theme's styles joined with those of its components."""
        sheet = self.bundle.stylesheet({b.name for b in parsed.blocks})
        return self.asset(sheet.path, sheet.integrity, page.url)

    def img_tag(self, path: str, attrs: str, page_url: str, eager: bool) -> str:
        """A processed image as a responsive <img>; the first on a page loads eagerly."""
        image = self.bundle.images.get(path)
        if image is None:
            return ""
        srcset = ", ".join(f"{self.url(v.asset.path, page_url)} {v.width}w" for v in image.variants)
        default = next((v for v in image.variants if v.width >= 720), image.largest)
        loading = 'fetchpriority="high"' if eager else 'loading="lazy"'
        extra = f" {attrs}" if attrs else ""
        return (f'<img src="{escape(self.url(default.asset.path, page_url))}" srcset="{escape(srcset)}" '
                f'sizes="(min-width: 720px) 720px, 100vw" width="{image.largest.width}" height="{image.largest.height}" '
                f'{loading} decoding="async"{extra}>')

    def share_candidate(self, page: Page) -> ImageAsset | None:
        """The image named for the share card: `share.image`, else the cover."""
        ref = page.meta.share.image or page.meta.cover
        return self.bundle.images.get(front_image(page, ref, self.campaign.dir) or "") if ref else None

    def share_image(self, page: Page) -> ImageAsset | None:
        """The share card's image; share cards do not show SVG."""
        found = self.share_candidate(page)
        return None if found is None or found.source.lower().endswith(".svg") else found

    def check_share_image(self, page: Page) -> None:
        if self.share_candidate(page) and self.share_image(page) is None:
            self.inputs.diags.warning(page.source, key_line(page, "share.image" if page.meta.share.image else "cover"),
                                      "share cards (WeChat and others) do not show SVG: set share.image to a JPEG or PNG")

    @functools.cached_property
    def window(self) -> tuple[str | None, str | None]:
        return window(self.cfg, self.inputs.config.timezone)

    @functools.cached_property
    def order(self) -> dict[str, int]:
        return {p.slug: i for i, p in enumerate(self.campaign.pages)}

    @functools.cached_property
    def summaries(self) -> list[dict[str, Any]]:
        """Every page of the campaign as layouts see it in lists (`link(p.url)` makes the href)."""
        return [{"title": p.meta.title, "description": p.meta.description, "date": p.meta.date, "slug": p.slug,
                 "url": p.url, "meta": p.meta.model_dump()} for p in self.campaign.pages]

    @functools.cached_property
    def experiments(self) -> list[dict[str, object]]:
        """The campaign's experiments for the page's head script (docs/authoring.md#experiments)."""
        return client_experiments(self.cfg, self.inputs.config.timezone)

    @functools.cached_property
    def rules_json(self) -> Markup:
        """Campaign rules for the runtime, safe inside a <script type="application/json">."""
        text = json.dumps(client_rules(self.cfg, self.inputs.config), ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True)
        return Markup(text.replace("</", "<\\/"))

    @property
    def sw_enabled(self) -> bool:
        if self.inputs.dev:
            return False
        own = self.cfg.service_worker
        return self.inputs.config.service_worker if own is None else own
