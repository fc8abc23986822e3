"""Contract tests of the collaboration server (`h5press api`): every endpoint and its errors,
on a SQLite file and on PostgreSQL."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from api_support import event, send, session


def test_session_token_identifies_the_caller(client):
    first, second = client.post("/api/v1/session").json(), client.post("/api/v1/session").json()
    assert first["identity"].startswith("h5press:") and first["identity"] != second["identity"]
    me = client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {first['token']}"})
    assert me.status_code == 200 and me.json()["identity"] == first["identity"]
    assert me.json()["points"] == 0 and me.json()["level"] == {"name": "青铜", "min": 0} and me.json()["team"] is None


def test_missing_or_bad_token_is_401(client):
    assert client.get("/api/v1/campaigns/c/me").json()["error"] == "unauthorized"
    token = client.post("/api/v1/session").json()["token"]
    body, mac = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"iss": "h5press", "sub": "someone-else", "iat": 1, "exp": 4_000_000_000})
                                      .encode()).rstrip(b"=").decode() + "." + mac
    for bad in ["garbage", forged, token + "x", "a.b.c"]:
        r = client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401 and r.json()["error"] == "bad_token", (bad, r.text)


def _institution_token(key: str, sub: str, exp: int) -> str:
    body = base64.urlsafe_b64encode(json.dumps({"iss": "bank", "sub": sub, "iat": int(time.time()), "exp": exp}).encode())
    body_s = body.rstrip(b"=").decode()
    mac = hmac.new(key.encode(), body_s.encode(), hashlib.sha256).digest()
    return body_s + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def test_institution_tokens_are_verified_with_their_own_key(make_client):
    client = make_client(issuers={"bank": "bank-key-0123456789"})
    good = _institution_token("bank-key-0123456789", "customer-42", int(time.time()) + 600)
    r = client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {good}"})
    assert r.status_code == 200 and r.json()["identity"] == "bank:customer-42"
    for bad in [_institution_token("wrong-key-0123456789", "customer-42", int(time.time()) + 600),
                _institution_token("bank-key-0123456789", "customer-42", int(time.time()) - 3600)]:
        assert client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_events_count_points_from_campaign_yaml_not_the_client(client):
    h = session(client)
    r = send(client, h, [event(payload={"action": "read", "points": 1000}), event(payload={"action": "quiz", "points": 5}),
                         event("view", {"page": "index.html"})])
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["status"] for x in body["results"]] == ["counted", "counted", "recorded"]
    assert [x["points"] for x in body["results"]] == [2, 10, 0]
    assert body["points"] == 12 and body["me"]["points"] == 12 and body["me"]["level"]["name"] == "白银"
    assert len(body["acknowledged"]) == 3


def test_unknown_campaign_is_404_and_events_for_another_campaign_422(client):
    h = session(client)
    r = send(client, h, [event(campaign="nope")], campaign="nope")
    assert r.status_code == 404 and r.json()["error"] == "unknown_campaign"
    r = send(client, h, [event(), event(campaign="other")])
    assert r.status_code == 422 and r.json()["error"] == "wrong_campaign" and r.json()["index"] == 1
    assert client.get("/api/v1/campaigns/nope/me", headers=h).status_code == 404


def test_invalid_events_are_422_with_a_clear_message(client):
    h = session(client)
    for bad, where in [({**event(), "id": "not-a-ulid"}, "events.0.id"), ({**event(), "at": "yesterday"}, "events.0.at"),
                       ({**event(), "at": "2026-01-01T10:00:00"}, "events.0.at"), ({**event(), "type": "Bad Type"}, "events.0.type"),
                       ({**event(), "v": 2}, "events.0.v"), ({**event(), "payload": [1]}, "events.0.payload")]:
        r = send(client, h, [bad])
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
        assert r.json()["message"].startswith(where), r.json()["message"]
    assert client.post("/api/v1/campaigns/c/events", json={"events": []}, headers=h).status_code == 422
    r = client.post("/api/v1/campaigns/c/events", content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422


def test_oversized_batches_and_bodies_are_413(make_client):
    client = make_client(max_events=10, max_body=20_000)
    h = session(client)
    r = send(client, h, [event() for _ in range(11)])
    assert r.status_code == 413 and r.json()["error"] == "too_many_events"
    r = send(client, h, [event(payload={"x": "长" * 30_000})])
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = send(client, h, [event(payload={"x": "x" * 5000})])
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


def test_outside_the_window_events_are_acknowledged_but_count_nothing(make_client):
    client = make_client(campaign="title: t\nstart: 2020-01-01\nend: 2020-01-31\npoints:\n  actions:\n    read: {points: 2}\n")
    h = session(client)
    r = send(client, h, [event(payload={"action": "read"})])
    assert r.status_code == 200
    assert r.json()["results"][0]["status"] == "outside_window" and r.json()["me"]["points"] == 0
    assert r.json()["me"]["window"] == "after"


def test_votes_tally_one_vote_per_identity(client):
    for choices in ([1], [3], [3]):
        h = session(client)
        send(client, h, [event("vote", {"choices": choices}, component="commute")])
        send(client, h, [event("vote", {"choices": [2]}, component="commute")])  # a second vote does not count
    h = session(client)
    r = send(client, h, [event("vote", {"choices": [1, 2]}, component="commute"), event("vote", {"choices": [9]}, component="why"),
                         event("vote", {"choices": [1, 3]}, component="why")])
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected", "recorded"]
    assert client.get("/api/v1/campaigns/c/votes/commute").json() == {"counts": [1, 0, 2, 0], "total": 3}
    assert client.get("/api/v1/campaigns/c/votes/why").json() == {"counts": [1, 0, 1], "total": 1}
    assert client.get("/api/v1/campaigns/c/votes/nope").status_code == 404


def test_two_votes_of_one_batch_keep_the_first(client):
    """On PostgreSQL a batch's votes are one INSERT (with its other totals): the first vote of a block stays."""
    h = session(client)
    r = send(client, h, [event("vote", {"choices": [3]}, component="commute"), event("vote", {"choices": [1]}, component="commute")])
    assert [x["status"] for x in r.json()["results"]] == ["recorded", "recorded"]
    assert client.get("/api/v1/campaigns/c/votes/commute").json() == {"counts": [0, 0, 1, 0], "total": 1}


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/campaigns/{campaign}/events" in paths and "/api/v1/session" in paths


def test_pseudonyms_are_keyed_so_known_ids_cannot_be_recovered(make_client):
    token = _institution_token("bank-key-0123456789", "customer-42", int(time.time()) + 600)
    whos = []
    for secret in ("first-secret-0123456789", "second-secret-012345678"):
        client = make_client(secret=secret, issuers={"bank": "bank-key-0123456789"})
        whos.append(client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {token}"}).json()["who"])
    assert hashlib.sha256(b"bank:customer-42").hexdigest()[:10] not in whos
    assert whos[0] != whos[1] and all(len(w) == 10 for w in whos)
    again = make_client(secret="first-secret-0123456789", issuers={"bank": "bank-key-0123456789"})
    assert again.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {token}"}).json()["who"] == whos[0]
