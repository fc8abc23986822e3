"""Answers to malformed and hostile input found by probing the server from outside: each is a clear
4xx, never a 500, on a SQLite file and on PostgreSQL."""
from __future__ import annotations

import base64

from api_support import session


def _tokens(client) -> list[str]:
    """Malformed tokens: an unsigned deeply nested payload, and a valid token with junk appended."""
    nested = base64.urlsafe_b64encode(b"[" * 1500).rstrip(b"=").decode()
    good = client.post("/api/v1/session").json()["token"]
    return [nested + ".AAAA", good + "!!", good + "==", good[:-1] + chr(ord(good[-1]) ^ 1), "." + good.split(".")[1],
            good + "AAAAA", "forged.token"]


def test_malformed_tokens_are_401_on_every_route_that_reads_one(client):
    for bad in _tokens(client):
        auth = {"Authorization": f"Bearer {bad}"}
        me = client.get("/api/v1/campaigns/c/me", headers=auth)
        assert me.status_code == 401 and me.json()["error"] == "bad_token", (bad[-8:], me.text)
        board = client.get("/api/v1/campaigns/c/leaderboard", headers=auth)
        assert board.status_code == 200 and board.json()["me"] is None, board.text
        friends = client.get("/api/v1/campaigns/c/leaderboard?scope=friends", headers=auth)
        assert friends.status_code == 401, friends.text
        stream = client.get("/api/v1/campaigns/c/stream", params={"token": bad})
        assert stream.status_code == 401, stream.text


def test_a_token_differing_only_in_trailing_bits_is_refused(client):
    token = client.post("/api/v1/session").json()["token"]
    body, mac = token.split(".")
    # The last base64url character of a 32-byte MAC carries 2 unused bits: another letter decodes alike.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(mac[-1]) ^ 1]
    r = client.get("/api/v1/campaigns/c/me", headers={"Authorization": f"Bearer {body}.{mac[:-1]}{twin}"})
    assert r.status_code == 401 and r.json()["error"] == "bad_token"
    assert client.get("/api/v1/campaigns/c/me", headers=session(client)).status_code == 200


def _post(client, path: str, raw: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, content=raw, headers={**headers, "Content-Type": "application/json"})


def test_text_no_database_can_store_is_422_naming_the_field(client):
    h = session(client)
    ev = '{"id":"01J00000000000000000000000","campaign":"c","type":"view","component":%s,"payload":%s}'
    cases = {
        ev % ('null', '{"note":"\\ud800"}'): "events.0.payload.note",
        ev % ('"quiz\\u0000"', '{}'): "events.0.component",
        ev % ('null', '{"\\udfff":1}'): "events.0.payload",
    }
    for body, where in cases.items():
        r = _post(client, "/api/v1/campaigns/c/events", f'{{"events":[{body}]}}'.encode(), h)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text
        assert r.json()["message"].startswith(where + ":"), r.text
    r = _post(client, "/api/v1/campaigns/c/teams", b'{"name":"A\\u0000B"}', h)
    assert r.status_code == 422 and r.json()["message"].startswith("name:"), r.text
    r = _post(client, "/api/v1/campaigns/c/me", b'{"nickname":"\\ud83d"}', h)
    assert r.status_code == 422 and r.json()["message"].startswith("nickname:"), r.text


def test_unparsable_bodies_are_422_invalid_request_with_a_location(client):
    h = session(client)
    for raw, where in [(b'{"events": [', "body.12"), (b'{"name": "\xff\xfe"}', "body.10"),
                       (b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}", "body.name." + ".".join(["0"] * 31)),
                       (b"[" * 5000 + b"]" * 5000, "body")]:
        r = _post(client, "/api/v1/campaigns/c/teams", raw, h)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (raw[:20], r.text)
        assert r.json()["message"].split(":")[0] == where.removeprefix("body."), r.text
        assert r.json()["details"][0]["loc"][0] == "body"


def test_names_are_counted_as_people_see_them(client):
    h = session(client)
    r = client.post("/api/v1/campaigns/c/teams", json={"name": " " * 20}, headers=h)
    assert r.status_code == 422 and r.json()["message"].startswith("name:"), r.text
    r = client.post("/api/v1/campaigns/c/me", json={"nickname": "a" + "\u0301" * 15}, headers=h)
    assert r.status_code == 422 and "marks" in r.json()["message"], r.text
    flags = "🇨🇳" * 16  # 16 flags: 32 code points, 16 characters on screen
    r = client.post("/api/v1/campaigns/c/me", json={"nickname": flags}, headers=h)
    assert r.status_code == 200 and r.json()["nickname"] == flags, r.text
    name = "é" * 10 + "👍🏽" * 10  # "e" + combining acute (NFC makes it one code point), thumbs up with a skin tone
    r = client.post("/api/v1/campaigns/c/teams", json={"name": "  " + name + "  "}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == name, r.text


def test_the_openapi_document_lists_the_error_answers_and_405_says_allow(client):
    spec = client.get("/openapi.json").json()
    claim = spec["paths"]["/api/v1/campaigns/{campaign}/rewards/{reward}/claim"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422", "429"} <= set(claim)
    assert claim["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert {"413", "422"} <= set(spec["paths"]["/api/v1/campaigns/{campaign}/events"]["post"]["responses"])
    r = client.put("/api/v1/campaigns/c/me")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed" and r.headers["allow"] == "GET, HEAD, POST"
    assert client.delete("/api/v1/session").headers["allow"] == "POST"
