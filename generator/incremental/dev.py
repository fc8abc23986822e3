"""`h5press serve`'s fast path for the commonest saves, the text of one page or its title or
description: the last build is kept in memory, and that page is parsed and rendered again, with
the pages that show its title or description (the landing page's card, the neighbours' links)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, nodes
from jinja2.meta import find_referenced_templates

from ...compliance.gate import check_campaign, site_rules
from ..campaign import CampaignOutput
from ..config import FrontMatter
from ..errors import Diagnostics
from ..inputs import BuildInputs
from ..load import Campaign, Page, load_page
from ..markdown import parser
from ..parse import Parsed, check_blocks, check_links, parse_page
from ..render import layout_name
from ..write import write_changed
from .cache import BuildCache, digest

LISTED = frozenset({"title", "description"})  # front matter other pages show: in `campaign.pages`, `prev`, `next`
CAMPAIGN_SCALARS = frozenset({"name", "config", "index_href"})  # what of `campaign` is not the page list
MAX_PAGES = 50  # more pages to render again than this, and a full build is as quick


@dataclass
class DevState:
    """A development build kept in memory, so that saving one page re-renders that page alone."""

    inputs: BuildInputs
    outputs: dict[str, CampaignOutput]  # campaign name → its built bundle
    hashes: dict[str, str]  # output path → content hash, as written
    cache: tuple[Path | None, str]  # the build cache's file and salt: written files are recorded there
    shows: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # template → `shows_other_pages`


def shows_other_pages(env: Environment, name: str, seen: dict[str, tuple[bool, bool]]) -> tuple[bool, bool]:
    """Whether template `name`, or one it extends, includes or imports, reads the campaign's page
    list and whether it reads `prev`/`next`; (True, True) when it cannot tell (a template chosen
    at render time, `campaign` handed on whole). Memoised in `seen`."""
    if name not in seen:
        seen[name] = (True, True)  # a template that includes itself
        source = env.loader.get_source(env, name)[0] if env.loader else ""
        tree = env.parse(source)
        names = [n.name for n in tree.find_all(nodes.Name)]
        scalars = [g for g in tree.find_all(nodes.Getattr)
                   if isinstance(g.node, nodes.Name) and g.node.name == "campaign" and g.attr in CAMPAIGN_SCALARS]
        lists, neighbours = names.count("campaign") > len(scalars), "prev" in names or "next" in names
        for other in find_referenced_templates(tree):
            more = (True, True) if other is None else shows_other_pages(env, other, seen)
            lists, neighbours = lists or more[0], neighbours or more[1]
        seen[name] = (lists, neighbours)
    return seen[name]


def reach(parsed: Parsed) -> tuple[list[tuple[str, str | None]], list[str], list[str], list[str]]:
    """What of a page other outputs depend on: its components (their assets), images, linked
    files, and heading ids (links from other pages are checked against them)."""
    return [(b.name, b.id) for b in parsed.blocks], parsed.images, parsed.files, parsed.ids


def _compliance_findings(state: DevState, campaign: Campaign, page: Page, parsed: Parsed) -> bool:
    """Whether the compliance gate has anything to say about the edited page with its campaign.yaml (a
    full build reports it). The other pages are as the last full build checked them, so only this one
    is read, from the regions its parse found: a save must not re-read the whole campaign."""
    site, config, found = state.inputs.site, state.inputs.config, Diagnostics()
    alone = dataclasses.replace(campaign, pages=[page])
    check_campaign(site, config, site_rules(site, config, found), alone, found, {page.source: parsed.regions})
    return bool(found.items)


def listed_change(old: FrontMatter, new: FrontMatter) -> set[str] | None:
    """The front-matter keys an edit changed, when all are ones other pages show; else None."""
    before, after = old.model_dump(), new.model_dump()
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return changed if changed <= LISTED else None


def showing(state: DevState, built: CampaignOutput, edited: Page) -> list[Page] | None:
    """The other pages of the campaign whose templates show `edited`'s title or description: those
    that list every page, and its neighbours where they link to it; None when too many."""
    env, pages = state.inputs.env, built.campaign.pages
    near = next(i for i, p in enumerate(pages) if p is edited)
    flags: dict[tuple[str, ...], tuple[bool, bool]] = {}  # pages mostly share their few template sets
    found = []
    for at, page in enumerate(pages):
        names = (layout_name(env, page.meta.layout, page.slug)[0],
                 *sorted({state.inputs.components[b.name].template for b in built.parsed[page.slug].blocks}))
        if names not in flags:
            each = [shows_other_pages(env, name, state.shows) for name in names]
            flags[names] = (any(f[0] for f in each), any(f[1] for f in each))
        lists, neighbours = flags[names]
        if at != near and (lists or neighbours and abs(at - near) == 1):
            found.append(page)
    return found if len(found) <= MAX_PAGES else None


def rebuild_page(state: DevState, out: Path, path: Path) -> list[str] | None:
    """The output files the save of `path` changed, rewritten in `out`. None when the edit reaches
    further than the page's HTML and the pages showing its title and description (other front
    matter, its components, images, files, heading ids, or any problem to report): then only a
    full build gives the same output, so the caller runs one."""
    root = state.inputs.site.root
    source = path.relative_to(root).as_posix() if path.is_relative_to(root) else ""
    built = next((b for b in state.outputs.values() if any(p.source == source for p in b.campaign.pages)), None)
    if built is None:
        return None
    campaign = built.campaign
    report = Diagnostics()
    page = load_page(root, campaign.name, path, campaign.dir, report)
    if page is None or report.items:
        return None
    listed = listed_change(next(p for p in campaign.pages if p.source == source).meta, page.meta)
    if listed is None or listed and page.slug == "index":  # the landing page's title is also the offline page's
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
    if any(d.path == source for d in problems) or _compliance_findings(state, campaign, page, parsed):
        return None
    built.campaign, built.parsed = campaign, every
    others = showing(state, built, page) if listed else []
    if others is None:
        return None
    built.renderer.campaign, built.renderer.parsed = campaign, every
    built.renderer.contexts.use(campaign)
    files: dict[str, bytes] = {}
    for each in [page, *others]:
        html, problems = built.renderer.render_page(each)
        if problems or not html:
            return None
        built.bundle.add_html(each.url, *built.renderer.finish_html(html))
        files[f"{campaign.name}/{each.url}"] = built.bundle.files[each.url]
    written = write_changed(out, files, state.hashes)
    if written:  # the next full build compares against what is on disk now
        remember = BuildCache(*state.cache)
        remember.put_objects("output", {str(out): state.hashes})
        remember.close()
    return written
