"""Database operations of the points ledger: event ingestion and a person's summary.

A person's writes are serialised by locking their `members` row (see `members`), so caps hold when
the same person sends batches concurrently. Replays are stopped by the unique `events.event_id`: an
event counts only if its row was actually inserted.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select, update

from . import db
from .changes import BOARD, TEAM
from .db import ALL, PERSON_KIND, TEAM_KIND
from .friends import share_refs
from .members import load_state, lock_member
from .rules import CampaignRules, MemberState, current_streak, effective_ms, to_ms, week_of
from .teams import team_info
from .totals import Totals, write_with_events
from .totals import write as write_totals


@dataclass
class Incoming:
    id: str
    type: str
    component: str | None
    payload: dict[str, Any]
    client: Any  # aware datetime or None


def _plan(rules: CampaignRules, state: MemberState, batch: Sequence[Incoming], received_ms: int,
          since_ms: int) -> list[dict[str, Any]]:
    """The rows to insert, with the server's verdict on each event (mutates `state`)."""
    rows = []
    for ev in batch:
        client_ms = to_ms(ev.client) if ev.client is not None else None
        at_ms = effective_ms(ev.client, received_ms, since_ms)
        action, status, points = None, "recorded", 0
        if ev.type == "points":
            action = ev.payload.get("action") if isinstance(ev.payload.get("action"), str) else None
            status, points = rules.award(state, action, at_ms) if action else ("unknown_action", 0)
        elif ev.type == "checkin":
            if rules.open_at(at_ms):
                state.checkin_days.add(rules.day(at_ms))
            else:
                status = "outside_window"
        elif ev.type == "vote":
            vote = rules.votes.get(ev.component or "")
            if vote is None or not vote.valid(ev.payload.get("choices")):
                status = "rejected"
            elif not rules.open_at(at_ms):
                status = "outside_window"
        rows.append({"event_id": ev.id, "campaign": rules.name, "type": ev.type, "component": ev.component,
                     "payload": json.dumps(ev.payload, ensure_ascii=False, separators=(",", ":")), "client_ms": client_ms,
                     "at_ms": at_ms, "received_ms": received_ms, "day": rules.day(at_ms), "action": action,
                     "points": points, "status": status})
    return rows


def ingest(conn: Connection, rules: CampaignRules, identity: str, batch: Sequence[Incoming], received_ms: int,
           since_ms: int | None = None, member: Row[Any] | None = None) -> dict[str, Any]:
    """Record a batch for one person (who first reached the server at `since_ms`, if known earlier than
    their first write; `member`: their row, if this transaction has locked it already); returns per-event
    results, what the batch earned and the person's summary as `me`."""
    if member is None:
        member = lock_member(conn, rules.name, identity, received_ms)
    since = member.created_ms if since_ms is None else min(since_ms, member.created_ms)
    state, fresh, rows, totals = _store(conn, rules, identity, member, _distinct(batch), received_ms, since)
    return {"acknowledged": [ev.id for ev in batch], "results": _results(batch, rows), "points": totals.gained,
            "badges": [b["badge"] for b in totals.badges], "me": _person(conn, rules, member, state, received_ms)}


def _distinct(batch: Sequence[Incoming]) -> list[Incoming]:
    """The batch's events, each id once (an id repeated in the batch counts once). Ids stored before are found
    by the insert itself (`_store`): no look-up before it, replays are rare."""
    seen: set[str] = set()
    fresh = []
    for ev in batch:
        if ev.id not in seen:
            fresh.append(ev)
        seen.add(ev.id)
    return fresh


def _store(conn: Connection, rules: CampaignRules, identity: str, member: Row[Any], fresh: list[Incoming],
           received_ms: int, since_ms: int) -> tuple[MemberState, list[Incoming], list[dict[str, Any]], Totals]:
    """Insert the fresh events with what they earn under the rules, and what they add (`Totals`); when some ids were
    stored before (a replay, or another request meanwhile), plan again with only the ones inserted now. Returns the
    person's state, the events stored, their rows and what they added."""
    e = db.events.c
    state = load_state(conn, rules.name, identity, member.earned)
    rows, totals = _planned(rules, identity, member, state, fresh, received_ms, since_ms)
    inserted = write_with_events(conn, rows, totals)  # the totals only if every row was inserted
    if len(inserted) != len(rows):  # some ids were stored before: count only the ones stored now
        state = load_state(conn, rules.name, identity, member.earned)
        fresh = [ev for ev in fresh if ev.id in inserted]
        rows, totals = _planned(rules, identity, member, state, fresh, received_ms, since_ms)
        for row in rows:
            conn.execute(update(db.events).where(e.event_id == row["event_id"])
                         .values(points=row["points"], status=row["status"], action=row["action"]))
        write_totals(conn, totals)
    return state, fresh, rows, totals


