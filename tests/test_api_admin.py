"""The admin CSV export and WeChat JS-SDK signatures (against a local HTTP server standing in for
the WeChat API), on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from api_support import event, pin_clock, send, session

ADMIN = "admin-token-0123456789abcdef"
EXPORT = "/api/v1/campaigns/c/admin/export.csv"


def admin_headers(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_export_is_off_without_an_admin_token(client):
    r = client.get(EXPORT + "?what=claims", headers=admin_headers())
    assert r.status_code == 404 and r.json()["error"] == "admin_disabled"


def test_export_errors(make_client):
    client = make_client(admin_token=ADMIN)
    r = client.get(EXPORT + "?what=claims")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    for wrong in ("x", ADMIN + "x", ADMIN[:-1], session(client)["Authorization"][7:]):
        r = client.get(EXPORT + "?what=claims", headers=admin_headers(wrong))
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
    for query in ("", "?what=users"):
        r = client.get(EXPORT + query, headers=admin_headers())
        assert r.status_code == 422 and r.json()["error"] == "invalid_request" and r.json()["message"].startswith("query.what")
    r = client.get("/api/v1/campaigns/nope/admin/export.csv?what=claims", headers=admin_headers())
    assert r.status_code == 404 and r.json()["error"] == "unknown_campaign"


def rows(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_of_claims_and_draws_in_the_campaign_timezone_without_formulas(make_client):
    client = make_client(admin_token=ADMIN)
    pin_clock(client, "2026-03-11T04:30:00+00:00")  # 12:30 in Shanghai
    h = session(client)
    send(client, h, [event(payload={"action": "quiz"})])
    client.post("/api/v1/campaigns/c/me", json={"nickname": "=HYPERLINK(1)"}, headers=h)
    client.post("/api/v1/campaigns/c/teams", json={"name": "@SUM(A1:A9)"}, headers=h)
    assert client.post("/api/v1/campaigns/c/rewards/gift/claim", headers=h).status_code == 200
    draw = client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h).json()
    me = client.get("/api/v1/campaigns/c/me", headers=h).json()

    r = client.get(EXPORT + "?what=claims", headers=admin_headers())
    assert r.headers["content-type"] == "text/csv; charset=utf-8" and r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"] == 'attachment; filename="c-claims.csv"'
    assert rows(r) == [["time", "identity", "who", "nickname", "team", "reward_id", "reward"],
                       ["2026-03-11T12:30:00+08:00", me["identity"], me["who"], "'=HYPERLINK(1)", "'@SUM(A1:A9)", "gift", "礼品"]]
    draws = rows(client.get(EXPORT + "?what=draws", headers=admin_headers()))
    assert draws[0] == ["time", "identity", "who", "nickname", "team", "lottery_id", "prize", "cost"]
    assert draws[1] == ["2026-03-11T12:30:00+08:00", me["identity"], me["who"], "'=HYPERLINK(1)", "'@SUM(A1:A9)", "wheel",
                        draw["prize"]["name"] if draw["prize"] else "", "0"]


def test_export_streams_many_rows_oldest_first(make_client):
    client = make_client(admin_token=ADMIN)
    for i in range(3):
        pin_clock(client, f"2026-03-1{i}T10:00:00+08:00")
        h = session(client)
        client.post("/api/v1/campaigns/c/me", json={"nickname": f"-{i}"}, headers=h)
        for _ in range(5):
            client.post("/api/v1/campaigns/c/lottery/wheel/draw", headers=h)
    got = rows(client.get(EXPORT + "?what=draws", headers=admin_headers()))
    assert len(got) == 16 and [r[0][:10] for r in got[1:]] == ["2026-03-10"] * 5 + ["2026-03-11"] * 5 + ["2026-03-12"] * 5
    assert {r[3] for r in got[1:]} == {"'-0", "'-1", "'-2"} and got[1][4] == ""


# --- WeChat -------------------------------------------------------------------------------------

@dataclass
class FakeWeChat:
    """A local HTTP server answering like the WeChat API; counts calls per path."""

    url: str = ""
    calls: Counter[str] = field(default_factory=Counter)
    bodies: list[dict] = field(default_factory=list)
    ticket: str = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    expires_in: int = 7200
    fail: dict[str, dict] = field(default_factory=dict)  # path → error answer


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    fake = FakeWeChat()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            fake.calls[path] += 1
            fake.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self._answer(fake.fail.get(path) or {"access_token": "ACCESS", "expires_in": 7200})

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            fake.calls[parts.path] += 1
            query = parse_qs(parts.query)
            ok = query.get("access_token") == ["ACCESS"] and query.get("type") == ["jsapi"]
            answer = {"errcode": 0, "errmsg": "ok", "ticket": fake.ticket, "expires_in": fake.expires_in} if ok else {
                "errcode": 40001, "errmsg": "invalid credential"}
            self._answer(fake.fail.get(parts.path) or answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()


def wechat_settings(fake: FakeWeChat) -> dict[str, str]:
    return {"wechat_app_id": "wx1234567890abcdef", "wechat_secret": "app-secret", "wechat_api": fake.url}


PAGE = "https://h5.example.com/c/index.html?from=singlemessage&ref=AB12"
SIGN = "/api/v1/wechat/signature"


def test_signature_matches_the_js_sdk_algorithm_and_the_ticket_is_fetched_once(make_client, wechat):
    client = make_client(**wechat_settings(wechat))
    first = client.get(SIGN, params={"url": PAGE + "#share"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"appId", "timestamp", "nonceStr", "signature"} and body["appId"] == "wx1234567890abcdef"
    plain = f"jsapi_ticket={wechat.ticket}&noncestr={body['nonceStr']}&timestamp={body['timestamp']}&url={PAGE}"
    assert body["signature"] == hashlib.sha1(plain.encode()).hexdigest()
    assert first.headers["cache-control"] == "no-store"
    second = client.get(SIGN, params={"url": PAGE})
    assert second.status_code == 200 and second.json()["nonceStr"] != body["nonceStr"]
    assert wechat.calls == {"/cgi-bin/stable_token": 1, "/cgi-bin/ticket/getticket": 1}
    assert wechat.bodies == [{"grant_type": "client_credential", "appid": "wx1234567890abcdef", "secret": "app-secret"}]


def test_concurrent_signature_requests_refresh_the_ticket_once(live_server, wechat):
    url = live_server(**wechat_settings(wechat))
    with httpx.Client(base_url=url, timeout=30) as http, ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: http.get(SIGN, params={"url": PAGE}).status_code, range(20)))
    assert codes == [200] * 20
    assert wechat.calls == {"/cgi-bin/stable_token": 1, "/cgi-bin/ticket/getticket": 1}


def test_an_expiring_ticket_is_refreshed(make_client, wechat):
    import time

    wechat.expires_in = 1  # refreshed a fifth of its life early: after 0.8 s
    client = make_client(**wechat_settings(wechat))
    assert client.get(SIGN, params={"url": PAGE}).status_code == 200
    time.sleep(0.9)
    assert client.get(SIGN, params={"url": PAGE}).status_code == 200
    assert wechat.calls["/cgi-bin/ticket/getticket"] == 2


def test_signature_errors(make_client, wechat):
    off = make_client()
    r = off.get(SIGN, params={"url": PAGE})
    assert r.status_code == 404 and r.json()["error"] == "wechat_not_configured"
    client = make_client(**wechat_settings(wechat))
    for bad in ("", "/c/index.html", "javascript:alert(1)", "ftp://h5.example.com/x", "x" * 2100):
        r = client.get(SIGN, params={"url": bad})
        assert r.status_code == 422 and r.json()["error"] == "invalid_request", (bad, r.text)
    assert client.get(SIGN).status_code == 422
    for foreign in ("https://evil.example/c/index.html", "http://h5.example.com/c/", "https://h5.example.com.evil.example/"):
        r = client.get(SIGN, params={"url": foreign})
        assert r.status_code == 403 and r.json()["error"] == "url_not_allowed", foreign
    assert sum(wechat.calls.values()) == 0


def test_wechat_failures_are_502(make_client, wechat):
    wechat.fail["/cgi-bin/stable_token"] = {"errcode": 40125, "errmsg": "invalid appsecret"}
    client = make_client(**wechat_settings(wechat))
    r = client.get(SIGN, params={"url": PAGE})
    assert r.status_code == 502 and r.json()["error"] == "wechat_error" and r.json()["errcode"] == 40125
    assert "invalid appsecret" in r.json()["message"]
    wechat.fail = {"/cgi-bin/ticket/getticket": {"errcode": 40164, "errmsg": "invalid ip 1.2.3.4, not in whitelist"}}
    r = client.get(SIGN, params={"url": PAGE})
    assert r.status_code == 502 and r.json()["errcode"] == 40164
    wechat.fail = {}
    assert client.get(SIGN, params={"url": PAGE}).status_code == 200  # a failure is not cached
    unreachable = make_client(wechat_app_id="wx1", wechat_secret="s", wechat_api="http://127.0.0.1:9")
    r = unreachable.get(SIGN, params={"url": PAGE})
    assert r.status_code == 502 and r.json()["error"] == "wechat_unreachable"
