"""The compliance gate: every shipped rule on a page that breaks it (file:line:col right) and on
one that does not (the context cases), waivers, approvals, reports, and how build and lint fail."""
from __future__ import annotations

import json

import pytest

from h5fixtures import build, files_of, one_page_site, run, write_tree

WINDOW = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n"


def lint(root, *args):
    return run("lint", "--project", str(root), *args)


# (rule, campaign.yaml, page body, the finding's `file:line:col  rule` or None when the page passes).
# The page body starts on line 5 of content/c/index.md (after the front matter and a blank line).
CASES = [
    ("ad-superlative", WINDOW, "我们是全国第一的理财银行。\n", "content/c/index.md:5:4  ad-superlative  「全国第一」"),
    ("ad-superlative", WINDOW, "活动说明\n\n本行提供**最佳**服务。\n", "content/c/index.md:7:7  ad-superlative  「最佳」"),
    ("ad-superlative", WINDOW, "第一步：注册。第一次打卡得 5 分，最近七天排行榜第一名有奖励。\n", None),
    ("ad-superlative", WINDOW, "预算最好全家一起商量。\n", None),
    ("ad-guaranteed-return", WINDOW, "这款产品稳赚不赔，收益有保障！\n", "content/c/index.md:5:5  ad-guaranteed-return  「稳赚不赔」"),
    ("ad-guaranteed-return", WINDOW, "任何理财产品都不保本保收益，定投不能保证收益。\n", None),
    ("ad-endorsement", WINDOW, "经济学家推荐的理财方式。\n", "content/c/index.md:5:1  ad-endorsement  「经济学家推荐」"),
    ("ad-endorsement", WINDOW, "本期投教课由基金经理讲解定投的原理。\n", None),
    ("bank-strict-claims", WINDOW + "product: wealth\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n",
     "本产品安全可靠。\n", "warning: content/c/index.md:5:4  bank-strict-claims  「安全」"),
    ("bank-strict-claims", WINDOW + "product: wealth\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n",
     "请注意账户安全；本活动不构成任何收益保证。\n", None),
    ("bank-strict-claims", WINDOW, "本产品安全可靠。\n", None),  # general campaigns: not the bank lists
    ("wechat-induced-share", WINDOW, "分享到朋友圈即得 10 积分！\n", "content/c/index.md:5:1  wechat-induced-share  「分享到朋友圈即得」"),
    ("wechat-induced-share", WINDOW + "channels: [browser]\n", "分享到朋友圈即得 10 积分！\n", None),
    ("wechat-induced-share", WINDOW, "欢迎分享给家人一起看（分享不计积分）。\n", None),
    ("wechat-share-reward", WINDOW + "points:\n  actions:\n    share: {points: 5}\n", "正文\n",
     "content/c/campaign.yaml:6:5  wechat-share-reward  「share: 5 分」"),
    ("wechat-share-reward", WINDOW + "points:\n  actions:\n    read: {points: 5}\n    share: {points: 0}\n", "正文\n", None),
    ("risk-warning", WINDOW + "product: fund\n", "正文\n", "content/c/index.md:1:1  risk-warning"),
    ("risk-warning", WINDOW + "product: fund\n", "基金有风险，投资须谨慎。\n", None),
    ("risk-warning", WINDOW + "product: fund\ndisclosure: 基金有风险, 投资须谨慎\n", "正文\n", None),
    ("past-performance", WINDOW, "该基金近一年收益 12%。\n", "content/c/index.md:5:4  past-performance  「近一年收益」"),
    ("past-performance", WINDOW, "该基金近一年收益 12%。\n\n过往业绩不代表未来表现。\n", None),
    ("simulated-label", WINDOW, "::: budget b\ntitle: 一个月的收支\nincome: 5000\ncategories:\n"
     "  - {id: save, label: 储蓄, kind: savings, min: 0, max: 5000, default: 1000}\n:::\n",
     "content/c/index.md:6:1  simulated-label  「一个月的收支」"),
    ("simulated-label", WINDOW, "::: budget b\ntitle: 模拟一个月的收支\nincome: 5000\ncategories:\n"
     "  - {id: save, label: 储蓄, kind: savings, min: 0, max: 5000, default: 1000}\n:::\n", None),
    ("pipl-sensitive-field", WINDOW, "::: survey s\nfields:\n  - {name: card, label: 您的银行卡号, type: text}\n:::\n",
     "content/c/index.md:7:18  pipl-sensitive-field  「您的银行卡号」"),
    ("pipl-sensitive-field", WINDOW, "::: survey s\nfields:\n  - {name: card, label: 您的银行卡号, type: text, sensitive: true,"
     " purpose: 仅用于发放奖励，活动结束后删除}\n  - {name: age, label: 年龄段, type: choice, options: [青年, 中年]}\n:::\n", None),
    ("elder-sizes", WINDOW + "elder_mode: true\n", "正文 <small>注</small>\n", "content/c/index.md:5:4  elder-sizes  「<small」"),
    ("elder-sizes", WINDOW, "正文 <small>注</small>\n", None),
]


