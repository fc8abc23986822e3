"""arena: schema errors at their key paths, then a whole game in real Chromium (375 and 320 px),
checked against an independent Python implementation of the market model in schema.py."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from h5fixtures import build, layout_shift, one_page_site, open_served

CAMPAIGN = ("title: t\nstart: 2020-01-01\nend: 2099-12-31\ndisclosure: 基金过往业绩不代表其未来表现。\n"
            "points:\n  actions:\n    arena: {points: 20, per_campaign: 1}\n")
PAGE = """::: arena fund
seed: 42
funds:
  - {id: cash, name: 稳稳货币, kind: 货币, mean: 1.8, volatility: 0.2}
  - {id: bond, name: 安心纯债, kind: 债券, mean: 3.5, volatility: 3}
  - {id: stock, name: 成长股票, kind: 股票, mean: 8, volatility: 24}
events:
  - {round: 4, text: 市场震荡, shock: {股票: -6}}
:::

::: arena weekly
peers: 0
funds:
  - {id: a, name: 甲, kind: 债券, mean: 3, volatility: 2}
  - {id: b, name: 乙, kind: 指数, mean: 7, volatility: 20}
:::
"""
FUNDS = [(1.8, 0.2, "货币"), (3.5, 3, "债券"), (8, 24, "股票")]
U32 = 0xFFFFFFFF


# --- the model of schema.py's docstring, written again in Python ------------------------------

def mulberry32(seed: int) -> Callable[[], float]:
    state = seed & U32

    def rand() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & U32
        t = ((state ^ (state >> 15)) * (1 | state)) & U32
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & U32)) & U32) ^ t
        return ((t ^ (t >> 14)) & U32) / 4294967296

    return rand


def market(seed: int, rounds: int = 12, shocks: dict[int, dict[str, float]] | None = None) -> list[list[float]]:
    rand, out = mulberry32(seed), []
    for t in range(1, rounds + 1):
        row = []
        for mean, vol, kind in FUNDS:
            z = math.sqrt(-2 * math.log(1 - rand())) * math.cos(2 * math.pi * rand())
            row.append(max(-0.9, mean / 100 / 12 + vol / 100 / math.sqrt(12) * z + (shocks or {}).get(t, {}).get(kind, 0) / 100))
        out.append(row)
    return out


def values_of(returns: list[list[float]], weights: list[float], capital: float = 100000) -> list[float]:
    hold = [capital * w for w in weights]
    values = [sum(hold)]
    for row in returns:
        hold = [v * (1 + r) for v, r in zip(hold, row, strict=True)]
        values.append(sum(hold))
    return values


def expected(seed: int, weights: list[float], peers: int = 99) -> dict[str, float]:
    returns = market(seed, shocks={4: {"股票": -6}})
    values = values_of(returns, weights)
    peak, drawdown = values[0], 0.0
    for v in values:
        peak = max(peak, v)
        drawdown = max(drawdown, (peak - v) / peak)
    growth = [math.prod(1 + row[i] for row in returns) for i in range(len(FUNDS))]
    below = 0
    for k in range(1, peers + 1):
        rand = mulberry32((seed + k * 0x9E3779B9) & U32)
        ws = [-math.log(1 - rand()) for _ in FUNDS]
        below += sum(100000 * w / sum(ws) * g for w, g in zip(ws, growth, strict=True)) < values[-1]
    return {"return": values[-1] / values[0] - 1, "drawdown": drawdown, "beaten": round(100 * below / peers)}


def fnv(text: str) -> int:
    x = 0x811C9DC5
    for ch in text:
        x = ((x ^ ord(ch)) * 16777619) & U32
    return x


def test_the_python_prng_matches_mulberry32_in_javascript():
    rand = mulberry32(1)  # the first values of JavaScript's mulberry32(1), as printed by V8
    assert [rand(), rand(), rand()] == [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]


# --- schema -------------------------------------------------------------------------------

def test_schema_errors_name_their_key_paths(tmp_path):
    bad = (PAGE.replace("id: bond", "id: cash").replace("volatility: 24", "volatility: -1")
           .replace("round: 4", "round: 13").replace("seed: 42", "seed: 42\nrounds: 12\nstep: 30"))
    result = build(one_page_site(tmp_path, bad, CAMPAIGN))
    assert result.exit_code == 1
    err = result.stderr
    assert 'content/c/index.md:12: arena "fund": funds[2].volatility: input should be greater than or equal to 0 (got -1)' in err
    # cross-key rules are checked once the keys themselves are valid
    fixed = bad.replace("volatility: -1", "volatility: 24")
    err = build(one_page_site(tmp_path, fixed, CAMPAIGN)).stderr
    assert 'content/c/index.md:8: arena "fund": step: 30 does not divide 100 (use 5, 10, 20, 25 or 50)' in err
    assert 'content/c/index.md:11: arena "fund": funds[1].id: "cash" is used twice (also funds[0])' in err
    assert 'content/c/index.md:14: arena "fund": events[0].round: 13 is after the last round (12)' in err


def test_schema_limits(tmp_path):
    one_fund = PAGE.split("\n\n")[0].replace("  - {id: bond, name: 安心纯债, kind: 债券, mean: 3.5, volatility: 3}\n", "")
    one_fund = re.sub(r"  - \{id: stock.*\n", "", one_fund)
    err = build(one_page_site(tmp_path, one_fund.replace("seed: 42", "rounds: 61"), CAMPAIGN)).stderr
    assert 'arena "fund": rounds: input should be less than or equal to 60 (got 61)' in err
    assert 'arena "fund": funds: list should have at least 2 items after validation, not 1' in err
    err = build(one_page_site(tmp_path, PAGE.replace("kind: 股票, mean", "kind: 期货, mean"), CAMPAIGN)).stderr
    assert "content/c/index.md:10: arena \"fund\": funds[2].kind: input should be '货币', '债券', '混合', '股票' or '指数'" in err
    err = build(one_page_site(tmp_path, PAGE, "title: t\n")).stderr
    assert 'content/c/index.md:5: arena "fund": points: is required: campaign.yaml has no points.actions.arena' in err


# --- in the browser -----------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 320])
def test_allocate_run_rank_reload_and_points_once(tmp_path, serve, browser, width):
    root = one_page_site(tmp_path, PAGE, CAMPAIGN)
    server, context, page, errors = open_served(root, serve, browser, "c/index.html", width, "block")
    game = page.locator('[data-id="fund"]')
    assert layout_shift(page) == 0  # hydration fills in, it does not move anything
    assert "模拟收益不代表真实收益，基金有风险，投资须谨慎。基金过往业绩不代表其未来表现。" in game.get_by_role("note").inner_text()
    assert game.locator(".h5c-arena__risk").is_visible() and game.get_by_text("模拟", exact=True).count() == 3
    plus = {name: game.get_by_role("button", name="增加 " + name) for name in ("稳稳货币", "安心纯债", "成长股票")}
    for name, taps in (("稳稳货币", 2), ("安心纯债", 3), ("成长股票", 5)):
        for _ in range(taps):
            plus[name].click()
    assert game.get_by_role("button", name="开始模拟").is_disabled() is False
    assert plus["稳稳货币"].is_disabled()  # 100 % reached: no more
    game.get_by_role("button", name="减少 成长股票").click()
    assert game.locator(".h5c-arena__sum").inner_text() == "已配置 90%，还差 10%"
    assert game.get_by_role("button", name="开始模拟").is_disabled()
    plus["安心纯债"].click()  # 20 / 40 / 40
    game.get_by_role("button", name="开始模拟").click()
    for _ in range(4):
        game.get_by_role("button", name="下一轮").click()
    assert game.locator(".h5c-arena__news").inner_text() == "市场消息：市场震荡"
    weights = [0.2, 0.4, 0.4]
    after4 = values_of(market(42, shocks={4: {"股票": -6}})[:4], weights)[-1]
    assert game.locator(".h5c-arena__now").inner_text().startswith(f"第 4 / 12 个月\n资产 {round(after4):,} 元（")
    page.reload()  # mid-game: allocation, round and seed come back
    game = page.locator('[data-id="fund"]')
    assert game.locator(".h5c-arena__now").inner_text().startswith("第 4 / 12 个月")
    assert layout_shift(page) == 0
    assert game.locator("output").all_inner_texts() == ["20%", "40%", "40%"]
    assert game.get_by_role("button", name="增加 安心纯债").is_disabled()
    assert game.locator(".h5c-arena__line").get_attribute("d").count("L") == 4
    game.get_by_role("button", name="快进到结束").click()
    want = expected(42, weights)
    result = game.locator(".h5c-arena__result")
    assert result.is_visible()
    assert result.locator('[data-r="return"]').inner_text() == f"{100 * want['return']:+.2f}%".replace("+-", "-")
    assert result.locator('[data-r="drawdown"]').inner_text() == f"{100 * want['drawdown']:.2f}%"
    assert result.locator('[data-r="rank"]').inner_text().startswith(f"击败了 {want['beaten']}% 的模拟参与者")
    assert game.get_by_role("button", name="下一轮").is_disabled()
    game.get_by_role("button", name="换个配置再试").click()  # same market, another allocation: no more points
    game.get_by_role("button", name="减少 稳稳货币").click()
    game.get_by_role("button", name="增加 成长股票").click()
    game.get_by_role("button", name="开始模拟").click()
    game.get_by_role("button", name="快进到结束").click()
    outbox = page.evaluate("() => JSON.parse(localStorage.getItem('h5press:c:outbox'))")
    starts = [e["payload"] for e in outbox if e["type"] == "arena.start"]
    assert starts == [{"allocation": {"cash": 20, "bond": 40, "stock": 40}, "seed": 42, "attempt": 1},
                      {"allocation": {"cash": 10, "bond": 40, "stock": 50}, "seed": 42, "attempt": 2}]
    first, second = [e["payload"] for e in outbox if e["type"] == "arena.complete"]
    assert (first["return"], first["drawdown"], first["beaten"]) == (
        round(100 * want["return"], 2), round(100 * want["drawdown"], 2), want["beaten"])
    assert second["attempt"] == 2 and second["beaten"] == expected(42, [0.1, 0.4, 0.5])["beaten"]
    assert [e["payload"]["points"] for e in outbox if e["type"] == "points"] == [20]
    assert page.evaluate("() => h5press.wallet().total") == 20
    monday = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    monday -= dt.timedelta(days=monday.weekday())
    assert page.locator('[data-id="weekly"] [data-seed]').inner_text() == f"行情编号 {fnv(f'c/weekly/{monday}')}"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    assert page.evaluate("() => h5press.selftest()") == []
    assert errors == []
    context.close()
