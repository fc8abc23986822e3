"""survey: schema errors, then filled in by tapping and typing in real Chromium (375 and 320 px)."""
from __future__ import annotations

import pytest

from h5fixtures import build, one_page_site, open_served

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\npoints:\n  actions:\n    survey: {points: 10, per_campaign: 1}\n"
PAGE = """::: survey feedback
fields:
  - {name: age, label: 您的年龄段, type: choice, options: [18-35岁, 36岁以上], required: true}
  - {name: modes, label: 常用出行方式, type: multi, options: [地铁, 公交, 骑行], max: 2}
  - {name: phone, label: 手机号, type: phone, required: true, personal: true}
:::
"""


def test_schema_errors(tmp_path):
    result = build(one_page_site(tmp_path, PAGE.replace("options: [18-35岁, 36岁以上], ", ""), CAMPAIGN))
    assert 'content/c/index.md:7: survey "feedback": fields[0]: a "choice" field needs at least 2 options' in result.stderr
    result = build(one_page_site(tmp_path, PAGE.replace("name: modes", "name: age"), CAMPAIGN))
    assert 'content/c/index.md:6: survey "feedback": field name "age" is used twice' in result.stderr


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_validate_submit_once_and_keep(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    form = page.locator('[data-h5c="survey"]')
    form.get_by_role("button", name="提交").click()
    assert form.locator('[data-field="age"] [data-error]').inner_text() == "请填写此项"
    assert form.locator('[data-field="__consent"] [data-error]').inner_text() == "请填写此项"
    form.get_by_label("36岁以上").check()
    for mode in ("地铁", "公交", "骑行"):
        form.get_by_label(mode).check()
    form.get_by_label("手机号").fill("12345")
    form.get_by_role("button", name="提交").click()
    assert form.locator('[data-field="modes"] [data-error]').inner_text() == "最多选择 2 项"
    assert form.locator('[data-field="phone"] [data-error]').inner_text() == "请输入 11 位手机号"
    form.get_by_label("骑行").uncheck()
    form.get_by_label("手机号").fill("13800138000")
    form.get_by_label("我同意为活动目的收集和使用以上个人信息").check()
    form.get_by_role("button", name="提交").click()
    assert form.locator(".h5c-survey__state").inner_text() == "已提交，感谢参与"
    page.reload()
    assert page.locator('[data-h5c="survey"] .h5c-survey__submit').is_disabled()
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    (event,) = [e for e in outbox if e["type"] == "survey.submit"]
    assert event["payload"] == {"answers": {"age": "36岁以上", "modes": ["地铁", "公交"], "phone": "13800138000"}, "consent": True,
                                "sensitive_consent": []}
    assert page.evaluate("() => h5press.wallet().total") == 10
    assert errors == []
    context.close()


SENSITIVE = """::: survey claim
fields:
  - {name: name, label: 收件人, required: true}
  - {name: card, label: 银行卡号（用于发放奖励金）, sensitive: true, purpose: 仅用于发放奖励金，发放后 30 天内删除}
:::
"""


def test_sensitive_field_needs_its_purpose(tmp_path):
    result = build(one_page_site(tmp_path, SENSITIVE.replace(", purpose: 仅用于发放奖励金，发放后 30 天内删除", ""), CAMPAIGN))
    assert 'content/c/index.md:8: survey "claim": fields[1]: a sensitive field needs its purpose' in result.stderr


@pytest.mark.browser
def test_sensitive_answer_is_sent_only_with_its_separate_consent(tmp_path, serve, browser):
    server, context, page, errors = open_served(one_page_site(tmp_path, SENSITIVE, CAMPAIGN), serve, browser, "c/index.html",
                                                375, "block")
    form = page.locator('[data-h5c="survey"]')
    separate = form.get_by_label("我单独同意提供「银行卡号（用于发放奖励金）」（敏感个人信息），仅用于：仅用于发放奖励金，发放后 30 天内删除")
    form.get_by_label("收件人").fill("王芳")
    form.get_by_label("银行卡号（用于发放奖励金）", exact=True).fill("6222020000000000")
    form.get_by_role("button", name="提交").click()
    assert form.locator('[data-field="__consent-card"] [data-error]').inner_text() == "提供这一项需要您单独同意"
    assert form.locator(".h5c-survey__state").inner_text() != "已提交，感谢参与"
    separate.check()
    form.get_by_role("button", name="提交").click()
    assert form.locator(".h5c-survey__state").inner_text() == "已提交，感谢参与"
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    (event,) = [e for e in outbox if e["type"] == "survey.submit"]
    assert event["payload"]["answers"] == {"name": "王芳", "card": "6222020000000000"}
    assert event["payload"]["sensitive_consent"] == ["card"]
    assert errors == []
    context.close()


@pytest.mark.browser
def test_an_unanswered_sensitive_field_needs_no_consent(tmp_path, serve, browser):
    server, context, page, errors = open_served(one_page_site(tmp_path, SENSITIVE, CAMPAIGN), serve, browser, "c/index.html",
                                                375, "block")
    form = page.locator('[data-h5c="survey"]')
    form.get_by_label("收件人").fill("王芳")
    form.get_by_role("button", name="提交").click()
    assert form.locator(".h5c-survey__state").inner_text() == "已提交，感谢参与"
    (event,) = [e for e in page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
                if e["type"] == "survey.submit"]
    assert event["payload"]["answers"] == {"name": "王芳", "card": ""} and event["payload"]["sensitive_consent"] == []
    context.close()
