"""budget: a monthly budget game. The visitor splits a take-home income among categories, plays
the weeks of the month (one random life event a week, from a seeded generator) and gets a score
from 0 to 100 with advice.

    ::: budget smart-month
    title: 模拟一个月的收支
    income: 8000
    categories:
      - {id: rent, label: 房租, min: 2500, max: 3500, default: 2500, essential: true}
      - {id: food, label: 餐饮, min: 1000, max: 2500, default: 1500, essential: true}
      - {id: fun, label: 娱乐, min: 0, max: 2000, default: 1000}
      - {id: card, label: 信用卡还款, kind: repay, bill: 1500, minimum: 150, min: 0, max: 2000, default: 1500}
      - {id: save, label: 储蓄, kind: savings, min: 0, max: 4000, default: 1500}
    events:
      - {text: 感冒去医院，自付药费, category: food, amount: -300, chance: 0.5}
      - {text: 发了季度奖金, category: save, amount: 1000, chance: 0.3}
    points: 20
    :::

The month (documented in docs/components.md): a spending category's allocation is spent evenly over the
weeks; each week one event not drawn yet is picked at random and happens with its `chance`. At
the end, a spending category's net events are its overspending (covered from savings, then by
swiping the credit card: new debt) or money left over (added to savings). The repayment category
pays the card bill: in full, at least the minimum (the rest bears interest), or less (逾期).
Score = 100 × points earned ÷ points possible: repayment 25 (full) / 12 (minimum) / 0,
savings rate 25 × min(1, rate ÷ goals.savings_rate), emergency buffer 20 × min(1, savings ÷
goals.buffer), no new debt 15 × max(0, 1 − debt ÷ (20 % of income)), non-essential spending
15 × max(0, 1 − (share − goals.wants_share) ÷ goals.wants_share) when over the share.
Without a repayment category its 25 points are not counted.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from h5press.generator.config import Ident
from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 45


class Category(Strict):
    id: Ident = Field(description="names the category in events and in the saved allocation")
    label: str = Field(min_length=1, description="e.g. 房租")
    min: int = Field(ge=0, description="the least the visitor can allocate (yuan)")
    max: int = Field(ge=0, description="the most the visitor can allocate (yuan)")
    default: int = Field(ge=0, description="the starting allocation (yuan)")
    step: int = Field(100, ge=1, description="one tap of − / + (yuan)")
    essential: bool = Field(False, description="a need (rent, food); the others count as non-essential spending")
    kind: Literal["spend", "savings", "repay"] = Field("spend", description="savings: the buffer; repay: pays the card bill")
    bill: int | None = Field(None, ge=1, description="repay: this month's credit-card statement (yuan)")
    minimum: int | None = Field(None, ge=0, description="repay: the minimum repayment (yuan)")


class Event(Strict):
    text: str = Field(min_length=1, description="what happened, e.g. 手机摔坏了，换屏")
    category: str = Field(description="the id of the category it hits")
    amount: int = Field(description="yuan: negative is an expense, positive an income")
    chance: float = Field(1, ge=0, le=1, description="probability it happens in the week it is drawn")


class Band(Strict):
    min_score: int = Field(ge=0, le=100, description="lowest score of this band")
    title: str = Field(min_length=1, description="e.g. 精明理财")
    text: str = Field("", description="the advice shown with the score")


class Goals(Strict):
    savings_rate: float = Field(0.2, gt=0, le=1, description="share of income saved for full marks")
    buffer: int | None = Field(None, ge=1, description="savings kept at month end for full marks; default 10 % of income")
    wants_share: float = Field(0.3, gt=0, le=1, description="non-essential spending above this share of income costs points")


DEFAULT_ADVICE = [
    Band(min_score=0, title="收支告急",
         text="这个月入不敷出。先保证按时还款，再为房租、餐饮等必要开支留足预算，少一些非必要消费。"),
    Band(min_score=60, title="基本平衡", text="收支大体可控。试着每月先存下收入的一部分，再安排其他开支，并留一笔应急金。"),
    Band(min_score=85, title="精明理财", text="预算清晰、按时全额还款、还有应急储备。继续保持，量入为出。"),
]


def _error(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)  # type: ignore[arg-type]


class Schema(Strict):
    title: str = Field("模拟一个月的收支", min_length=1, description="heading of the game")
    intro: str = Field("", description="one paragraph under the heading")
    income: int = Field(ge=1, description="monthly take-home income (yuan) to allocate")
    weeks: int = Field(4, ge=1, le=6, description="weeks of the month; one event is drawn per week")
    categories: list[Category] = Field(min_length=2, max_length=10, description=(
        "where the income goes: exactly one savings category, at most one repay category"))
    events: list[Event] = Field(default_factory=list, description="life events, at most one drawn per week")
    seed: int | None = Field(None, ge=0, description="fixes the month; default: from the day, so it changes daily")
    goals: Goals = Field(default_factory=Goals, description="the targets the score measures")
    advice: list[Band] = Field(default_factory=lambda: list(DEFAULT_ADVICE), min_length=1, description=(
        "advice bands by score: min_score starts at 0 and strictly increases; default: three bands"))
    start: str = Field("开始这个月", min_length=1, description="the button that ends allocation")
    action: str = Field("budget", description="the points action in campaign.yaml that counts completion")
    points: int | None = Field(None, ge=0, description="points on the first completion; default: points.actions.<action>")

    @model_validator(mode="after")
    def _consistent(self) -> Schema:
        """Rules across keys, each reported at its own key path."""
        errors: list[InitErrorDetails] = []
        seen: set[str] = set()
        for i, c in enumerate(self.categories):
            if c.id in seen:
                errors.append(_error(("categories", i, "id"), f'"{c.id}" is used by another category; ids are unique'))
            seen.add(c.id)
            if c.min > c.max:
                errors.append(_error(("categories", i, "min"), f"{c.min} is more than max {c.max}"))
            elif not c.min <= c.default <= c.max:
                errors.append(_error(("categories", i, "default"), f"{c.default} is outside min–max ({c.min}–{c.max})"))
            if c.max > self.income:
                errors.append(_error(("categories", i, "max"), f"{c.max} is more than the income {self.income}"))
            if c.kind == "repay" and (c.bill is None or c.minimum is None):
                errors.append(_error(("categories", i, "bill" if c.bill is None else "minimum"), "is required for kind: repay"))
            elif c.kind == "repay" and c.minimum is not None and c.bill is not None and c.minimum > c.bill:
                errors.append(_error(("categories", i, "minimum"), f"{c.minimum} is more than the bill {c.bill}"))
            if c.kind != "repay" and (c.bill is not None or c.minimum is not None):
                key = "bill" if c.bill is not None else "minimum"
                errors.append(_error(("categories", i, key), "only a kind: repay category has a bill"))
        for kind in ("savings", "repay"):
            extra = [i for i, c in enumerate(self.categories) if c.kind == kind][1:]
            errors += [_error(("categories", i, "kind"), f"only one category can be kind: {kind}") for i in extra]
        if not any(c.kind == "savings" for c in self.categories):
            errors.append(_error(("categories",), "needs one category with kind: savings (the emergency buffer)"))
        defaults = sum(c.default for c in self.categories)
        if defaults > self.income:
            errors.append(_error(("categories",), f"the defaults add up to {defaults}, more than the income {self.income}"))
        if sum(c.min for c in self.categories) > self.income:
            errors.append(_error(("categories",), f"the minimums add up to more than the income {self.income}"))
        for i, e in enumerate(self.events):
            if e.category not in seen:
                known = ", ".join(sorted(seen))
                errors.append(_error(("events", i, "category"), f'"{e.category}" is not a category id ({known})'))
        for i in range(1, len(self.advice)):
            if self.advice[i].min_score <= self.advice[i - 1].min_score:
                errors.append(_error(("advice", i, "min_score"), f"{self.advice[i].min_score} must be more than the band before "
                                                                 f"({self.advice[i - 1].min_score}); bands go from low to high"))
        if self.advice[0].min_score != 0:
            errors.append(_error(("advice", 0, "min_score"), "the first band must start at 0, so every score has advice"))
        if errors:
            raise ValidationError.from_exception_data("budget", errors)
        return self
