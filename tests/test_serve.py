"""`h5press serve` in real Chromium: a save reloads the page; a build error shows an overlay
over the last good build, and fixing the file clears it."""
from __future__ import annotations

import time

import pytest

from h5fixtures import write_tree
from h5press.serve.dev import DevServer

pytestmark = pytest.mark.browser


def wait_builds(server: DevServer, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while server.builds < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.builds >= count, "no rebuild after the change"


def test_live_reload_and_error_overlay(make_project, browser):
    root = make_project()
    server = DevServer(root, root / "dist", port=0, log=lambda message: None)
    server.start()
    try:
        page = browser.new_page()
        page.goto(server.url("demo/article.html"))
        assert page.evaluate("document.documentElement.dataset.sw") == "0"  # no service worker in development
        deadline = time.monotonic() + 10
        while not server.broadcaster.clients and time.monotonic() < deadline:  # the page is listening
            time.sleep(0.02)

        source = root / "content/demo/article.md"
        page.evaluate("() => { window.sameDocument = true; }")
        write_tree(root, {"content/demo/article.md": source.read_text().replace("列表一", "实时更新的列表")})
        page.wait_for_function("() => document.body.textContent.includes('实时更新的列表')", timeout=10000)
        assert page.evaluate("() => window.sameDocument") is True  # text only: swapped in place, no reload

        builds = server.builds
        write_tree(root, {"content/demo/article.md": "---\ntitle: [坏的\n---\n"})
        wait_builds(server, builds + 1)
        overlay = page.locator("#h5press-error")
        overlay.wait_for(state="visible", timeout=10000)
        assert "content/demo/article.md:2: invalid YAML" in overlay.inner_text()
        assert "实时更新的列表" in (root / "dist/demo/article.html").read_text()  # the last good build is still served

        write_tree(root, {"content/demo/article.md": "---\ntitle: 修好了\n---\n修好的正文\n"})
        page.wait_for_function("() => document.body.textContent.includes('修好的正文')", timeout=10000)
        assert page.locator("#h5press-error").count() == 0

        page.evaluate("() => { window.sameDocument = true; }")  # a component needs its script: a real reload
        write_tree(root, {"content/demo/article.md": "---\ntitle: 修好了\n---\n::: disclosure\ntext: 新加的风险提示。\n:::\n"})
        page.wait_for_function("() => document.body.textContent.includes('新加的风险提示')", timeout=10000)
        assert page.evaluate("() => window.sameDocument") is None
        page.close()
    finally:
        server.stop()
