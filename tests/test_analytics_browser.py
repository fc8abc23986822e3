"""Visitor analytics end to end: real pages in real Chromium, visitors of known behaviour, a real
`h5press api` process, then the rows it stored in `analytics` and the figures `h5press report` makes of them.

Time is Playwright's fake clock (`page.clock`), so 15-second dwell ticks take no waiting. Headless
Chromium never hides a page by itself (no window to minimise or cover), so `hide` and `show` set
the `document.visibilityState` the page reads and fire `visibilitychange`, as a phone does when the
visitor switches apps.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest
from api_support import SECRET
from sqlalchemy import create_engine, text

from h5fixtures import Server, build, write_tree
from h5press.check.browser import launch_options

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMPAIGN = """\
title: 分析测试
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    quiz: {points: 10}
experiments:
  - {id: hero, variants: {a: 50, b: 50}}
"""
INDEX = """\
---
title: 首页
---

::: variant hero a
开场文案 A：了解活动安排。
:::

::: variant hero b
开场文案 B：组队赢出行券。
:::

::: share
text: 一起来
:::
"""
QUIZ = """\
---
title: 小测验
---

::: quiz q1
questions:
  - q: 一加一等于几？
    options: [一, 二]
    answer: 2
:::
"""
T0 = 1_800_000_000_000  # the fake clock's start (2027-01-15)


def fnv1a(text_: str) -> int:
    """The head script's hash, to know a visitor's variant before the page opens."""
    h = 2166136261
    for ch in text_:
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return h


def variant_of(visitor: str, experiment: str, weights: list[tuple[str, int]]) -> str:
    r = fnv1a(f"{visitor}:{experiment}") % sum(w for _, w in weights)
    for name, weight in weights:
        if r < weight:
            return name
        r -= weight
    raise AssertionError("unreachable")


def visitor_with(variant: str) -> str:
    """A visitor id (a valid ULID) whose hero variant is `variant`."""
    for n in range(1000):
        candidate = f"01JF{n:022d}"
        if variant_of(candidate, "hero", [("a", 50), ("b", 50)]) == variant:
            return candidate
    raise AssertionError("no such visitor")


def moment(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    static: Server
    api: str
    db: Path

    def url(self, path: str) -> str:
        return self.static.url(path)

    def rows(self, where: str = "1 = 1", **params: object) -> list[dict]:
        engine = create_engine(f"sqlite:///{self.db}")
        try:
            with engine.connect() as conn:
                found = conn.execute(text(f"SELECT * FROM analytics WHERE {where} ORDER BY at_ms, pk"), params)
                return [{**r._mapping, "payload": json.loads(r.payload), "variants": json.loads(r.variants)} for r in found]
        finally:
            engine.dispose()

    def wait_rows(self, where: str, count: int, timeout: float = 10, **params: object) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.rows(where, **params)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


@pytest.fixture
def site(tmp_path: Path, serve: Callable[[Path], Server]) -> Iterator[Callable[..., Site]]:
    """`site(campaign=…)`: the project built with api_url pointing at a real `h5press api` process."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(campaign: str = CAMPAIGN) -> Site:
        root = write_tree(tmp_path / "site", {"h5press.yaml": "base_url: https://h5.example.com/\n",
                                              "content/c/campaign.yaml": campaign, "content/c/index.md": INDEX,
                                              "content/c/quiz.md": QUIZ})
        static = serve(root / "dist")
        port, db = _free_port(), tmp_path / "api.sqlite3"
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "h5press", "api", "-p", str(root), "--secret", SECRET, "--db", str(db),
             "--port", str(port), "--cors-origin", static.url().rstrip("/"), "--ip-rate", "0", "--identity-rate", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        api = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(api + "openapi.json", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "h5press api did not start"
                time.sleep(0.2)
        (root / "h5press.yaml").write_text(f"base_url: https://h5.example.com/\napi_url: {api}\n", "utf-8")
        assert build(root).exit_code == 0
        return Site(static, api, db)

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


class Visitor:
    """One device: a browser context (its own storage) with a fake clock, opening pages of the site."""

    def __init__(self, browser, visitor: str | None = None, **options: object) -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(service_workers="block", **options)
        if visitor:  # a device that has this visitor id already (set before the head script runs)
            self.context.add_init_script(f"localStorage.getItem('h5press:c:visitor') || "
                                         f"localStorage.setItem('h5press:c:visitor', '\"{visitor}\"')")
        self.errors: list[str] = []
        self.context.clock.install(time=moment(T0))  # one clock for the device, still until a test moves it
        self.context.clock.pause_at(moment(T0 + 1000))
        self.now = T0 + 1000

    def open(self, url: str):  # type: ignore[no-untyped-def]
        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.goto(url)
        until(page, "window.h5press && h5press.server")
        return page

    def spend(self, page, ms: int) -> None:  # type: ignore[no-untyped-def]
        """Let `ms` pass on the page's clock, firing its timers (the 15-second dwell ticks)."""
        page.clock.run_for(ms)
        self.now += ms

    def storage(self, page, key: str) -> object:  # type: ignore[no-untyped-def]
        return page.evaluate(f"() => JSON.parse(localStorage.getItem('h5press:c:{key}'))")


def until(page, condition: str, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    """Wait for a condition in the page, polled from here: wait_for_function's own timers are the fake clock's."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => !!({condition})"):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.05)


def set_visibility(page, state: str) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("""state => {
        Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => state});
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => state === 'hidden'});
        document.dispatchEvent(new Event('visibilitychange'));
    }""", state)


def dwell_of(rows: list[dict], view: str) -> int:
    return sum(r["payload"]["ms"] for r in rows if r["type"] == "dwell" and r["payload"]["view"] == view)


def test_dwell_counts_visible_time_only_and_arrives_when_the_page_is_closed(browser, site):
    s = site()
    me = Visitor(browser)
    page = me.open(s.url("c/index.html"))
    me.spend(page, 40_000)  # visible: ticks at 15 s and 30 s
    set_visibility(page, "hidden")  # 40 s so far, sent by beacon
    me.spend(page, 60_000)  # hidden: never counts
    set_visibility(page, "visible")
    me.spend(page, 20_000)
    visitor = me.storage(page, "visitor")
    page.close(run_before_unload=True)  # pagehide: the last 20 s by beacon
    rows = s.wait_rows("visitor = :v AND type = 'dwell'", 5, v=visitor)
    views = s.rows("visitor = :v AND type = 'view'", v=visitor)
    assert len(views) == 1 and views[0]["page"] == "index.html" and views[0]["payload"] == {}
    assert abs(dwell_of(rows, views[0]["event_id"]) - 60_000) <= 1000, [r["payload"] for r in rows]
    assert all(r["session"] == views[0]["session"] and r["page"] == "index.html" for r in rows)
    assert len({r["event_id"] for r in rows}) == len(rows)
    assert me.errors == []
    me.context.close()


def test_a_killed_page_keeps_the_dwell_sent_every_15_seconds(browser, site):
    s = site()
    own = browser.browser_type.launch(**launch_options(managed=browser.browser_type.executable_path))
    try:
        me = Visitor(own)
        page = me.open(s.url("c/quiz.html"))
        me.spend(page, 47_000)
        visitor = me.storage(page, "visitor")
        s.wait_rows("visitor = :v AND type = 'dwell'", 3, v=visitor)
        processes = own.new_browser_cdp_session().send("SystemInfo.getProcessInfo")["processInfo"]
        for process in processes:  # the page is killed as a phone kills it: no visibilitychange, no pagehide
            if process["type"] == "renderer":
                os.kill(process["id"], signal.SIGKILL)
        time.sleep(1)
    finally:
        own.close()
    view = s.rows("visitor = :v AND type = 'view'", v=visitor)[0]
    dwell = dwell_of(s.rows("visitor = :v", v=visitor), view["event_id"])
    assert dwell == 45_000 and view["page"] == "quiz.html"


def test_offline_events_wait_and_are_counted_once(browser, site):
    s = site()
    me = Visitor(browser)
    page = me.open(s.url("c/index.html"))
    visitor = me.storage(page, "visitor")
    s.wait_rows("visitor = :v AND type = 'view'", 1, v=visitor)
    me.context.set_offline(True)
    me.spend(page, 31_000)  # two ticks while offline
    set_visibility(page, "hidden")  # offline: no beacon either
    queued = me.storage(page, "analytics")
    assert [e["type"] for e in queued] == ["dwell", "dwell", "dwell"]
    assert s.rows("visitor = :v AND type = 'dwell'", v=visitor) == []
    me.context.set_offline(False)  # `online`: the queue goes out
    page.evaluate("() => dispatchEvent(new Event('online'))")
    set_visibility(page, "visible")
    until(page, "JSON.parse(localStorage.getItem('h5press:c:analytics')).length === 0")
    page.close()
    again = me.open(s.url("c/index.html"))  # a second visit sends what it has again: nothing doubles
    again.evaluate("ids => h5press.set('analytics', ids)", queued)
    again.evaluate("() => h5press.send()")
    until(again, "JSON.parse(localStorage.getItem('h5press:c:analytics')).length === 0")
    rows = s.rows("visitor = :v AND type = 'dwell'", v=visitor)
    assert sorted(r["event_id"] for r in rows) == sorted(e["id"] for e in queued)
    view = s.rows("visitor = :v AND type = 'view'", v=visitor)[0]
    assert abs(dwell_of(rows, view["event_id"]) - 31_000) <= 1000
    me.context.close()


def test_a_share_puts_its_id_on_the_link_and_the_visit_it_brings_records_it(browser, site):
    s = site()
    sharer = Visitor(browser, permissions=["clipboard-read", "clipboard-write"])
    page = sharer.open(s.url("c/index.html"))
    page.get_by_role("button", name="复制链接").click()
    until(page, "document.querySelector('.h5c-share__state').textContent.includes('已复制')")
    link = page.evaluate("() => navigator.clipboard.readText()")
    share = s.wait_rows("type = 'share'", 1)[0]
    assert share["payload"]["channel"] == "copy" and link == share["payload"]["url"]
    assert link.endswith("?ref=" + share["payload"]["share"]) and share["component"] == "share"
    assert [r["payload"]["kind"] for r in s.rows("type = 'start'")] == ["share"]
    friend = Visitor(browser)
    arrived = friend.open(link)
    them = friend.storage(arrived, "visitor")
    view = s.wait_rows("visitor = :v AND type = 'view'", 1, v=them)[0]
    assert view["payload"] == {"ref": share["payload"]["share"]} and them != share["visitor"]
    sharer.context.close()
    friend.context.close()


@pytest.mark.parametrize("variant", ["a", "b"])
def test_each_variant_is_sticky_shown_alone_and_on_every_event(browser, site, variant):
    s = site()
    visitor = visitor_with(variant)
    me = Visitor(browser, visitor=visitor)
    me.context.add_init_script("""new MutationObserver((changes, observer) => {  // no flash: chosen before the variants exist
        if (document.querySelector('.h5-variant')) {
            window.chosenFirst = document.documentElement.dataset.vHero || 'none';
            observer.disconnect();
        }
    }).observe(document, {childList: true, subtree: true})""")
    page = me.open(s.url("c/index.html"))
    assert page.evaluate("() => [document.documentElement.dataset.vHero, h5press.variant('hero')]") == [variant, variant]
    assert page.evaluate("() => window.chosenFirst") == variant
    other = "b" if variant == "a" else "a"
    assert page.get_by_text(f"开场文案 {variant.upper()}").is_visible()
    assert not page.get_by_text(f"开场文案 {other.upper()}").is_visible()
    page.close()
    quiz = me.open(s.url("c/quiz.html"))  # another page, another visit: the same variant
    quiz.get_by_text("二", exact=True).click()
    me.spend(quiz, 16_000)
    assert me.storage(quiz, "variants") == {"hero": variant}
    quiz.close()
    rows = s.wait_rows("visitor = :v AND type IN ('view', 'start', 'completion', 'dwell')", 6, v=visitor)
    assert {r["type"] for r in rows} == {"view", "start", "completion", "dwell"}
    assert [r["payload"]["kind"] for r in rows if r["type"] in ("start", "completion")] == ["quiz", "quiz"]
    assert [r["component"] for r in rows if r["type"] in ("start", "completion")] == ["q1", "q1"]
    assert all(r["variants"] == {"hero": variant} for r in s.rows("visitor = :v", v=visitor))
    me.context.close()


def test_with_consent_required_nothing_leaves_before_consent(browser, site):
    s = site(CAMPAIGN + "consent:\n  required: true\n")
    me = Visitor(browser)
    page = me.open(s.url("c/index.html"))
    me.spend(page, 31_000)
    time.sleep(1)
    assert s.rows() == [] and len(me.storage(page, "analytics")) == 3
    page.evaluate("() => h5press.consent(true)")
    rows = s.wait_rows("type IN ('view', 'dwell')", 3)
    assert [r["type"] for r in rows] == ["view", "dwell", "dwell"]
    me.context.close()


def test_a_new_session_begins_after_30_minutes_without_activity(browser, site):
    s = site()
    me = Visitor(browser)
    page = me.open(s.url("c/index.html"))
    visitor = me.storage(page, "visitor")
    me.spend(page, 10_000)
    set_visibility(page, "hidden")  # the visitor leaves the tab for 31 minutes
    me.spend(page, 31 * 60_000)
    set_visibility(page, "visible")
    me.spend(page, 15_000)
    page.close()
    rows = s.wait_rows("visitor = :v AND type = 'dwell'", 3, v=visitor)
    assert [r["payload"]["ms"] for r in rows] == [10_000, 5_000, 10_000]  # the 15-second ticks run on through hiding
    assert rows[0]["session"] != rows[1]["session"] == rows[2]["session"]
    assert len({r["payload"]["view"] for r in rows}) == 1  # still the same page view
    with_views = s.rows("visitor = :v AND type = 'view'", v=visitor)
    assert with_views[0]["session"] == rows[0]["session"]
    me.context.close()


def visitors_with(variant: str, count: int) -> list[str]:
    """`count` distinct visitor ids (valid ULIDs) whose hero variant is `variant`."""
    found = [c for n in range(2000) if variant_of(c := f"01JG{n:022d}", "hero", [("a", 50), ("b", 50)]) == variant]
    return found[:count]


def test_the_report_reads_what_visitors_of_known_behaviour_did(browser, site, tmp_path):
    """Three visitors through a real server, then `h5press report` over its database: A (variant a)
    reads 30 s and shares a link; B (variant b) arrives by it and reads 45 s; C (variant b) reads
    the quiz 15 s, then leaves the page hidden for a minute, which never counts."""
    s = site()
    [a], (b, c) = visitors_with("a", 1), visitors_with("b", 2)
    sharer = Visitor(browser, visitor=a, permissions=["clipboard-read", "clipboard-write"])
    page = sharer.open(s.url("c/index.html"))
    sharer.spend(page, 30_000)
    page.get_by_role("button", name="复制链接").click()
    until(page, "document.querySelector('.h5c-share__state').textContent.includes('已复制')")
    link = page.evaluate("() => navigator.clipboard.readText()")
    page.close(run_before_unload=True)
    friend = Visitor(browser, visitor=b)
    arrived = friend.open(link)
    friend.spend(arrived, 45_000)
    arrived.close(run_before_unload=True)
    reader = Visitor(browser, visitor=c)
    quiz = reader.open(s.url("c/quiz.html"))
    reader.spend(quiz, 15_000)
    set_visibility(quiz, "hidden")
    reader.spend(quiz, 60_000)
    quiz.close(run_before_unload=True)
    for who, ms in ((a, 30_000), (b, 45_000), (c, 15_000)):
        deadline = time.monotonic() + 10
        while sum(r["payload"]["ms"] for r in s.rows("visitor = :v AND type = 'dwell'", v=who)) < ms - 1000:
            assert time.monotonic() < deadline, f"dwell of {who} did not arrive"
            time.sleep(0.1)
    out = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "h5press", "report", "c", "--db", str(s.db), "-p", str(tmp_path / "site"),
                             "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads((out / "report.json").read_text())["campaigns"]["c"]
    assert (figures["visitors"], figures["sessions"], figures["views"]) == (3, 3, 3)
    assert figures["dwell_s"]["mean"] == pytest.approx(30, abs=1)  # (30 + 45 + 15) / 3 sessions
    assert figures["dwell_s"]["median"] == pytest.approx(30, abs=1)
    assert figures["share_rate"] == pytest.approx(1 / 3) and figures["k_factor"] == pytest.approx(1 / 3)
    hero = figures["experiments"]["hero"]
    assert hero["baseline"] == "a" and {v: x["visitors"] for v, x in hero["variants"].items()} == {"a": 1, "b": 2}
    assert hero["variants"]["b"]["dwell_s"]["mean"] == pytest.approx(30, abs=1)  # (45 + 15) / 2
    assert hero["uplift"]["b"]["share_rate"]["estimate"] == pytest.approx(-1)  # 0 of 2 shared against 1 of 1
    assert "index.html" in (out / "index.html").read_text("utf-8")
    for device in (sharer, friend, reader):
        device.context.close()
