"""What a batch writes after its events: the person's points, their board totals and their team's, the
tallies of counted events, check-in days, badges, share codes, votes and the change log (`Totals`).

On PostgreSQL all of it and the events themselves are one statement (`write_with_events`): data-modifying
CTEs, each table's rows as one JSON array (`json_to_recordset`, as `db.insert_new` does), an empty array
writing nothing. Table by table, a single points event cost five statements, each a round trip to the
server and ≈ 0.15 ms of Python in the client; now it costs one, whatever the batch holds. SQLite runs in
the server's process, without round trips (and without data-modifying CTEs): there each table keeps its
own statement.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, case, text, update

from . import db, driver
from .changes import VOTE, note, now_ms, prune
from .friends import record_refs
from .members import add_tallies
from .scores import add_scores


@dataclass
class Totals:
    """One batch's writes beyond its events, for one person. Rows are dicts without campaign and identity."""

    campaign: str
    identity: str
    gained: int = 0  # points added to the person's row
    reached_ms: int = 0  # when they were earned (the latest counted event's time)
    scores: list[dict[str, Any]] = field(default_factory=list)  # kind, period, subject, points, reached_ms
    tallies: list[dict[str, Any]] = field(default_factory=list)  # action, day, count
    checkins: list[str] = field(default_factory=list)  # local days
    badges: list[dict[str, Any]] = field(default_factory=list)  # badge, at_ms
    refs: list[dict[str, Any]] = field(default_factory=list)  # role, code, at_ms
    votes: list[dict[str, Any]] = field(default_factory=list)  # vote, choices (JSON text), at_ms
    changed: list[tuple[str, object]] = field(default_factory=list)  # for the change log; a vote stored adds its own

    def empty(self) -> bool:
        return not (self.gained or self.scores or self.tallies or self.checkins or self.badges or self.refs or self.votes
                    or self.changed)


def write(conn: Connection, totals: Totals) -> None:
    """Apply `totals` in the caller's transaction (the person's row is locked already)."""
    if totals.empty():
        return
    if db.is_postgres(conn):
        _write_postgres(conn, totals)
    else:
        _write_each(conn, totals)


def write_with_events(conn: Connection, events: list[dict[str, Any]], totals: Totals) -> set[str]:
    """Insert the `events` rows whose `event_id` is not stored yet and, if that is every one of them, apply `totals`;
    returns the ids inserted. On PostgreSQL one statement (one round trip) does both."""
    if db.is_postgres(conn):
        return _write_postgres(conn, totals, events)
    inserted = set(db.insert_new(conn, db.events, ("event_id",), events))
    if len(inserted) == len(events):
        write(conn, totals)
    return inserted


_m = db.members.c
_CREDIT = (update(db.members).where(_m.campaign == bindparam("of_campaign"), _m.identity == bindparam("of_identity"))
           .values(earned=_m.earned + bindparam("gained"),
                   reached_ms=case((_m.reached_ms > bindparam("reached"), _m.reached_ms), else_=bindparam("reached"))))
_keep_checkins = db.prepared(lambda insert: insert(db.checkins).on_conflict_do_nothing())
_keep_badges = db.prepared(lambda insert: insert(db.badges).on_conflict_do_nothing())
_keep_votes = db.prepared(lambda insert: insert(db.votes).on_conflict_do_nothing().returning(db.votes.c.vote))


def _write_each(conn: Connection, t: Totals) -> None:
    """One statement per table that has rows."""
    person = {"campaign": t.campaign, "identity": t.identity}
    if t.gained:
        driver.each(conn, _CREDIT, [{"of_campaign": t.campaign, "of_identity": t.identity, "gained": t.gained,
                                    "reached": t.reached_ms}])
    add_scores(conn, t.campaign, t.scores)
    add_tallies(conn, t.campaign, t.identity, t.tallies)
    if t.checkins:
        conn.execute(_keep_checkins(conn), [{**person, "day": day} for day in t.checkins])
    if t.badges:
        conn.execute(_keep_badges(conn), [{**person, **badge} for badge in t.badges])
    record_refs(conn, t.campaign, t.identity, t.refs)
    voted = list(conn.execute(_keep_votes(conn), [{**person, **vote} for vote in t.votes]).scalars()) if t.votes else []
    note(conn, t.campaign, t.changed + [(VOTE, vote) for vote in voted])


def _recordset(name: str, columns: str) -> str:
    return f"json_to_recordset(CAST(:{name} AS json)) AS r({columns})"


