"""Rate limits shared by every server process (in the database), new identities limited per address,
and `X-Forwarded-For` believed only from `--trusted-proxy` addresses; on SQLite and PostgreSQL."""
from __future__ import annotations

import uuid

import httpx
from api_support import event, session
from sqlalchemy import func, select

from h5press.api import db
from h5press.api.ratelimit import client_address, networks


def test_limits_hold_across_processes_sharing_the_database(make_client):
    """Two applications on one database stand for two worker processes (or two machines)."""
    first, second = make_client(identity_rate=1), make_client(identity_rate=1)  # bursts of 5
    h = session(first)
    codes = [(first if i % 2 else second).get("/api/v1/campaigns/c/me", headers=h).status_code for i in range(8)]
    assert codes.count(200) == 5 and codes[-1] == 429, codes
    by_ip = [make_client(ip_rate=1), make_client(ip_rate=1)]
    codes = [by_ip[i % 2].get("/api/v1/campaigns/c/votes/commute").status_code for i in range(8)]
    assert codes.count(200) == 5 and codes[-1] == 429, codes


def test_new_identities_are_limited_per_address(make_client):
    client = make_client(session_rate=0.1)  # a burst of 3, then one per 10 s
    codes = [client.post("/api/v1/session").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    r = client.post("/api/v1/session")
    assert r.json()["error"] == "rate_limited" and 1 <= int(r.headers["retry-after"]) <= 10


def test_forwarded_addresses_count_only_from_trusted_proxies(live_server):
    direct = live_server(ip_rate=1)  # no trusted proxy: random X-Forwarded-For changes nothing
    with httpx.Client(base_url=direct) as http:
        codes = [http.get("/api/v1/campaigns/c/votes/commute", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code
                 for i in range(7)]
    assert codes.count(200) == 5 and codes[-1] == 429, codes
    proxied = live_server(ip_rate=1, trusted_proxies=("127.0.0.1", "10.9.0.0/16"))
    with httpx.Client(base_url=proxied) as http:
        spread = [http.get("/api/v1/campaigns/c/votes/commute", headers={"X-Forwarded-For": f"10.1.{i}.{i}"}).status_code
                  for i in range(7)]
        assert spread == [200] * 7  # seven clients behind the proxy
        one = f"198.51.100.{uuid.uuid4().int % 250}"
        same = [http.get("/api/v1/campaigns/c/votes/commute",
                         headers={"X-Forwarded-For": f"{uuid.uuid4().hex[:8]}, {one}, 10.9.1.1"}).status_code for _ in range(7)]
        assert same.count(200) == 5 and same[-1] == 429, same  # a forged left part does not make a new client


def test_client_address_reads_forwarded_for_from_the_right():
    trusted = networks(["10.0.0.0/8", "::1"])
    assert client_address("10.0.0.5", "203.0.113.7, 198.51.100.2, 10.0.0.9", trusted) == "198.51.100.2"
    assert client_address("192.0.2.1", "203.0.113.7", trusted) == "192.0.2.1"  # the peer is no proxy
    assert client_address("::1", "10.1.1.1", trusted) == "10.1.1.1"  # only proxies: the first hop
    assert client_address("10.0.0.5", None, trusted) == "10.0.0.5"
    assert client_address("10.0.0.5", "203.0.113.7", networks([])) == "10.0.0.5"


def test_event_batches_take_the_identity_limit_in_their_own_transaction(make_client):
    """POST /events takes the per-identity limit with the person's row (on PostgreSQL in the same statement):
    the limit is shared by processes, and a refused batch stores nothing."""
    first, second = make_client(identity_rate=1), make_client(identity_rate=1)  # bursts of 5
    h = session(first)
    answers = [(first if i % 2 else second).post("/api/v1/campaigns/c/events", headers=h, json={"events": [
        event("points", {"action": "read"})]}) for i in range(7)]
    codes = [a.status_code for a in answers]
    assert codes.count(200) == 5 and codes[-2:] == [429, 429], codes
    assert answers[-1].json()["error"] == "rate_limited" and 1 <= int(answers[-1].headers["retry-after"]) <= 2
    with first.app.state.api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar_one() == 5
        earned = sum(a.json()["points"] for a in answers if a.status_code == 200)
        assert conn.execute(select(db.members.c.earned)).scalars().all() == [earned]
