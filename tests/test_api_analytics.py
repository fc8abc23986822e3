"""The anonymous analytics endpoint: stored rows, de-duplication, body types, validation, limits; on SQLite
and PostgreSQL."""
from __future__ import annotations

import json

from api_support import event, session, ulid
from sqlalchemy import select

from h5press.api import db

VISITOR, SESSION = ulid(), ulid()


def visit(type_: str = "view", payload: dict | None = None, **extra: object) -> dict:
    ev = event(type_, payload, at="2026-12-06T17:50:05.123Z")
    return {**ev, "visitor": VISITOR, "session": SESSION, "page": "index.html", "variants": {"hero": "b"}, **extra}


def post(client, events: list[dict], kind: str = "text/plain;charset=UTF-8", campaign: str = "c"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/campaigns/{campaign}/analytics", content=json.dumps({"events": events}),
                       headers={"Content-Type": kind})


def stored(client) -> list[dict]:  # type: ignore[no-untyped-def]
    with client.app.state.api.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(db.analytics).order_by(db.analytics.c.pk))]


def test_events_without_identity_are_stored_with_visitor_session_page_and_variants(client):
    view = visit("view", {"ref": "01JEXAMPLESHARE0000000000"})
    dwell = visit("dwell", {"view": view["id"], "ms": 15000})
    r = post(client, [view, dwell])
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0}
    rows = stored(client)
    assert [(x["type"], x["event_id"], x["visitor"], x["session"], x["page"]) for x in rows] == [
        ("view", view["id"], VISITOR, SESSION, "index.html"), ("dwell", dwell["id"], VISITOR, SESSION, "index.html")]
    assert json.loads(rows[1]["payload"]) == {"view": view["id"], "ms": 15000}
    assert json.loads(rows[0]["variants"]) == {"hero": "b"}
    assert rows[0]["at_ms"] == 1796579405123 and rows[0]["campaign"] == "c"


def test_an_event_sent_twice_is_stored_once(client):
    first, second = visit("dwell", {"ms": 1}), visit("dwell", {"ms": 2})
    assert post(client, [first]).json() == {"accepted": 1, "duplicates": 0}
    assert post(client, [first, second], kind="application/json").json() == {"accepted": 1, "duplicates": 1}
    assert [r["event_id"] for r in stored(client)] == [first["id"], second["id"]]


def test_analytics_earn_no_points_and_need_no_token(client):
    headers = session(client)
    assert post(client, [visit("share", {"share": ulid(), "channel": "copy"})]).status_code == 200
    me = client.get("/api/v1/campaigns/c/me", headers=headers).json()
    assert me["points"] == 0
    with client.app.state.api.engine.connect() as conn:
        assert conn.execute(select(db.events)).all() == []


def test_invalid_events_are_422_naming_the_field(client):
    cases = [({"visitor": "not-a-ulid"}, "events.0.visitor"), ({"page": ""}, "events.0.page"),
             ({"variants": {"Hero": "b"}}, "events.0.variants.Hero.[key]"), ({"at": "yesterday"}, "events.0.at")]
    for change, field in cases:
        r = post(client, [visit(**change)])  # type: ignore[arg-type]
        assert r.status_code == 422 and r.json()["message"].startswith(field + ":"), (change, r.text)
    missing = visit()
    del missing["session"]
    r = post(client, [visit(), missing])
    assert r.status_code == 422 and r.json()["message"].startswith("events.1.session:")
    r = post(client, [visit(campaign="other")])
    assert r.status_code == 422 and r.json()["message"].startswith("events.0.campaign:")
    r = client.post("/api/v1/campaigns/c/analytics", content=b"{not json", headers={"Content-Type": "text/plain"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"
    assert stored(client) == []


def test_wrong_body_type_unknown_campaign_and_sizes_are_refused(make_client):
    client = make_client(max_events=3, max_payload=64)
    r = client.post("/api/v1/campaigns/c/analytics", content=b"events=1",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert post(client, [visit()], campaign="nope").status_code == 404
    assert post(client, [visit() for _ in range(4)]).json()["error"] == "too_many_events"
    r = post(client, [visit("view", {"x": "y" * 100})])
    assert r.status_code == 413 and r.json()["message"].startswith("events.0.payload")
    assert stored(client) == []


def test_each_address_may_send_so_many_events(make_client):
    client = make_client(analytics_rate=1, max_events=25)  # burst: at least one batch of 25
    assert post(client, [visit() for _ in range(20)]).status_code == 200
    refused = post(client, [visit() for _ in range(10)])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert len(stored(client)) == 20


def test_the_openapi_document_describes_the_batch_for_both_body_types(client):
    post_ = client.get("/openapi.json").json()["paths"]["/api/v1/campaigns/{campaign}/analytics"]["post"]
    content = post_["requestBody"]["content"]
    assert set(content) == {"application/json", "text/plain"} and "$ref" not in json.dumps(content)
    event = content["text/plain"]["schema"]["properties"]["events"]["items"]
    assert {"visitor", "session", "page", "variants"} <= set(event["required"]) | set(event["properties"])
