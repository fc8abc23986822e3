"""Rules a word list cannot express, as Python checks a rule names (`check: <function>`).

Each takes the rule (its id, level, message, suggestion and `params`), the campaign's text and
the project root, and yields findings located at the file, line and column to change.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..generator.components import registry
from .extract import CampaignText, Span
from .findings import Finding
from .rules import Rule

_PUNCTUATION = re.compile(r"[\s，。、；：！？,.;:!?「」『』“”\"'（）()【】\[\]《》·…—-]+")


def normalize(text: str) -> str:
    """Text without spaces and punctuation, so 「理财非存款，产品有风险」 matches however it is punctuated."""
    return _PUNCTUATION.sub("", text)


def _finding(rule: Rule, source: str, at: tuple[int, int], text: str = "", message: str | None = None,
             context: str = "") -> Finding:
    return Finding(source, at[0], at[1], rule.id, rule.level, message or rule.message, text, rule.suggest, context)


def _disclosure(text: CampaignText) -> str:
    assert text.campaign.config is not None
    return text.campaign.config.disclosure


def risk_warning(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """The product's risk warning on every page: in the disclosure (every page's footer) or in each page."""
    cfg = text.campaign.config
    assert cfg is not None
    wanted = rule.params.get("phrases", {}).get(cfg.product, [])
    if not wanted or any(re.search(p, normalize(cfg.disclosure)) for p in wanted):
        return
    for source, spans in text.pages.items():
        if not any(re.search(p, normalize("".join(s.text for s in spans))) for p in wanted):
            yield _finding(rule, source, (1, 1), message=f"{rule.message} (not on this page, nor in campaign.yaml disclosure)")


def simulated_label(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """Simulated games keep the label that says so in their heading."""
    label: str = rule.params.get("label", "模拟")
    components = registry(root)
    for block in text.blocks:
        if block.name not in rule.params.get("components", []) or not isinstance(block.doc.data, dict):
            continue
        title = block.doc.data.get("title")
        if title is None and block.name in components:
            title = components[block.name].schema.model_fields["title"].default
        if isinstance(title, str) and label not in title:
            at = text.position(block.source, block.doc.line_of(("title",)) or block.line, "title")
            yield _finding(rule, block.source, at, title, context=title)


def past_performance(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """Past returns are followed (later in the page, or in the footer's disclosure) by the caveat."""
    required = re.compile(rule.params["required"])
    if required.search(normalize(_disclosure(text))):
        return
    for spans in text.pages.values():
        for i, span in enumerate(spans):
            mentions = [m for pattern in rule.params["triggers"] for m in re.finditer(pattern, span.text)]
            if mentions:  # most text mentions no past returns: the caveat is looked for only where one does
                yield from _uncaveated(rule, span, mentions, spans[i + 1:], required)


def _uncaveated(rule: Rule, span: Span, mentions: list[re.Match[str]], later: list[Span],
                required: re.Pattern[str]) -> Iterator[Finding]:
    caveats = [(m.start(), m.end()) for m in required.finditer(span.text)]
    for m in mentions:
        if any(a <= m.start() < b for a, b in caveats):
            continue
        after = normalize(span.text[m.end():] + "".join(s.text for s in later))
        if not required.search(after):
            yield _finding(rule, span.source, span.position(m.start()), m.group(0), context=span.text)


def _lotteries(text: CampaignText) -> Iterator[tuple[int, Any]]:
    cfg = text.campaign.config
    assert cfg is not None
    yield from enumerate(cfg.lottery)


def prize_value(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """Every prize states its value in yuan; the top prize stays within the legal limit."""
    limit = float(rule.params.get("max_top_prize", 50000))
    campaign = text.campaign
    for i, lot in _lotteries(text):
        for j, prize in enumerate(lot.prizes):
            path = ("lottery", i, "prizes", j)
            if prize.value is None:
                at = text.position(campaign.source, campaign.line_of(path), "name")
                yield _finding(rule, campaign.source, at, prize.name, f"prize without value: {rule.message}")
            elif prize.value > limit:
                at = text.position(campaign.source, campaign.line_of((*path, "value")), "value")
                yield _finding(rule, campaign.source, at, f"{prize.name} {prize.value:g} 元",
                               f"a prize worth more than {limit:,.0f} yuan is unlawful in a prize promotion")


def prize_disclosure(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """What the lottery block shows is complete: it always shows kinds, value, odds and stock (共 N 份 or 不限);
    how to claim and the window come from campaign.yaml."""
    campaign, cfg = text.campaign, text.campaign.config
    assert cfg is not None
    for i, lot in _lotteries(text):
        at = text.position(campaign.source, campaign.line_of(("lottery", i)), "id")
        if not lot.claim.strip():
            yield _finding(rule, campaign.source, at, lot.name, f"how to claim a prize is not shown: {rule.message}")
        if cfg.start is None or cfg.end is None:
            yield _finding(rule, campaign.source, at, lot.name, f"the draw window is not shown (campaign start and end): "
                                                                f"{rule.message}")


def share_rewards(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """Nothing earned for sharing or inviting: no points, badges or task progress on those actions."""
    campaign, cfg = text.campaign, text.campaign.config
    assert cfg is not None
    social = set(rule.params.get("actions", []))
    for name, action in cfg.points.actions.items():
        if name in social and action.points > 0:
            at = text.position(campaign.source, campaign.line_of(("points", "actions", name)), name)
            yield _finding(rule, campaign.source, at, f"{name}: {action.points} 分", f"points for sharing: {rule.message}")
    for i, badge in enumerate(cfg.badges):
        if badge.when.action in social:
            at = text.position(campaign.source, campaign.line_of(("badges", i, "when")), "action")
            yield _finding(rule, campaign.source, at, badge.name, f"a badge for sharing: {rule.message}")
    for block in text.blocks:
        if block.name in rule.params.get("sharing_components", []):
            continue  # the share button itself: harmless once the action earns nothing
        for path, item in _mappings(block.doc.data, ()):
            if item.get("action") in social:
                at = text.position(block.source, block.doc.line_of(path), "action")
                yield _finding(rule, block.source, at, str(item.get("label", item["action"])),
                               f"progress or rewards for sharing in {block.name}: {rule.message}")


def _mappings(data: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every mapping in a YAML value, with its key path."""
    if isinstance(data, dict):
        yield path, data
        children: Any = data.items()
    else:
        children = enumerate(data) if isinstance(data, list) else ()
    for key, value in children:
        if isinstance(value, (dict, list)):
            yield from _mappings(value, (*path, key))


def survey_sensitive(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """A survey field asking for sensitive personal information is marked so, with its purpose."""
    categories: dict[str, str] = rule.params["categories"]
    for block in text.blocks:
        fields = block.doc.data.get("fields") if block.name == "survey" and isinstance(block.doc.data, dict) else None
        for i, f in enumerate(fields if isinstance(fields, list) else []):
            if not isinstance(f, dict):
                continue
            asked = f"{f.get('label', '')} {f.get('name', '')}"
            kind = next((k for k, p in categories.items() if re.search(p, asked)), None)
            if kind and not (f.get("sensitive") is True and str(f.get("purpose") or "").strip()):
                at = text.position(block.source, block.doc.line_of(("fields", i)), "label")
                yield _finding(rule, block.source, at, str(f.get("label", "")), f"{kind}: {rule.message}")


_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)(px|rem|em)\b")


def elder_sizes(rule: Rule, text: CampaignText, root: Path) -> Iterator[Finding]:
    """Elder mode: the project's SCSS overrides and the pages' HTML set no text below the minimum."""
    cfg = text.campaign.config
    assert cfg is not None
    if not cfg.elder_mode:
        return
    minimum = float(rule.params.get("min_font_px", 18))
    for path in sorted([*root.glob("assets/scss/**/*.scss"), *root.glob("layouts/**/*.scss")]):
        source = path.relative_to(root).as_posix()
        for row, line in enumerate(path.read_text("utf-8").split("\n"), 1):
            for m in _FONT_SIZE.finditer(line):
                px = float(m.group(1)) * (1 if m.group(2) == "px" else 16)
                if px < minimum:
                    yield _finding(rule, source, (row, m.start() + 1), m.group(0),
                                   f"{px:g} px text in an elder-mode campaign: {rule.message}")
    for span in text.spans:
        for m in re.finditer(r"<small\b", span.text) if span.where == "markdown" else ():
            yield _finding(rule, span.source, span.position(m.start()), m.group(0), context=span.text)
