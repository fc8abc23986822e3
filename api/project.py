"""Read a site project's campaigns with the build's own loader, so the server enforces the same rules."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from ..generator.components import Component, registry
from ..generator.config import SiteConfig
from ..generator.errors import BuildError, Diagnostics
from ..generator.load import load_site
from ..generator.markdown import parser
from ..generator.parse import parse_page
from .rules import CampaignRules, VoteDef


@dataclass
class Project:
    site: SiteConfig
    campaigns: dict[str, CampaignRules]


def _votes(campaign, components: dict[str, Component], md: MarkdownIt) -> dict[str, VoteDef]:  # type: ignore[no-untyped-def]
    """The vote blocks on the campaign's pages (id → options), parsed like the build does."""
    found: dict[str, VoteDef] = {}
    slugs = frozenset(p.slug for p in campaign.pages)
    for page in campaign.pages:
        if "::: vote" not in page.body:
            continue
        for block in parse_page(page, campaign.dir, slugs, components, md).blocks:
            if block.name == "vote" and block.id:
                cfg = block.config
                found[block.id] = VoteDef(len(cfg.get("options") or []), bool(cfg.get("multiple")), cfg.get("max"))
    return found


def load_project(root: Path) -> Project:
    """Load and validate like `h5press build`; raise `BuildError` with every problem found."""
    report = Diagnostics()
    site = load_site(root, report)
    if site is None or report.errors or site.config is None:
        raise BuildError(report.errors, report.warnings)
    campaigns: dict[str, CampaignRules] = {}
    md, components = parser(site.config.markdown.specs()), registry(root)
    for campaign in site.campaigns:
        assert campaign.config is not None  # no errors were reported
        campaigns[campaign.name] = CampaignRules(campaign.name, campaign.config, site.config.timezone,
                                                 _votes(campaign, components, md))
    return Project(site.config, campaigns)
