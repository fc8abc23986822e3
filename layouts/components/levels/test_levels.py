"""levels, points and badges: the campaign-wide wallet as the visitor sees it (real Chromium)."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site, open_served

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    read: {points: 40}
levels:
  - {name: 新手, min: 0}
  - {name: 达人, min: 100, perks: [专属客服]}
  - {name: 大师, min: 200}
badges:
  - {id: first-read, name: 初读, description: 读完第一篇, when: {action: read}}
  - {id: hundred, name: 百分, description: 累计 100 积分, when: {points: 100}}
"""
PAGE = "::: points\n:::\n\n::: levels\ntitle: 会员等级\n:::\n\n::: badges\n:::\n"


def test_levels_need_levels_in_the_campaign(tmp_path):
    campaign = CAMPAIGN.split("levels:")[0]
    result = build(one_page_site(tmp_path, "::: levels\n:::\n", campaign))
    assert result.exit_code == 1
    assert "content/c/index.md:5: levels: the campaign has no levels; add `levels` to campaign.yaml" in result.stderr


def test_perks_are_rendered_but_not_sent_to_the_browser(tmp_path):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "<li>专属客服</li>" in html
    assert html.count("专属客服") == 1  # not in the rules JSON


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_wallet_level_and_badges_follow_points(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    ladder = page.locator('[data-h5c="levels"]')
    assert ladder.locator("[aria-current]").inner_text().startswith("新手")
    for _ in range(3):
        page.evaluate("() => h5press.award('read', 'article')")
    assert ladder.locator("[data-level]").inner_text() == "达人"
    assert ladder.locator("[aria-current] b").inner_text() == "达人"
    assert ladder.locator("[data-reached]").count() == 2
    assert page.locator('[data-h5c="points"] [data-total]').inner_text() == "120"
    assert page.locator('[data-h5c="points"] [data-next]').inner_text() == "再得 80 积分升为「大师」"
    page.reload()
    assert page.locator('[data-h5c="levels"] [aria-current] b').inner_text() == "达人"
    earned = page.locator('[data-h5c="badges"] .is-earned')
    assert earned.count() == 2
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    assert [e["payload"]["level"] for e in outbox if e["type"] == "level"] == ["达人"]
    assert sorted(e["payload"]["badge"] for e in outbox if e["type"] == "badge") == ["first-read", "hundred"]
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()
