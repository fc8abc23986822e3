"""vote: schema, single and multiple choice, one vote kept across reloads, the event in the outbox."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site, open_served

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n"
PAGE = """::: vote mode
question: 你最常用的出行方式？
options: [地铁, 公交, 骑行]
:::

::: vote reasons
question: 为什么选择低碳出行？
options: [省钱, 环保, 健康, 方便]
multiple: true
max: 2
:::
"""


def test_max_cannot_exceed_the_options(tmp_path):
    result = build(one_page_site(tmp_path, PAGE.replace("max: 2", "max: 5"), CAMPAIGN))
    assert 'content/c/index.md:14: vote "reasons": max: 5 is more than the 4 options' in result.stderr


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_single_and_multiple_choice_votes(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    single = page.locator('[data-id="mode"]')
    single.get_by_role("button", name="公交").click()
    single.get_by_role("button", name="骑行").click()  # a single-choice vote keeps the last tap
    single.get_by_role("button", name="投票").click()
    multi = page.locator('[data-id="reasons"]')
    for name in ("省钱", "环保", "健康"):  # the third is refused: max 2
        multi.get_by_role("button", name=name).click()
    assert multi.locator('[aria-pressed="true"]').count() == 2
    multi.get_by_role("button", name="投票").click()
    page.reload()
    assert page.locator('[data-id="mode"] [aria-pressed="true"]').inner_text().startswith("骑行")
    assert page.locator('[data-id="mode"] .h5c-vote__go').is_disabled()
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    assert [(e["component"], e["payload"]["choices"]) for e in outbox if e["type"] == "vote"] == [("mode", [3]), ("reasons", [1, 2])]
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_live_tallies_from_the_server(tmp_path, site_with_api, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    site = site_with_api(root)
    assert build(root).exit_code == 0
    phones = []
    try:  # closed also after a failure: open live streams would outlive the test in the shared browser
        for _ in range(2):
            context = browser.new_context(viewport={"width": width, "height": 700}, is_mobile=True, has_touch=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.goto(site.url("c/index.html"))
            phones.append((context, page, errors))
        (_, mine, my_errors), (_, theirs, _) = phones
        vote = mine.locator('[data-id="mode"]')
        assert vote.locator("[data-share]").all_inner_texts() == ["", "", ""]  # no tallies before voting
        vote.get_by_role("button", name="骑行").click()
        vote.get_by_role("button", name="投票").click()
        # at once, before the vote has even reached the server, then as the server counts it
        mine.wait_for_function("() => document.querySelector('[data-id=\"mode\"] .h5c-vote__state').textContent === '已投票 · 共 1 人参与'")
        assert vote.locator("[data-share]").all_inner_texts() == ["0%", "0%", "100%"]
        # once the vote has left the outbox, the block reads the tally again; a fresh page reads it once
        mine.wait_for_function("() => !(JSON.parse(localStorage.getItem('h5press:c:outbox')) || []).some(e => e.type === 'vote')")
        with mine.expect_response(lambda r: r.request.method == "GET" and "/votes/mode" in r.url):
            mine.reload()
        mine.wait_for_function("() => document.querySelector('[data-id=\"mode\"] .h5c-vote__state').textContent === '已投票 · 共 1 人参与'")
        reads: list[str] = []  # the tally read by GET: the fallback when the live stream fails (every 15 s)
        mine.on("request", lambda r: reads.append(r.url) if r.method == "GET" and "/votes/mode" in r.url else None)
        other = theirs.locator('[data-id="mode"]')
        other.get_by_role("button", name="地铁").click()
        other.get_by_role("button", name="投票").click()
        mine.wait_for_function("() => document.querySelector('[data-id=\"mode\"] .h5c-vote__state').textContent === '已投票 · 共 2 人参与'")
        assert reads == []  # pushed by the server's stream, without a reload or a read: however slow the machine
        assert vote.locator("[data-share]").all_inner_texts() == ["50%", "0%", "50%"]
        assert site.rows("SELECT choices FROM votes WHERE vote = 'mode' ORDER BY choices") == [("[1]",), ("[3]",)]
        mine.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
        mine.reload()
        mine.wait_for_function("() => document.querySelector('[data-id=\"mode\"] .h5c-vote__state').textContent === '已投票 · 共 2 人参与'")
        assert mine.evaluate("() => h5press.selftest()") == []
        # the server out of reach on a phone that believes itself online: the tallies the phone last read
        site.stop_api()
        mine.reload()
        mine.wait_for_function("() => document.querySelector('[data-id=\"mode\"] .h5c-vote__state').textContent === '已投票 · 共 2 人参与'")
        assert mine.evaluate("navigator.onLine") and vote.locator("[data-share]").all_inner_texts() == ["50%", "0%", "50%"]
        assert my_errors == []
    finally:
        for context, _, _ in phones:
            context.close()
