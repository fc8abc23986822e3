"""The rules the collaboration server enforces: caps by local day, per-campaign caps, the time-skew
rule, badges, levels, streaks and idempotent ingestion; on SQLite and PostgreSQL."""
from __future__ import annotations

from api_support import event, pin_clock, send, session, session_at


def statuses(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def test_per_day_cap_resets_at_midnight_in_the_campaign_timezone(client):
    # Asia/Shanghai is UTC+8: 15:59 UTC is 23:59 local, 16:00 UTC is the next local day.
    h = session_at(client, "2026-03-02T15:00:00+00:00")
    pin_clock(client, "2026-03-02T16:30:00+00:00")
    late = [event(payload={"action": "read"}, at=f"2026-03-02T15:5{i}:00Z") for i in range(5)]
    assert statuses(send(client, h, late)) == ["counted"] * 3 + ["capped"] * 2
    early = [event(payload={"action": "read"}, at=f"2026-03-02T16:0{i}:00Z") for i in range(4)]
    assert statuses(send(client, h, early)) == ["counted"] * 3 + ["capped"]
    me = client.get("/api/v1/campaigns/c/me", headers=h).json()
    assert me["points"] == 12 and me["actions"]["read"] == {"count": 6, "today": 3}


def test_per_campaign_cap_holds_across_days_and_batches(client):
    h = session(client)
    assert statuses(send(client, h, [event(payload={"action": "quiz"})])) == ["counted"]
    assert statuses(send(client, h, [event(payload={"action": "quiz"}) for _ in range(3)])) == ["counted", "capped", "capped"]
    assert client.get("/api/v1/campaigns/c/me", headers=h).json()["points"] == 20


def test_client_points_and_unknown_actions_are_ignored(client):
    h = session(client)
    r = send(client, h, [event(payload={"action": "share", "points": 999, "total": 999}), event(payload={"action": "hack", "points": 50}),
                         event(payload={"points": 50})])
    assert statuses(r) == ["counted", "unknown_action", "unknown_action"]
    assert r.json()["me"]["points"] == 1


def test_client_time_counts_only_within_the_skew_and_age(client):
    h = session_at(client, "2026-03-01T12:00:00+08:00")
    pin_clock(client, "2026-03-10T12:00:00+08:00")
    # Yesterday (local) is within 7 days: counts on yesterday's cap. 10 days ago and 1 hour ahead: the receive time counts.
    send(client, h, [event(payload={"action": "checkin"}, at="2026-03-09T12:00:00+08:00")])
    r = send(client, h, [event(payload={"action": "checkin"}, at="2026-02-28T12:00:00+08:00"),
                         event(payload={"action": "checkin"}, at="2026-03-10T13:00:00+08:00"),
                         event(payload={"action": "checkin"}, at="2026-03-10T12:04:00+08:00")])
    assert statuses(r) == ["counted", "capped", "capped"]  # the last two fall on today, already counted by the first
    days = {e["day"] for e in _events(client)}
    assert days == {"2026-03-09", "2026-03-10"}
    r = send(client, h, [event(payload={"action": "checkin"}, at="2026-03-08T12:00:00+08:00")])
    assert statuses(r) == ["counted"]


def _events(client) -> list[dict]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from h5press.api import db

    with client.app.state.api.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(db.events))]


def test_window_uses_the_effective_time(make_client):
    client = make_client(campaign="title: t\nstart: 2026-03-01\nend: 2026-03-10\npoints:\n  actions:\n    read: {points: 2}\n")
    h = session_at(client, "2026-03-09T09:00:00+08:00")
    pin_clock(client, "2026-03-11T09:00:00+08:00")  # closed since 00:00 local
    r = send(client, h, [event(payload={"action": "read"}, at="2026-03-10T23:59:00+08:00"),
                         event(payload={"action": "read"}, at="2026-03-11T00:00:00+08:00")])
    assert statuses(r) == ["counted", "outside_window"]


