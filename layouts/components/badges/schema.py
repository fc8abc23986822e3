"""badges: every badge of the campaign (campaign.yaml `badges`), the earned ones marked.

    ::: badges
    :::
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.config import CampaignConfig
from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 21


class Schema(Strict):
    title: str = Field("我的徽章", min_length=1, description="heading of the badge list")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str, ...], str]]:
    return [] if campaign.badges else [((), "campaign.yaml has no badges to show")]
