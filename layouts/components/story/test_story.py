"""story: the graph proofs as pure functions, every error's message and line through a build, and
a path played to an ending by tapping in real Chromium (reload mid-story, summary, points once)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from h5fixtures import build, layout_shift, one_page_site, open_served

_spec = importlib.util.spec_from_file_location("story_schema", Path(__file__).with_name("schema.py"))
assert _spec and _spec.loader
story = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = story  # pydantic resolves the models' annotations through it
_spec.loader.exec_module(story)

CAMPAIGN = ("title: t\nstart: 2020-01-01\nend: 2099-12-31\ndisclosure: 保险产品以合同条款为准。\n"
            "points:\n  actions:\n    story: {points: 20, per_campaign: 1}\n")
STORY = """上面的文字。

::: story family
title: 小林一家的保障规划
start: home
coverage:
  - {id: medical, label: 医疗险, advice: 住院和手术费用可按合同报销。}
  - {id: life, label: 定期寿险, unit: 万元, need: 100, advice: 保额可参考房贷余额加几年家庭开支。}
scenes:
  home:
    title: 新手爸妈
    text: 小林和妻子刚有了宝宝，房贷还剩 100 万元。
    choices:
      - {label: 先给全家配医疗险, next: hospital, adds: {medical: true}, note: 医疗险解决看病的钱。}
      - {label: 以后再说, next: hospital}
  hospital:
    title: 宝宝住院
    text: 一场肺炎让宝宝住院一周。
    event: {title: 住院, text: 住院一周。, cost: 12000}
    choices:
      - {label: 再配定期寿险, next: good, adds: {life: 50}}
      - {label: 暂时不配, next: bad}
      - {label: 回到开头想一想, next: home}
  good:
    text: 一年后，一家人心里更踏实。
    ending: {title: 有备无患, text: 风险来临时，家庭财务不至于被打乱。}
  bad:
    text: 一年后。
    ending: {title: 仍有缺口}
:::

