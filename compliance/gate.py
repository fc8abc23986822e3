"""The compliance stage of every build and of `h5press lint`: the site's rules over each
campaign, its waivers and approval, one report per campaign; findings become diagnostics.

It runs after the load and parse stages (so it reads valid configs and pages), beside the
render on a large site, and decides the build before anything is published: an error leaves
dist/ untouched.
"""
from __future__ import annotations

from ..generator.config import SiteConfig
from ..generator.errors import Diagnostics
from ..generator.load import Campaign, Site
from ..generator.parse import Region
from .approval import APPROVALS, Status, load_approvals, status
from .engine import run_rules
from .extract import campaign_text
from .report import Checked, write_report
from .rules import Rule, load_rules


def site_rules(site: Site, config: SiteConfig, diags: Diagnostics) -> list[Rule]:
    settings = config.compliance
    return load_rules(settings.profile, [site.root / p for p in settings.rules], site.root, diags)


def check_campaign(site: Site, config: SiteConfig, rules: list[Rule], campaign: Campaign, diags: Diagnostics,
                   found: dict[str, list[Region]] | None = None) -> Checked:
    """Run the rules over one valid campaign; record its findings and approval problems in `diags`."""
    cfg = campaign.config
    assert cfg is not None, "the gate runs on valid campaigns"
    text = campaign_text(site.root, campaign, config.markdown.specs(), found)
    outcome = run_rules(rules, text, site.root)
    diags.extend([f.diagnostic() for f in outcome.findings])
    required = cfg.compliance.require_approval if cfg.compliance.require_approval is not None \
        else config.compliance.require_approval
    approvals = load_approvals(site.root, campaign, diags)
    state = status(site.root, campaign, approvals) if approvals is not None else None
    if required and state is not None:
        _approval_problems(campaign, state, diags)
    return Checked(campaign, outcome, state, required, frozenset(b.name for b in text.blocks))


def _approval_problems(campaign: Campaign, state: Status, diags: Diagnostics) -> None:
    line = campaign.line_of(("compliance", "require_approval"))
    if state.last is None:
        diags.error(campaign.source, line, f"compliance.require_approval: {campaign.name} has never been approved "
                                           f"(no {APPROVALS}); run `h5press approve {campaign.name} --by NAME`")
    elif state.changed:
        listed = ", ".join(f"{path} ({how})" for path, how in state.changed.items())
        diags.error(campaign.source, line, f"compliance.require_approval: {campaign.name} changed since its approval by "
                                           f"{state.last.by} at {state.last.at.isoformat()}: {listed}; review and "
                                           f"run `h5press approve {campaign.name} --by NAME` again")


def run_gate(site: Site, config: SiteConfig, diags: Diagnostics, found: dict[str, list[Region]] | None = None) -> list[Checked]:
    """The build stage: every valid campaign checked, and its report written outside the bundle;
    `found`: the regions of each page (by source) from the parse stage, so pages are not parsed twice."""
    rules = site_rules(site, config, diags)
    if diags.errors:
        return []
    checked = [check_campaign(site, config, rules, c, diags, found) for c in site.campaigns if c.config is not None]
    for item in checked:
        write_report(site.root / config.compliance.report_dir, config.compliance.profile, item)
    return checked
