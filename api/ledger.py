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

from sqlalchemy import Connection, Row, bindparam, case, select, update

from . import db
from .changes import BOARD, TEAM, VOTE, note
from .db import ALL, PERSON_KIND, TEAM_KIND
from .friends import record_refs
from .members import add_tallies, load_state, lock_member
from .rules import CampaignRules, MemberState, current_streak, effective_ms, to_ms, week_of
from .scores import add_score
from .teams import team_info


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


# The statements of every request, built once (see `db.prepared`).
_keep_checkins = db.prepared(lambda insert: insert(db.checkins).on_conflict_do_nothing())
_keep_badges = db.prepared(lambda insert: insert(db.badges).on_conflict_do_nothing())
_keep_votes = db.prepared(lambda insert: insert(db.votes).on_conflict_do_nothing().returning(db.votes.c.vote))
_m = db.members.c
CREDIT = (update(db.members).where(_m.campaign == bindparam("of_campaign"), _m.identity == bindparam("of_identity"))
          .values(earned=_m.earned + bindparam("gained"),
                  reached_ms=case((_m.reached_ms > bindparam("reached"), _m.reached_ms), else_=bindparam("reached"))))


def ingest(conn: Connection, rules: CampaignRules, identity: str, batch: Sequence[Incoming], received_ms: int,
           since_ms: int | None = None) -> dict[str, Any]:
    """Record a batch for one person (who first reached the server at `since_ms`, if known earlier than
    their first write); returns per-event results, what the batch earned and the person's summary as `me`."""
    member = lock_member(conn, rules.name, identity, received_ms)
    since = member.created_ms if since_ms is None else min(since_ms, member.created_ms)
    state, days_before, fresh, rows = _store(conn, rules, identity, member, _distinct(batch), received_ms, since)
    gained, changed = _credit(conn, rules.name, identity, member, rows)
    add_tallies(conn, rules.name, identity, Counter((r["action"], r["day"]) for r in rows if r["status"] == "counted"))
    new_days = state.checkin_days - days_before
    if new_days:
        conn.execute(_keep_checkins(conn), [{"campaign": rules.name, "identity": identity, "day": d} for d in sorted(new_days)])
    badges = rules.new_badges(state)
    if badges:
        conn.execute(_keep_badges(conn),
                     [{"campaign": rules.name, "identity": identity, "badge": b, "at_ms": received_ms} for b in badges])
    record_refs(conn, rules.name, identity, [(ev.type, ev.payload, row["at_ms"]) for ev, row in zip(fresh, rows, strict=True)])
    changed += _record_votes(conn, rules.name, identity, rows)
    note(conn, rules.name, changed)
    return {"acknowledged": [ev.id for ev in batch], "results": _results(batch, rows), "points": gained, "badges": badges,
            "me": _person(conn, rules, member, state, received_ms)}


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
           received_ms: int, since_ms: int) -> tuple[MemberState, set[str], list[Incoming], list[dict[str, Any]]]:
    """Insert the fresh events with what they earn under the rules; when some ids were stored before (a
    replay, or another request meanwhile), plan again with only the ones inserted now. Returns the person's state, their
    check-in days before the batch, the events stored and their rows."""
    e = db.events.c
    state = load_state(conn, rules.name, identity, member.earned)
    days_before = set(state.checkin_days)
    rows = _plan(rules, state, fresh, received_ms, since_ms)
    inserted: set[str] = set()
    if rows:
        for row in rows:
            row["identity"] = identity
        inserted = set(db.insert_new(conn, db.events, ("event_id",), rows))
    if len(inserted) != len(rows):  # some ids were stored before: count only the ones stored now
        state = load_state(conn, rules.name, identity, member.earned)
        days_before = set(state.checkin_days)
        fresh = [ev for ev in fresh if ev.id in inserted]
        rows = _plan(rules, state, fresh, received_ms, since_ms)
        for row in rows:
            conn.execute(update(db.events).where(e.event_id == row["event_id"])
                         .values(points=row["points"], status=row["status"], action=row["action"]))
    return state, days_before, fresh, rows


def _credit(conn: Connection, campaign: str, identity: str, member: Row[Any],
            rows: list[dict[str, Any]]) -> tuple[int, list[tuple[str, object]]]:
    """The batch's points added to the person, their boards and their team's; what changed."""
    gained = sum(r["points"] for r in rows)
    changed: list[tuple[str, object]] = []
    if gained:
        reached = max(r["at_ms"] for r in rows if r["points"])
        conn.execute(CREDIT, {"of_campaign": campaign, "of_identity": identity, "gained": gained, "reached": reached})
        _add_scores(conn, campaign, identity, member.team_id, rows)
        changed.append((BOARD, ""))
        if member.team_id is not None:
            changed.append((TEAM, member.team_id))
    return gained, changed


def _record_votes(conn: Connection, campaign: str, identity: str, rows: list[dict[str, Any]]) -> list[tuple[str, object]]:
    """One vote per person per vote id (the first one stays); the tallies that changed."""
    vote_rows = [{"campaign": campaign, "vote": r["component"], "identity": identity,
                  "choices": json.dumps(json.loads(r["payload"])["choices"]), "at_ms": r["at_ms"]}
                 for r in rows if r["type"] == "vote" and r["status"] == "recorded"]
    if not vote_rows:
        return []
    return [(VOTE, vote) for vote in conn.execute(_keep_votes(conn), vote_rows).scalars()]


def _results(batch: Sequence[Incoming], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event's outcome, in batch order; an id repeated in the batch is a duplicate the second time."""
    by_id = {r["event_id"]: r for r in rows}
    results = []
    for ev in batch:
        found = by_id.pop(ev.id, None)
        results.append({"id": ev.id, "status": found["status"] if found else "duplicate",
                        "points": found["points"] if found else 0})
    return results


def _add_scores(conn: Connection, campaign: str, identity: str, team_id: int | None, rows: list[dict[str, Any]]) -> None:
    """Add the batch's points to the person's weekly totals and to the team's totals (an event may fall in the
    previous week: its client time counts)."""
    weeks: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row["points"]:
            points, reached = weeks.get(week_of(row["day"]), (0, 0))
            weeks[week_of(row["day"])] = (points + row["points"], max(reached, row["at_ms"]))
    for week, (points, reached) in weeks.items():
        add_score(conn, campaign, PERSON_KIND, week, identity, points, reached)
        if team_id is not None:
            add_score(conn, campaign, TEAM_KIND, week, team_id, points, reached)
    if team_id is not None:
        add_score(conn, campaign, TEAM_KIND, ALL, team_id, sum(p for p, _ in weeks.values()), max(r for _, r in weeks.values()))


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
