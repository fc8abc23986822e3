"""The campaign rules the server enforces, from the same `CampaignConfig` the build reads.

Points come only from `points.actions` in campaign.yaml (a client's `points` are ignored), capped by
`per_day` (local days in the campaign timezone) and `per_campaign`, and only inside the campaign
window. Client time counts within a bounded skew: at most `MAX_FUTURE` ahead of the receive time
and at most `MAX_AGE` old; otherwise the receive time counts. Nothing counts before the person first
reached the server (their token's `iat`, or their first write if earlier): older events count then.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..generator.config import Action, CampaignConfig, Level, window
from .errors import ApiError
from .identity import pseudonym

MAX_FUTURE = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=7)


def to_ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def effective_ms(client: dt.datetime | None, received_ms: int, since_ms: int | None = None) -> int:
    """The client's time if it is at most 5 minutes ahead and at most 7 days old, else the receive time;
    never before `since_ms`, when the person first reached the server: an event dated earlier counts
    at that moment (a new identity cannot backdate events into days it did not exist)."""
    if client is None:
        return received_ms
    client_ms = to_ms(client)
    if not received_ms - to_ms_delta(MAX_AGE) <= client_ms <= received_ms + to_ms_delta(MAX_FUTURE):
        return received_ms
    if since_ms is not None and client_ms < since_ms:
        return min(since_ms, received_ms)
    return client_ms


def to_ms_delta(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def week_of(day: str) -> str:
    """The Monday (`YYYY-MM-DD`) of a local day: the key of the weekly board."""
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()


@dataclass
class VoteDef:
    options: int
    multiple: bool = False
    max: int | None = None

    def valid(self, choices: object) -> bool:
        if not isinstance(choices, list) or not choices or not all(type(c) is int for c in choices):
            return False
        if len(set(choices)) != len(choices) or not all(1 <= c <= self.options for c in choices):
            return False
        limit = (self.max or self.options) if self.multiple else 1
        return len(choices) <= limit


@dataclass
class MemberState:
    """What the rules need to know about one person: loaded once per batch, updated in memory."""

    earned: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # counted per action, whole campaign
    daily: Counter[tuple[str, str]] = field(default_factory=Counter)  # counted per (action, day)
    checkin_days: set[str] = field(default_factory=set)
    badges: list[str] = field(default_factory=list)  # in the order they were earned


class CampaignRules:
    def __init__(self, name: str, config: CampaignConfig, site_zone: str, votes: dict[str, VoteDef] | None = None) -> None:
        self.name = name
        self.config = config
        self.zone = ZoneInfo(config.timezone or site_zone)
        start, end = window(config, site_zone)
        self.start_ms = to_ms(dt.datetime.fromisoformat(start)) if start else None
        self.end_ms = to_ms(dt.datetime.fromisoformat(end)) if end else None
        self.votes = votes or {}
        self.pseudonym_key: bytes | None = None  # set by the app, from its secret

    def who(self, identity: str) -> str:
        """The person's pseudonym on boards and in teams (keyed: see `identity.pseudonym`)."""
        if self.pseudonym_key is None:
            raise RuntimeError("pseudonym key not set: create the app with a secret")
        return pseudonym(identity, self.pseudonym_key)

    # --- time ---------------------------------------------------------------------------------
    def day(self, ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, self.zone).date().isoformat()

    def week_start_ms(self, ms: int) -> int:
        """Monday 00:00 local of the week holding `ms`."""
        local = dt.datetime.fromtimestamp(ms / 1000, self.zone).date()
        monday = local - dt.timedelta(days=local.weekday())
        return to_ms(dt.datetime.combine(monday, dt.time(), self.zone))

    def open_at(self, ms: int) -> bool:
        return (self.start_ms is None or ms >= self.start_ms) and (self.end_ms is None or ms < self.end_ms)

    def require_open(self, ms: int) -> None:
        """Refuse a write that needs the window (a team, a claim, a draw) with 403 `campaign_closed`."""
        if not self.open_at(ms):
            raise ApiError(403, "campaign_closed", f'campaign "{self.name}" is not open ({self.window_state(ms)} its window)')

    def window_state(self, ms: int) -> str:
        if self.start_ms is not None and ms < self.start_ms:
            return "before"
        if self.end_ms is not None and ms >= self.end_ms:
            return "after"
        return "open"

    # --- points ---------------------------------------------------------------------------------
    def action(self, name: object) -> Action | None:
        return self.config.points.actions.get(name) if isinstance(name, str) else None

    def award(self, state: MemberState, action: str, ms: int) -> tuple[str, int]:
        """(status, points) for one `points` event, updating `state` when it counts."""
        rule = self.action(action)
        if rule is None:
            return "unknown_action", 0
        if not self.open_at(ms):
            return "outside_window", 0
        day = self.day(ms)
        if rule.per_campaign is not None and state.counts[action] >= rule.per_campaign:
            return "capped", 0
        if rule.per_day is not None and state.daily[(action, day)] >= rule.per_day:
            return "capped", 0
        state.counts[action] += 1
        state.daily[(action, day)] += 1
        state.earned += rule.points
        return "counted", rule.points

    def level(self, points: int) -> Level | None:
        found = None
        for level in self.config.levels:
            if points >= level.min:
                found = level
        return found

    def next_level(self, points: int) -> Level | None:
        return next((lv for lv in self.config.levels if lv.min > points), None)

    def new_badges(self, state: MemberState) -> list[str]:
        """Badges whose rule `state` now meets and that are not held yet (marked held)."""
        earned = []
        longest = longest_run(state.checkin_days)
        for badge in self.config.badges:
            if badge.id in state.badges:
                continue
            when = badge.when
            if when.points is not None:
                got = state.earned >= when.points
            elif when.action is not None:
                got = state.counts[when.action] >= when.count
            else:
                got = when.streak is not None and longest >= when.streak
            if got:
                earned.append(badge.id)
        earned.sort()  # stored with one time: read back by id
        state.badges.extend(earned)
        return earned


def longest_run(days: set[str]) -> int:
    best = run = 0
    previous: dt.date | None = None
    for day in sorted(dt.date.fromisoformat(d) for d in days):
        run = run + 1 if previous is not None and day - previous == dt.timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def current_streak(days: set[str], today: str) -> int:
    """Consecutive check-in days up to today, or up to yesterday when today has none yet."""
    day = dt.date.fromisoformat(today)
    if today not in days:
        day -= dt.timedelta(days=1)
    n = 0
    while day.isoformat() in days:
        n += 1
        day -= dt.timedelta(days=1)
    return n
