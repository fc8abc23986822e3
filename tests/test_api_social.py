"""Nicknames, team members and the team unlock, nicknames on boards, the friends board (teams and
share links) and the schema upgrade that brought them; on SQLite and PostgreSQL."""
from __future__ import annotations

import json

from api_support import CAMPAIGN, event, pin_clock, send, session, session_at
from sqlalchemy import inspect, select, text

from h5press.api import db
from h5press.api.migrations import MIGRATIONS, migrate

ME = "/api/v1/campaigns/c/me"
BOARD = "/api/v1/campaigns/c/leaderboard"


def earn(client, headers, action: str, n: int = 1) -> None:  # type: ignore[no-untyped-def]
    r = send(client, headers, [event(payload={"action": action}) for _ in range(n)])
    assert r.status_code == 200, r.text


def nickname(client, headers, name) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(ME, json={"nickname": name}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_nickname_is_trimmed_stored_per_campaign_and_shown_in_me(client):
    h = session(client)
    me = client.get(ME, headers=h).json()
    assert me["nickname"] is None and len(me["who"]) == 10
    me = nickname(client, h, "  小青\u3000")  # an ideographic space is trimmed too
    assert me["nickname"] == "小青" and me["points"] == 0
    assert client.get(ME, headers=h).json()["nickname"] == "小青"
    assert nickname(client, h, "青" * 16)["nickname"] == "青" * 16
    assert nickname(client, h, None)["nickname"] is None


def test_invalid_nicknames_are_422(client):
    h = session(client)
    for bad, why in [("", "1-16"), ("   ", "1-16"), ("青" * 17, "1-16"), ("a\nb", "control"), ("a\u202eb", "control"),
                     ("a\u200bb", "control"), ("a\x00b", "control")]:
        r = client.post(ME, json={"nickname": bad}, headers=h)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (bad, r.text)
        assert r.json()["message"].startswith("nickname:") and why in r.json()["message"], r.json()["message"]
    for body in ({}, {"nickname": 5}, {"nick": "x"}):
        assert client.post(ME, json=body, headers=h).status_code == 422
    assert client.post(ME, json={"nickname": "x"}).status_code == 401
    assert client.post("/api/v1/campaigns/nope/me", json={"nickname": "x"}, headers=h).status_code == 404


def test_markup_in_a_nickname_is_returned_as_json_text_only(client):
    h = session(client)
    markup = "<img src=x onerror=alert(1)>"[:16]
    earn(client, h, "share")
    r = client.post(ME, json={"nickname": markup}, headers=h)
    assert r.json()["nickname"] == markup
    board = client.get(BOARD, headers=h)
    assert board.json()["entries"][0]["nickname"] == markup
    for response in (r, board):
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_team_members_with_points_actions_and_me(client):
    owner, friend = session(client), session(client)
    nickname(client, owner, "队长")
    team = client.post("/api/v1/campaigns/c/teams", json={"name": "绿色小队"}, headers=owner).json()
    joined = client.post("/api/v1/campaigns/c/teams/join", json={"code": team["code"]}, headers=friend).json()
    earn(client, friend, "read", 2)
    earn(client, friend, "share")
    earn(client, owner, "quiz")
    me = client.get(ME, headers=friend).json()
    members = me["team"]["members"]
    assert [m["nickname"] for m in members] == ["队长", None]  # joined order
    assert [m["me"] for m in members] == [False, True] and [m["me"] for m in joined["members"]] == [False, True]
    assert members[1] == {"who": me["who"], "nickname": None, "points": 5, "me": True,
                          "actions": {"read": 2, "checkin": 0, "quiz": 0, "share": 1}}
    assert members[0]["actions"] == {"read": 0, "checkin": 0, "quiz": 1, "share": 0} and members[0]["points"] == 10
    assert me["team"]["points"] == 15 and me["team"]["unlocked"] is None
    assert client.get(ME, headers=owner).json()["team"]["members"][0]["me"] is True


UNLOCK = (CAMPAIGN.replace("team:\n  size: 3\n", "team:\n  size: 3\n  unlock: {points: 15, reward: chest}\n")
          .replace("rewards:\n", "rewards:\n  - {id: chest, name: 团队宝箱, threshold: 1000, stock: 2}\n"))


def test_team_unlock_lets_every_member_claim_within_stock_and_per_user(make_client):
    client = make_client(campaign=UNLOCK)
    a, b, c, outsider = session(client), session(client), session(client), session(client)
    code = client.post("/api/v1/campaigns/c/teams", json={"name": "宝箱队"}, headers=a).json()["code"]
    for h in (b, c):
        client.post("/api/v1/campaigns/c/teams/join", json={"code": code}, headers=h)
    earn(client, a, "quiz")
    r = client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=c)
    assert r.status_code == 403 and r.json()["error"] == "below_threshold"
    earn(client, b, "share", 5)
    assert client.get(ME, headers=c).json()["team"]["unlocked"] == {"reward": "chest", "points": 15, "reached": True}
    r = client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=c)  # c has no points of its own
    assert r.status_code == 200 and r.json()["remaining"] == 1, r.text
    r = client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=c)
    assert r.status_code == 409 and r.json()["error"] == "limit_reached"
    assert client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=a).status_code == 200
    r = client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=b)
    assert r.status_code == 409 and r.json()["error"] == "out_of_stock"
    earn(client, outsider, "quiz")
    r = client.post("/api/v1/campaigns/c/rewards/chest/claim", headers=outsider)
    assert r.status_code == 403 and r.json()["error"] == "below_threshold"