_CAMPAIGN, _IDENTITY = "CAST(:campaign AS text)", "CAST(:identity AS text)"
_EVENT_COLUMNS = tuple(c.name for c in db.events.c if c.name != "pk")
_ONLY_IF_COMPLETE = "(SELECT complete FROM checked)"
# The events not stored yet, then everything they add, applied only if every one of them was new (`checked`):
# otherwise the caller plans again with the events inserted and writes their totals with no events (`write`).
_ALL_AT_ONCE = text(f"""
WITH inserted AS (
  {db.insert_new_sql(db.events, ("event_id",), _EVENT_COLUMNS)}
), checked AS (
  SELECT count(*) = CAST(:expected AS integer) AS complete FROM inserted
), credit AS (
  UPDATE members SET earned = earned + CAST(:gained AS integer), reached_ms = GREATEST(reached_ms, CAST(:reached AS bigint))
  WHERE campaign = {_CAMPAIGN} AND identity = {_IDENTITY} AND CAST(:gained AS integer) <> 0 AND {_ONLY_IF_COMPLETE}
), scored AS (
  INSERT INTO scores (campaign, kind, period, subject, points, reached_ms)
  SELECT {_CAMPAIGN}, kind, period, subject, points, reached_ms
  FROM {_recordset("scores", "kind text, period text, subject text, points integer, reached_ms bigint")}
  WHERE {_ONLY_IF_COMPLETE}
  ON CONFLICT (campaign, kind, period, subject) DO UPDATE SET points = scores.points + excluded.points,
    reached_ms = GREATEST(scores.reached_ms, excluded.reached_ms)
), tallied AS (
  INSERT INTO tallies (campaign, identity, action, day, count)
  SELECT {_CAMPAIGN}, {_IDENTITY}, action, day, count FROM {_recordset("tallies", "action text, day text, count integer")}
  WHERE {_ONLY_IF_COMPLETE}
  ON CONFLICT (campaign, identity, action, day) DO UPDATE SET count = tallies.count + excluded.count
), checked_in AS (
  INSERT INTO checkins (campaign, identity, day)
  SELECT {_CAMPAIGN}, {_IDENTITY}, day FROM json_array_elements_text(CAST(:checkins AS json)) AS r(day)
  WHERE {_ONLY_IF_COMPLETE} ON CONFLICT DO NOTHING
), badged AS (
  INSERT INTO badges (campaign, identity, badge, at_ms)
  SELECT {_CAMPAIGN}, {_IDENTITY}, badge, at_ms FROM {_recordset("badges", "badge text, at_ms bigint")}
  WHERE {_ONLY_IF_COMPLETE} ON CONFLICT DO NOTHING
), shared AS (
  INSERT INTO refs (campaign, role, code, identity, at_ms)
  SELECT {_CAMPAIGN}, role, code, {_IDENTITY}, at_ms FROM {_recordset("refs", "role text, code text, at_ms bigint")}
  WHERE {_ONLY_IF_COMPLETE} ON CONFLICT DO NOTHING
), voted AS (
  INSERT INTO votes (campaign, vote, identity, choices, at_ms)
  SELECT {_CAMPAIGN}, vote, {_IDENTITY}, choices, at_ms FROM {_recordset("votes", "vote text, choices text, at_ms bigint")}
  WHERE {_ONLY_IF_COMPLETE} ON CONFLICT DO NOTHING RETURNING vote
), logged AS (
  INSERT INTO changes (campaign, kind, key, at_ms)
  SELECT {_CAMPAIGN}, kind, key, CAST(:now AS bigint) FROM {_recordset("changed", "kind text, key text")}
  WHERE {_ONLY_IF_COMPLETE}
  UNION ALL SELECT {_CAMPAIGN}, '{VOTE}', vote, CAST(:now AS bigint) FROM voted
)
SELECT event_id FROM inserted
""")


def _write_postgres(conn: Connection, t: Totals, events: list[dict[str, Any]] | None = None) -> set[str]:
    """The events not stored yet and, if that is every one of them, `t`: one statement. A row is upserted at most
    once in it (PostgreSQL refuses to update a row twice in one statement): totals and tallies come summed per key."""
    now = now_ms()
    changed = [{"kind": kind, "key": str(key)} for kind, key in dict.fromkeys(t.changed)]
    lists: dict[str, list[Any]] = {"rows": events or [], "scores": t.scores, "tallies": t.tallies, "checkins": t.checkins,
                                   "badges": t.badges, "refs": t.refs, "votes": t.votes, "changed": changed}
    inserted = conn.execute(_ALL_AT_ONCE, {
        "campaign": t.campaign, "identity": t.identity, "gained": t.gained, "reached": t.reached_ms, "now": now,
        "expected": len(events or []), **{name: _json(rows) for name, rows in lists.items()}}).scalars()
    prune(conn, now)
    return set(inserted)


def _json(rows: list[Any]) -> str:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
