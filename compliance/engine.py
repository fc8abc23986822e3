"""Apply the selected rules to one campaign's text, then its waivers.

Pattern rules are read here; check rules are Python functions (`checks`) that receive the
rule, the campaign's text and the site root and yield findings. Waivers remove the findings
they name; a waiver that removes nothing is itself a warning, so exceptions do not outlive
the text they were granted for.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import Waiver
from .extract import CampaignText, Span
from .findings import Finding
from .rules import Rule, resolve_check


@dataclass(frozen=True)
class PlacedWaiver:
    """A waiver and where it was written: it covers that page (front matter) or the whole campaign."""

    waiver: Waiver
    source: str
    line: int
    campaign_wide: bool

    def covers(self, finding: Finding) -> bool:
        w = self.waiver
        if w.rule != finding.rule or not (self.campaign_wide or finding.source == self.source):
            return False
        if w.line is not None:
            return finding.source == self.source and finding.line == w.line
        return w.text is not None and finding.text in w.text and w.text in (finding.context or finding.text)


@dataclass
class Outcome:
    """What the rules found in one campaign: open findings, waived ones (with their waiver)."""

    campaign: str
    findings: list[Finding] = field(default_factory=list)
    waived: list[tuple[Finding, PlacedWaiver]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # ids of the rules applied

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


def pattern_findings(rule: Rule, spans: list[Span]) -> Iterator[Finding]:
    """Every match of the rule's patterns in the text it reads, unless a context covers it."""
    for span in spans:
        found = [m for p in rule.patterns for m in re.finditer(p, span.text) if m.end() > m.start()] \
            if rule.reads(span.where) else []
        excused = [(m.start(), m.end()) for u in rule.unless for m in re.finditer(u, span.text)] if found else []
        for m in found:
            if not any(a <= m.start() and m.end() <= b for a, b in excused):
                line, col = span.position(m.start())
                yield Finding(span.source, line, col, rule.id, rule.level, rule.message, m.group(0), rule.suggest, span.text)


def run_rules(rules: list[Rule], text: CampaignText, root: Path) -> Outcome:
    cfg = text.campaign.config
    assert cfg is not None, "only valid campaigns are checked"
    chosen = [r for r in rules if r.applies(cfg.product, list(cfg.channels))]
    found: list[Finding] = []
    for rule in chosen:
        if rule.check:
            check = resolve_check(rule.check)
            assert check is not None, "load_rules keeps only rules whose check resolves"
            found += check(rule, text, root)
        else:
            found += pattern_findings(rule, text.spans)
    unique = sorted(set(found), key=lambda f: (f.source, f.line, f.col, f.rule))
    return apply_waivers(Outcome(text.campaign.name, unique, rules=[r.id for r in chosen]), placed_waivers(text))


def placed_waivers(text: CampaignText) -> list[PlacedWaiver]:
    campaign, cfg = text.campaign, text.campaign.config
    assert cfg is not None
    placed = [PlacedWaiver(w, campaign.source, campaign.line_of(("compliance", "waivers", i)) or 1, True)
              for i, w in enumerate(cfg.compliance.waivers)]
    for page in campaign.pages:
        placed += [PlacedWaiver(w, page.source, page.front.line_of(("compliance", "waivers", i)) or 1, False)
                   for i, w in enumerate(page.meta.compliance.waivers)]
    return placed


def apply_waivers(outcome: Outcome, waivers: list[PlacedWaiver]) -> Outcome:
    """Findings a waiver covers move to `waived`; an unused waiver becomes a `waiver-stale` warning."""
    kept: list[Finding] = []
    used: set[int] = set()
    for finding in outcome.findings:
        match = next((i for i, w in enumerate(waivers) if w.covers(finding)), None)
        if match is None:
            kept.append(finding)
        else:
            used.add(match)
            outcome.waived.append((finding, waivers[match]))
    for i, w in enumerate(waivers):
        if i not in used:
            target = f'text "{w.waiver.text}"' if w.waiver.text else f"line {w.waiver.line}"
            kept.append(Finding(w.source, w.line, 1, "waiver-stale", "warning",
                                f"waiver of {w.waiver.rule} for {target} matches no finding any more",
                                suggest="remove the waiver, or correct its rule, text or line"))
    outcome.findings = kept
    return outcome