def _planned(rules: CampaignRules, identity: str, member: Row[Any], state: MemberState, fresh: list[Incoming],
             received_ms: int, since_ms: int) -> tuple[list[dict[str, Any]], Totals]:
    """The events' rows and what they add to the person's totals, tallies, check-ins, badges, share codes and votes
    (mutates `state`)."""
    days_before = set(state.checkin_days)
    rows = _plan(rules, state, fresh, received_ms, since_ms)
    for row in rows:
        row["identity"] = identity
    totals = Totals(rules.name, identity)
    _credit(totals, member, rows)
    counted = Counter((r["action"], r["day"]) for r in rows if r["status"] == "counted")
    totals.tallies = [{"action": action, "day": day, "count": n} for (action, day), n in counted.items()]
    totals.checkins = sorted(state.checkin_days - days_before)
    totals.badges = [{"badge": b, "at_ms": received_ms} for b in rules.new_badges(state)]
    totals.refs = share_refs((ev.type, ev.payload, row["at_ms"]) for ev, row in zip(fresh, rows, strict=True))
    totals.votes = [{"vote": r["component"], "choices": json.dumps(json.loads(r["payload"])["choices"]), "at_ms": r["at_ms"]}
                    for r in rows if r["type"] == "vote" and r["status"] == "recorded"]
    return rows, totals


def _credit(totals: Totals, member: Row[Any], rows: list[dict[str, Any]]) -> None:
    """The batch's points for the person, their boards and their team's; what changed."""
    totals.gained = sum(r["points"] for r in rows)
    if totals.gained:
        totals.reached_ms = max(r["at_ms"] for r in rows if r["points"])
        totals.scores = _scores(totals.identity, member.team_id, rows)
        totals.changed.append((BOARD, ""))
        if member.team_id is not None:
            totals.changed.append((TEAM, member.team_id))


def _results(batch: Sequence[Incoming], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event's outcome, in batch order; an id repeated in the batch is a duplicate the second time."""
    by_id = {r["event_id"]: r for r in rows}
    results = []
    for ev in batch:
        found = by_id.pop(ev.id, None)
        results.append({"id": ev.id, "status": found["status"] if found else "duplicate",
                        "points": found["points"] if found else 0})
    return results


def _scores(identity: str, team_id: int | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch's points as rows of the person's weekly totals and of the team's totals (an event may fall in the
    previous week: its client time counts)."""
    weeks: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row["points"]:
            points, reached = weeks.get(week_of(row["day"]), (0, 0))
            weeks[week_of(row["day"])] = (points + row["points"], max(reached, row["at_ms"]))
    subjects = [(PERSON_KIND, identity)] + ([(TEAM_KIND, str(team_id))] if team_id is not None else [])
    scores = [{"kind": kind, "period": week, "subject": subject, "points": points, "reached_ms": reached}
              for kind, subject in subjects for week, (points, reached) in weeks.items()]
    if team_id is not None:
        scores.append({"kind": TEAM_KIND, "period": ALL, "subject": str(team_id), "points": sum(p for p, _ in weeks.values()),
                       "reached_ms": max(r for _, r in weeks.values())})
    return scores


def summary(conn: Connection, rules: CampaignRules, identity: str, now_ms: int) -> dict[str, Any]:
    """The person's points, level, badges, actions, streak and team (`GET /me`)."""
    m = db.members.c
    member = conn.execute(select(db.members).where(m.campaign == rules.name, m.identity == identity)).first()
    state = load_state(conn, rules.name, identity, member.earned) if member else MemberState()
    return _person(conn, rules, member, state, now_ms, identity)


def _person(conn: Connection, rules: CampaignRules, member: Row[Any] | None, state: MemberState, now_ms: int,
            identity: str | None = None) -> dict[str, Any]:
    """The summary from the person's row (as read before this request's writes, or None) and their state now."""
    identity = member.identity if member is not None else identity
    earned, spent = state.earned, (member.spent if member is not None else 0)
    today = rules.day(now_ms)
    level, following = rules.level(earned), rules.next_level(earned)
    actions = {name: {"count": state.counts[name], "today": state.daily[(name, today)]} for name in rules.config.points.actions}
    team = team_info(conn, rules, member.team_id, identity) if member is not None and member.team_id is not None else None
    return {
        "campaign": rules.name, "identity": identity, "who": rules.who(str(identity)),
        "nickname": member.nickname if member else None, "points": earned, "balance": earned - spent,
        "level": {"name": level.name, "min": level.min} if level else None,
        "next_level": {"name": following.name, "min": following.min} if following else None,
        "badges": list(state.badges), "actions": actions,
        "streak": {"current": current_streak(state.checkin_days, today), "today": today in state.checkin_days,
                   "days": sorted(state.checkin_days)},
        "team": team, "window": rules.window_state(now_ms),
    }


def vote_tally(conn: Connection, rules: CampaignRules, vote: str) -> dict[str, Any]:
    """Votes per option (in option order) and the number of voters of a known vote block."""
    counts = [0] * rules.votes[vote].options
    total = 0
    v = db.votes.c
    for raw in conn.execute(select(v.choices).where(v.campaign == rules.name, v.vote == vote)).scalars():
        total += 1
        for choice in json.loads(raw):
            counts[choice - 1] += 1
    return {"id": vote, "counts": counts, "total": total}
