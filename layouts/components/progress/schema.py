"""progress: a task list with a progress bar; a task is done when the visitor has performed its
points action the given number of times (as counted by the campaign's points rules).

    ::: progress
    tasks:
      - {label: 完成一次低碳打卡, action: checkin}
      - {label: 阅读三篇科普文章, action: read, count: 3}
    :::
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.config import CampaignConfig, Ident
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = False
ORDER = 23


class Task(Strict):
    label: str = Field(min_length=1, description="what to do, e.g. 阅读三篇科普文章")
    action: Ident = Field(description="a points action of campaign.yaml")
    count: int = Field(1, ge=1, description="counted actions needed to be done")
    href: str | None = Field(None, description="where the task is done: a page of the campaign (x.md) or a URL")


class Schema(Strict):
    title: str = Field("任务进度", min_length=1, description="heading of the task list")
    tasks: list[Task] = Field(min_length=1, description="the tasks, in the order shown")


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str | int, ...], str]]:
    actions = list(campaign.points.actions)
    return [(("tasks", i, "action"), f'"{t["action"]}" is not an action in points.actions{did_you_mean(t["action"], actions)}')
            for i, t in enumerate(config["tasks"]) if t["action"] not in actions]