@pytest.mark.parametrize(("rule", "campaign", "body", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule(tmp_path, rule, campaign, body, expected):
    root = one_page_site(tmp_path, body, campaign)
    result = lint(root, "--strict")
    if expected is None:
        assert rule not in result.output, result.output
        assert result.exit_code == 0, result.output
    else:
        assert expected in result.output, result.output
        assert result.exit_code == 1


LOTTERY = WINDOW + """lottery:
  - id: draw
    name: 抽奖
    claim: 中奖后在本页填写收货地址，30 天内寄出
    prizes:
      - {name: 大奖, probability: 0.01, stock: 1, value: 60000}
      - {name: 小奖, probability: 0.1, stock: 10}
"""


def test_prizes(tmp_path):
    root = one_page_site(tmp_path, "正文\n", LOTTERY)
    out = lint(root).output
    assert "content/c/campaign.yaml:9:49  prize-value  「大奖 60000 元」" in out
    assert "content/c/campaign.yaml:10:10  prize-value  「小奖」 prize without value" in out
    fixed = LOTTERY.replace("value: 60000", "value: 50000").replace("stock: 10}", "stock: 10, value: 20}")
    root = one_page_site(tmp_path, "::: lottery w\nlottery: draw\n:::\n", fixed)
    assert lint(root).exit_code == 0
    html = (root / "dist").exists() or build(root)
    page = (root / "dist/c/index.html").read_text("utf-8") if html else ""
    for shown in ("50000 元", "20 元", "领奖方式：", "中奖后在本页填写收货地址", "抽奖时间：2020-01-01 至 2099-12-31", "共 10 份"):
        assert shown in page


def test_prize_disclosure(tmp_path):
    campaign = "title: t\nlottery:\n  - id: draw\n    name: 抽奖\n    prizes:\n      - {name: 小奖, probability: 0.1, value: 5}\n"
    body = "::: lottery w\nlottery: draw\n:::\n"
    out = lint(one_page_site(tmp_path, body, campaign)).output
    assert "content/c/campaign.yaml:3:5  prize-disclosure  「抽奖」 how to claim a prize is not shown" in out
    assert "content/c/campaign.yaml:3:5  prize-disclosure  「抽奖」 the draw window is not shown" in out
    fixed = campaign.replace("title: t\n", WINDOW).replace("name: 抽奖\n", "name: 抽奖\n    claim: 活动结束后 30 天内寄出\n")
    root = one_page_site(tmp_path, body, fixed)
    assert lint(root, "--strict").exit_code == 0 and build(root).exit_code == 0
    assert "不限" in (root / "dist/c/index.html").read_text("utf-8")


def test_front_matter_campaign_and_block_text_located(tmp_path):
    root = write_tree(tmp_path, {
        "h5press.yaml": "base_url: https://h5.example.com/\n",
        "content/c/campaign.yaml": WINDOW + "description: 顶级权益\n",
        "content/c/index.md": "---\ntitle: 唯一指定活动\nshare: {desc: '  收益零风险'}\n---\n\n::: quiz q\nquestions:\n"
                              "  - q: 哪个对？\n    options: [A, 这是最佳答案]\n    answer: 1\n:::\n",
    })
    out = lint(root).output
    assert "content/c/campaign.yaml:4:14  ad-superlative  「顶级」" in out
    assert "content/c/index.md:2:8  ad-superlative  「唯一」" in out
    assert "content/c/index.md:3:20  ad-guaranteed-return  「零风险」" in out
    assert "content/c/index.md:9:20  ad-superlative  「最佳」" in out


def test_code_and_comments_are_not_read(tmp_path):
    root = one_page_site(tmp_path, "```\n最佳\n```\n\n<!-- 全国第一 -->\n\n    唯一\n", WINDOW)
    assert lint(root, "--strict").exit_code == 0


# --- waivers ------------------------------------------------------------------------------------

def test_waivers(tmp_path):
    front = ("---\ntitle: 首页\ncompliance:\n  waivers:\n    - {rule: ad-superlative, text: 唯一指定, reason: 合同约定的称谓, by: 合规部 王芳}\n"
             "    - {rule: ad-superlative, line: 11, reason: 引用监管原文, by: 合规部 王芳}\n"
             "    - {rule: ad-endorsement, text: 专家推荐, reason: 已删, by: 合规部 王芳}\n---\n\n本行是唯一指定银行。\n最佳\n")
    root = write_tree(tmp_path, {"h5press.yaml": "base_url: https://h5.example.com/\n", "content/c/campaign.yaml": WINDOW,
                                 "content/c/index.md": front})
    result = lint(root)
    assert result.exit_code == 0, result.output
    report = json.loads((root / "compliance-report/c.json").read_text("utf-8"))
    assert [(w["text"], w["line"], w["waiver"]["reason"]) for w in report["waived"]] == [
        ("唯一", 10, "合同约定的称谓"), ("最佳", 11, "引用监管原文")]
    assert 'content/c/index.md:7:1  waiver-stale  waiver of ad-endorsement for text "专家推荐" matches no finding' in result.output
    assert lint(root, "--strict").exit_code == 1
    (root / "content/c/index.md").write_text(front.replace("唯一指定银行", "指定银行"), "utf-8")
    assert "content/c/index.md:5:1  waiver-stale" in lint(root).output
    assert "content/c/index.md:6:1  waiver-stale" not in lint(root).output


def test_waiver_needs_reason_and_who(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW + "compliance:\n  waivers:\n    - {rule: ad-superlative, text: 唯一}\n")
    result = build(root)
    assert result.exit_code == 1
    assert "content/c/campaign.yaml:6: compliance.waivers[0].reason: is required" in result.output
    assert "content/c/campaign.yaml:6: compliance.waivers[0].by: is required" in result.output


# --- the build ----------------------------------------------------------------------------------

def test_build_fails_and_leaves_dist_untouched(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW)
    assert build(root).exit_code == 0
    before = files_of(root / "dist")
    (root / "content/c/index.md").write_text("---\ntitle: 首页\n---\n\n零风险，稳赚！\n", "utf-8")
    result = build(root)
    assert result.exit_code == 1
    assert "error: content/c/index.md:5:1  ad-guaranteed-return  「零风险」" in result.output
    assert files_of(root / "dist") == before
    assert json.loads((root / "compliance-report/c.json").read_text("utf-8"))["findings"][0]["rule"] == "ad-guaranteed-return"
    assert "零风险" in (root / "compliance-report/c.html").read_text("utf-8")


def test_the_gate_beside_the_render_still_decides_the_build(tmp_path):
    """With enough pages the gate runs in a process of its own while the pages render: its error
    still fails the build, in place of the render's own problems, and dist/ stays as it was."""
    root = one_page_site(tmp_path, "正文\n", WINDOW)
    pages = {f"content/c/p{i}.md": f"---\ntitle: 第{i}页\n---\n\n正文{i}\n" for i in range(60)}
    write_tree(root, pages)
    assert build(root, "--workers", "2").exit_code == 0
    before = files_of(root / "dist")
    write_tree(root, {"content/c/p7.md": "---\ntitle: t\n---\n\n零风险，稳赚！\n",
                      "content/c/p8.md": "---\ntitle: t\nlayout: nowhere\n---\n\n正文\n"})
    result = build(root, "--workers", "2")
    assert result.exit_code == 1
    assert "error: content/c/p7.md:5:1  ad-guaranteed-return  「零风险」" in result.output
    assert "nowhere" not in result.output  # the render's problem is not reached when the gate fails
    assert files_of(root / "dist") == before
    write_tree(root, {"content/c/p7.md": pages["content/c/p7.md"]})
    result = build(root, "--workers", "2")  # the gate passes: the render's problem is the build's
    assert result.exit_code == 1 and 'content/c/p8.md:3: layout "nowhere" not found' in result.output
    assert files_of(root / "dist") == before
    write_tree(root, {"content/c/p8.md": "---\ntitle: t\n---\n\n本产品安全。\n",
                      "content/c/campaign.yaml": WINDOW + "product: wealth\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n"})
    strict = build(root, "--workers", "2", "--strict")  # a finding's warning fails a strict build the same way
    assert strict.exit_code == 1 and "bank-strict-claims" in strict.output and "(--strict)" in strict.output
    assert files_of(root / "dist") == before
    assert build(root, "--workers", "2").exit_code == 0


def test_warnings_print_and_fail_only_strict(tmp_path):
    root = one_page_site(tmp_path, "本产品安全。\n", WINDOW + "product: wealth\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n")
    result = build(root)
    assert result.exit_code == 0 and "warning: content/c/index.md:5:4  bank-strict-claims" in result.output
    assert lint(root).exit_code == 0
    strict = lint(root, "--strict")
    assert strict.exit_code == 1 and "with --strict" in strict.output
    assert build(root, "--strict").exit_code == 1


def test_site_rules_extend_and_replace(tmp_path):
    root = one_page_site(tmp_path, "限时秒杀！\n", WINDOW)
    (root / "h5press.yaml").write_text("compliance:\n  rules: [house.yaml]\n", "utf-8")
    (root / "house.yaml").write_text("rules:\n  - id: house-words\n    level: error\n    source: 本行营销用语规范\n"
                                     "    message: 不用促销用语\n    suggest: 写活动时间\n    patterns: [秒杀]\n", "utf-8")
    assert "content/c/index.md:5:3  house-words  「秒杀」" in lint(root).output
    (root / "house.yaml").write_text("rules:\n  - id: x\n    level: fatal\n", "utf-8")
    result = lint(root)
    assert result.exit_code == 1 and "house.yaml:3: rules[0].level" in result.output
    approved = run("approve", "c", "--project", str(root), "--by", "王芳")
    assert approved.exit_code == 1 and "house.yaml:3: rules[0].level" in approved.output
    assert not (root / "content/c/approvals.yaml").exists()
    (root / "h5press.yaml").write_text("compliance:\n  profile: nowhere\n", "utf-8")
    assert 'unknown profile "nowhere"' in lint(root).output


# --- approvals ----------------------------------------------------------------------------------

def test_approval_trail(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW + "compliance:\n  require_approval: true\n")
    result = build(root)
    assert result.exit_code == 1
    assert "content/c/campaign.yaml:5: compliance.require_approval: c has never been approved" in result.output
    approved = run("approve", "c", "--project", str(root), "--by", "合规部 王芳", "--note", "首次审核")
    assert approved.exit_code == 0, approved.output
    record = (root / "content/c/approvals.yaml").read_text("utf-8")
    assert "by: 合规部 王芳" in record and "note: 首次审核" in record and "content/c/index.md:" in record
    assert build(root).exit_code == 0
    (root / "content/c/index.md").write_text("---\ntitle: 首页\n---\n\n新的正文\n", "utf-8")
    (root / "content/c/new.md").write_text("---\ntitle: 新页\n---\n\n正文\n", "utf-8")
    result = build(root)
    assert result.exit_code == 1
    assert "changed since its approval by 合规部 王芳" in result.output
    assert "content/c/index.md (changed), content/c/new.md (added)" in result.output
    report = json.loads((root / "compliance-report/c.json").read_text("utf-8"))
    assert report["approval"]["changed"] == {"content/c/index.md": "changed", "content/c/new.md": "added"}
    assert run("approve", "c", "--project", str(root), "--by", "王芳").exit_code == 0
    assert build(root).exit_code == 0
    assert record.count("- by:") == 1 and (root / "content/c/approvals.yaml").read_text("utf-8").count("- by:") == 2


def test_site_default_and_refused_approval(tmp_path):
    root = one_page_site(tmp_path, "稳赚不赔\n", WINDOW)
    (root / "h5press.yaml").write_text("compliance:\n  require_approval: true\n", "utf-8")
    result = run("approve", "c", "--project", str(root), "--by", "王芳")
    assert result.exit_code == 1 and "fix them before approving" in result.output
    assert not (root / "content/c/approvals.yaml").exists()
    (root / "content/c/index.md").write_text("---\ntitle: 首页\n---\n\n正文\n", "utf-8")
    assert "c has never been approved" in build(root).output
    (root / "content/c/approvals.yaml").write_text("approvals:\n  - by: 王芳\n    at: yesterday\n", "utf-8")
    result = build(root)
    assert result.exit_code == 1 and "content/c/approvals.yaml:3: approvals[0].at:" in result.output


def test_layout_change_needs_new_approval(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW + "compliance:\n  require_approval: true\n")
    assert run("approve", "c", "--project", str(root), "--by", "王芳").exit_code == 0
    (root / "layouts").mkdir()
    (root / "layouts/page.html").write_text("{% extends 'theme/page.html' %}", "utf-8")
    assert "layouts/page.html (added)" in build(root).output


def test_demo_has_no_findings(tmp_path):
    from pathlib import Path
    result = lint(Path(__file__).resolve().parent.parent, "--strict")
    assert result.exit_code == 0, result.output


def test_docs_list_every_shipped_rule_with_its_source():
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parent.parent
    docs = (root / "docs/compliance.md").read_text("utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in docs.splitlines() if line.startswith("| `")}
    for rule in yaml.safe_load((root / "compliance/rules/finance-cn.yaml").read_text("utf-8"))["rules"]:
        assert rule["id"] in rows, f"docs/compliance.md does not list {rule['id']}"
        first = rule["source"].split("；")[0]
        cited = first.replace("中华人民共和国", "")
        assert cited in rows[rule["id"]] or first in rows[rule["id"]], f"{rule['id']}: source {first} not cited"


def test_reports_stay_out_of_the_sources(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW)
    (root / "h5press.yaml").write_text("compliance:\n  report_dir: content/reports\n", "utf-8")
    result = build(root)
    assert result.exit_code == 1
    assert 'h5press.yaml:2: compliance.report_dir: "content/reports": expected a folder inside the project' in result.output
    (root / "h5press.yaml").write_text("compliance:\n  report_dir: review/compliance\n", "utf-8")
    assert build(root).exit_code == 0
    assert (root / "review/compliance/c.json").is_file() and not (root / "dist/compliance-report").exists()


def test_elder_mode_reads_the_projects_scss(tmp_path):
    root = one_page_site(tmp_path, "正文\n", WINDOW + "elder_mode: true\n")
    write_tree(root, {"assets/scss/_chrome.scss": "@import 'theme/chrome';\n.h5-footer {\n  font-size: 0.875rem;\n}\n"})
    out = lint(root).output
    assert "assets/scss/_chrome.scss:3:3  elder-sizes  「font-size: 0.875rem」 14 px text in an elder-mode campaign" in out
    write_tree(root, {"assets/scss/_chrome.scss": "@import 'theme/chrome';\n.h5-footer {\n  font-size: 1.125rem;\n}\n"})
    assert lint(root, "--strict").exit_code == 0


def test_lint_some_campaigns(tmp_path):
    root = one_page_site(tmp_path, "稳赚不赔\n", WINDOW)
    write_tree(root, {"content/d/campaign.yaml": WINDOW, "content/d/index.md": "---\ntitle: 首页\n---\n\n正文\n"})
    assert lint(root, "d").exit_code == 0 and not (root / "compliance-report/c.json").exists()
    assert lint(root, "c", "d").exit_code == 1
    result = lint(root, "e")
    assert result.exit_code == 1 and 'no campaign "e" in content/' in result.output
    result = run("approve", "e", "--project", str(root), "--by", "王芳")
    assert result.exit_code == 1 and 'no campaign "e" in content/' in result.output
