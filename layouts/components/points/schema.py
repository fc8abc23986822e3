"""points: the visitor's points wallet, level and progress to the next level.

    ::: points
    :::

Levels come from campaign.yaml's `levels`; points from its `points.actions` as they are earned
on any page. Stateless: the wallet belongs to the campaign, not to the block.
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 20


class Schema(Strict):
    title: str = Field("我的积分", min_length=1, description="heading of the wallet")
