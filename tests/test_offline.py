"""End to end in real Chromium: a served bundle keeps working when the server is gone,
and a new build is offered to open pages through the update prompt."""
from __future__ import annotations

import pytest

from h5fixtures import build, open_served, write_tree

pytestmark = pytest.mark.browser

def test_bundle_works_offline_after_first_visit(make_project, serve, browser):
    server, context, page, errors = open_served(make_project(), serve, browser, "demo/index.html")
    assert page.locator("h1").inner_text() == "活动首页"

    server.stop()  # the network is really gone: connections are refused
    page.reload()
    assert page.locator("h1").inner_text() == "活动首页"
    page.get_by_role("link", name="第一篇").first.click()
    page.wait_for_url("**/demo/article.html")
    assert page.locator("h1").inner_text() == "第一篇文章"
    assert page.locator(".h5-prose img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    page.goto(server.url("demo/guide/intro.html"))
    assert page.locator("h1").inner_text() == "参与指南"
    page.goto(server.url("demo/never-built.html"))
    assert page.locator("h1").inner_text() == "网络不可用"
    assert errors == []
    context.close()


def test_new_build_shows_update_prompt(make_project, serve, browser):
    root = make_project()
    _, context, page, errors = open_served(root, serve, browser, "demo/article.html")
    assert page.locator("#h5-update").is_hidden()

    write_tree(root, {"content/demo/article.md": "---\ntitle: 第一篇文章（修订）\n---\n新的正文\n"})
    assert build(root).exit_code == 0
    page.reload()
    prompt = page.locator("#h5-update")
    prompt.wait_for(state="visible", timeout=15000)
    prompt.get_by_role("button").click()
    page.wait_for_function("() => document.querySelector('h1').textContent.includes('修订')", timeout=15000)
    assert errors == []
    context.close()


def test_kill_switch_unregisters_the_worker(make_project, serve, browser):
    root = make_project()
    _, context, page, errors = open_served(root, serve, browser, "demo/index.html")
    write_tree(root, {"h5press.yaml": "service_worker: false\n"})
    assert build(root).exit_code == 0
    page.reload()
    page.wait_for_function("""async () => (await navigator.serviceWorker.getRegistrations()).length === 0
                                           && (await caches.keys()).length === 0""", timeout=15000)
    page.wait_for_function("() => navigator.serviceWorker.controller === null", timeout=15000)
    assert page.evaluate("document.documentElement.dataset.sw") == "0"
    context.close()


def test_campaign_window_notice(make_project, serve, browser):
    root = make_project({"content/demo/campaign.yaml": "title: 已结束\nstart: 2020-01-01\nend: 2020-01-31\n"})
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    page = browser.new_page(viewport={"width": 375, "height": 667})
    page.goto(server.url("demo/index.html"))
    notice = page.locator("#h5-window")
    assert notice.is_visible() and "活动已结束" in notice.inner_text()
    assert page.evaluate("document.documentElement.dataset.window") == "after"
    page.close()
