"""points, badges and reward together: a wallet that fills, badges that light up, a reward that
unlocks and is claimed once — operated in real Chromium at 375 and 320 px, kept across a reload."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site, open_served

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    read: {points: 30}
levels:
  - {name: 新手, min: 0}
  - {name: 达人, min: 50}
badges:
  - {id: first, name: 初读, description: 读完一篇, when: {action: read, count: 1}}
  - {id: fifty, name: 半百, description: 积满五十, when: {points: 50}}
rewards:
  - {id: coupon, name: 5元券, threshold: 60}
  - {id: team-gift, name: 团队礼包, threshold: 90, scope: team}
"""
PAGE = "::: points\n:::\n\n::: badges\n:::\n\n::: reward\n:::\n"


def test_blocks_need_something_to_show(tmp_path):
    result = build(one_page_site(tmp_path, "::: badges\n:::\n\n::: reward\n:::\n", "title: t\n"))
    assert "content/c/index.md:5: badges: campaign.yaml has no badges to show" in result.stderr
    assert "content/c/index.md:8: reward: campaign.yaml has no rewards to show" in result.stderr


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_wallet_badges_and_reward_claim(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    points = page.locator('[data-h5c="points"]')
    assert points.locator("[data-total]").inner_text() == "0" and points.locator("[data-level]").inner_text() == "新手"
    claim = page.locator('[data-reward="coupon"] button')
    assert claim.is_disabled()
    page.evaluate("() => { h5press.award('read'); h5press.award('read'); }")
    assert points.locator("[data-total]").inner_text() == "60" and points.locator("[data-level]").inner_text() == "达人"
    assert page.locator('[data-badge="first"]').get_attribute("class").endswith("is-earned")
    assert page.locator('[data-badge="fifty"] [data-state]').inner_text() == "已获得"
    claim.click()
    assert page.locator('[data-reward="coupon"] [data-state]').inner_text() == "已领取"
    assert page.locator('[data-reward="team-gift"] button').is_disabled()
    page.reload()
    assert page.locator('[data-reward="coupon"] button').is_disabled()
    assert page.locator('[data-reward="coupon"] [data-state]').inner_text() == "已领取"
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    assert [e["payload"]["reward"] for e in outbox if e["type"] == "reward.claim"] == ["coupon"]
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    context.close()
