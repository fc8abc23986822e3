"""lottery: the reference to campaign.yaml checked with a did-you-mean; rules and odds in the page
at build time; no draw without a server; with a real `h5press api`: the wheel stops on the
server's prize, the red packet opens to it, insufficient points, the daily limit, sold out and
offline each say so — in real Chromium at 375 and 320 px (with and without reduced motion)."""
from __future__ import annotations

import re
import time

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points:
  actions:
    read: {points: 10}
lottery:
  - id: wheel
    name: 幸运转盘
    cost: 10
    per_day: 2
    rules: |
      每次抽奖消耗 10 积分。
      每人每天最多抽 2 次。
    claim: 中奖后在「我的奖品」中领取，活动结束前有效。
    prizes:
      - {name: 一等奖 自行车, probability: 0, stock: 1, value: 800}
      - {name: 二等奖 出行券, probability: 1, value: 5}
  - id: last
    name: 最后一个红包
    claim: 红包即时发放到活动账户。
    prizes:
      - {name: 10元红包, probability: 1, stock: 1, value: 10}
"""
PAGE = """::: lottery spin
lottery: wheel
:::

::: lottery red
lottery: last
style: packet
:::
"""
STATUS = "() => document.querySelector('[data-id=\"{}\"] [data-status]').textContent"


def test_the_lottery_must_exist_in_campaign_yaml(tmp_path):
    result = build(one_page_site(tmp_path / "a", PAGE.replace("lottery: wheel", "lottery: whel"), CAMPAIGN))
    assert 'content/c/index.md:5: lottery "spin": lottery: "whel" is not a lottery in campaign.yaml (there: wheel, last) ' \
           '(did you mean "wheel"?)' in result.stderr
    result = build(one_page_site(tmp_path / "b", PAGE, "title: t\n"))
    assert 'content/c/index.md:5: lottery "spin": lottery: campaign.yaml has no lottery: add a `lottery:` entry' in result.stderr
    many = CAMPAIGN.replace("      - {name: 二等奖 出行券, probability: 1, value: 5}\n",
                            "".join(f"      - {{name: 奖{i}, probability: 0.01, value: 1}}\n" for i in range(11)))
    result = build(one_page_site(tmp_path / "c", PAGE, many))
    assert 'content/c/index.md:5: lottery "spin": style: a wheel has at most 12 segments and "wheel" needs 13: ' \
           "use style: packet" in result.stderr


def test_rules_odds_and_segments_are_in_the_page(tmp_path):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    spin = html[html.index('data-id=spin'):html.index('data-id=red')]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", spin)
    assert cells == ["一等奖 自行车", "800 元", "0%", "共 1 份", "二等奖 出行券", "5 元", "100%", "不限"]  # odds add up to 1: no 未中奖 row
    assert "每人每天最多抽 2 次。" in spin and "每次消耗 <b>10</b> 积分" in spin
    # what a prize promotion must show: how to claim and the draw window
    assert "领奖方式：</strong>中奖后在「我的奖品」中领取，活动结束前有效。" in spin and "抽奖时间：2020-01-01 至 2099-12-31" in spin
    # a prize with stock can run out, so the wheel has a 谢谢参与 segment
    assert re.findall(r"<text[^>]*>([^<]*)</text>", spin) == ["一等奖 自行车", "二等奖 出行券", "谢谢参与"]
    assert "没有连接活动服务器" in spin


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_without_a_server_nothing_is_drawn_on_the_device(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(one_page_site(tmp_path, PAGE, CAMPAIGN), serve, browser, "c/index.html",
                                                width, "block")
    spin = page.locator('[data-id="spin"]')
    assert spin.get_by_role("button").is_disabled() and "二等奖 出行券" in spin.locator("table").inner_text()
    assert layout_shift(page) == 0
    assert "没有连接活动服务器" in spin.locator("[data-status]").inner_text()
    page.evaluate("() => { const b = document.querySelector('[data-id=\"spin\"] [data-draw]'); b.disabled = false; b.click(); }")
    page.wait_for_function(STATUS.format("spin") + " === '抽奖由活动服务器开奖：本页面没有连接活动服务器。'")
    assert page.evaluate("() => document.querySelector('[data-turn]').style.transform") == ""
    assert page.evaluate("() => h5press.get('lottery:spin', null)") is None
    assert spin.get_by_role("button").is_disabled()  # and off again
    page.evaluate("() => { document.querySelector('[data-id=\"spin\"] [data-draw]').disabled = false; }")
    assert page.evaluate("() => h5press.selftest()") == ['lottery "spin": the draw button is on without a server']
    page.reload()
    assert page.evaluate("() => h5press.selftest()") == []
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))") or []
    assert not [e for e in outbox if e["type"].startswith("lottery")]
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width,motion", [(375, "no-preference"), (320, "reduce")])
def test_server_draws_and_every_refusal(tmp_path, site_with_api, browser, width, motion):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    site = site_with_api(root)
    yaml = root / "content/c/campaign.yaml"  # the page is built from an older version of the rules than the server's
    yaml.write_text(yaml.read_text().replace("每人每天最多抽 2 次。", "旧的规则").replace("probability: 0, stock: 1}", "probability: 0.5, stock: 1}")
                    .replace("probability: 1}", "probability: 0.5}"))
    assert build(root).exit_code == 0
    context = browser.new_context(viewport={"width": width, "height": 700}, is_mobile=True, has_touch=True,
                                  reduced_motion=motion)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site.url("c/index.html"))
    spin = page.locator('[data-id="spin"]')
    draw = spin.get_by_role("button", name="开始抽奖 · 10 积分")
    page.wait_for_function("() => document.querySelector('[data-left=\"0\"]').textContent === '剩余 1 / 1 份'")
    page.wait_for_function("() => h5press.me() !== null")  # the page view went out: the server knows this phone
    assert spin.locator("[data-rules] p").all_inner_texts() == ["每次抽奖消耗 10 积分。", "每人每天最多抽 2 次。"]
    assert spin.locator("[data-odds]").all_inner_texts() == ["0%", "100%"]  # the odds the server draws with
    assert layout_shift(page) < 0.01
    assert spin.locator("[data-balance]").inner_text() == "0"
    draw.click()
    page.wait_for_function(STATUS.format("spin") + ".startsWith('积分不足')")
    assert spin.locator("[data-status]").inner_text() == "积分不足：每次抽奖需要 10 积分，您当前可用 0 积分。"
    page.evaluate("() => { h5press.award('read'); h5press.award('read'); h5press.award('read'); }")
    page.wait_for_function("() => document.querySelector('[data-balance]').textContent === '30'")
    started = time.monotonic()
    draw.click()
    page.wait_for_function(STATUS.format("spin") + " === '恭喜，抽中「二等奖 出行券」！'", timeout=10000)
    took = time.monotonic() - started
    # the wheel stopped with the server's prize (segment 1 of 3) under the pointer
    angle = page.evaluate("() => parseFloat(document.querySelector('[data-turn]').style.transform.slice(7))")
    assert angle % 360 == pytest.approx(360 - 120) and angle >= 1800
    spin_time = float(page.evaluate("() => getComputedStyle(document.querySelector('[data-turn]')).transitionDuration")[:-1])
    assert (spin_time < 0.01) if motion == "reduce" else (spin_time == 4)
    assert (took < 2) if motion == "reduce" else (took > 3.5)
    assert spin.locator("[data-balance]").inner_text() == "20"
    draw.click()
    page.wait_for_function(STATUS.format("spin") + ".startsWith('恭喜')", timeout=10000)
    draw.click()
    page.wait_for_function(STATUS.format("spin") + " === '今天的抽奖次数已用完（每天 2 次），明天再来吧。'")
    # the red packet: one prize left, then sold out
    red = page.locator('[data-id="red"]')
    red.get_by_role("button", name="拆红包").click()
    page.wait_for_function(STATUS.format("red") + " === '恭喜，抽中「10元红包」！'")
    assert red.locator("[data-packet]").get_attribute("class").endswith("is-open")
    assert red.locator("[data-prize]").inner_text() == "10元红包"
    page.wait_for_function("() => document.querySelector('[data-id=\"red\"] [data-draw]').textContent === '奖品已全部抽完'")
    assert red.locator("[data-draw]").is_disabled() and red.locator("[data-left='0']").inner_text() == "已抽完"
    # offline: a draw needs the server; the button stays ready for a retry
    context.set_offline(True)
    draw.click()
    page.wait_for_function(STATUS.format("spin") + ".startsWith('网络不可用')")
    assert draw.is_enabled()
    context.set_offline(False)
    page.reload()
    assert re.fullmatch(r"上次抽奖（\d\d:\d\d）：抽中「二等奖 出行券」", spin.locator("[data-status]").inner_text())
    assert site.rows("SELECT lottery, prize, cost FROM draws ORDER BY id") == [("wheel", 1, 10), ("wheel", 1, 10), ("last", 0, 0)]
    page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:c:outbox') || '[]').length === 0")
    assert site.rows("SELECT component FROM events WHERE type = 'lottery.draw' ORDER BY pk") == [("spin",), ("spin",), ("red",)]
    assert page.evaluate("() => h5press.selftest()") == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert errors == []
    context.close()
