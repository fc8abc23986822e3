"""Teams, leaderboards, reward claims and lottery draws, with the concurrency guarantees tested
through a real HTTP server; on SQLite and PostgreSQL."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from api_support import (
    CAMPAIGN,
    event,
    pin_clock,
    send,
    session,
    session_at,
)


def earn(client, headers, action: str, n: int) -> None:  # type: ignore[no-untyped-def]
    r = send(client, headers, [event(payload={"action": action}) for _ in range(n)])
    assert r.status_code == 200, r.text


def test_create_and_join_a_team(client):
    owner, friend = session(client), session(client)
    r = client.post("/api/v1/campaigns/c/teams", json={"name": "绿色小队"}, headers=owner)
    assert r.status_code == 200, r.text
    team = r.json()
    assert len(team["members"]) == 1 and team["size"] == 3 and len(team["code"]) == 8
    r = client.post("/api/v1/campaigns/c/teams/join", json={"code": team["code"].lower()}, headers=friend)
    assert r.status_code == 200 and len(r.json()["members"]) == 2
    assert client.post("/api/v1/campaigns/c/teams", json={"name": "另一队"}, headers=friend).json()["error"] == "already_in_team"
    earn(client, friend, "quiz", 1)
    me = client.get("/api/v1/campaigns/c/me", headers=friend).json()
    assert me["team"]["id"] == team["id"] and me["team"]["points"] == 10
    assert client.post("/api/v1/campaigns/c/teams/join", json={"code": "ZZZZZZZZ"}, headers=session(client)).status_code == 404
    r = client.post("/api/v1/campaigns/c/teams", json={"name": ""}, headers=owner)
    assert r.status_code == 422 and r.json()["message"].startswith("name")
    client.post("/api/v1/campaigns/c/teams/join", json={"code": team["code"]}, headers=session(client))
    r = client.post("/api/v1/campaigns/c/teams/join", json={"code": team["code"]}, headers=session(client))
    assert r.status_code == 409 and r.json()["error"] == "team_full"


def test_teams_need_a_team_section(make_client):
    client = make_client(campaign="title: t\n")
    r = client.post("/api/v1/campaigns/c/teams", json={"name": "x"}, headers=session(client))
    assert r.status_code == 404 and r.json()["error"] == "no_teams"


def test_concurrent_joins_never_exceed_the_team_size(live_server):
    url = live_server()
    with httpx.Client(base_url=url, timeout=60) as http:
        tokens = [http.post("/api/v1/session").json()["token"] for _ in range(51)]
        code = http.post("/api/v1/campaigns/c/teams", json={"name": "队"}, headers={"Authorization": f"Bearer {tokens[0]}"}).json()["code"]

        def join(token: str) -> int:
            return http.post("/api/v1/campaigns/c/teams/join", json={"code": code}, headers={"Authorization": f"Bearer {token}"}).status_code

        with ThreadPoolExecutor(50) as pool:
            codes = list(pool.map(join, tokens[1:]))
        assert sorted(codes).count(200) == 2 and codes.count(409) == 48, codes
        me = http.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {tokens[0]}"}).json()
        assert len(me["team"]["members"]) == 3


def test_leaderboards_rank_by_points_then_who_got_there_first(client):
    a, b, c = (session_at(client, "2026-03-01T12:00:00+08:00") for _ in range(3))
    pin_clock(client, "2026-03-11T12:00:00+08:00")  # a Wednesday
    send(client, a, [event(payload={"action": "quiz"}, at="2026-03-06T10:00:00+08:00")])  # last week
    send(client, b, [event(payload={"action": "quiz"}, at="2026-03-10T10:00:00+08:00")])
    send(client, c, [event(payload={"action": "quiz"}, at="2026-03-10T09:00:00+08:00"), event(payload={"action": "share"}, at="2026-03-11T09:00:00+08:00")])
    send(client, a, [event(payload={"action": "share"}, at="2026-03-11T08:00:00+08:00")])
    board = client.get("/api/v1/campaigns/c/leaderboard?scope=individual&period=all", headers=a).json()
    assert [e["points"] for e in board["entries"]] == [11, 11, 10]
    assert board["me"]["rank"] == 1  # a reached 11 at 08:00, before c at 09:00
    week = client.get("/api/v1/campaigns/c/leaderboard?period=week", headers=a).json()
    assert [e["points"] for e in week["entries"]] == [11, 10, 1] and week["me"]["rank"] == 3
    team = client.post("/api/v1/campaigns/c/teams", json={"name": "甲"}, headers=b).json()
    client.post("/api/v1/campaigns/c/teams/join", json={"code": team["code"]}, headers=c)
    client.post("/api/v1/campaigns/c/teams", json={"name": "乙"}, headers=a)
    teams = client.get("/api/v1/campaigns/c/leaderboard?scope=team", headers=a).json()
    assert [(e["name"], e["points"]) for e in teams["entries"]] == [("甲", 21), ("乙", 11)] and teams["me"]["rank"] == 2
    assert client.get("/api/v1/campaigns/c/leaderboard?scope=everyone").status_code == 422


def test_reward_claims_check_threshold_per_user_and_stock(client):
    h = session(client)
    r = client.post("/api/v1/campaigns/c/rewards/gift/claim", headers=h)
    assert r.status_code == 403 and r.json()["error"] == "below_threshold"
    earn(client, h, "quiz", 1)
    assert client.post("/api/v1/campaigns/c/rewards/gift/claim", headers=h).json()["claimed"] == 1
    assert client.post("/api/v1/campaigns/c/rewards/gift/claim", headers=h).json()["claimed"] == 2
    r = client.post("/api/v1/campaigns/c/rewards/gift/claim", headers=h)
    assert r.status_code == 409 and r.json()["error"] == "limit_reached"
    assert client.post("/api/v1/campaigns/c/rewards/nope/claim", headers=h).status_code == 404
    r = client.post("/api/v1/campaigns/c/rewards/team-gift/claim", headers=h)
    assert r.status_code == 403 and r.json()["error"] == "no_team"


def test_concurrent_claims_never_oversell_the_stock(live_server):
    url = live_server()
    with httpx.Client(base_url=url, timeout=60) as http:
        def claim_once(_: int) -> int:
            token = http.post("/api/v1/session").json()["token"]
            h = {"Authorization": f"Bearer {token}"}
            http.post("/api/v1/campaigns/c/events", json={"events": [event(payload={"action": "quiz"})]}, headers=h)
            return http.post("/api/v1/campaigns/c/rewards/coupon/claim", headers=h).status_code

        with ThreadPoolExecutor(30) as pool:
            codes = list(pool.map(claim_once, range(30)))
    assert codes.count(200) == 5 and codes.count(409) == 25, codes


def test_lottery_publishes_its_odds_and_draws_on_the_server(make_client):
    client = make_client(campaign=CAMPAIGN.replace("cost: 0", "cost: 5").replace("per_day: 1000", "per_day: 2"))
    info = client.get("/api/v1/campaigns/c/lottery/wheel").json()
    assert info["cost"] == 5 and [p["probability"] for p in info["prizes"]] == [0.5, 0.5] and info["prizes"][0]["remaining"] == 7
    h = session(client)
    r = client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h)
    assert r.status_code == 403 and r.json()["error"] == "insufficient_points"
    earn(client, h, "quiz", 2)
    first = client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h).json()
    assert first["prize"]["name"] in ("一等奖", "二等奖") and first["balance"] == 15
    assert client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h).json()["balance"] == 10
    r = client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h)
    assert r.status_code == 429 and r.json()["error"] == "daily_limit"
    me = client.get("/api/v1/campaigns/c/me", headers=h).json()
    assert me["points"] == 20 and me["balance"] == 10  # spending does not lower the level or the boards
    assert client.post("/api/v1/campaigns/c/lottery/nope/draw", headers=h).status_code == 404


def test_200_concurrent_draws_never_oversell_a_prize(live_server):
    url = live_server()
    with httpx.Client(base_url=url, timeout=120, limits=httpx.Limits(max_connections=50)) as http:
        tokens = [http.post("/api/v1/session").json()["token"] for _ in range(20)]

        def draw(i: int) -> dict:
            r = http.post("/api/v1/campaigns/c/lottery/wheel/draw", headers={"Authorization": f"Bearer {tokens[i % 20]}"})
            assert r.status_code == 200, r.text
            return r.json()

        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(draw, range(200)))
        firsts = sum(1 for r in results if r["prize"] and r["prize"]["index"] == 0)
        assert firsts == 7  # P(first prize) = 0.5 over 200 draws: the stock of 7 is always reached, never passed
        assert http.get("/api/v1/campaigns/c/lottery/wheel").json()["prizes"][0]["remaining"] == 0


def test_claims_and_draws_are_refused_outside_the_window(make_client):
    client = make_client(campaign=CAMPAIGN.replace("end: 2099-12-31", "end: 2020-12-31"))
    h = session(client)
    for path in ("/rewards/gift/claim", "/lottery/wheel/draw"):
        r = client.post("/api/v1/campaigns/c" + path, headers=h)
        assert r.status_code == 403 and r.json()["error"] == "campaign_closed"


def test_every_member_claims_a_team_reward_once(make_client):
    client = make_client(campaign=CAMPAIGN.replace("scope: team, stock: 1}", "scope: team, per_user: 1, stock: 5}"))
    owner, mate, third = session(client), session(client), session(client)
    code = client.post("/api/v1/campaigns/c/teams", json={"name": "甲"}, headers=owner).json()["code"]
    for h in (mate, third):
        assert client.post("/api/v1/campaigns/c/teams/join", json={"code": code}, headers=h).status_code == 200
    earn(client, owner, "quiz", 2)  # 20 team points: the threshold
    for h in (owner, mate, third):
        r = client.post("/api/v1/campaigns/c/rewards/team-gift/claim", headers=h)
        assert r.status_code == 200 and r.json()["claimed"] == 1, r.text
        again = client.post("/api/v1/campaigns/c/rewards/team-gift/claim", headers=h)
        assert again.status_code == 409 and again.json()["error"] == "limit_reached"
    assert client.get("/api/v1/campaigns/c/rewards/team-gift/claim").status_code == 405
    assert client.post("/api/v1/campaigns/c/rewards/team-gift/claim", headers=session(client)).json()["error"] == "no_team"
