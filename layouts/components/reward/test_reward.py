"""points, badges and reward together: a wallet that fills, badges that light up, a reward that
unlocks and is claimed once — operated in real Chromium at 375 and 320 px, kept across a reload.
With a real `h5press api`: claims decided by the server (stock, per-person limit, threshold, team
points), its answers shown, offline claims refused with a retry."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from api_support import SECRET, event

from h5fixtures import build, one_page_site, open_served
from h5press.api.identity import sign

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


SERVER_CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    read: {points: 10}
rewards:
  - {id: coupon, name: 5元券, threshold: 10, stock: 2}
  - {id: last, name: 最后一份, threshold: 10, stock: 1}
  - {id: gift, name: 礼包, threshold: 10, per_user: 2}
  - {id: team-gift, name: 团队礼包, threshold: 20, scope: team}
team: {size: 3}
"""
STATE = "() => document.querySelector('[data-reward=\"{}\"] [data-state]').textContent"


def _token(sub: str) -> str:
    now = int(time.time())
    return sign({"iss": "h5press", "sub": sub, "iat": now, "exp": now + 3600}, SECRET.encode())


def _claim_elsewhere(api_url: str, reward: str) -> None:
    """Another person earns 10 points and claims `reward` from their own phone."""
    auth = {"Content-Type": "application/json", "Authorization": f"Bearer {_token('someone-else')}"}
    for path, body in (("/events", {"events": [event("points", {"action": "read"})]}), (f"/rewards/{reward}/claim", None)):
        request = urllib.request.Request(f"{api_url}api/v1/campaigns/c{path}", method="POST", headers=auth,
                                         data=json.dumps(body).encode() if body else None)
        urllib.request.urlopen(request, timeout=10).close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_claims_go_to_the_server_and_show_its_answer(tmp_path, site_with_api, browser, width):
    root = one_page_site(tmp_path, "::: reward\n:::\n", SERVER_CAMPAIGN)
    site = site_with_api(root)
    assert build(root).exit_code == 0
    _claim_elsewhere(site.api_url, "last")
    context = browser.new_context(viewport={"width": width, "height": 700}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site.url("c/index.html"))
    page.wait_for_function("() => h5press.me() !== null")  # the page view went out: the server knows this phone
    shelf = page.locator('[data-h5c="reward"]')
    assert page.locator('[data-reward="team-gift"] [data-state]').inner_text() == "团队奖励：加入队伍后，团队积分达标即可领取"
    # a device that claims points it does not have: the server refuses
    page.evaluate("() => { const w = h5press.wallet(); w.total = 999; h5press.set('points', w); h5press.changed(); }")
    page.locator('[data-reward="coupon"] button').click()
    page.wait_for_function(STATE.format("coupon") + ".startsWith('活动服务器记录的积分还未达到 10 分')")
    page.evaluate("() => h5press.award('read')")
    page.wait_for_function("() => h5press.me() && h5press.me().points === 10")
    page.locator('[data-reward="coupon"] button').click()
    page.wait_for_function(STATE.format("coupon") + " === '已领取，剩余 1 份'")
    assert page.locator('[data-reward="coupon"] button').is_disabled()
    page.locator('[data-reward="last"] button').click()
    page.wait_for_function(STATE.format("last") + " === '已领完：这份奖励已全部发放。'")
    assert page.locator('[data-reward="last"] button').is_disabled()
    gift = page.locator('[data-reward="gift"] button')
    gift.click()
    page.wait_for_function(STATE.format("gift") + " === '已领取 1/2 次'")
    gift.click()
    page.wait_for_function(STATE.format("gift") + " === '已领取 2/2 次'")
    assert gift.is_disabled()
    # the team reward unlocks with the team's points from the server
    page.evaluate("() => h5press.api('POST', '/teams', {name: '小队'}).then(() => h5press.refresh())")
    page.wait_for_function(STATE.format("team-gift") + " === '团队积分还差 10 分'")
    page.evaluate("() => h5press.award('read')")
    page.wait_for_function(STATE.format("team-gift") + " === '已解锁，可领取'")
    context.set_offline(True)
    page.locator('[data-reward="team-gift"] button').click()
    page.wait_for_function(STATE.format("team-gift") + " === '网络不可用：领取需要联网，请联网后重试。'")
    context.set_offline(False)
    page.locator('[data-reward="team-gift"] button').click()
    page.wait_for_function(STATE.format("team-gift") + " === '已领取'")
    # storage wiped (iOS, WeChat): the server still knows the coupon was claimed
    page.evaluate("() => localStorage.removeItem('h5press:c:rewards')")
    page.reload()
    assert shelf.locator('[data-reward="coupon"] [data-state]').inner_text() == "已解锁，可领取"
    page.locator('[data-reward="coupon"] button').click()
    page.wait_for_function(STATE.format("coupon") + " === '已领取过：每人限领 1 次。'")
    assert page.locator('[data-reward="coupon"] button').is_disabled()
    me = page.evaluate("() => h5press.me().identity")
    assert site.rows("SELECT reward, count(*) FROM claims WHERE identity = :me GROUP BY reward ORDER BY reward", me=me) == \
        [("coupon", 1), ("gift", 2), ("team-gift", 1)]
    page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:c:outbox') || '[]').length === 0")
    sent = site.rows("SELECT payload FROM events WHERE type = 'reward.claim' AND identity = :me ORDER BY pk", me=me)
    assert [json.loads(p)["reward"] for (p,) in sent] == ["coupon", "gift", "gift", "team-gift"]
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()
