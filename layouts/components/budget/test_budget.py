"""budget: schema rules with their key paths, and a whole month played in real Chromium (allocate,
weeks from a fixed seed, report and score, reload mid-game, points once, outbox)."""
from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from h5fixtures import build, layout_shift, one_page_site, open_served
from h5press.generator.components import registry

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n"
PAGE = """::: budget month
income: 8000
seed: 7
categories:
  - {id: rent, label: 房租, min: 2500, max: 3500, default: 2500, essential: true}
  - {id: food, label: 餐饮, min: 1000, max: 2500, default: 1500, essential: true}
  - {id: fun, label: 娱乐, min: 0, max: 2000, default: 1000}
  - {id: card, label: 信用卡还款, kind: repay, bill: 1500, minimum: 150, min: 0, max: 2000, default: 1500}
  - {id: save, label: 储蓄, kind: savings, min: 0, max: 4000, default: 1000}
events:
  - {text: 感冒去医院，自付药费, category: food, amount: -300}
  - {text: 发了季度奖金, category: save, amount: 1000}
  - {text: 朋友婚礼随礼, category: fun, amount: -800}
  - {text: 手机摔坏了，换屏, category: fun, amount: -600}
advice:
  - {min_score: 0, title: 收支告急}
  - {min_score: 60, title: 基本平衡}
  - {min_score: 85, title: 精明理财, text: 继续保持}
points: 20
:::
"""


def schema_errors(tmp_path: Path, config: dict) -> dict[str, str]:
    """Key path → message, straight from the schema (no build): the fast check of every rule."""
    try:
        registry(tmp_path)["budget"].schema.model_validate(config)
    except ValidationError as exc:
        return {".".join(map(str, e["loc"])): e["msg"] for e in exc.errors()}
    return {}


def cat(id_: str, lo: int, hi: int, default: int, **more: object) -> dict:
    return {"id": id_, "label": id_, "min": lo, "max": hi, "default": default, **more}


def test_schema_rules_report_each_key_path(tmp_path):
    good = {"income": 5000, "categories": [cat("rent", 2000, 3000, 2000), cat("save", 0, 3000, 1000, kind="savings")]}
    assert schema_errors(tmp_path, good) == {}
    bad = {"income": 5000, "categories": [cat("rent", 2000, 3000, 1500), cat("rent", 0, 6000, 100, kind="savings"),
                                          cat("card", 500, 100, 100, kind="repay", bill=1000, minimum=2000),
                                          cat("x", 0, 100, 50, bill=10)],
           "events": [{"text": "a", "category": "food", "amount": -1}, {"text": "b", "category": "rent", "amount": 1, "chance": 1.5}],
           "advice": [{"min_score": 10, "title": "a"}, {"min_score": 10, "title": "b"}]}
    errors = schema_errors(tmp_path, bad)
    assert errors["events.1.chance"] == "Input should be less than or equal to 1"  # field rules first, then the cross-key rules
    errors = schema_errors(tmp_path, {**bad, "events": bad["events"][:1]})
    assert errors == {
        "categories.0.default": "1500 is outside min–max (2000–3000)",
        "categories.1.id": '"rent" is used by another category; ids are unique',
        "categories.1.max": "6000 is more than the income 5000",
        "categories.2.min": "500 is more than max 100",
        "categories.2.minimum": "2000 is more than the bill 1000",
        "categories.3.bill": "only a kind: repay category has a bill",
        "events.0.category": '"food" is not a category id (card, rent, x)',
        "advice.1.min_score": "10 must be more than the band before (10); bands go from low to high",
        "advice.0.min_score": "the first band must start at 0, so every score has advice",
    }
    over = {"income": 1000, "categories": [cat("a", 0, 1000, 600), cat("b", 0, 1000, 600, kind="savings", )]}
    assert schema_errors(tmp_path, over) == {"categories": "the defaults add up to 1200, more than the income 1000"}
    assert schema_errors(tmp_path, {**good, "categories": good["categories"][:1] * 2})["categories"].startswith("needs one category")


def test_errors_in_the_build_name_file_line_and_key(tmp_path):
    page = PAGE.replace("id: fun,", "id: food,").replace("category: save", "category: bonus").replace("{min_score: 60", "{min_score: 90")
    result = build(one_page_site(tmp_path, page, CAMPAIGN))
    assert result.exit_code == 1
    assert 'content/c/index.md:11: budget "month": categories[2].id: "food" is used by another category; ids are unique' in result.stderr
    assert 'content/c/index.md:16: budget "month": events[1].category: "bonus" is not a category id' in result.stderr
    assert 'content/c/index.md:22: budget "month": advice[2].min_score: 85 must be more than the band before (90)' in result.stderr
    result = build(one_page_site(tmp_path, PAGE.replace("points: 20\n", ""), CAMPAIGN))
    assert 'content/c/index.md:5: budget "month": points: is required: campaign.yaml has no points.actions.budget' in result.stderr


