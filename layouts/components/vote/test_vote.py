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