def test_board_entries_carry_nicknames_and_me_below_the_limit(client):
    people = [session(client) for _ in range(4)]
    for i, h in enumerate(people):
        earn(client, h, "share", i + 1)
    nickname(client, people[3], "第一")
    board = client.get(BOARD + "?limit=2", headers=people[0]).json()
    assert [(e["rank"], e["points"], e["nickname"]) for e in board["entries"]] == [(1, 4, "第一"), (2, 3, None)]
    assert board["me"] == {"rank": 4, "who": client.get(ME, headers=people[0]).json()["who"], "nickname": None, "points": 1}
    assert client.get(BOARD + "?limit=2&period=week", headers=people[0]).json()["me"]["rank"] == 4
    assert client.get(BOARD + "?limit=2", headers=session(client)).json()["me"] is None  # nothing earned: not ranked


def test_team_boards_count_what_members_earned_also_before_joining(client):
    a, b, c = (session_at(client, "2026-03-01T12:00:00+08:00") for _ in range(3))
    pin_clock(client, "2026-03-11T12:00:00+08:00")  # a Wednesday
    send(client, b, [event(payload={"action": "quiz"}, at="2026-03-06T10:00:00+08:00")])  # last week
    send(client, b, [event(payload={"action": "share"}, at="2026-03-10T10:00:00+08:00")])
    first = client.post("/api/v1/campaigns/c/teams", json={"name": "先"}, headers=a).json()
    earn(client, a, "read")
    client.post("/api/v1/campaigns/c/teams/join", json={"code": first["code"]}, headers=b)  # brings 11 points, 1 this week
    client.post("/api/v1/campaigns/c/teams", json={"name": "后"}, headers=c)
    earn(client, c, "quiz")
    every = client.get(BOARD + "?scope=team&period=all", headers=b).json()
    assert [(e["name"], e["points"]) for e in every["entries"]] == [("先", 13), ("后", 10)] and every["me"]["rank"] == 1
    week = client.get(BOARD + "?scope=team&period=week", headers=b).json()
    assert [(e["name"], e["points"]) for e in week["entries"]] == [("后", 10), ("先", 3)] and week["me"]["team"] == first["id"]
    assert client.get(ME, headers=a).json()["team"]["points"] == 13


