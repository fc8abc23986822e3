"""Accessibility audit of a page with axe-core (vendored, see vendor/README.md).

The script is evaluated through the DevTools protocol, which a page's Content-Security-Policy does
not govern, so the pages are audited exactly as they are served. Only serious and critical
violations become findings: those are the ones that keep a screen-reader or low-vision reader out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .findings import Finding

SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text("utf-8") + "\n;0"
IMPACTS = ("serious", "critical")
# Runs the audit; each violating element comes back with its box in CSS px of the full page.
RUN = """() => axe.run(document, {resultTypes: ['violations']}).then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => {
        const el = typeof n.target[0] === 'string' ? document.querySelector(n.target[0]) : null;
        const r = el ? el.getBoundingClientRect() : null;
        return {target: n.target.join(' '), summary: n.failureSummary || '',
                box: r && r.width ? [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.round) : null};
    }),
})))"""


def findings(violations: list[dict[str, Any]]) -> list[Finding]:
    """One finding per element of each serious or critical violation, named `axe-<rule id>`."""
    out = []
    for violation in violations:
        if violation["impact"] not in IMPACTS:
            continue
        for node in violation["nodes"]:
            detail = " ".join(node["summary"].split("\n")[1:2]).strip()
            message = f"{violation['help']} ({violation['impact']})" + (f": {detail}" if detail else "")
            out.append(Finding(f"axe-{violation['id']}", "error", message[:500], node["target"], node["box"]))
    return out


async def audit(page: Any) -> list[Finding]:
    """The serious and critical violations of the page loaded in `page` (async Playwright)."""
    await page.evaluate(SOURCE)
    return findings(await page.evaluate(RUN))
