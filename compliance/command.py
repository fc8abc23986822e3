"""`h5press lint` (the compliance gate alone) and `h5press approve` (the approval trail)."""
from __future__ import annotations

from pathlib import Path

import click

from ..generator.components import registry
from ..generator.config import SiteConfig
from ..generator.errors import BuildError, Diagnostics
from ..generator.load import CAMPAIGN_FILE, CONTENT_DIR, Campaign, Site, load_site
from ..generator.theme import check_contrast
from .approval import APPROVALS, load_approvals, record
from .gate import check_campaign, run_gate, site_rules
from .report import Checked


def _site(project: Path, only: tuple[str, ...]) -> tuple[Site, SiteConfig, Diagnostics]:
    """The site, loaded and validated as a build loads it; its errors raised at once."""
    missing = [name for name in only if not (project / CONTENT_DIR / name / CAMPAIGN_FILE).is_file()]
    if missing:
        raise click.ClickException(f'no campaign "{missing[0]}" in {CONTENT_DIR}/ (a folder with a {CAMPAIGN_FILE})')
    diags = Diagnostics()
    site = load_site(project.resolve(), diags, only)
    if site is None or diags.errors:
        raise BuildError(diags.errors, diags.warnings)
    return site, site.config or SiteConfig(), diags


def lint(project: Path, campaigns: tuple[str, ...], strict: bool) -> list[Checked]:
    """Print every finding as `file:line:col  rule-id  message`; raise when the gate fails."""
    site, config, diags = _site(project, campaigns)
    checked = run_gate(site, config, diags)
    _contrast(site, checked, diags)
    for d in diags.items:
        if d.rule:
            click.echo(f"{d.level}: {d}", err=d.level == "error" or strict)
    failing = [d for d in diags.errors + (diags.warnings if strict else []) if not d.rule]
    if failing:
        raise BuildError(failing)
    errors = sum(1 for d in diags.items if d.rule and (d.level == "error" or strict))
    if errors:
        raise click.ClickException(f"compliance: {errors} finding(s) fail{' with --strict' if strict else ''}")
    click.echo(f"compliance: {len(checked)} campaign(s) checked, {len(diags.warnings)} warning(s), no errors; "
               f"reports in {config.compliance.report_dir}/")
    return checked


def _contrast(site: Site, checked: list[Checked], diags: Diagnostics) -> None:
    """The build's theme-colour check (WCAG 2.1 AA, 适老化), over the components the campaigns use."""
    components = registry(site.root)
    used = sorted(set().union(*(c.components for c in checked)))
    check_contrast(site.root, site.campaigns, [components[name] for name in used if name in components], diags)


def approve(project: Path, name: str, by: str, note: str) -> None:
    """Record an approval of a campaign whose rules all pass (errors cannot be approved)."""
    site, config, diags = _site(project, (name,))
    campaign: Campaign = site.campaigns[0]
    rules = site_rules(site, config, diags)
    if diags.errors:  # a broken rule file: nothing is approved against part of the rules
        raise BuildError(diags.errors)
    checked = check_campaign(site, config, rules, campaign, Diagnostics())
    if checked.outcome.errors:
        for finding in checked.outcome.errors:
            click.echo(f"error: {finding}", err=True)
        raise click.ClickException(f"{name}: {len(checked.outcome.errors)} compliance error(s); fix them before approving")
    approvals = load_approvals(site.root, campaign, diags)
    if approvals is None:
        raise BuildError(diags.errors)
    approval = record(site.root, campaign, approvals, by, note)
    click.echo(f"approved {name} by {by} at {approval.at.isoformat()}: {approval.digest} "
               f"({len(approval.files)} files) in {campaign.dir.relative_to(site.root).as_posix()}/{APPROVALS}")
