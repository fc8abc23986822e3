"""The compliance report of one campaign: JSON for tools, and the same as a readable HTML page,
written beside the project (compliance-report/ by default), never into the published bundle."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..generator.load import Campaign
from .approval import Status
from .engine import Outcome

_TEMPLATE = jinja2.Environment(loader=jinja2.PackageLoader("h5press.compliance", "."), autoescape=True,
                               undefined=jinja2.StrictUndefined).get_template("report.html")


@dataclass
class Checked:
    """One campaign after the gate: its findings and its approval state."""

    campaign: Campaign
    outcome: Outcome
    approval: Status | None  # None: approvals.yaml is broken (reported)
    required: bool
    components: frozenset[str] = frozenset()  # the components its pages use (whose colour pairings count)


def report_data(profile: str, item: Checked) -> dict[str, Any]:
    cfg = item.campaign.config
    assert cfg is not None
    outcome, state = item.outcome, item.approval
    last = state.last if state else None
    return {
        "campaign": item.campaign.name, "title": cfg.title, "product": cfg.product, "channels": list(cfg.channels),
        "profile": profile, "rules": outcome.rules,
        "findings": [f.as_dict() for f in outcome.findings],
        "waived": [{**f.as_dict(), "waiver": {**w.waiver.model_dump(), "source": w.source, "line": w.line}}
                   for f, w in outcome.waived],
        "approval": {
            "required": item.required,
            "last": {"by": last.by, "at": last.at.isoformat(), "note": last.note, "digest": last.digest} if last else None,
            "changed": state.changed if state else {},
            "valid": bool(last) and not (state.changed if state else True),
        },
    }


def _atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def write_report(folder: Path, profile: str, item: Checked) -> Path:
    """`<folder>/<campaign>.json` and `.html`; returns the JSON path."""
    data = report_data(profile, item)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{item.campaign.name}.json"
    _atomic(target, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    _atomic(folder / f"{item.campaign.name}.html", _TEMPLATE.render(r=data))
    return target
