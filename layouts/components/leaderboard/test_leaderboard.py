"""leaderboard: schema errors; without a server only one's own points (no invented peers); with a
real `h5press api`: ranks, nicknames or placeholders, the caller's row below the limit, tabs,
live updates, and the last board shown offline with its time — in real Chromium at 375 and 320 px."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from api_support import SECRET, event

from h5fixtures import build, layout_shift, one_page_site, open_served
from h5press.api.identity import sign

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    read: {points: 10}
team: {size: 3}
"""
BOARD = """::: leaderboard board
title: 低碳排行榜
scope: [individual, team, friends]
period: [all, week]
limit: 2
:::
"""


def token(sub: str) -> str:
    now = int(time.time())
    return sign({"iss": "h5press", "sub": sub, "iat": now, "exp": now + 3600}, SECRET.encode())


def call(api_url: str, method: str, path: str, body: dict | None = None, auth: str | None = None) -> dict:
    """The server's HTTP API as another person's phone would call it."""
    request = urllib.request.Request(api_url + "api/v1/campaigns/c" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {auth}"} if auth else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def earn(api_url: str, auth: str, reads: int) -> None:
    call(api_url, "POST", "/events", {"events": [event("points", {"action": "read"}) for _ in range(reads)]}, auth)


def test_scopes_periods_and_limit_are_checked(tmp_path):
    body = BOARD.replace("[individual, team, friends]", "[individual, tem]").replace("[all, week]", "[week, week]").replace("2\n", "0\n")
    result = build(one_page_site(tmp_path / "a", body, CAMPAIGN))
    assert 'content/c/index.md:7: leaderboard "board": scope: "tem" is not a board scope (one of individual, team, ' \
           'friends) (did you mean "team"?)' in result.stderr
    assert 'content/c/index.md:8: leaderboard "board": period: "week" is listed twice' in result.stderr
    assert 'content/c/index.md:9: leaderboard "board": limit: input should be greater than or equal to 1' in result.stderr
    result = build(one_page_site(tmp_path / "b", BOARD, CAMPAIGN.replace("team: {size: 3}\n", "")))
    assert 'content/c/index.md:5: leaderboard "board": scope: the team board needs teams: add team: to campaign.yaml' \
        in result.stderr


def test_one_scope_and_period_make_no_tabs(tmp_path):
    root = one_page_site(tmp_path, "::: leaderboard b\nscope: friends\n:::\n", CAMPAIGN)
    (root / "h5press.yaml").write_text("base_url: https://h5.example.com/\napi_url: https://api.example.com/\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "data-scope=" not in html and "data-period=" not in html and html.count("<li class=h5c-board__row>") == 10


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_without_a_server_only_own_points_and_why(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(one_page_site(tmp_path, BOARD, CAMPAIGN), serve, browser, "c/index.html",
                                                width, "block")
    board = page.locator('[data-h5c="leaderboard"]')
    assert board.locator("[data-total]").inner_text() == "0"
    assert layout_shift(page) == 0
    assert "没有连接活动服务器" in board.inner_text() and board.locator("li").count() == 0  # no invented peers
    page.evaluate("() => h5press.award('read')")
    assert board.locator("[data-total]").inner_text() == "10"
    page.reload()
    assert page.locator("[data-total]").inner_text() == "10"
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_server_board_with_my_row_tabs_live_and_offline(tmp_path, site_with_api, browser, width):
    root = one_page_site(tmp_path, BOARD, CAMPAIGN)
    site = site_with_api(root)
    assert build(root).exit_code == 0
    earn(site.api_url, token("ann"), 3)
    earn(site.api_url, token("bob"), 2)
    call(site.api_url, "POST", "/me", {"nickname": "小青"}, token("ann"))
    context = browser.new_context(viewport={"width": width, "height": 700}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site.url("c/index.html"))
    page.evaluate("() => h5press.award('read')")  # 10 points: third, below the limit of 2
    board = page.locator('[data-h5c="leaderboard"]')
    mine = board.locator("[data-me]")
    page.wait_for_function("() => document.querySelector('[data-me]').textContent.includes('10 分')")
    assert layout_shift(page) < 0.01  # the rows were reserved: the board fills them in place
    rows = board.locator("li")
    assert rows.count() == 2 and rows.nth(0).inner_text().split() == ["1", "小青", "30", "分"]
    assert rows.nth(1).locator("span").first.inner_text() == "用户" + who("bob")
    assert mine.inner_text().split()[0] == "3" and "（我）" in mine.inner_text()
    # a burst of changes: the board is read again at most once a second
    reads: list[float] = []
    page.on("request", lambda r: "/leaderboard?" in r.url and reads.append(time.monotonic()))
    page.evaluate("() => { for (let i = 0; i < 20; i++) h5press.changed(); }")
    page.wait_for_timeout(1600)
    assert 1 <= len(reads) <= 2 and all(b - a > 0.9 for a, b in zip(reads, reads[1:], strict=False))
    # another phone earns points: the board follows without a reload
    earn(site.api_url, token("bob"), 2)
    page.wait_for_function("() => document.querySelector('.h5c-board__list li').textContent.includes('40')",
                           timeout=5000)  # pushed by the server's stream: polling would take 15 s
    # the team board: not in a team yet
    board.get_by_role("button", name="团队榜").click()
    assert board.get_by_role("button", name="团队榜").get_attribute("aria-pressed") == "true"
    page.wait_for_function("() => document.querySelector('[data-me]').textContent.includes('还没有加入队伍')")
    team = page.evaluate("() => h5press.api('POST', '/teams', {name: '绿色小队'})")
    assert team["name"] == "绿色小队"
    board.get_by_role("button", name="个人榜").click()
    board.get_by_role("button", name="团队榜").click()
    page.wait_for_function("() => document.querySelector('.h5c-board__list .is-me') !== null")
    assert board.locator(".is-me").inner_text().split() == ["1", "绿色小队（我的队伍）", "10", "分"]
    # bob joins the team: he becomes a friend, and the team board follows live
    call(site.api_url, "POST", "/teams/join", {"code": team["code"]}, token("bob"))
    page.wait_for_function("() => document.querySelector('.h5c-board__list .is-me').textContent.includes('50')", timeout=5000)
    board.get_by_role("button", name="好友榜").click()
    page.wait_for_function("() => document.querySelector('[data-me]').textContent.includes('10 分')")
    assert [r.split()[:3] for r in rows.all_inner_texts()] == [["1", "用户" + who("bob"), "40"], ["2", mine.inner_text().split()[1], "10"]]
    assert mine.inner_text().split()[0] == "2" and board.locator(".is-me").count() == 1
    # offline: the last board read, with its time
    context.set_offline(True)
    board.get_by_role("button", name="个人榜").click()
    note = board.locator("[data-note]")
    page.wait_for_function("() => document.querySelector('[data-note]').textContent.startsWith('离线')")
    assert note.inner_text().startswith("离线，显示的是 ") and note.inner_text().endswith(" 的排名")
    assert rows.nth(0).inner_text().split()[2] == "40"
    board.get_by_role("button", name="本周").click()  # never read: nothing stored to show
    page.wait_for_function("() => document.querySelector('[data-note]').textContent === '离线，联网后显示排名'")
    assert rows.nth(0).inner_text().split()[1] == "—"
    context.set_offline(False)
    page.reload()
    assert board.get_by_role("button", name="本周").get_attribute("aria-pressed") == "true"  # the choice is kept
    page.wait_for_function("() => document.querySelector('[data-note]').textContent.startsWith('本周积分从周一')")
    # opened offline from the service worker's cache: the board stored on the phone, with its time
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    context.set_offline(True)
    # Chromium's offline emulation does not reach a page its service worker serves: reloaded, the page says it
    # is online, and the worker's requests still reach the server. A phone without network says it is offline.
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'onLine', { get: () => false })")
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-note]').textContent.startsWith('离线，显示的是 ')")
    assert rows.nth(0).inner_text().split()[2] == "40"
    context.set_offline(False)
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    # the server out of reach on a phone that believes itself online: the service worker answers with its copy,
    # which the board shows as what it is, the last board read with its time, not as live
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'onLine', { get: () => true })")
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-note]').textContent.includes('最新')")
    site.stop_api()
    page.reload()
    page.wait_for_function("() => document.querySelector('[data-note]').textContent.startsWith('离线，显示的是 ')")
    assert page.evaluate("navigator.onLine") and rows.nth(0).inner_text().split()[2] == "40"
    assert errors == []
    context.close()


def who(sub: str) -> str:
    """The placeholder a board shows for a person without nickname: their pseudonym's start."""
    from api_support import SECRET

    from h5press.api.identity import pseudonym, pseudonym_key

    return pseudonym(f"h5press:{sub}", pseudonym_key(SECRET))[:4].upper()
