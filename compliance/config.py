"""The `compliance:` settings of h5press.yaml and campaign.yaml, and the waivers of front matter.

Kept with the compliance package and importing only the schema base, so the authoring contract
(generator/config.py) holds them without loading the rule engine."""
from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..generator.schema import Strict

Product = Literal["wealth", "fund", "insurance", "credit", "deposit", "general"]
SOURCES = ("content", "layouts", "assets")  # the project's source folders
Channel = Literal["wechat", "browser", "app", "alipay"]


class Waiver(Strict):
    """A justified exception to one rule, for one text or one line of the file it is written in."""

    rule: str = Field(min_length=1, description="id of the rule waived, e.g. ad-superlative")
    text: str | None = Field(None, min_length=1, description="the offending text the waiver covers (wherever it appears)")
    line: int | None = Field(None, ge=1, description="or: the line it covers, in the file the waiver is written in")
    reason: str = Field(min_length=1, description="why the exception is justified")
    by: str = Field(min_length=1, description="who decided (name or role of the compliance reviewer)")

    @model_validator(mode="after")
    def _one_target(self) -> Waiver:
        if (self.text is None) == (self.line is None):
            raise ValueError("a waiver names exactly one of text or line")
        return self


class SiteCompliance(Strict):
    profile: str = Field("finance-cn", description="the rule set shipped with h5press: finance-cn")
    rules: list[str] = Field(default_factory=list, description=(
        "extra rule files (YAML, relative to the project); a rule with the id of a shipped one replaces it"))
    require_approval: bool = Field(False, description="default of campaign.yaml compliance.require_approval")
    report_dir: str = Field("compliance-report", description=(
        "where the per-campaign reports (JSON and HTML) go, relative to the project; outside dist/ by default"))

    @field_validator("report_dir")
    @classmethod
    def _outside_sources(cls, value: str) -> str:
        """Reports written among the sources would be read (and watched by `serve`) as sources."""
        parts = PurePosixPath(value).parts
        if not parts or PurePosixPath(value).is_absolute() or ".." in parts or parts[0] in SOURCES:
            raise ValueError(f'"{value}": expected a folder inside the project, outside {", ".join(SOURCES)}')
        return value


class CampaignCompliance(Strict):
    require_approval: bool | None = Field(None, description=(
        "the build fails when anything visitors see changed since the last `h5press approve`; default: the site's"))
    waivers: list[Waiver] = Field(default_factory=list, description="justified exceptions for the whole campaign")


class PageCompliance(Strict):
    waivers: list[Waiver] = Field(default_factory=list, description="justified exceptions for this page")
