"""task: actions checked against campaign.yaml; the visitor's progress from the device at once
and offline; `reached` counts reading to the end of an article; with a real `h5press api` and a
team, each member's progress and the team's completion — real Chromium at 375 and 320 px."""
from __future__ import annotations

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served, write_tree

CAMPAIGN = """title: 任务测试
start: 2020-01-01
end: 2099-12-31
channels: [app]  # progress for sharing is refused for WeChat (诱导分享)
points:
  actions:
    read: {points: 10, per_day: 3}
    share: {points: 5, per_campaign: 2}
    survey: {points: 20, per_campaign: 1}
team:
  size: 2
"""
PAGE = """::: task family-tasks
tasks:
  - {action: read, label: 读两节小课, count: 2, href: lesson.md}
  - {action: share, label: 邀请队友}
  - {action: survey, label: 填写问卷}
:::
"""
LESSON = "---\ntitle: 第一课\n---\n\n" + "正文。\n\n" * 60 + "::: task lesson\ntitle: 本课任务\nreached: read\ntasks:\n  - {action: read, label: 读完小课, count: 2}\n:::\n"


def chips(box, action: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The member chips of one task, as the visitor reads them."""
    return box.locator(f'[data-action="{action}"] [data-members] span').all_inner_texts()


def site(tmp_path):  # type: ignore[no-untyped-def]
    return write_tree(one_page_site(tmp_path, PAGE, CAMPAIGN), {"content/c/lesson.md": LESSON})


def test_actions_must_be_in_the_campaign(tmp_path):
    result = build(one_page_site(tmp_path, PAGE.replace("action: read", "action: reed"), CAMPAIGN))
    assert ('content/c/index.md:5: task "family-tasks": tasks[0].action: "reed" is not an action in campaign.yaml '
            'points.actions (did you mean "read"?); actions: read, share, survey') in result.stderr
    result = build(one_page_site(tmp_path / "b", PAGE.replace("label: 邀请队友}", "label: 邀请队友, count: 3}"), CAMPAIGN))
    assert ('task "family-tasks": tasks[1].count: 3 can never be reached: points.actions.share.per_campaign counts at most 2'
            in result.stderr)
    result = build(one_page_site(tmp_path / "c", PAGE.replace("tasks:", "reached: reading\ntasks:"), CAMPAIGN))
    assert 'task "family-tasks": reached: "reading" is not an action in campaign.yaml points.actions (did you mean "read"?)' in result.stderr
    result = build(one_page_site(tmp_path / "d", PAGE.replace("  - {action: share, label: 邀请队友}\n", "  - {action: share}\n"), CAMPAIGN))
    assert 'content/c/index.md:8: task "family-tasks": tasks[1].label: is required' in result.stderr


def test_readable_before_its_script(tmp_path):
    root = site(tmp_path)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "读两节小课" in html and 'href=lesson.html' in html and "进度记在本机，离线也能继续。" in html
    assert "组队后这里显示" not in html  # no server: no member rows reserved


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_progress_from_the_device_offline_and_reading_to_the_end(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(site(tmp_path), serve, browser, "c/index.html", width, "block")
    box = page.locator('[data-h5c="task"]')
    assert layout_shift(page) == 0
    assert box.locator("[data-pct]").inner_text() == "0%" and box.locator("[data-scope]").inner_text() == "我的完成度"
    server.stop()
    page.evaluate("() => { h5press.award('read'); h5press.award('share'); }")
    assert box.locator('[data-action="read"] [data-state]').inner_text() == "1/2"
    assert box.locator('[data-action="share"] [data-state]').inner_text() == "已完成"
    assert box.locator("[data-pct]").inner_text() == "50%"  # 2 of 4 steps
    server.start()
    box.get_by_role("link", name="读两节小课").tap()
    lesson = page.locator('[data-id="lesson"]')
    page.wait_for_selector('[data-id="lesson"][data-h5-ready]')
    assert page.evaluate("() => h5press.wallet().total") == 15  # not counted before the end is reached
    lesson.scroll_into_view_if_needed()
    page.wait_for_function("() => h5press.wallet().total === 25")
    assert lesson.get_by_role("status").inner_text() == "读完了，+10 积分！"
    assert lesson.locator('[data-action="read"] [data-state]').inner_text() == "已完成"
    page.reload()
    page.locator('[data-id="lesson"]').scroll_into_view_if_needed()
    assert page.locator('[data-id="lesson"] [data-note]').inner_text() == "本文已读完，积分已记上。"
    assert page.evaluate("() => h5press.wallet().total") == 25  # once per article
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    assert [e["payload"] for e in outbox if e["type"] == "task.reached"] == [{"action": "read", "points": 10}]
    page.go_back()
    assert page.locator('[data-h5c="task"] [data-pct]').inner_text() == "75%"
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_each_members_progress_and_the_team_completion(tmp_path, site_with_api, browser, width):
    root = site(tmp_path)
    server = site_with_api(root)
    assert build(root).exit_code == 0
    people = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True, service_workers="block")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        page.goto(server.url("c/index.html"))
        page.wait_for_selector('[data-h5c="task"][data-h5-ready]')
        people.append((context, page, errors))
    (a, pa, errors_a), (b, pb, errors_b) = people
    box = pa.locator('[data-h5c="task"]')
    assert box.locator('[data-action="read"] [data-members]').inner_text() == "组队后这里显示每位队友的进度"
    code = pa.evaluate("() => h5press.api('POST', '/teams', {name: '小周一家'}).then(t => t.code)")
    pa.evaluate("() => h5press.refresh()")
    pa.wait_for_function("() => document.querySelector('[data-scope]').textContent === '团队完成度'")
    assert chips(box, "read") == ["我 0/2", "空位"]
    pa.evaluate("() => { h5press.award('read'); h5press.award('share'); }")  # shown at once, before the server answers
    assert chips(box, "share") == ["✓ 我 1/1", "空位"]
    assert box.locator("[data-pct]").inner_text() == "25%"  # 2 of 8 steps: 2 members × (2 + 1 + 1)
    pb.evaluate("code => h5press.api('POST', '/teams/join', {code}).then(() => h5press.api('POST', '/me', {nickname: '小青'}))", code)
    pb.evaluate("() => { h5press.award('survey'); h5press.award('read'); h5press.award('read'); }")
    pb.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:c:outbox') || '[]').length === 0")
    pa.wait_for_function("() => document.querySelector('[data-pct]').textContent === '63%'", timeout=5000)  # live, no reload  # 5 of 8
    assert chips(box, "read") == ["我 1/2", "✓ 小青 2/2"]
    assert chips(box, "survey") == ["我 0/1", "✓ 小青 1/1"]
    assert box.locator('[data-action="survey"] [data-state]').inner_text() == "0/1"  # the visitor's own state
    pa.reload()
    assert pa.locator('[data-h5c="task"] [data-pct]').inner_text() == "63%"  # from the stored /me, before any request
    assert pa.evaluate("() => h5press.selftest()") == []
    assert pa.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors_a == errors_b == []
    a.close()
    b.close()