def test_openapi_documents_the_additions(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/campaigns/{campaign}/stream", "/api/v1/campaigns/{campaign}/admin/export.csv", "/api/v1/wechat/signature"):
        assert "get" in paths[path], path
    assert "post" in paths["/api/v1/campaigns/{campaign}/me"]
    board = paths["/api/v1/campaigns/{campaign}/leaderboard"]["get"]
    assert "friends" in json.dumps(board["parameters"]) and "$ref" in json.dumps(board["responses"]["200"])


def share_url(code: str) -> str:
    return f"https://h5.example.com/c/index.html?utm=x&ref={code}"


def test_friends_are_linked_by_share_codes_in_either_order_and_by_teams(client):
    pin_clock(client, "2026-03-11T12:00:00+08:00")
    sharer, early_viewer, late_viewer, mate, stranger = (session(client) for _ in range(5))
    # the view arrives before the share it came from, and another after it
    send(client, early_viewer, [event("view", {"page": "index.html", "ref": "DEV1CE"}), event(payload={"action": "quiz"})])
    send(client, sharer, [event("share", {"channel": "copy", "url": share_url("DEV1CE")}), event(payload={"action": "share"})])
    send(client, late_viewer, [event("view", {"page": "index.html", "ref": "DEV1CE"}), event(payload={"action": "read"})])
    send(client, stranger, [event("view", {"page": "index.html", "ref": "OTHER"}), event(payload={"action": "quiz"})])
    code = client.post("/api/v1/campaigns/c/teams", json={"name": "队"}, headers=sharer).json()["code"]
    client.post("/api/v1/campaigns/c/teams/join", json={"code": code}, headers=mate)  # 0 points: listed anyway
    nickname(client, late_viewer, "后来者")
    board = client.get(BOARD + "?scope=friends", headers=sharer).json()
    assert board["scope"] == "friends"
    assert [(e["rank"], e["points"], e["nickname"]) for e in board["entries"]] == [(1, 10, None), (2, 2, "后来者"), (3, 1, None),
                                                                                   (4, 0, None)]
    assert board["me"]["rank"] == 3
    viewer_board = client.get(BOARD + "?scope=friends", headers=early_viewer).json()
    assert [e["points"] for e in viewer_board["entries"]] == [10, 1]  # the viewer and the sharer, not the other viewer
    short = client.get(BOARD + "?scope=friends&limit=1", headers=sharer).json()
    assert len(short["entries"]) == 1 and short["me"]["rank"] == 3 and short["me"]["points"] == 1
    week = client.get(BOARD + "?scope=friends&period=week", headers=sharer).json()
    assert week["since"] is not None and [e["points"] for e in week["entries"]] == [10, 2, 1, 0]


def test_friends_board_needs_a_token_and_lists_a_newcomer(client):
    r = client.get(BOARD + "?scope=friends")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = client.get(BOARD + "?scope=friends", headers={"Authorization": "Bearer forged.token"})
    assert r.status_code == 401 and r.json()["error"] == "bad_token"
    h = session(client)
    board = client.get(BOARD + "?scope=friends", headers=h).json()
    assert board["entries"] == [board["me"]] and board["me"]["rank"] == 1 and board["me"]["points"] == 0


def test_bad_share_codes_link_nobody(client):
    sharer, viewer = session(client), session(client)
    send(client, sharer, [event("share", {"url": "not a url ref=X"}), event("share", {"url": share_url("<script>")}),
                          event("share", {"url": 42}), event("share", {"url": "http://[::1/?ref=ABC"})])
    send(client, viewer, [event("view", {"ref": "<script>"}), event("view", {"ref": ["ABC"]}), event("view", {"ref": "ABC"})])
    assert len(client.get(BOARD + "?scope=friends", headers=viewer).json()["entries"]) == 1


def test_a_version_1_database_upgrades_with_its_data(db_url):
    """A database as version 1 left it (no nickname, board index, board totals, share links or change
    log) keeps its data and gets board totals and share links from what it holds."""
    engine = db.make_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            for table in ("changes", "refs", "scores"):
                conn.execute(text(f"DROP TABLE {table}"))
            conn.execute(text("DROP INDEX members_board"))
            conn.execute(text("ALTER TABLE members DROP COLUMN nickname"))
            conn.execute(db.schema_version.update().values(version=1))
            conn.execute(db.teams.insert().values(id=7, campaign="c", code="AAAAAAAA", name="队", owner="p:0", created_ms=1))
            conn.execute(db.members.insert(), [
                {"campaign": "c", "identity": "p:0", "earned": 10, "spent": 0, "reached_ms": 1773200000000, "team_id": 7,
                 "joined_ms": 1, "created_ms": 1},
                {"campaign": "c", "identity": "p:1", "earned": 0, "spent": 0, "reached_ms": None, "team_id": None, "joined_ms": None,
                 "created_ms": 1}])
            common = {"campaign": "c", "at_ms": 1773200000000, "received_ms": 1773200000000, "day": "2026-03-11", "points": 0,
                      "status": "recorded"}
            conn.execute(db.events.insert(), [
                {**common, "event_id": "01JD000000000000000000000A", "identity": "p:0", "type": "share",
                 "payload": '{"url": "https://h5.example.com/?ref=AB12"}'},
                {**common, "event_id": "01JD000000000000000000000B", "identity": "p:1", "type": "view", "payload": '{"ref": "AB12"}'},
                {**common, "event_id": "01JD000000000000000000000C", "identity": "p:0", "type": "points", "payload": "{}",
                 "action": "quiz", "points": 10, "status": "counted"}])
        assert migrate(engine) == (1, len(MIGRATIONS))
        with engine.connect() as conn:
            assert "nickname" in {c["name"] for c in inspect(conn).get_columns("members")}
            assert "members_board" in {i["name"] for i in inspect(conn).get_indexes("members")}
            s = db.scores.c
            assert sorted(conn.execute(select(s.kind, s.period, s.subject, s.points)).all()) == [
                ("person", "2026-03-09", "p:0", 10), ("team", "2026-03-09", "7", 10), ("team", "all", "7", 10)]
            assert sorted(conn.execute(select(db.refs.c.role, db.refs.c.code, db.refs.c.identity)).all()) == [
                ("share", "AB12", "p:0"), ("view", "AB12", "p:1")]
            assert len(conn.execute(select(db.events)).all()) == 3
    finally:
        engine.dispose()


def test_a_version_3_database_upgrades_to_tallies_and_wider_names(db_url):
    """Version 4 adds per-person tallies (filled from the counted events), the shared rate-limit table,
    and widens team names and nicknames for names counted in grapheme clusters."""
    engine = db.make_engine(db_url)
    try:
        migrate(engine)
        with engine.begin() as conn:
            for table in ("tallies", "limits"):
                conn.execute(text(f"DROP TABLE {table}"))
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE teams ALTER COLUMN name TYPE varchar(40)"))
                conn.execute(text("ALTER TABLE members ALTER COLUMN nickname TYPE varchar(32)"))
            conn.execute(db.schema_version.update().values(version=3))
            common = {"campaign": "c", "identity": "p:0", "type": "points", "payload": "{}", "at_ms": 1773200000000,
                      "received_ms": 1773200000000, "day": "2026-03-11", "status": "counted", "points": 2, "action": "read"}
            conn.execute(db.events.insert(), [{**common, "event_id": f"01JD00000000000000000000{i:02d}"} for i in range(3)]
                         + [{**common, "event_id": "01JD0000000000000000000099", "status": "capped", "points": 0}])
        assert migrate(engine) == (3, len(MIGRATIONS))
        with engine.connect() as conn:
            t = db.tallies.c
            assert conn.execute(select(t.identity, t.action, t.day, t.count)).all() == [("p:0", "read", "2026-03-11", 3)]
            assert inspect(conn).has_table("limits")
            if conn.dialect.name == "postgresql":  # SQLite does not enforce declared lengths
                def width(table: str, column: str) -> int:
                    return next(c["type"].length for c in inspect(conn).get_columns(table) if c["name"] == column)

                assert width("members", "nickname") == 64 and width("teams", "name") == 80
    finally:
        engine.dispose()
