"""team: schema errors; without a server the block explains itself and lists what counts alone;
with a real `h5press api`: create, invite link, join, team_full / unknown_team / offline with
retry, nickname and live member updates — real Chromium at 375 and 320 px."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator

from h5fixtures import build, layout_shift, one_page_site, open_served

CAMPAIGN = """title: 组队测试
start: 2020-01-01
end: 2099-12-31
channels: [app]  # points for sharing are refused for WeChat (诱导分享)
points:
  actions:
    read: {points: 10}
    share: {points: 5, per_day: 2}
rewards:
  - {id: pack, name: 家庭礼包, threshold: 20, scope: team}
team:
  size: 2
  unlock: {points: 20, reward: pack}
"""
PAGE = "::: team family\nintro: 两人一队\nlabels: {read: 读一节小课}\n:::\n"


def fits(page, width: int) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("() => document.documentElement.scrollWidth") <= width


def inside(inner, outer) -> bool:  # type: ignore[no-untyped-def]
    """`inner` lies within `outer` horizontally (nothing pokes out of the card)."""
    i, o = inner.bounding_box(), outer.bounding_box()
    return o["x"] <= i["x"] and i["x"] + i["width"] <= o["x"] + o["width"]


def test_needs_teams_in_the_campaign_and_labels_name_actions(tmp_path):
    result = build(one_page_site(tmp_path, PAGE, CAMPAIGN.split("rewards:")[0]))
    assert 'content/c/index.md:5: team "family": campaign.yaml has no `team:`' in result.stderr
    result = build(one_page_site(tmp_path / "b", PAGE.replace("{read:", "{reed:"), CAMPAIGN))
    assert 'content/c/index.md:5: team "family": labels.reed: "reed" is not an action in points.actions (did you mean "read"?)' in result.stderr
    result = build(one_page_site(tmp_path / "c", "::: team\n:::\n", CAMPAIGN))
    assert "content/c/index.md:5: team: an id is required" in result.stderr


def test_readable_before_its_script(tmp_path):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "组队需要活动服务器" in html and "读一节小课" in html and "+5 积分 · 每天 2 次" in html
    assert html.count("等待好友加入") == 2 and "团队积分满 20 分，每位队员都能领取「家庭礼包」" in html


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_without_a_server_it_explains_and_lists_what_counts_alone(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html?team=ABCD2345", width, "block")
    box = page.locator('[data-h5c="team"]')
    assert layout_shift(page) == 0
    assert box.get_by_text("组队需要活动服务器").is_visible()
    assert box.get_by_role("button", name="创建队伍").count() == 0 or not box.get_by_role("button", name="创建队伍").is_visible()
    assert box.locator('[data-action="read"]').inner_text().startswith("读一节小课")
    server.stop()  # offline: counting alone still works
    page.evaluate("() => h5press.award('read')")
    assert box.locator('[data-action="read"] [data-n]').inner_text() == "已做 1 次"
    server.start()
    page.reload()
    assert page.locator('[data-action="read"] [data-n]').inner_text() == "已做 1 次"
    assert page.locator('[data-action="share"] [data-n]').inner_text() == "已做 0 次"
    assert page.evaluate("() => h5press.selftest()") == [] and fits(page, width)
    assert errors == []
    context.close()


def person(browser, url: str, width: int):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True,
                                  service_workers="block", permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector('[data-h5c="team"][data-h5-ready]')
    return context, page, errors


def members(team: Locator) -> list[list[str]]:
    """Each member's name and points as the list shows them (read from the DOM: innerText's line
    breaks depend on whether the list was laid out at that instant)."""
    return team.locator("[data-members] li").evaluate_all("els => els.map(li => [...li.children].map(c => c.textContent))")


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_create_invite_join_live_and_the_errors(tmp_path, site_with_api, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    site = site_with_api(root)
    assert build(root).exit_code == 0
    url = site.url("c/index.html")

    # 小周 creates a team
    a, pa, errors_a = person(browser, url, width)
    team = pa.locator('[data-h5c="team"]')
    team.get_by_label("或者自己建一支队，起个队名").fill("小周一家")
    team.get_by_role("button", name="创建队伍").tap()
    pa.wait_for_selector('[data-view="team"]:not([hidden])')
    assert team.locator("[data-name]").inner_text() == "小周一家"
    code = team.locator("[data-code]").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{8}", code)
    assert team.get_by_role("status").inner_text() == "队伍已建好，把邀请链接发给两位好友吧。"
    assert members(team) == [["队员 1（我）", "0 积分"], ["空位", "等待好友加入"]]

    # the invite link: by Web Share (a phone's share sheet, stood in for here) or copied; each counts as a share
    link = team.get_by_label("邀请链接（好友打开即可加入）").input_value()
    assert link.startswith(url + "?team=" + code + "&ref=")
    shares = "() => window.shares"  # the share events' payloads, as the component emits them
    pa.evaluate("""() => { const emit = h5press.emit; window.shares = [];
        h5press.emit = (t, c, p) => { if (t === 'share') shares.push(p); return emit(t, c, p); }; }""")
    pa.evaluate("() => { navigator.share = data => { window.shared = data; return Promise.resolve(); }; }")
    team.get_by_role("button", name="邀请好友").tap()
    pa.wait_for_function("() => document.querySelector('[data-status]').textContent === '邀请已发出。'")
    first = pa.evaluate(shares)[0]  # each invite has its own share id, as ref on the link it sends
    assert pa.evaluate("() => window.shared") == {"title": "组队测试", "text": f"来和我组队：「小周一家」，邀请码 {code}",
                                                  "url": url + "?team=" + code + "&ref=" + first["share"]}
    team.get_by_role("button", name="复制链接").tap()
    pa.wait_for_function("() => document.querySelector('[data-status]').textContent.includes('已复制')")
    second = pa.evaluate(shares)[-1]
    link = pa.evaluate("() => navigator.clipboard.readText()")
    assert link == second["url"] == url + "?team=" + code + "&ref=" + second["share"] and second["share"] != first["share"]
    assert pa.evaluate("() => h5press.wallet().total") == 10
    pa.wait_for_function("() => document.querySelector('[data-points]').textContent === '10'")  # once the server counted both
    assert team.locator("[data-unlock]").inner_text() == "还差 10 分，每位队员都能领取「家庭礼包」。"

    # 小青 opens the link and joins with one tap; 小周's page follows live, with no reload
    b, pb, errors_b = person(browser, link, width)
    joiner = pb.locator('[data-h5c="team"]')
    assert joiner.get_by_role("status").inner_text() == f"好友邀请你加入队伍（邀请码 {code}），点「加入队伍」就行。"
    assert joiner.get_by_label("好友的邀请码").input_value() == code
    joiner.get_by_role("button", name="加入队伍").tap()
    pb.wait_for_selector('[data-view="team"]:not([hidden])')
    assert joiner.locator("[data-name]").inner_text() == "小周一家"
    assert joiner.get_by_role("status").inner_text() == "已加入队伍「小周一家」。"
    pa.wait_for_function("() => !document.querySelector('[data-members] .is-empty')", timeout=5000)
    joiner.get_by_label("我的昵称（队友和排行榜上显示）").fill("  小青 ")
    joiner.get_by_role("button", name="保存").tap()
    pb.wait_for_function("() => document.querySelector('[data-status]').textContent === '昵称已保存。'")
    pb.wait_for_function("() => document.querySelector('[data-members] .is-me').textContent.startsWith('小青（我）')")
    pb.evaluate("() => h5press.award('read')")
    pa.wait_for_function("() => document.querySelector('[data-points]').textContent === '20'", timeout=5000)
    assert members(team) == [["队员 1（我）", "10 积分"], ["小青", "10 积分"]]
    assert team.locator("[data-unlock]").inner_text() == "已解锁「家庭礼包」，每位队员都可以去领取。"
    assert team.locator("[data-bar]").evaluate("p => p.value") == 20

    # a third person: a wrong code, the full team, then an own team, first tried offline
    c, pc, errors_c = person(browser, url, width)
    third = pc.locator('[data-h5c="team"]')
    third.get_by_label("好友的邀请码").fill("zzzz2222")
    third.get_by_role("button", name="加入队伍").tap()
    third.get_by_role("alert").wait_for()
    assert third.get_by_role("alert").inner_text().startswith("没有找到这个邀请码对应的队伍，请核对后重试。")
    third.get_by_label("好友的邀请码").fill(code.lower())
    third.get_by_role("button", name="加入队伍").tap()
    pc.wait_for_function("() => document.querySelector('[data-msg]').textContent.startsWith('这支队伍已经满员了')")
    assert third.locator('[data-view="start"]').is_visible()
    third.get_by_label("或者自己建一支队，起个队名").fill("阿杰的队")
    c.set_offline(True)
    third.get_by_role("button", name="创建队伍").tap()
    assert third.get_by_role("alert").inner_text().startswith("网络不可用，请联网后点「重试」。")
    c.set_offline(False)
    third.get_by_role("button", name="重试").tap()
    pc.wait_for_selector('[data-view="team"]:not([hidden])')
    assert third.get_by_role("alert").is_hidden() and third.locator("[data-name]").inner_text() == "阿杰的队"

    # a nickname that cannot be saved offline stays for the retry
    nickname = joiner.get_by_label("我的昵称（队友和排行榜上显示）")
    nickname.fill("小青青")
    b.set_offline(True)
    joiner.get_by_role("button", name="保存").tap()
    joiner.get_by_role("alert").wait_for()
    assert nickname.input_value() == "小青青"
    b.set_offline(False)
    joiner.get_by_role("button", name="重试").tap()
    pb.wait_for_function("() => document.querySelector('[data-members] .is-me').textContent.startsWith('小青青（我）')")

    # reload: the team is still shown (from the server's /me), events reached the server
    pb.reload()
    pb.wait_for_selector('[data-view="team"]:not([hidden])')
    assert pb.locator("[data-code]").inner_text() == code
    assert pb.evaluate("() => h5press.selftest()") == [] and fits(pb, width) and fits(pa, width)
    assert inside(pb.locator("[data-link]"), pb.locator('[data-h5c="team"]'))
    for p in (pa, pb, pc):
        p.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:c:outbox') || '[]').length === 0")
    types = [t for (t,) in site.rows("SELECT type FROM events WHERE type LIKE 'team.%' OR type = 'share' ORDER BY pk")]
    assert sorted(set(types)) == ["share", "team.create", "team.join", "team.nickname"] and types.count("team.create") == 2
    assert errors_a == errors_b == errors_c == []
    for context in (a, b, c):
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_after_the_campaign_nobody_can_form_a_team(tmp_path, site_with_api, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN.replace("end: 2099-12-31", "end: 2021-01-31"))
    site = site_with_api(root)
    assert build(root).exit_code == 0
    context, page, errors = person(browser, site.url("c/index.html?team=ABCD2345"), width)
    team = page.locator('[data-h5c="team"]')
    assert team.get_by_role("status").inner_text() == "活动已经结束，不能再组队了。"
    assert team.get_by_role("button", name="加入队伍").is_disabled() and team.get_by_role("button", name="创建队伍").is_disabled()
    assert page.evaluate("() => h5press.selftest()") == [] and fits(page, width)
    assert errors == []
    context.close()