下面的文字。
"""


def edit(old: str, new: str) -> str:
    assert old in STORY
    return STORY.replace(old, new)


# --- the pure functions ------------------------------------------------------------------------

def test_reachable_is_breadth_first_and_reaching_walks_back():
    edges = {"a": ["b", "c"], "b": ["d"], "c": ["a"], "d": [], "x": ["d"]}
    assert story.reachable("a", edges) == ["a", "b", "c", "d"]
    assert story.reaching({"d"}, edges) == {"a", "b", "c", "d", "x"}
    assert story.reaching({"c"}, edges) == {"a", "c"}


def test_graph_problems_allow_a_loop_with_a_way_out():
    assert story.graph_problems("a", {"a": ["b"], "b": ["a", "end"], "end": []}, {"end"}) == []


def test_graph_problems_name_unreachable_and_trapped_scenes():
    edges = {"a": ["b", "end"], "b": ["c"], "c": ["b"], "end": [], "lost": ["end"]}
    assert story.graph_problems("a", edges, {"end"}) == [
        (("scenes", "lost"), 'cannot be reached from start "a": no choice leads here'),
        (("scenes", "b"), "no ending can be reached from this scene: every path from here stays among b, c"),
        (("scenes", "c"), "no ending can be reached from this scene: every path from here stays among c, b"),
    ]


def test_a_good_story_has_no_problems():
    body = STORY.split("::: story family\n")[1].split(":::")[0]
    assert story.Schema.model_validate(yaml.safe_load(body)).start == "home"


# --- through the build: message, key path and line --------------------------------------------

def errors(tmp_path, page: str) -> str:
    result = build(one_page_site(tmp_path, page, CAMPAIGN))
    assert result.exit_code == 1
    return result.stderr


def test_design_example_builds_and_reads_without_js(tmp_path):
    root = one_page_site(tmp_path, STORY, CAMPAIGN)
    result = build(root)
    assert result.exit_code == 0 and "warning" not in result.output + result.stderr
    html = (root / "dist/c/index.html").read_text()
    assert html.index("data-scene=home") < html.index("data-scene=hospital") < html.index("data-scene=good")
    assert "href=#story-family-hospital>先给全家配医疗险</a>" in html and "费用约 <b>1.2 万元</b>" in html
    assert "住院和手术费用可按合同报销。" in html and "保险产品以合同条款为准。" in html
    assert "assets/c-story." in html


def test_start_and_next_must_name_scenes_with_a_suggestion(tmp_path):
    out = errors(tmp_path, edit("start: home", "start: hom").replace("next: bad}", "next: bda}"))
    assert 'content/c/index.md:9: story "family": start: scene "hom" does not exist (did you mean "home"?)' in out
    assert ('content/c/index.md:26: story "family": scenes.hospital.choices[1].next: scene "bda" does not exist '
            '(did you mean "bad"?)') in out
    assert "cannot be reached" not in out  # the graph is proven once the names resolve


def test_unreachable_scene(tmp_path):
    out = errors(tmp_path, edit("  bad:\n", "  lost:\n    text: 没人来。\n    choices:\n      - {label: 走, next: good}\n  bad:\n"))
    assert 'content/c/index.md:31: story "family": scenes.lost: cannot be reached from start "home": no choice leads here' in out


def test_dead_loop_is_an_error_but_a_loop_with_an_exit_is_not(tmp_path):
    out = errors(tmp_path, edit("{label: 再配定期寿险, next: good, adds: {life: 50}}", "{label: 再配定期寿险, next: home}")
                 .replace("{label: 暂时不配, next: bad}", "{label: 暂时不配, next: home}"))
    assert ('content/c/index.md:14: story "family": scenes.home: no ending can be reached from this scene: '
            'every path from here stays among home, hospital') in out
    assert 'content/c/index.md:20: story "family": scenes.hospital: no ending can be reached' in out
    assert 'scenes.good: cannot be reached from start "home"' in out


def test_scene_shape(tmp_path):
    out = errors(tmp_path, edit("    ending: {title: 仍有缺口}", "    choices: []").replace(
        "    text: 一年后，一家人心里更踏实。\n", "    text: 一年后。\n    choices:\n      - {label: 再来, next: home}\n"))
    assert 'content/c/index.md:33: story "family": scenes.bad: has neither choices nor an ending: add choices (1 or more) or an ending' in out
    assert 'content/c/index.md:28: story "family": scenes.good: has both choices and an ending: a scene is one or the other' in out
    out = errors(tmp_path, edit("    ending: {title: 仍有缺口}", "    choices: [{label: 再来, next: home}]").replace(
        "    ending: {title: 有备无患, text: 风险来临时，家庭财务不至于被打乱。}", "    choices: [{label: 再来, next: home}]"))
    assert 'content/c/index.md:13: story "family": scenes: no scene has an ending: a story needs at least one' in out


def test_scene_ids_become_anchors(tmp_path):
    out = errors(tmp_path, edit("  bad:", "  Bad_End:").replace("next: bad}", "next: Bad_End}"))
    assert 'content/c/index.md:31: story "family": scenes.Bad_End: scene id "Bad_End" must match [a-z0-9][a-z0-9-]* (it becomes an anchor)' in out


def test_adds_name_coverage_with_the_right_kind_of_value(tmp_path):
    out = errors(tmp_path, edit("adds: {medical: true}", "adds: {medcal: true}").replace("adds: {life: 50}", "adds: {life: true}"))
    assert ('content/c/index.md:18: story "family": scenes.home.choices[0].adds.medcal: unknown coverage "medcal" '
            '(did you mean "medical"?); coverage ids: medical, life') in out
    assert 'content/c/index.md:25: story "family": scenes.hospital.choices[0].adds.life: "定期寿险" is counted in 万元: write an amount above 0, such as 50' in out
    out = errors(tmp_path, edit("adds: {medical: true}", "adds: {medical: 3}"))
    assert 'content/c/index.md:18: story "family": scenes.home.choices[0].adds.medical: "医疗险" has no unit, so it is a flag: write true' in out
    out = errors(tmp_path, edit("adds: {life: 50}", "adds: {life: 五十}"))
    assert 'content/c/index.md:25: story "family": scenes.hospital.choices[0].adds.life: expected an amount (a number) or true (a flag)' in out


def test_coverage_rules(tmp_path):
    out = errors(tmp_path, edit("{id: life, label: 定期寿险, unit: 万元,", "{id: medical, label: 定期寿险,"))
    assert 'content/c/index.md:12: story "family": coverage[1]: need is an amount: give the coverage a unit (e.g. 万元) too' in out
    out = errors(tmp_path, edit("{id: life, label: 定期寿险, unit: 万元, need: 100,", "{id: medical, label: 定期寿险,"))
    assert 'content/c/index.md:12: story "family": coverage[1].id: "medical" is used twice' in out


def test_points_are_required_without_a_campaign_action(tmp_path):
    result = build(one_page_site(tmp_path, STORY))
    assert 'content/c/index.md:7: story "family": points: is required: campaign.yaml has no points.actions.story' in result.stderr


# --- in the browser ----------------------------------------------------------------------------

def outbox(page) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_play_reload_end_and_restart(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, STORY, CAMPAIGN)
    server, context, page, errors_ = open_served(root, serve, browser, "c/index.html", width, "block")
    assert layout_shift(page) == 0
    server.stop()
    box = page.locator('[data-h5c="story"]')
    shown = box.locator("[data-scene]:not([hidden])")
    above = page.get_by_text("上面的文字。").bounding_box()
    assert box.locator("[data-step]").inner_text() == "第 1 幕"
    assert box.get_by_role("heading", name="新手爸妈").is_visible()
    assert not box.get_by_role("heading", name="宝宝住院").is_visible()
    assert box.get_by_role("button", name="重新开始").is_disabled()

    box.get_by_role("link", name="先给全家配医疗险").tap()
    assert box.locator("[data-step]").inner_text() == "第 2 幕"
    assert box.get_by_text("你的选择：先给全家配医疗险。医疗险解决看病的钱。").is_visible()
    assert box.get_by_text("费用约 1.2 万元").is_visible()
    assert page.evaluate("() => location.hash") == ""  # the link did not navigate
    assert page.get_by_text("上面的文字。").bounding_box() == above

    server.start()  # reload mid-story: the same scene, and the path so far
    page.reload()
    box = page.locator('[data-h5c="story"]')
    assert layout_shift(page) == 0
    assert box.get_by_role("heading", name="宝宝住院").is_visible()
    assert not box.get_by_role("heading", name="新手爸妈").is_visible()
    assert box.locator("[data-step]").inner_text() == "第 2 幕"

    box.get_by_role("link", name="再配定期寿险").tap()
    assert box.locator("[data-step]").inner_text() == "第 3 幕 · 结局"
    assert box.get_by_role("heading", name="结局：有备无患").is_visible()
    assert box.get_by_text("（获得 20 积分）").is_visible()
    assert shown.locator('[data-cov="medical"] [data-has]').inner_text() == "已配置"
    assert shown.locator('[data-cov="life"] [data-has]').inner_text() == "已有 50 万元，参考 100 万元"
    assert not shown.get_by_text("住院和手术费用可按合同报销。").is_visible()  # advice only for the gap
    assert shown.get_by_text("保额可参考房贷余额加几年家庭开支。").is_visible()
    assert shown.get_by_text("已有 1 项保障，1 项缺口值得了解：").is_visible()
    assert page.evaluate("() => h5press.wallet().total") == 20

    box.get_by_role("button", name="重新开始").tap()
    assert box.locator("[data-step]").inner_text() == "第 1 幕"
    assert box.get_by_role("heading", name="新手爸妈").is_visible()
    box.get_by_role("link", name="以后再说").tap()
    box.get_by_role("link", name="暂时不配").tap()
    assert box.get_by_role("heading", name="结局：仍有缺口").is_visible()
    assert shown.locator('[data-cov="medical"] [data-has]').inner_text() == "未配置"
    assert page.evaluate("() => h5press.wallet().total") == 20  # points once
    page.reload()
    assert layout_shift(page) == 0
    assert box.get_by_role("heading", name="结局：仍有缺口").is_visible()
    assert shown.get_by_text("已有 0 项保障，2 项缺口值得了解：").is_visible()

    events = outbox(page)
    assert [e["payload"] for e in events if e["type"] == "story.choice"] == [
        {"scene": "home", "choice": 1, "next": "hospital"}, {"scene": "hospital", "choice": 1, "next": "good"},
        {"scene": "home", "choice": 2, "next": "hospital"}, {"scene": "hospital", "choice": 2, "next": "bad"}]
    assert [e["payload"] for e in events if e["type"] == "story.end"] == [
        {"ending": "good", "coverage": {"medical": True, "life": 50}, "gaps": ["life"]},
        {"ending": "bad", "coverage": {}, "gaps": ["medical", "life"]}]
    assert [e["payload"]["points"] for e in events if e["type"] == "points"] == [20]
    assert [e["payload"] for e in events if e["type"] == "story.restart"] == [{"from": "good"}]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors_ == []
    context.close()


@pytest.mark.browser
def test_readable_without_js_in_the_same_space(tmp_path, serve, browser):
    root = one_page_site(tmp_path, STORY, CAMPAIGN)
    server, context, page, errors_ = open_served(root, serve, browser, "c/index.html", 320, "block")
    hydrated = page.locator('[data-h5c="story"]').bounding_box()
    plain = browser.new_context(viewport={"width": 320, "height": 700}, is_mobile=True, has_touch=True, java_script_enabled=False)
    page = plain.new_page()
    page.goto(server.url("c/index.html"))
    box = page.locator('[data-h5c="story"]')
    assert box.bounding_box()["height"] == hydrated["height"]  # the space is reserved: no jump when the script runs
    assert box.locator("h3").all_inner_texts() == ["新手爸妈", "宝宝住院", "结局：有备无患", "结局：仍有缺口"]
    box.get_by_role("link", name="先给全家配医疗险").tap()
    assert page.evaluate("() => location.hash") == "#story-family-hospital"
    stage = box.locator(".h5c-story__stage").bounding_box()
    heading = box.get_by_role("heading", name="宝宝住院").bounding_box()
    assert stage["y"] <= heading["y"] < stage["y"] + stage["height"]  # scrolled into the box's view
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    plain.close()
    context.close()


@pytest.mark.browser
def test_closed_window_keeps_choices_off(tmp_path, serve, browser):
    root = one_page_site(tmp_path, STORY, CAMPAIGN.replace("end: 2099-12-31", "end: 2021-01-01"))
    server, context, page, errors_ = open_served(root, serve, browser, "c/index.html", 375, "block")
    box = page.locator('[data-h5c="story"]')
    box.get_by_role("link", name="先给全家配医疗险").tap(force=True)
    assert box.get_by_role("heading", name="新手爸妈").is_visible()
    assert box.get_by_role("link", name="先给全家配医疗险").get_attribute("aria-disabled") == "true"
    assert not [e for e in outbox(page) if e["type"].startswith("story.")]
    assert page.evaluate("() => h5press.selftest()") == [] and errors_ == []
    context.close()