def test_rules_and_categories_readable_before_js(tmp_path):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "把月收入 <b>8000</b> 元" in html and "本期信用卡账单 1500 元，最低还款 150 元" in html
    assert '还可分配 <b data-left>500</b> 元' in html  # 8000 − the defaults, before any script
    assert html.count('type=range') == 5 and html.count("disabled") >= 5 * 3 + 1


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 375])
def test_play_a_month_reload_midway_score_points_once(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(one_page_site(tmp_path, PAGE, CAMPAIGN), serve, browser, "c/index.html", width, "block")
    assert layout_shift(page) == 0
    box = page.locator('[data-h5c="budget"]')
    status = box.locator(".h5c-budget__status")
    go = box.get_by_role("button", name="开始这个月")
    assert "还可分配 500 元" in status.inner_text() and go.is_disabled()
    box.get_by_label("娱乐", exact=True).fill("2000")  # the slider can overshoot: shown, start refused
    assert "超出 500 元" in status.inner_text() and go.is_disabled()
    box.get_by_label("娱乐", exact=True).fill("1000")
    for _ in range(5):
        box.get_by_role("button", name="储蓄增加 100 元").tap()
    assert box.locator('[data-cat="save"] [data-amount]').inner_text() == "1500"
    assert box.get_by_role("button", name="储蓄增加 100 元").is_disabled()  # nothing left to allocate
    go.tap()
    nxt = box.locator(".h5c-budget__next")
    nxt.tap()
    nxt.tap()
    log = box.locator(".h5c-budget__log li").all_inner_texts()
    assert len(log) == 2 and all("周：" in line for line in log)
    page.reload()  # mid-game: the step, the week and the drawn events come back
    box = page.locator('[data-h5c="budget"]')
    assert box.locator(".h5c-budget__play").is_visible() and box.locator("[data-week]").inner_text() == "2"
    assert box.locator(".h5c-budget__log li").all_inner_texts() == log
    box.locator(".h5c-budget__next").tap()
    box.get_by_role("button", name="最后一周，看月底报告").tap()
    report = box.locator(".h5c-budget__report")
    # 25 full repayment + 12.5 savings rate (800 of 8000, goal 20%) + 20 buffer (800) + 15 no debt + 15 wants 30%
    assert report.locator("[data-score]").inner_text() == "88"
    assert report.locator("[data-band]").inner_text() == "精明理财"
    assert "没有新增信用卡欠款" in report.inner_text() and "全额还款 1500 元" in report.inner_text()
    assert "获得 20 积分" in report.inner_text()
    assert sorted(box.locator(".h5c-budget__log li").all_inner_texts())[-1].startswith("第 4 周")

    report.get_by_role("button", name="再玩一次").tap()  # a new month (seed + 1), no new points
    box.get_by_role("button", name="开始这个月").tap()
    for _ in range(4):
        box.locator(".h5c-budget__next").tap()
    assert box.locator("[data-score]").inner_text() == "88"  # all four events happen, in another order
    assert page.evaluate("() => h5press.wallet().total") == 20
    page.reload()
    assert page.locator(".h5c-budget__report").is_visible()
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    starts = [e["payload"] for e in outbox if e["type"] == "budget.start"]
    assert [s["seed"] for s in starts] == [7, 8]
    assert starts[0]["allocation"] == {"rent": 2500, "food": 1500, "fun": 1000, "card": 1500, "save": 1500}
    done = [e["payload"] for e in outbox if e["type"] == "budget.complete"]
    assert [(d["score"], d["savings"], d["debt"]) for d in done] == [(88, 800, 0), (88, 800, 0)]
    assert [e["payload"]["points"] for e in outbox if e["type"] == "points"] == [20]
    assert len([e for e in outbox if e["type"] == "budget.week"]) == 8
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    context.close()


@pytest.mark.browser
def test_closed_campaign_shows_the_game_with_controls_off(tmp_path, serve, browser):
    closed = "title: t\nstart: 2020-01-01\nend: 2020-12-31\n"
    server, context, page, errors = open_served(one_page_site(tmp_path, PAGE, closed), serve, browser, "c/index.html", 320, "block")
    box = page.locator('[data-h5c="budget"]')
    assert box.get_attribute("data-h5-ready") == "" and "房租" in box.inner_text()
    assert box.locator("button:not([disabled]), input:not([disabled])").count() == 0
    assert page.evaluate("() => h5press.selftest()") == [] and errors == []
    context.close()
