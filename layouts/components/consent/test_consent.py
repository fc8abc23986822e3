"""consent: the choice is remembered and gates what leaves the device (real Chromium)."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site


def test_text_and_policy_come_from_the_campaign(tmp_path):
    campaign = "title: t\nconsent:\n  required: true\n  text: 我们只收集活动所需数据。\n  policy_url: https://bank.example.com/privacy\n"
    root = one_page_site(tmp_path, "::: consent\n:::\n", campaign)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "我们只收集活动所需数据。" in html and "https://bank.example.com/privacy" in html


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_agreeing_releases_the_outbox(tmp_path, site_with_api, browser, width):
    campaign = "title: t\nstart: 2020-01-01\nend: 2099-12-31\nconsent:\n  required: true\n"
    root = one_page_site(tmp_path, "::: consent\n:::\n", campaign)
    site = site_with_api(root)
    assert build(root).exit_code == 0
    page = browser.new_page(viewport={"width": width, "height": 640})
    page.goto(site.url("c/index.html"))
    box = page.locator('[data-h5c="consent"]')
    box.get_by_role("button", name="暂不同意").click()
    assert box.locator(".h5c-consent__state").inner_text() == "未同意：数据只保存在本机"
    page.wait_for_timeout(200)
    assert site.rows("SELECT count(*) FROM events") == [(0,)]
    box.get_by_role("button", name="同意", exact=True).click()
    page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:c:outbox')).length === 0", timeout=5000)
    sent = [t for (t,) in site.rows("SELECT type FROM events ORDER BY pk")]
    assert sent[0] == "view" and "consent" in sent
    page.reload()
    assert page.locator(".h5c-consent__state").inner_text() == "已同意，可随时更改"
    page.close()
