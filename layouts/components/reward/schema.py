"""reward: the reward shelf of campaign.yaml's `rewards`: each unlocks at its points threshold.
Without a server a claim is kept on the device and sent as an event (team rewards are handed out
by the organiser). With `api_url` the server decides: claiming calls POST …/rewards/<id>/claim and
shows its answer (remaining stock, limit reached, threshold not reached); team rewards unlock with
the team's points from /me.

    ::: reward
    :::
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.config import CampaignConfig
from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 22


class Schema(Strict):
    title: str = Field("奖励兑换", min_length=1, description="heading of the reward shelf")
    claim: str = Field("领取", min_length=1, description="label of the claim button")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str, ...], str]]:
    return [] if campaign.rewards else [((), "campaign.yaml has no rewards to show")]
