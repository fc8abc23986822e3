"""share: build-time QR code, copy-link fallback with a ref, poster drawn in real Chromium."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site

CAMPAIGN = "title: 分享测试\nstart: 2020-01-01\nend: 2099-12-31\nchannels: [browser]\npoints:\n  actions:\n    share: {points: 5, per_day: 1}\n"


def test_qr_code_is_inline_svg_of_the_page_url(tmp_path):
    assert build(one_page_site(tmp_path, "::: share\ntext: 一起来\n:::\n", CAMPAIGN)).exit_code == 0
    html = (tmp_path / "dist/c/index.html").read_text()
    assert "<svg class=h5-qr height=" in html and "扫码打开本页" in html
    assert "ref=qr" not in html  # encoded in the QR code, not printed


def test_no_base_url_means_no_qr_code(tmp_path):
    root = one_page_site(tmp_path, "::: share\n:::\n", CAMPAIGN)
    (root / "h5press.yaml").write_text("locale: zh-CN\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "h5-qr" not in html and "生成海报" not in html and "复制链接" in html


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_copy_link_and_poster(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, "::: share\ntext: 一起来参加绿色低碳月，每天打卡赢出行券！\n:::\n", CAMPAIGN)
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    context = browser.new_context(viewport={"width": width, "height": 700}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server.url("c/index.html"))
    box = page.locator('[data-h5c="share"]')
    box.get_by_role("button", name="复制链接").click()
    page.wait_for_function("() => document.querySelector('.h5c-share__state').textContent.includes('已复制')")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    shares = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:analytics')).filter(e => e.type == 'share')")
    assert copied == server.url(f"c/index.html?ref={shares[0]['payload']['share']}") == shares[0]["payload"]["url"]
    poster = box.locator(".h5c-share__poster img")
    assert poster.count() == 0  # an <img> without a source is invalid HTML: it comes with the picture
    box.get_by_role("button", name="生成海报").click()
    assert poster.is_visible() and poster.get_attribute("src").startswith("data:image/png;base64,")
    assert poster.get_attribute("alt") == "分享海报：长按保存或发送给好友" and poster.get_attribute("height") == "900"
    box.get_by_role("button", name="生成海报").click()
    assert poster.count() == 1  # drawn again into the same <img>
    assert poster.evaluate("img => img.naturalWidth") == 600
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    shares = [e["payload"] for e in outbox if e["type"] == "share"]
    assert [s["channel"] for s in shares] == ["copy", "poster", "poster"] and len({s["share"] for s in shares}) == 3
    assert page.evaluate("() => h5press.wallet().total") == 5  # per_day: 1
    context.close()