def test_badges_levels_and_streak(client):
    h = session_at(client, "2026-03-01T20:00:00+08:00")
    pin_clock(client, "2026-03-10T20:00:00+08:00")
    r = send(client, h, [event(payload={"action": "read"}) for _ in range(3)])
    assert r.json()["badges"] == ["reader"] and r.json()["me"]["level"]["name"] == "青铜"
    checkins = []
    for day in ("2026-03-08", "2026-03-09", "2026-03-10"):
        checkins += [event("checkin", {"day": day}, at=f"{day}T10:00:00+08:00"), event(payload={"action": "checkin"}, at=f"{day}T10:00:00+08:00")]
    r = send(client, h, checkins)
    assert set(r.json()["badges"]) == {"streak3", "twenty"}
    me = r.json()["me"]
    assert me["points"] == 21 and me["level"] == {"name": "白银", "min": 10} and me["next_level"]["name"] == "黄金"
    assert me["streak"] == {"current": 3, "today": True, "days": ["2026-03-08", "2026-03-09", "2026-03-10"]}
    assert me["badges"] == ["reader", "streak3", "twenty"] or set(me["badges"]) == {"reader", "streak3", "twenty"}
    pin_clock(client, "2026-03-12T08:00:00+08:00")  # a day missed: the streak is broken, the badge stays
    me = client.get("/api/v1/campaigns/c/me", headers=h).json()
    assert me["streak"]["current"] == 0 and "streak3" in me["badges"]


def test_a_batch_of_1000_sent_twice_counts_each_event_once(client):
    h = session(client)
    batch = [event(payload={"action": "share"}) for _ in range(1000)]
    first = send(client, h, batch)
    assert first.status_code == 200 and first.json()["points"] == 1000
    again = send(client, h, batch)
    assert again.status_code == 200 and again.json()["points"] == 0
    assert set(statuses(again)) == {"duplicate"} and len(again.json()["acknowledged"]) == 1000
    assert client.get("/api/v1/campaigns/c/me", headers=h).json()["points"] == 1000
    assert len(_events(client)) == 1000


def test_an_id_repeated_inside_a_batch_counts_once(client):
    h = session(client)
    ev = event(payload={"action": "share"})
    assert statuses(send(client, h, [ev, ev])) == ["counted", "duplicate"]


def test_a_batch_partly_stored_before_counts_only_its_new_events(client):
    """What a batch adds (points, tallies, weekly board totals, the change log) follows the events it stores now: on
    PostgreSQL those are written with the events in one statement and kept only when every event was new, else
    written again for the events inserted."""
    h = session(client)
    old = [event(payload={"action": "share"}) for _ in range(2)]
    assert send(client, h, old).json()["points"] == 2
    new = [event(payload={"action": "share"}) for _ in range(3)]
    r = send(client, h, old + new)
    assert statuses(r) == ["duplicate"] * 2 + ["counted"] * 3 and r.json()["points"] == 3
    me = client.get("/api/v1/campaigns/c/me", headers=h).json()
    assert me["points"] == 5 and me["actions"]["share"]["count"] == 5 and me["actions"]["share"]["today"] == 5
    for period in ("week", "all"):
        board = client.get(f"/api/v1/campaigns/c/leaderboard?period={period}", headers=h).json()
        assert board["me"]["points"] == 5, board
    assert sorted(e["status"] for e in _events(client)) == ["counted"] * 5


def test_a_replayed_id_from_another_identity_is_acknowledged_not_counted(client):
    ev = event(payload={"action": "share"})
    send(client, session(client), [ev])
    other = session(client)
    r = send(client, other, [ev])
    assert statuses(r) == ["duplicate"] and r.json()["me"]["points"] == 0


def test_events_dated_before_the_identity_existed_count_when_it_first_reached_the_server(client):
    pin_clock(client, "2026-03-10T12:00:00+08:00")
    h = session(client)  # a new identity: nothing it sends can have happened before now
    backdated = [event(payload={"action": "read"}, at=f"2026-03-{10 - d:02d}T11:00:00+08:00") for d in range(7) for _ in range(3)]
    backdated += [event(payload={"action": "checkin"}, at=f"2026-03-{10 - d:02d}T11:00:00+08:00") for d in range(3)]
    backdated += [event("checkin", at=f"2026-03-{10 - d:02d}T11:00:00+08:00") for d in range(3)]  # a faked streak
    r = send(client, h, backdated)
    assert r.json()["points"] == 3 * 2 + 5 and r.json()["me"]["streak"]["days"] == ["2026-03-10"]
    assert {e["day"] for e in _events(client)} == {"2026-03-10"}
    # A device offline since it got its identity two days ago: its outbox counts on the days it was used.
    pin_clock(client, "2026-03-08T09:00:00+08:00")
    offline = session(client)
    pin_clock(client, "2026-03-10T12:00:00+08:00")
    outbox = [event(payload={"action": "checkin"}, at=f"2026-03-{d:02d}T10:00:00+08:00") for d in (8, 9, 10)]
    outbox += [event("checkin", at=f"2026-03-{d:02d}T10:00:00+08:00") for d in (8, 9, 10)]
    assert statuses(send(client, offline, outbox)) == ["counted"] * 3 + ["recorded"] * 3
    assert client.get("/api/v1/campaigns/c/me", headers=offline).json()["streak"]["current"] == 3
