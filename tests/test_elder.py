"""Elder mode: every theme component, as its docstring example, keeps 60 px targets and 18 px
text on phone profiles (checked by `h5press check` in real Chromium), and the examples build."""
from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from h5fixtures import build, one_page_site, png, write_tree
from h5press.cli import cli
from h5press.generator.components import registry

CAMPAIGN = """title: 全组件
start: 2020-01-01
end: 2099-12-31
{elder}
disclosure: 理财非存款，产品有风险，投资须谨慎。
consent: {{required: true, text: 同意后记录参与数据。}}
points:
  actions:
    read: {{points: 2}}
    checkin: {{points: 5, per_day: 1}}
    quiz: {{points: 10}}
    survey: {{points: 10}}
    vote: {{points: 1}}
    puzzle: {{points: 10}}
    budget: {{points: 10}}
    arena: {{points: 10}}
    story: {{points: 10}}
levels:
  - {{name: 新手, min: 0, perks: [基础权益]}}
  - {{name: 达人, min: 100}}
badges:
  - {{id: first, name: 出发了, description: 第一次打卡, when: {{action: checkin}}}}
rewards:
  - {{id: coupon, name: 出行券, threshold: 50, stock: 10}}
team: {{size: 3, unlock: {{points: 100, reward: coupon}}}}
lottery:
  - {{id: wheel, name: 幸运转盘, cost: 10, per_day: 1, rules: 每人每天一次。, claim: 中奖后 3 个工作日内充值到手机号。,
     prizes: [{{name: 话费券, probability: 0.2, stock: 10, value: 5}}, {{name: 记账本, probability: 0.3, stock: 20, value: 15}}]}}
"""


def examples() -> str:
    """The usage example of every theme component's docstring, one after another."""
    blocks = []
    for component in registry(Path("/nonexistent")).values():
        doc = ast.get_docstring(ast.parse((component.folder / "schema.py").read_text("utf-8")), clean=False) or ""
        found = re.findall(r"^    ::: .*?^    :::$", doc, re.M | re.S)
        assert found, f"{component.name}: the schema docstring has no usage example"
        blocks.append(textwrap.dedent(found[0]))
    return "\n\n".join(blocks)


def site(tmp_path: Path, elder: bool) -> Path:
    body = examples()
    root = one_page_site(tmp_path / ("elder" if elder else "plain"), body + "\n",
                         CAMPAIGN.format(elder="elder_mode: true" if elder else ""))
    return write_tree(root, {f"content/c/{path}": png(600, 600) for path in re.findall(r"images/[\w.-]+", body)})


def test_every_docstring_example_builds(tmp_path):
    result = build(site(tmp_path, elder=False))
    assert result.exit_code == 0, result.output


@pytest.mark.browser
def test_elder_mode_keeps_targets_and_text_large_on_every_component(tmp_path):
    root = site(tmp_path, elder=True)
    assert build(root).exit_code == 0
    report = tmp_path / "report"
    CliRunner().invoke(cli, ["check", str(root / "dist"), "-p", str(root), "--devices", "iPhone SE,Pixel 7",
                             "--report", str(report)], catch_exceptions=False)
    data = json.loads((report / "check.json").read_text())
    problems = [(v["device"], f["rule"], f["selector"], f["message"]) for v in data for f in v["findings"]
                if f["rule"] in ("tap-target", "text-size", "overflow")]
    assert problems == [], problems
    assert {v["page"] for v in data} >= {"c/index.html"}


@pytest.mark.browser
def test_check_holds_elder_pages_to_60_px_targets_and_18_px_text(tmp_path):
    page = ('<!doctype html><html lang="zh-CN" class="h5-elder"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>长辈</title>'
            '<style>body{margin:0;font:18px/1.6 sans-serif} button{height:48px;width:200px;font:inherit}</style></head>'
            '<body><h1>长辈模式</h1><p>正文十八像素。</p><button>四十八像素的按钮</button><p><small>十六像素以下的说明</small></p></body></html>')
    folder = write_tree(tmp_path / "plain", {"elder.html": page})
    report = tmp_path / "report"
    CliRunner().invoke(cli, ["check", str(folder), "-p", str(tmp_path), "--devices", "iPhone SE", "--report", str(report)],
                       catch_exceptions=False)
    found = {(f["rule"], f["severity"], f["message"]) for v in json.loads((report / "check.json").read_text())
             for f in v["findings"]}
    assert found == {("tap-target", "error", "touch target 200×48 CSS px, under 60×60 (elder mode)"),
                     ("text-size", "error", "text at 15 px, under 18 px (elder mode)")}


MOTION = re.compile(r"requestAnimationFrame|\.animate\(|behavior: *'smooth'")


def test_scripted_motion_asks_for_the_reduced_motion_preference():
    """CSS motion is cut by the theme's prefers-reduced-motion rule; motion a script makes is not,
    so every component script that animates must consult the preference itself."""
    for component in registry(Path("/nonexistent")).values():
        script = component.file("script.js")
        text = script.read_text("utf-8") if script else ""
        if MOTION.search(text):
            assert "prefers-reduced-motion" in text, f"{component.name}/script.js animates without checking prefers-reduced-motion"


@pytest.mark.browser
def test_reduced_motion_leaves_no_animation_or_transition_running(tmp_path, serve, browser):
    root = site(tmp_path, elder=False)
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    context = browser.new_context(viewport={"width": 375, "height": 700}, reduced_motion="reduce", service_workers="block")
    page = context.new_page()
    page.goto(server.url("c/index.html"))
    page.wait_for_function("() => document.querySelectorAll('[data-h5c]:not([data-h5-ready])').length === 0")
    moving = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(el => {
        const s = getComputedStyle(el);
        const long = v => v.split(',').some(t => parseFloat(t) * (t.trim().endsWith('ms') ? 1 : 1000) > 1);
        return long(s.animationDuration) || long(s.transitionDuration) ? [el.className || el.localName] : [];
    })""")
    assert moving == []
    context.close()
