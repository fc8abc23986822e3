"""levels: the campaign's member tiers as a ladder, the visitor's own marked.

    ::: levels
    title: 会员等级
    :::

Levels and their perks come from campaign.yaml's `levels`; the block only titles the ladder.
Stateless: the level follows the campaign-wide wallet.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from h5press.generator.config import CampaignConfig
from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 21


class Schema(Strict):
    title: str = Field("会员等级", min_length=1, description="heading of the ladder")


def check(config: dict[str, Any], campaign: CampaignConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """A ladder needs rungs: without `levels` in campaign.yaml the block would be empty."""
    return [((), "the campaign has no levels; add `levels` to campaign.yaml")] if not campaign.levels else []
