"""Findings of `h5press check`, and waivers from h5press.yaml."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from .config import Waiver

Severity = Literal["error", "warning"]


@dataclass
class Finding:
    rule: str
    severity: Severity
    message: str
    selector: str = ""  # CSS selector of the element, or the URL of a request
    box: list[int] | None = None  # [x, y, w, h] in CSS px of the full page
    waived: str | None = None  # the waiver's reason

    def key(self) -> tuple[str, str, str]:
        return self.rule, self.message, self.selector


@dataclass
class Visit:
    """One page on one profile."""

    page: str  # its path; `?h5press-variant=<experiment>:<variant>` on a visit of one variant
    device: str
    findings: list[Finding] = field(default_factory=list)
    screenshot: Path | None = None
    marked: Path | None = None
    diff: Path | None = None
    title: str = ""
    controlled: bool = False  # a service worker controlled the page: it must also load offline
    ms: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)  # lcp_ms, cls (low-end profiles)

    def add(self, finding: Finding) -> None:
        if all(f.key() != finding.key() for f in self.findings):
            self.findings.append(finding)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" and not f.waived]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning" and not f.waived]

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("screenshot", "marked", "diff"):
            data[key] = str(data[key]) if data[key] else None
        return data


def apply_waivers(visits: list[Visit], waivers: list[Waiver]) -> None:
    for visit in visits:
        for finding in visit.findings:
            for waiver in waivers:
                page_matches = fnmatchcase(visit.page, waiver.page) or fnmatchcase(visit.page.split("?")[0], waiver.page)
                if (fnmatchcase(finding.rule, waiver.rule) and page_matches
                        and fnmatchcase(visit.device, waiver.device) and fnmatchcase(finding.selector, waiver.selector)):
                    finding.waived = waiver.reason
                    break
