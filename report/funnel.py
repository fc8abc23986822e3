"""Funnel steps: `TYPE` (any event of that type) or `TYPE:NAME` (only those of one block id or component
kind, e.g. `completion:quiz`), from `--funnel`, the campaign's `analytics.funnel`, or the default."""
from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT = ("view", "start", "completion", "share", "claim")
STEP_RE = re.compile(r"^(?P<type>[a-z][a-z_]*)(?::(?P<name>[A-Za-z0-9][\w-]*))?$")
LABELS = {"view": "浏览", "start": "开始互动", "completion": "完成互动", "share": "分享", "claim": "领取奖励",
          "points": "获得积分", "checkin": "签到", "vote": "投票", "badge": "获得徽章", "level": "升级", "consent": "同意授权"}


@dataclass(frozen=True)
class Step:
    type: str
    name: str | None = None

    @property
    def label(self) -> str:
        """How report.json and the page name the step: the step as written."""
        return f"{self.type}:{self.name}" if self.name else self.type

    @property
    def title(self) -> str:
        """The Chinese label of the page."""
        base = LABELS.get(self.type, self.type)
        return f"{base} · {self.name}" if self.name else base


def step_problem(text: str) -> str | None:
    """Why `text` is not a funnel step, or None."""
    if STEP_RE.match(text):
        return None
    return f'"{text}" is not a funnel step: expected an event type like "start", or TYPE:NAME like "completion:quiz"'


def parse(texts: list[str] | tuple[str, ...]) -> list[Step]:
    """Steps from checked text (see `step_problem`)."""
    steps = []
    for text in texts:
        match = STEP_RE.match(text)
        if match is None:
            raise ValueError(step_problem(text))
        steps.append(Step(match["type"], match["name"]))
    return steps
