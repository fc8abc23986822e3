"""The live stream (Server-Sent Events) through a real uvicorn server and httpx, on SQLite and
PostgreSQL: events after points, joins and votes, only the caller's team, pings, cleanup on
disconnect, several processes on one database, and the once-per-second board event."""
from __future__ import annotations

import json
import queue
import threading
import time

import httpx
import pytest
from api_support import event

from h5press.api.stream import QUEUE_MAX, Listener, RedactTokens
from h5press.check.command import run_async


class Stream:
    """An EventSource stand-in: reads the stream in a thread; `next(kind)` waits for an event of that kind."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.received: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seen: list[tuple[str, str]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._context = self._client.stream("GET", url, headers=headers)
        self.response = self._context.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        kind, data = "message", []
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.received.put(("comment", line))
                elif line.startswith("retry:"):
                    self.received.put(("retry", line[6:].strip()))
                elif line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    self.received.put((kind, "\n".join(data)))
                    kind, data = "message", []
        except Exception:  # noqa: BLE001 - closed from the test thread
            pass

    def next(self, kind: str, where=None, timeout: float = 10):  # type: ignore[no-untyped-def]
        """The data of an event of `kind` received so far or within `timeout` (JSON-decoded for events)
        for which `where(data)` holds; events arrive in any order, so earlier ones count too."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for got in self.seen[checked:]:
                if got[0] == kind:
                    data = json.loads(got[1]) if kind not in ("comment", "retry") else got[1]
                    if where is None or where(data):
                        return data
            checked = len(self.seen)
            try:
                self.seen.append(self.received.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {kind!r} event within {timeout}s; received {self.seen}") from None

    def drain(self, seconds: float) -> list[tuple[str, str]]:
        end, got = time.monotonic() + seconds, []
        while time.monotonic() < end:
            try:
                got.append(self.received.get(timeout=max(0.01, end - time.monotonic())))
            except queue.Empty:
                break
        self.seen += got
        return got

    def close(self) -> None:
        self.response.close()
        self._client.close()


def _wait(condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


FAST = {"stream_poll": 0.1, "stream_ping": 0.5}  # pings also wake a reader blocked on a closed stream


@pytest.fixture
def streams():  # type: ignore[no-untyped-def]
    opened: list[Stream] = []

    def open_(url: str, headers: dict[str, str] | None = None) -> Stream:
        opened.append(Stream(url, headers))
        return opened[-1]

    yield open_
    for s in opened:
        s.close()


def test_stream_sends_board_team_and_vote_events(live_server, streams):
    url = live_server(**FAST)
    with httpx.Client(base_url=url, timeout=30) as http:
        a, b = (http.post("/api/v1/session").json()["token"] for _ in range(2))
        ha, hb = {"Authorization": f"Bearer {a}"}, {"Authorization": f"Bearer {b}"}
        code = http.post("/api/v1/campaigns/c/teams", json={"name": "直播队"}, headers=ha).json()["code"]
        mine = streams(f"{url}/api/v1/campaigns/c/stream?token={a}", {"Origin": "https://h5.example.com"})
        anonymous = streams(f"{url}/api/v1/campaigns/c/stream")
        assert mine.response.headers["content-type"].startswith("text/event-stream")
        assert mine.response.headers["cache-control"] == "no-store"
        assert mine.response.headers["access-control-allow-origin"] == "https://h5.example.com"
        assert mine.next("retry") == "5000" and anonymous.next("retry") == "5000"
        _wait(lambda: len(url.app.state.api.hub.listeners.get("c", ())) == 2)

        assert http.post("/api/v1/campaigns/c/teams/join", json={"code": code}, headers=hb).status_code == 200
        team = mine.next("team")
        assert [m["me"] for m in team["members"]] == [True, False] and team["name"] == "直播队"

        posted = int(time.time() * 1000)
        r = http.post("/api/v1/campaigns/c/events", json={"events": [event(payload={"action": "quiz"})]}, headers=hb)
        assert r.status_code == 200
        mine.next("leaderboard", lambda d: d["at"] >= posted)
        anonymous.next("leaderboard", lambda d: d["at"] >= posted)
        assert mine.next("team", lambda d: d["points"] == 10)["members"][1]["actions"]["quiz"] == 1

        http.post("/api/v1/campaigns/c/events", json={"events": [event("vote", {"choices": [3]}, component="commute")]}, headers=hb)
        assert mine.next("vote") == {"id": "commute", "counts": [0, 0, 1, 0], "total": 1}
        assert anonymous.next("vote") == {"id": "commute", "counts": [0, 0, 1, 0], "total": 1}
        assert all(kind != "team" for kind, _ in anonymous.seen + anonymous.drain(0.5))


def test_a_stream_with_a_header_token_gets_its_team_and_only_its_team(live_server, streams):
    url = live_server(**FAST)
    with httpx.Client(base_url=url, timeout=30) as http:
        a, b = (http.post("/api/v1/session").json()["token"] for _ in range(2))
        stream = streams(f"{url}/api/v1/campaigns/c/stream", {"Authorization": f"Bearer {a}"})
        stream.next("retry")
        _wait(lambda: url.app.state.api.hub.listeners.get("c"))
        http.post("/api/v1/campaigns/c/teams", json={"name": "别人的队"}, headers={"Authorization": f"Bearer {b}"})
        http.post("/api/v1/campaigns/c/teams", json={"name": "我的队"}, headers={"Authorization": f"Bearer {a}"})
        assert stream.next("team")["name"] == "我的队"
        assert [e for e in stream.seen + stream.drain(0.5) if e[0] == "team" and "别人的队" in e[1]] == []


def test_stream_errors_are_json(live_server):
    url = live_server()
    with httpx.Client(base_url=url, timeout=10) as http:
        r = http.get("/api/v1/campaigns/c/stream?token=forged.token")
        assert r.status_code == 401 and r.json()["error"] == "bad_token"
        r = http.get("/api/v1/campaigns/c/stream", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401 and r.json()["error"] == "bad_token"
        r = http.get("/api/v1/campaigns/nope/stream")
        assert r.status_code == 404 and r.json()["error"] == "unknown_campaign"
        r = http.get("/api/v1/campaigns/c/stream?token=" + "x" * 3000)
        assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def test_pings_and_cleanup_after_the_client_leaves(live_server, streams):
    url = live_server(stream_poll=0.1, stream_ping=0.3)
    hub = url.app.state.api.hub
    first, second = streams(f"{url}/api/v1/campaigns/c/stream"), streams(f"{url}/api/v1/campaigns/c/stream")
    assert first.next("comment", timeout=5) == ": ping"
    _wait(lambda: len(hub.listeners.get("c", ())) == 2 and "c" in hub.pollers)
    first.close()
    _wait(lambda: len(hub.listeners.get("c", ())) == 1)
    assert "c" in hub.pollers  # one poller per process and campaign, still needed
    second.close()
    _wait(lambda: "c" not in hub.listeners and "c" not in hub.pollers)  # nobody listens: polling stops


def test_events_reach_listeners_of_another_process(live_server, streams):
    """Two servers on one database stand for two workers: each polls the database, none misses a write."""
    listening, writing = live_server(**FAST), live_server(**FAST)
    stream = streams(f"{listening}/api/v1/campaigns/c/stream")
    stream.next("retry")
    _wait(lambda: listening.app.state.api.hub.listeners.get("c"))
    with httpx.Client(base_url=writing, timeout=30) as http:
        h = {"Authorization": f"Bearer {http.post('/api/v1/session').json()['token']}"}
        http.post("/api/v1/campaigns/c/events", json={"events": [event("vote", {"choices": [1]}, component="commute")]}, headers=h)
        http.post("/api/v1/campaigns/c/events", json={"events": [event(payload={"action": "read"})]}, headers=h)
    assert stream.next("vote")["total"] == 1
    stream.next("leaderboard")


def test_the_board_event_comes_at_most_once_per_second(live_server, streams):
    url = live_server(**FAST)
    stream = streams(f"{url}/api/v1/campaigns/c/stream")
    stream.next("retry")
    _wait(lambda: url.app.state.api.hub.listeners.get("c"))
    with httpx.Client(base_url=url, timeout=30) as http:
        h = {"Authorization": f"Bearer {http.post('/api/v1/session').json()['token']}"}
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            http.post("/api/v1/campaigns/c/events", json={"events": [event(payload={"action": "share"})]}, headers=h)
            time.sleep(0.05)
    boards = [e for e in stream.drain(1.5) if e[0] == "leaderboard"]
    elapsed = time.monotonic() - started
    assert 2 <= len(boards) <= elapsed + 1, (len(boards), elapsed)


def test_a_listener_that_falls_behind_is_closed():
    async def fill() -> Listener:
        listener = Listener("c", None)
        for i in range(QUEUE_MAX + 1):
            listener.put(f"data: {i}\n\n")
        return listener

    assert run_async(fill).overflowed  # in a thread of its own: the browser tests keep a loop running here


def test_access_logs_never_show_stream_tokens():
    import logging

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("127.0.0.1:5000", "GET", "/api/v1/campaigns/c/stream?token=eyJzZWNyZXQ.abc&x=1", "1.1", 200)
    RedactTokens().filter(record)
    assert "eyJzZWNyZXQ" not in record.getMessage() and "token=…&x=1" in record.getMessage()
