"""team: 三人组队. Create a team or join one by invite link (`?team=CODE` on the page URL) or
by typing the code; then the team's name, invite link (copy / Web Share), members with empty
slots up to `team.size`, the team's points towards `team.unlock`, and the visitor's nickname.

    ::: team family
    title: 三人组队挑战
    intro: 三人一队，团队积分满 150 分，每位队员都能领取家庭理财礼包。
    labels: {read: 读一篇理财小课}
    :::

Teams live on the collaboration server (`api_url` in h5press.yaml, `team:` in campaign.yaml).
Without a server the block says so and lists what the visitor can already do alone: the
campaign's points actions, labelled by `labels` or by a default name per common action.
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.config import CampaignConfig, Ident
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = True
ORDER = 24

class Schema(Strict):
    title: str = Field("组队挑战", min_length=1, description="heading of the team block")
    intro: str | None = Field(None, description="a line under the title: what the team plays for")
    create: str = Field("创建队伍", min_length=1, description="label of the create button")
    join: str = Field("加入队伍", min_length=1, description="label of the join button")
    labels: dict[Ident, str] = Field(default_factory=dict, description="names of points actions in the solo list "
                                      "(common actions have default names in template.html)")
    action: str | None = Field("share", description="the points action an invite share counts as (if the campaign has it)")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str, ...], str]]:
    if campaign.team is None:
        return [((), "campaign.yaml has no `team:` (team: {size: 3, unlock: {points: …, reward: …}}); teams need it")]
    actions = list(campaign.points.actions)
    return [(("labels", name), f'"{name}" is not an action in points.actions{did_you_mean(name, actions)}')
            for name in config["labels"] if name not in actions]
