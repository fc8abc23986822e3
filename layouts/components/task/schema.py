"""task: 团队任务. A list of tasks, each a points action of campaign.yaml done `count` times. The
visitor's progress comes from the device (it shows at once, also offline); with the
collaboration server and a team, each member's progress per task comes from the team object and
a bar shows the whole team's completion, updated live.

    ::: task family-tasks
    tasks:
      - {action: read, label: 阅读一篇理财小课, count: 1, href: family-budget.md}
      - {action: checkin, label: 连续打卡三天, count: 3}
      - {action: survey, label: 填写家庭理财问卷, href: survey.md}
    :::

`reached: read` at the end of an article counts that action once when the visitor scrolls
to the block, so reading the article to the end is a task done.
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.config import CampaignConfig, Ident
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = True
ORDER = 25


class Task(Strict):
    action: Ident = Field(description="a points action of campaign.yaml")
    label: str = Field(min_length=1, description="what to do, e.g. 阅读三篇理财文章")
    count: int = Field(1, ge=1, description="times the action must be counted")
    href: str | None = Field(None, description="where the task is done: a page of the campaign (x.md) or a URL")


class Schema(Strict):
    title: str = Field("团队任务", min_length=1, description="heading of the task list")
    tasks: list[Task] = Field(min_length=1, max_length=12, description="the tasks, in the order shown")
    reached: Ident | None = Field(None, description="a points action counted once when the visitor scrolls to this block")


def _unknown(action: str, actions: list[str]) -> str:
    known = ", ".join(actions) or "none"
    return f'"{action}" is not an action in campaign.yaml points.actions{did_you_mean(action, actions)}; actions: {known}'


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """Every action must exist, and a count above the action's per_campaign cap could never be reached."""
    rules = campaign.points.actions
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, task in enumerate(config["tasks"]):
        rule = rules.get(task["action"])
        if rule is None:
            problems.append((("tasks", i, "action"), _unknown(task["action"], list(rules))))
        elif rule.per_campaign is not None and task["count"] > rule.per_campaign:
            problems.append((("tasks", i, "count"), f'{task["count"]} can never be reached: points.actions.{task["action"]}'
                                                    f".per_campaign counts at most {rule.per_campaign}"))
    if config["reached"] is not None and config["reached"] not in rules:
        problems.append((("reached",), _unknown(config["reached"], list(rules))))
    return problems
