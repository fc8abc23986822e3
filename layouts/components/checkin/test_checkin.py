"""checkin: schema, streaks, carbon saved and weekly report, operated by tapping in Chromium
with the network really gone, with and without service workers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served, reload_after_offline

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
timezone: Asia/Shanghai
points:
  actions:
    checkin: {points: 5, per_day: 1}
badges:
  - {id: two-days, name: 两天, when: {streak: 2}}
"""

BLOCK = """::: checkin commute
mode: carbon
modes:
  - {id: metro, label: 地铁, grams_per_km: 30}
  - {id: bike, label: 骑行, grams_per_km: 0}
distances: [5, 10]
:::
"""


def site(tmp_path: Path, body: str, campaign: str = CAMPAIGN) -> Path:
    return one_page_site(tmp_path, body, campaign)


def test_schema_errors(tmp_path):
    result = build(site(tmp_path, "::: checkin\n:::\n"))
    assert "content/c/index.md:5: checkin: an id is required" in result.stderr
    result = build(site(tmp_path, "::: checkin c1\nmode: bus\n:::\n"))
    assert "content/c/index.md:6: checkin \"c1\": mode: input should be 'daily' or 'carbon'" in result.stderr
    result = build(site(tmp_path, "::: checkin c1\nmodes:\n  - {id: Metro, label: 地铁, grams_per_km: -1}\n:::\n"))
    assert "modes[0].id: \"Metro\" is not a valid id" in result.stderr
    assert "modes[0].grams_per_km: input should be greater than or equal to 0" in result.stderr
    result = build(site(tmp_path, "::: checkin c1\n:::\n", "title: t\n"))
    assert 'checkin "c1": points: is required: campaign.yaml has no points.actions.checkin' in result.stderr


def test_default_modes_are_documented_values(tmp_path):
    assert build(site(tmp_path, "::: checkin c1\nmode: carbon\n:::\n")).exit_code == 0
    html = (tmp_path / "dist/c/index.html").read_text()
    for label in ("步行", "骑行", "地铁", "公交", "拼车"):
        assert f">{label}</button>" in html


@pytest.mark.browser
@pytest.mark.parametrize(("width", "workers"), [(320, "allow"), (375, "allow"), (375, "block")])
def test_check_in_offline_streak_and_report_survive_reload(tmp_path, serve, browser, width, workers):
    server, context, page, errors = open_served(site(tmp_path, BLOCK), serve, browser, "c/index.html", width, workers)
    yesterday = (dt.datetime.now(ZoneInfo("Asia/Shanghai")) - dt.timedelta(days=1)).date().isoformat()
    page.evaluate("d => localStorage.setItem('h5press:c:checkins', JSON.stringify({[d]: {saved: 100}}))", yesterday)
    page.reload()
    assert layout_shift(page) == 0
    server.stop()  # the network is really gone from here on

    box = page.locator('[data-h5c="checkin"]')
    go = box.get_by_role("button", name="打卡")
    assert go.is_disabled()  # travel mode and distance first
    box.get_by_role("button", name="地铁").tap()
    box.get_by_role("button", name="10 公里").tap()
    go.tap()
    assert box.locator(".h5c-checkin__status").inner_text() == "今天已打卡，减排约 1500 克"
    assert box.locator("[data-streak]").inner_text() == "2"

    reload_after_offline(page, server, workers)
    box = page.locator('[data-h5c="checkin"]')
    assert box.locator(".h5c-checkin__status").inner_text() == "今天已打卡，减排约 1500 克"
    assert box.get_by_role("button", name="打卡").is_disabled()
    assert box.locator("[data-streak]").inner_text() == "2"
    wallet = page.evaluate("() => h5press.wallet()")
    assert wallet["total"] == 5 and wallet["badges"] == ["two-days"]
    week_days = int(box.locator("[data-week-days]").inner_text())
    assert week_days in (1, 2)  # yesterday counts unless today is a Monday
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    (event,) = [e for e in outbox if e["type"] == "checkin"]
    assert event["component"] == "commute"
    assert event["payload"] == {"day": dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat(), "mode": "metro",
                                "km": 10, "saved_g": 1500, "streak": 2}
    assert errors == []
    context.close()
