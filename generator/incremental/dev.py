"""`h5press serve`'s fast path for the commonest save, the text of one page: the last build is
kept in memory, and that page alone is parsed and rendered again."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ...compliance.gate import check_campaign, site_rules
from ..campaign import CampaignOutput
from ..errors import Diagnostics
from ..inputs import BuildInputs
from ..load import Campaign, load_page
from ..markdown import parser
from ..parse import Parsed, check_blocks, check_links, parse_page
from ..write import write_changed
from .cache import BuildCache, digest


@dataclass
class DevState:
    """A development build kept in memory, so that saving one page re-renders that page alone."""

    inputs: BuildInputs
    outputs: dict[str, CampaignOutput]  # campaign name → its built bundle
    hashes: dict[str, str]  # output path → content hash, as written
    cache: tuple[Path | None, str]  # the build cache's file and salt: written files are recorded there


def reach(parsed: Parsed) -> tuple[list[tuple[str, str | None]], list[str], list[str], list[str]]:
    """What of a page other outputs depend on: its components (their assets), images, linked
    files, and heading ids (links from other pages are checked against them)."""
    return [(b.name, b.id) for b in parsed.blocks], parsed.images, parsed.files, parsed.ids


def _compliance_findings(state: DevState, campaign: Campaign) -> bool:
    """Whether the compliance gate has anything to say about the campaign as edited (a full build reports it)."""
    site, config, found = state.inputs.site, state.inputs.config, Diagnostics()
    check_campaign(site, config, site_rules(site, config, found), campaign, found)
    return bool(found.items)


def rebuild_page(state: DevState, out: Path, path: Path) -> list[str] | None:
    """The output files the save of `path` changed, rewritten in `out`. None when the edit reaches
    further than the page's own HTML (its front matter, components, images, files, heading ids,
    or any problem to report): then only a full build gives the same output, so the caller runs one."""
    root = state.inputs.site.root
    source = path.relative_to(root).as_posix() if path.is_relative_to(root) else ""
    built = next((b for b in state.outputs.values() if any(p.source == source for p in b.campaign.pages)), None)
    if built is None:
        return None
    campaign = built.campaign
    report = Diagnostics()
    page = load_page(root, campaign.name, path, campaign.dir, report)
    if page is None or report.items or page.meta != next(p for p in campaign.pages if p.source == source).meta:
        return None
    before = built.parsed[page.slug]
    parsed = parse_page(page, campaign.dir, frozenset(built.parsed), state.inputs.components,
                        parser(state.inputs.config.markdown.specs()))
    if parsed.diagnostics or reach(parsed) != reach(before):
        return None
    parsed.key = digest(before.key, page.body)
    campaign = dataclasses.replace(campaign, pages=[page if p.source == source else p for p in campaign.pages])
    every = {**built.parsed, page.slug: parsed}
    problems = check_links({p.slug: (p, every[p.slug]) for p in campaign.pages}) + check_blocks(
        campaign, every, state.inputs.components)
    if any(d.path == source for d in problems) or _compliance_findings(state, campaign):
        return None
    built.campaign, built.parsed = campaign, every
    built.renderer.campaign, built.renderer.parsed, built.renderer.contexts.campaign = campaign, every, campaign
    html, problems = built.renderer.render_page(page)
    if problems or not html:
        return None
    built.bundle.add_html(page.url, *built.renderer.finish_html(html))
    written = write_changed(out, {f"{campaign.name}/{page.url}": built.bundle.files[page.url]}, state.hashes)
    if written:  # the next full build compares against what is on disk now
        remember = BuildCache(*state.cache)
        remember.put_objects("output", {str(out): state.hashes})
        remember.close()
    return written
