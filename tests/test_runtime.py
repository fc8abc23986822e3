"""The browser runtime in real Chromium: store, outbox with ULIDs, points with caps, badges."""
from __future__ import annotations

import re

import pytest

from h5fixtures import build

pytestmark = pytest.mark.browser

CAMPAIGN = """\
title: 运行时
start: 2020-01-01
end: 2099-12-31
channels: [browser]  # points for sharing are refused for WeChat (诱导分享)
points:
  actions:
    read: {points: 2, per_day: 2}
    share: {points: 5, per_campaign: 1}
levels:
  - {name: 新手, min: 0}
  - {name: 达人, min: 5}
badges:
  - {id: reader, name: 读者, when: {action: read, count: 2}}
"""


def test_outbox_points_and_caps_survive_reload(make_project, serve, browser):
    root = make_project({"content/demo/campaign.yaml": CAMPAIGN})
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    page = browser.new_page(viewport={"width": 320, "height": 640})
    page.goto(server.url("demo/article.html"))
    page.wait_for_function("() => window.h5press")
    awarded = page.evaluate("() => [1, 2, 3].map(() => h5press.award('read', 'test'))")
    assert awarded == [2, 2, 0]  # per_day: 2
    assert page.evaluate("() => [h5press.award('share'), h5press.award('share'), h5press.award('nope')]") == [5, 0, 0]
    page.reload()
    page.wait_for_function("() => window.h5press")
    wallet = page.evaluate("() => h5press.wallet()")
    assert wallet["total"] == 9 and wallet["badges"] == ["reader"]
    assert page.evaluate("() => h5press.level(h5press.wallet().total).name") == "达人"
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:demo:outbox'))")
    types = [e["type"] for e in outbox]
    assert types.count("view") == 2 and types.count("points") == 3 and types.count("badge") == 1
    for event in outbox:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event["id"])
        assert event["v"] == 1 and event["campaign"] == "demo" and event["at"].endswith("Z")
    assert outbox == sorted(outbox, key=lambda e: e["id"][:10])  # time-ordered ids
    page.close()


def test_outbox_is_bounded_and_drops_analytics_first(make_project, serve, browser):
    root = make_project({"content/demo/campaign.yaml": CAMPAIGN})
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    page = browser.new_page()
    page.goto(server.url("demo/index.html"))
    page.wait_for_function("() => window.h5press")
    page.evaluate("() => { for (let i = 0; i < 600; i++) h5press.emit(i % 2 ? 'view' : 'quiz.answer', 'q', {i}); }")
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:demo:outbox'))")
    assert len(outbox) == 500
    assert sum(e["type"] == "quiz.answer" for e in outbox) == 300  # no user action was dropped
    page.close()


def test_events_leave_only_after_consent_and_replay_when_online(make_project, site_with_api, browser):
    root = make_project({"content/demo/campaign.yaml": CAMPAIGN + "consent: {required: true}\n"})
    site = site_with_api(root)
    assert build(root).exit_code == 0
    context = browser.new_context(service_workers="block")
    page = context.new_page()
    page.goto(site.url("demo/index.html"))
    page.wait_for_function("() => window.h5press && h5press.server")
    page.evaluate("() => h5press.award('read')")
    page.wait_for_timeout(300)
    stored = "SELECT type, status, points FROM events ORDER BY pk"
    assert site.rows(stored) == []  # consent required and not given: nothing leaves the device
    assert len(page.evaluate("() => JSON.parse(localStorage.getItem('h5press:demo:outbox'))")) == 2

    context.set_offline(True)
    page.evaluate("() => h5press.consent(true)")
    page.wait_for_timeout(300)
    assert site.rows(stored) == []  # offline: kept for later
    context.set_offline(False)  # fires `online`: the outbox replays
    page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:demo:outbox')).length === 0", timeout=5000)
    assert site.rows(stored) == [("view", "recorded", 0), ("points", "counted", 2)]
    page.wait_for_function("() => h5press.me() && h5press.me().points === 2")
    context.close()
