"""arena: a simulated investment arena (模拟投资擂台). The visitor splits virtual money among
simulated funds, runs the rounds of one seeded market path and is ranked against simulated peers
who faced the same path: same seed, same market for everyone, so the ranking is fair.

    ::: arena fund-arena
    title: 模拟投资擂台
    capital: 100000
    rounds: 12
    seed: 20261101
    funds:
      - {id: cash, name: 青禾货币, kind: 货币, mean: 1.8, volatility: 0.2}
      - {id: bond, name: 青禾纯债, kind: 债券, mean: 3.5, volatility: 3}
      - {id: stock, name: 青禾成长, kind: 股票, mean: 8, volatility: 24}
    events:
      - {round: 4, text: 市场震荡，权益类资产普遍回调, shock: {股票: -6}}
    points: 20
    :::

Every fund is shown labelled 模拟 and the risk disclosure (模拟收益不代表真实收益，基金有风险，
投资须谨慎。 plus `disclosure` or the campaign's) sits next to the game, never collapsed.

The market model (script.js implements exactly this; the tests re-implement it):
- PRNG: mulberry32 seeded with `seed` (an unsigned 32-bit integer). Without `seed`, the seed is
  the FNV-1a hash of `<campaign>/<id>/<Monday of the current week>` (the campaign's timezone):
  one market per week, the same for everyone that week. A game keeps its seed across reloads.
- Per round t = 1…rounds, per fund in the listed order: u1, u2 = two draws; z = √(−2·ln(1−u1))·
  cos(2π·u2) (Box–Muller, one standard normal); the fund's return that round is
  mean/100/per_year + volatility/100/√per_year · z + shock/100, at least −90 %. `mean` and
  `volatility` are annualised percentages, converted to one round with `per_year` rounds a year.
- Buy and hold: the portfolio is capital × Σ weight × Π(1 + return) (no rebalancing).
- Maximum drawdown: the largest fall from a peak of the portfolio value (the capital counting as
  the first value) to a later trough, as a share of that peak. Volatility: the standard deviation
  of the portfolio's per-round returns, × √per_year (annualised).
- Peers: peer k = 1…peers draws weights −ln(1−u) from mulberry32((seed + k·0x9E3779B9) mod 2³²),
  normalised to 100 % (uniform over all allocations). 击败了 x% = share of peers whose final value
  is strictly below the visitor's.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from h5press.generator.config import Ident
from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 45

Kind = Literal["货币", "债券", "混合", "股票", "指数"]

LESSON = ("分散配置不能消除风险，但能让资产曲线更平稳：不同基金的涨跌并不同步，"
          "一部分下跌时另一部分可能持平或上涨。选择基金前，先了解自己的风险承受能力。")


class Fund(Strict):
    id: Ident = Field(description="unique within the block; names the fund in events")
    name: str = Field(min_length=1, max_length=20, description="a made-up name; always shown labelled 模拟")
    kind: Kind = Field(description="货币 / 债券 / 混合 / 股票 / 指数")
    mean: float = Field(ge=-50, le=100, description="expected return, % a year (annualised)")
    volatility: float = Field(ge=0, le=100, description="standard deviation of returns, % a year (annualised)")


class Event(Strict):
    round: int = Field(ge=1, description="the round whose result the news explains")
    text: str = Field(min_length=1, description="market news shown when the round is run, e.g. 市场震荡")
    shock: dict[Kind, float] = Field(default_factory=dict, description="extra return that round in %, by fund kind")


class Schema(Strict):
    title: str = Field("模拟投资擂台", min_length=1, description="heading of the game")
    intro: str = Field("", description="one paragraph under the heading")
    capital: int = Field(100000, ge=100, le=100_000_000, description="virtual money (虚拟资金) in 元")
    rounds: int = Field(12, ge=1, le=60, description="rounds to run")
    unit: str = Field("个月", min_length=1, max_length=4, description="what one round is called: 第 3 个月")
    per_year: int = Field(12, ge=1, le=365, description="rounds a year: converts the annualised mean and volatility")
    funds: list[Fund] = Field(min_length=2, max_length=8, description="the simulated funds to choose from")
    step: int = Field(10, ge=1, le=50, description="allocation step in %, a divisor of 100 (5, 10, 20, 25)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="market path seed; default: one per campaign week")
    peers: int = Field(99, ge=0, le=999, description="simulated peers to rank against (0: no ranking)")
    events: list[Event] = Field(default_factory=list, description="market news by round")
    lesson: str = Field(LESSON, min_length=1, description="shown with the results")
    disclosure: str | None = Field(None, description="risk text beside the game; default: the campaign's `disclosure`")
    action: str = Field("arena", description="the points action in campaign.yaml counted once on completion")
    points: int | None = Field(None, ge=0, description="points on completion; default: campaign points.actions.<action>")

    @model_validator(mode="after")
    def _consistent(self) -> Schema:
        """Rules across keys, each reported at its own key path (and so at its own line)."""
        problems: list[tuple[tuple[str | int, ...], str, object]] = []
        if 100 % self.step:
            problems.append((("step",), f"{self.step} does not divide 100 (use 5, 10, 20, 25 or 50)", self.step))
        seen: dict[str, int] = {}
        for i, fund in enumerate(self.funds):
            if fund.id in seen:
                problems.append((("funds", i, "id"), f'"{fund.id}" is used twice (also funds[{seen[fund.id]}])', fund.id))
            seen.setdefault(fund.id, i)
        rounds: dict[int, int] = {}
        for i, event in enumerate(self.events):
            if event.round > self.rounds:
                problems.append((("events", i, "round"), f"{event.round} is after the last round ({self.rounds})", event.round))
            elif event.round in rounds:
                problems.append((("events", i, "round"), f"round {event.round} already has news (events[{rounds[event.round]}])",
                                 event.round))
            rounds.setdefault(event.round, i)
        if problems:
            raise ValidationError.from_exception_data("arena", [
                InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
                for loc, message, value in problems])
        return self
