"""quiz: schema errors, both modes, and operated by tapping in real Chromium (offline, reload)."""
from __future__ import annotations

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served, reload_after_offline

KNOWLEDGE = """::: quiz deposit-insurance
title: 存款保险知识小测
points: 10
questions:
  - q: 以下哪一项受存款保险保障？
    options: [银行定期存款, 银行理财产品, 公募基金]
    answer: 1
    explanation: 理财和基金不受存款保险保障。
  - q: 存款保险的最高偿付限额是？
    options: [20万元, 50万元, 100万元]
    answer: 2
:::
"""

PROFILE = """::: quiz risk
title: 风险测评
questions:
  - q: 您的投资经验？
    options: [没有, 1-3年, 3年以上]
    scores: [1, 3, 5]
  - q: 能接受的最大亏损？
    options: [不能亏损, 10%以内, 30%以内]
    scores: [1, 3, 5]
results:
  - {min: 0, title: 保守型}
  - {min: 5, title: 稳健型, text: 适合中低风险产品}
  - {min: 9, title: 进取型}
:::
"""


def test_design_example_builds_and_is_readable_before_js(tmp_path):
    root = one_page_site(tmp_path, KNOWLEDGE)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "以下哪一项受存款保险保障？" in html and html.count("data-option=") == 6
    assert "assets/c-quiz." in html


def test_schema_errors_name_key_and_line(tmp_path):
    page = KNOWLEDGE.replace("answer: 2", "answer: 5").replace("points: 10\n", "")
    result = build(one_page_site(tmp_path, page))
    assert result.exit_code == 1
    assert 'content/c/index.md:14: quiz "deposit-insurance": questions[1].answer: 5 is out of range (3 options' in result.stderr
    result = build(one_page_site(tmp_path, KNOWLEDGE.replace("points: 10\n", "")))
    assert 'content/c/index.md:5: quiz "deposit-insurance": points: is required: campaign.yaml has no points.actions.quiz' in result.stderr


def test_profile_quiz_needs_scores_for_every_option(tmp_path):
    result = build(one_page_site(tmp_path, PROFILE.replace("scores: [1, 3, 5]\n  - q: 能", "scores: [1, 3]\n  - q: 能")))
    assert "questions[0].scores: expected 3 scores, one per option, got 2" in result.stderr
    result = build(one_page_site(tmp_path, PROFILE.replace("    scores: [1, 3, 5]\nresults", "results")))
    assert "questions[1] needs `scores` in a profile quiz" in result.stderr


@pytest.mark.browser
@pytest.mark.parametrize(("width", "workers"), [(320, "allow"), (375, "allow"), (375, "block")])
def test_answer_offline_reload_keeps_points_and_outbox(tmp_path, serve, browser, width, workers):
    campaign = "title: t\nstart: 2020-01-01\nend: 2099-12-31\npoints:\n  actions:\n    quiz: {points: 10, per_campaign: 1}\n"
    root = one_page_site(tmp_path, KNOWLEDGE + "\n" + PROFILE, campaign)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, workers)
    assert layout_shift(page) == 0
    server.stop()  # the network is really gone

    quiz = page.locator('[data-id="deposit-insurance"]')
    quiz.get_by_role("button", name="银行理财产品").tap()
    assert "is-wrong" in quiz.get_by_role("button", name="银行理财产品").get_attribute("class")
    assert quiz.locator(".h5c-quiz__explain").first.is_visible()
    quiz.get_by_role("button", name="50万元").tap()
    assert quiz.locator(".h5c-quiz__result").inner_text() == "答对 1 / 2 题，获得 10 积分"
    risk = page.locator('[data-id="risk"]')
    risk.get_by_role("button", name="1-3年").tap()
    risk.get_by_role("button", name="30%以内").tap()
    assert risk.locator(".h5c-quiz__result").inner_text().startswith("测评结果：稳健型。适合中低风险产品")

    reload_after_offline(page, server, workers)
    quiz = page.locator('[data-id="deposit-insurance"]')
    assert quiz.locator(".h5c-quiz__result").inner_text() == "答对 1 / 2 题，获得 10 积分"
    assert quiz.get_by_role("button", name="50万元").is_disabled()
    assert page.evaluate("() => h5press.wallet().total") == 10  # per_campaign cap: the second quiz adds none
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    answers = [e for e in outbox if e["type"] == "quiz.answer"]
    assert [(e["component"], e["payload"]["option"]) for e in answers] == [
        ("deposit-insurance", 2), ("deposit-insurance", 2), ("risk", 2), ("risk", 3)]
    assert [e["component"] for e in outbox if e["type"] == "quiz.complete"] == ["deposit-insurance", "risk"]
    assert errors == []
    context.close()
