"""disclosure: finance risk text, always visible, never collapsed. Stateless: no id needed.

    ::: disclosure
    title: 风险提示
    text: 理财非存款，产品有风险，投资须谨慎。
    :::
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from h5press.generator.config import CampaignConfig
from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 10


class Schema(Strict):
    title: str = Field("风险提示", min_length=1, description="heading read out by screen readers and shown in bold")
    text: str | None = Field(None, description="the disclosure; defaults to the campaign's `disclosure`")
    level: Literal["info", "warning"] = Field("warning", description="warning: accent border; info: neutral")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str, ...], str]]:
    """The text may come from the campaign, but one of the two must say something."""
    if not (config.get("text") or campaign.disclosure):
        return [(("text",), "is required when campaign.yaml has no `disclosure`")]
    return []
