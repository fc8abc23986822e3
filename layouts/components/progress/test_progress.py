"""progress: tasks follow the visitor's counted actions (real Chromium)."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site, open_served

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\npoints:\n  actions:\n    read: {points: 2}\n    checkin: {points: 5, per_day: 1}\n"
PAGE = "::: progress\ntasks:\n  - {label: 打卡一次, action: checkin}\n  - {label: 读三篇, action: read, count: 3}\n:::\n"


def test_unknown_action_is_an_error(tmp_path):
    result = build(one_page_site(tmp_path, PAGE.replace("action: read", "action: reed"), CAMPAIGN))
    assert 'content/c/index.md:5: progress: tasks[1].action: "reed" is not an action in points.actions (did you mean "read"?)' in result.stderr


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_tasks_complete_as_actions_are_counted(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    box = page.locator('[data-h5c="progress"]')
    assert box.locator("[data-done]").inner_text() == "0"
    page.evaluate("() => { h5press.award('read'); h5press.award('read'); h5press.award('checkin'); }")
    assert box.locator("[data-done]").inner_text() == "1"
    assert box.locator('[data-action="read"] [data-state]').inner_text() == "2/3"
    page.evaluate("() => h5press.award('read')")
    page.reload()
    assert page.locator('[data-h5c="progress"] [data-done]').inner_text() == "2"
    assert page.evaluate("() => document.querySelector('[data-bar]').value") == 2
    assert errors == []
    context.close()
