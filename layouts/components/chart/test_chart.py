"""chart: schema errors at their key paths, build-time SVG geometry, the compound-interest formula
against a hand-computed value, and in Chromium (375 and 320 px) static charts with no script
needed and a calculator operated by keyboard and fill, kept across reloads, sent as one event."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n"
BAR = """::: chart loans
type: bar
title: 绿色贷款余额
labels: [2020, 2021, 2022]
series:
  - {name: 余额, values: [11.9, 15.9, 22.0]}
unit: 万亿元
source: 示例数据
:::
"""
LINE = """::: chart rates
type: line
title: 存款利率
labels: [2022, 2023, 2024]
series:
  - {name: 大行, values: [1.65, 1.45, 1.1]}
  - {name: 城商行, values: [1.9, 1.75, 1.45]}
unit: "%"
:::
"""
PIE = """::: chart use
type: pie
title: 投向构成
labels: [清洁能源, 节能环保, 其他]
series:
  - {name: 占比, values: [50, 30, 20]}
unit: "%"
:::
"""
CALC = """::: chart plan
type: calculator
title: 定投复利计算器
monthly: {default: 1000, min: 100, max: 5000, step: 100}
rate: {default: 6, min: 0, max: 10, step: 0.5}
years: {default: 10, min: 1, max: 30}
initial: {default: 0, min: 0, max: 50000, step: 1000}
:::
"""


def _schema():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("chart_schema_under_test", Path(__file__).with_name("schema.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


schema = _schema()


def test_future_value_matches_a_hand_computed_annuity():
    # 1000 a month for 10 years at 6 % a year: i = 0.005, n = 120, (1.005^120 - 1) / 0.005 = 163.879347
    assert round(schema.future_value(1000, 6, 120), 2) == 163879.35
    assert round(schema.future_value(0, 6, 12, 10000), 2) == 10616.78  # 10000 · 1.005^12
    assert schema.future_value(500, 0, 24, 1000) == 13000  # no interest: just the payments


def test_nice_ticks_use_1_2_5_steps():
    assert [schema.nice_step(span, 4) for span in (36.6, 147250, 0.9, 7)] == [10, 50000, 0.5, 2]
    plot = schema.Schema.model_validate({"type": "bar", "title": "t", "labels": ["a", "b"],
                                         "series": [{"name": "s", "values": [-3, 8.5]}]}).plot
    assert [t["label"] for t in plot["yticks"]] == ["-5", "0", "5", "10"]
    assert plot["bars"][0]["y"] == plot["zero"] and plot["bars"][1]["y"] + plot["bars"][1]["h"] == pytest.approx(plot["zero"])


def test_schema_errors_name_the_key(tmp_path):
    result = build(one_page_site(tmp_path, BAR.replace("15.9, 22.0", "15.9"), CAMPAIGN))
    assert 'content/c/index.md:10: chart "loans": series[0].values: "余额" has 2 values for 3 labels' in result.stderr
    result = build(one_page_site(tmp_path, PIE.replace("50, 30, 20", "50, -30, 20"), CAMPAIGN))
    assert 'content/c/index.md:10: chart "use": series[0].values: pie values cannot be negative' in result.stderr
    result = build(one_page_site(tmp_path, PIE.replace("50, 30, 20", "0, 0, 0"), CAMPAIGN))
    assert 'chart "use": series[0].values: pie values cannot all be zero' in result.stderr
    result = build(one_page_site(tmp_path, CALC.replace("default: 6,", "default: 12,"), CAMPAIGN))
    assert 'content/c/index.md:9: chart "plan": rate.default: 12 is outside min..max (0..10)' in result.stderr
    result = build(one_page_site(tmp_path, BAR.replace("type: bar", "type: line\nyears: {default: 1, min: 1, max: 9}"), CAMPAIGN))
    assert 'chart "loans": years: is only for a calculator, not a line chart' in result.stderr
    result = build(one_page_site(tmp_path, "::: chart x\ntype: bar\n:::\n", CAMPAIGN))
    assert 'chart "x": title: is required for a bar chart' in result.stderr and 'chart "x": labels: is required' in result.stderr
    result = build(one_page_site(tmp_path, CALC.replace("::: chart plan", "::: chart"), CAMPAIGN))
    assert "content/c/index.md:5: chart: an id is required (`::: chart my-id`)" in result.stderr


def test_charts_are_drawn_in_the_html_with_a_data_table(tmp_path):
    root = one_page_site(tmp_path, BAR + LINE + PIE, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    bar = html[html.index('data-id=loans'):html.index("</section>", html.index('data-id=loans'))]
    assert bar.count("<rect") == 3 and "role=img" in bar and "柱状图：绿色贷款余额（万亿元）。余额：2020 11.9，2021 15.9，2022 22.0" in bar
    assert "<td>15.9</td>" in bar and "数据来源：示例数据" in bar
    line = html[html.index('data-id=rates'):]
    assert line.count('class="h5c-chart__line') == 2 and "h5c-chart__legend" in line
    pie = html[html.index('data-id=use'):]
    assert pie.count("<path d=") == 3 and "<td>50</td>" in pie and "<td>50.0%</td>" not in pie  # no share column for %
    root = one_page_site(tmp_path, PIE.replace('unit: "%"', "unit: 亿元"), CAMPAIGN)
    assert build(root).exit_code == 0
    assert "<td>50</td><td>50.0%</td>" in (root / "dist/c/index.html").read_text()


def test_every_table_header_has_text(tmp_path):
    """Screen readers announce a cell by its headers: an empty <th> leaves the label column unnamed."""
    root = one_page_site(tmp_path, BAR + PIE + CALC, CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    headers = re.findall(r"<th\b[^>]*>(.*?)</th>", html)
    assert len(headers) > 10 and all(h.strip() for h in headers), headers
    assert html.count('<th scope=col>类别</th>') == 2


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_static_charts_need_no_script(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, BAR + LINE + PIE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
    for svg in page.locator(".h5c-chart__svg").all():
        box = svg.bounding_box()
        view_width = float(svg.get_attribute("viewBox").split()[2])
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert 13 * box["width"] / view_width >= 12  # SVG text is 13 units: still ≥ 12 px on screen
    assert page.get_by_role("img", name=re.compile("^柱状图：绿色贷款余额")).is_visible()
    assert page.get_by_role("table", name="投向构成（%）").count() == 1
    assert page.evaluate("() => h5press.selftest()") == []
    context.close()
    # without any script the charts are all there
    context = browser.new_context(viewport={"width": width, "height": 700}, java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url("c/index.html"))
    assert page.locator("[data-id=loans] rect").count() == 3 and page.locator("[data-id=use] path").count() == 3
    assert errors == []
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_calculator_redraws_keeps_values_and_sends_one_event(tmp_path, serve, browser, width):
    server, context, page, errors = open_served(one_page_site(tmp_path, CALC, CAMPAIGN), serve, browser, "c/index.html", width,
                                                "block")
    box = page.locator("[data-id=plan]")
    built = (tmp_path / "dist/c/index.html").read_text()
    area = re.search(r'class="h5c-chart__area k0" d=([^ >]+)', built)
    assert area and box.locator(".h5c-chart__area.k0").get_attribute("d") == area.group(1)  # the script redraws the same
    assert box.locator("[data-out=value]").inner_text() == "163,879 元"
    assert layout_shift(page) == 0
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
    monthly = box.get_by_label("每月定投")
    assert monthly.is_enabled()
    monthly.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # 1000 → 1500 a month
    box.get_by_label("投资年限").focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")  # 10 → 20 years
    assert box.locator("[data-show=monthly]").inner_text() == "1,500 元"
    assert box.locator("[data-out=invested]").inner_text() == "360,000 元"
    assert box.locator("[data-out=value]").inner_text() == "693,061 元"  # 1500 · (1.005^240 − 1) / 0.005 = 693,061.34
    assert box.locator(".h5c-chart__area.k0").get_attribute("d") != area.group(1)
    assert box.locator("text", has_text="20年").count() == 1
    page.wait_for_function("() => (JSON.parse(localStorage.getItem('h5press:c:outbox')) || []).some(e => e.type === 'chart.calculate')")
    page.reload()
    box = page.locator("[data-id=plan]")
    assert box.locator("[data-out=value]").inner_text() == "693,061 元"
    assert box.get_by_label("投资年限").input_value() == "20"
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    events = [e for e in outbox if e["type"] == "chart.calculate"]
    assert [(e["component"], e["payload"]) for e in events] == [
        ("plan", {"monthly": 1500, "rate": 6, "years": 20, "initial": 0, "invested": 360000, "value": 693061})]
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    context.close()
