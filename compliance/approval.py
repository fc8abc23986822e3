"""The approval trail: `h5press approve` records who reviewed a campaign, when, and a digest of
every file that shapes what visitors see; a build with `require_approval` fails when any of
those files changed since, naming them.

What visitors see is the campaign folder (pages, images, campaign.yaml), the site's
h5press.yaml (footer, ICP), the project's layouts/ and assets/ overrides and the theme
h5press ships (its layouts/ and assets/). Each file is recorded by its SHA-256, so a failed
check can say which ones changed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from ..generator.assets import THEME_DIR
from ..generator.errors import Diagnostics
from ..generator.load import Campaign, read_yaml
from ..generator.schema import Strict, validate

APPROVALS = "approvals.yaml"
THEME_PREFIX = "h5press:"  # recorded paths of the theme h5press ships, beside the project's own
_SKIPPED_DIRS = {"__pycache__", ".h5press-cache"}


class Approval(Strict):
    by: str = Field(min_length=1, description="the reviewer")
    at: dt.datetime = Field(description="when the approval was given (UTC)")
    note: str = Field("", description="the reviewer's note")
    digest: str = Field(description="SHA-256 over every file below")
    files: dict[str, str] = Field(description="path → SHA-256 of each file that shapes what visitors see")


class Approvals(Strict):
    approvals: list[Approval] = Field(default_factory=list, description="oldest first")


def _tree(base: Path, prefix: str, skip: set[Path]) -> dict[str, str]:
    found: dict[str, str] = {}
    for folder, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            if path in skip or name.startswith(".") or name.endswith(".pyc") or name.startswith("test_"):
                continue
            found[prefix + path.relative_to(base).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def visible_files(root: Path, campaign_dir: Path) -> dict[str, str]:
    """Path → SHA-256 of everything that shapes the campaign's pages."""
    skip = {campaign_dir / APPROVALS}
    files = _tree(campaign_dir, f"{campaign_dir.relative_to(root).as_posix()}/", skip)
    for name in ("layouts", "assets"):
        if (root / name).is_dir():
            files.update(_tree(root / name, f"{name}/", skip))
        files.update(_tree(THEME_DIR / name, f"{THEME_PREFIX}{name}/", skip))
    if (root / "h5press.yaml").is_file():
        files["h5press.yaml"] = hashlib.sha256((root / "h5press.yaml").read_bytes()).hexdigest()
    return files


def combined(files: dict[str, str]) -> str:
    return "sha256:" + hashlib.sha256("".join(f"{p}\0{h}\n" for p, h in sorted(files.items())).encode()).hexdigest()


def load_approvals(root: Path, campaign: Campaign, report: Diagnostics) -> Approvals | None:
    """The campaign's approvals (none yet: empty); None, with the problem reported, when the file is broken."""
    path = campaign.dir / APPROVALS
    if not path.is_file():
        return Approvals()
    shown = path.relative_to(root).as_posix()
    doc = read_yaml(path, shown, report)
    return validate(Approvals, doc, shown, report) if doc else None


@dataclass
class Status:
    """The last approval and what changed since (path → added, removed or changed)."""

    last: Approval | None
    changed: dict[str, str]


def status(root: Path, campaign: Campaign, approvals: Approvals) -> Status:
    last = approvals.approvals[-1] if approvals.approvals else None
    if last is None:
        return Status(None, {})
    now = visible_files(root, campaign.dir)
    changed = {p: "added" for p in now if p not in last.files}
    changed |= {p: "removed" for p in last.files if p not in now}
    changed |= {p: "changed" for p in now if p in last.files and now[p] != last.files[p]}
    return Status(last, dict(sorted(changed.items())))


def record(root: Path, campaign: Campaign, approvals: Approvals, by: str, note: str,
           now: dt.datetime | None = None) -> Approval:
    """Append an approval of the campaign as it is now to its approvals.yaml (written atomically)."""
    files = visible_files(root, campaign.dir)
    approval = Approval(by=by, at=(now or dt.datetime.now(dt.UTC)).replace(microsecond=0), note=note,
                        digest=combined(files), files=files)
    data: dict[str, Any] = Approvals(approvals=[*approvals.approvals, approval]).model_dump(mode="json")
    text = ("# The review trail of this campaign, written by `h5press approve`: who approved it, when, and the\n"
            "# SHA-256 of every file that shapes what visitors see. Do not edit by hand.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120))
    fd, tmp = tempfile.mkstemp(dir=campaign.dir, prefix=".approvals-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, campaign.dir / APPROVALS)
    return approval
