"""chart: bar, line and pie charts drawn as inline SVG at build time (no chart library, no
script needed to read them), and a compound-interest calculator for regular investing (定投).

    ::: chart green-loans
    type: bar
    title: 绿色贷款余额
    labels: [2020, 2021, 2022, 2023, 2024]
    series:
      - {name: 余额, values: [11.9, 15.9, 22.0, 30.1, 36.6]}
    unit: 万亿元
    source: 示例数据，仅用于演示
    :::

    ::: chart plan
    type: calculator
    rate: {default: 4, min: 0, max: 8, step: 0.5}
    :::

Every chart needs an id: the calculator saves its last values and sends them as events under
it, and the id keeps the element ids of several charts on one page apart.

The geometry (ticks, bars, paths, slices) is computed here, in `plot`, a computed field that
the template receives with the rest of the validated block. The calculator's script redraws
with the same arithmetic (script.js mirrors `_calc_plot`), so hydration changes nothing.
"""
from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, ValidationError, computed_field, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from h5press.generator.schema import Strict

STATEFUL = True  # the calculator keeps state; the generator cannot ask for an id per chart type
ORDER = 45

W = 280  # viewBox width: at a 320 px screen the chart is ~264 px wide, so 13-unit text stays ≥ 12 px
FONT = 13
KEYS = 8  # colour classes k0…k7 (style.scss): primary, accent and lighter shades of both

CALC_DEFAULTS: dict[str, dict[str, float]] = {
    "monthly": {"default": 1000, "min": 100, "max": 10000, "step": 100},
    "rate": {"default": 4, "min": 0, "max": 10, "step": 0.5},
    "years": {"default": 10, "min": 1, "max": 30, "step": 1},
}
CALC_LIMITS = {"monthly": 1e7, "rate": 30, "years": 50, "initial": 1e9}  # beyond these a slider is not a plan
CALC_NOTE = "年化收益率为假设值，仅用于演示复利计算，不代表任何产品的收益承诺；基金有风险，投资须谨慎。"


class Series(Strict):
    name: str = Field(min_length=1, description="shown in the legend and the data table")
    values: list[float] = Field(min_length=1, description="one value per label, in order")


class Range(Strict):
    default: float = Field(description="where the slider starts")
    min: float = Field(ge=0, description="lowest value of the slider")
    max: float = Field(gt=0, description="highest value of the slider")
    step: float = Field(1.0, gt=0, description="slider increment")


class Schema(Strict):
    type: Literal["bar", "line", "pie", "calculator"] = Field("bar", description="kind of chart")
    title: str | None = Field(None, min_length=1, description="heading, starting the screen-reader summary; "
                                                              "required except for a calculator (定投复利计算器)")
    labels: list[str] | None = Field(None, min_length=1, max_length=24, description="bar/line: x categories; pie: slices")
    series: list[Series] | None = Field(None, min_length=1, max_length=KEYS, description="bar/line: one or more; pie: one")
    unit: str = Field("", description="unit of the values, e.g. 亿元 or %")
    decimals: int | None = Field(None, ge=0, le=4, description="decimals shown; default: as many as the data has (≤ 3)")
    caption: str | None = Field(None, description="a sentence under the chart: what it shows")
    source: str | None = Field(None, description="数据来源 line; say 示例数据 when the figures are illustrative")
    monthly: Range | None = Field(None, description="calculator: 每月定投 (元)")
    rate: Range | None = Field(None, description="calculator: 年化收益率 (%), an assumption")
    years: Range | None = Field(None, description="calculator: 投资年限")
    initial: Range | None = Field(None, description="calculator: optional lump sum at the start (元)")
    note: str = Field(CALC_NOTE, min_length=1, description="calculator: the rate is an assumption, not a promise")

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_as_text(cls, value: Any) -> Any:
        """Years are written bare (`[2022, 2023]`) and arrive as numbers."""
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value] \
            if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _calculator_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "calculator":
            return {**{k: dict(v) for k, v in CALC_DEFAULTS.items()}, **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Schema:
        """Rules across keys, each reported at its own key path (so at its own line)."""
        problems = self._calc_problems() if self.type == "calculator" else self._data_problems()
        if problems:
            raise ValidationError.from_exception_data("chart", [
                InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=None)
                for loc, message in problems])
        return self

    def _data_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = []
        for key in ("monthly", "rate", "years", "initial"):
            if getattr(self, key) is not None:
                out.append(((key,), f"is only for a calculator, not a {self.type} chart"))
        if self.title is None or self.labels is None or self.series is None:
            return out + [((key,), f"is required for a {self.type} chart") for key in ("title", "labels", "series")
                          if getattr(self, key) is None]
        for i, s in enumerate(self.series):
            if len(s.values) != len(self.labels):
                out.append((("series", i, "values"), f'"{s.name}" has {len(s.values)} values for {len(self.labels)} labels'))
        if self.type == "pie":
            if len(self.series) != 1:
                out.append((("series",), f"a pie chart has exactly one series (got {len(self.series)})"))
            if len(self.labels) > KEYS:
                out.append((("labels",), f"a pie chart has at most {KEYS} slices (got {len(self.labels)})"))
            values = self.series[0].values
            if any(v < 0 for v in values):
                out.append((("series", 0, "values"), "pie values cannot be negative"))
            elif not any(values):
                out.append((("series", 0, "values"), "pie values cannot all be zero"))
        return out

    def _calc_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        out: list[tuple[tuple[str | int, ...], str]] = []
        for key in ("labels", "series"):
            if getattr(self, key) is not None:
                out.append(((key,), "is not used by a calculator"))
        for key, limit in CALC_LIMITS.items():
            r: Range | None = getattr(self, key)
            if r is None:
                continue
            if r.min >= r.max:
                out.append(((key, "max"), f"{r.max:g} must be more than min ({r.min:g})"))
            elif r.max > limit:
                out.append(((key, "max"), f"{r.max:g} is more than {limit:g}"))
            elif not r.min <= r.default <= r.max:
                out.append(((key, "default"), f"{r.default:g} is outside min..max ({r.min:g}..{r.max:g})"))
            elif r.step > r.max - r.min:
                out.append(((key, "step"), f"{r.step:g} is more than max - min ({r.max - r.min:g})"))
        if self.years and not (self.years.min.is_integer() and self.years.step.is_integer() and self.years.default.is_integer()):
            out.append((("years",), "min, default and step are whole years"))
        return out

    @computed_field  # type: ignore[prop-decorator]
    @property
    def plot(self) -> dict[str, Any]:
        """Everything the template draws, in viewBox units, plus the texts it shows."""
        if self.type == "calculator":
            assert self.monthly and self.rate and self.years
            at = {"monthly": self.monthly.default, "rate": self.rate.default, "years": self.years.default,
                  "initial": self.initial.default if self.initial else 0}
            return {**calc_plot(at["monthly"], at["rate"], int(at["years"]), at["initial"]),
                    "shown": {key: shown(key, v) for key, v in at.items()}}
        assert self.labels is not None and self.series is not None
        written = max(_decimals(v) for s in self.series for v in s.values)
        decimals = self.decimals if self.decimals is not None else min(3, written)
        table = [[_num(v, decimals) for v in s.values] for s in self.series]
        unit = f"（{self.unit}）" if self.unit else ""
        kind = {"bar": "柱状图", "line": "折线图", "pie": "饼图"}[self.type]
        parts = [f"{s.name}：" + "，".join(f"{lab} {t}" for lab, t in zip(self.labels, row, strict=True))
                 for s, row in zip(self.series, table, strict=True)]
        summary = f"{kind}：{self.title}{unit}。" + "；".join(parts)
        plot = _pie(self.series[0].values) if self.type == "pie" else _axes(self.type, self.labels, self.series, decimals)
        return {**plot, "table": table, "summary": summary}


def _decimals(v: float) -> int:
    text = repr(float(v))
    return 0 if "e" in text or text.endswith(".0") else len(text.split(".")[1])


def _num(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}"


def text_width(text: str, size: float = FONT) -> float:
    """Rough rendered width: CJK glyphs are square, digits and Latin about 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def nice_step(span: float, intervals: int) -> float:
    """A 1-2-5 step dividing `span` into about `intervals` parts (script.js: niceStep)."""
    raw = span / intervals
    mag = 10 ** math.floor(math.log10(raw))
    f = raw / mag
    return (1 if f <= 1 else 2 if f <= 2 else 5 if f <= 5 else 10) * mag


def _axes(kind: str, labels: list[str], series: list[Series], decimals: int) -> dict[str, Any]:
    """Bar and line charts: a band per label, y ticks on 1-2-5 steps covering the data and 0."""
    height, top, bottom = 190, 20, 166
    values = [v for s in series for v in s.values]
    lo, hi = min(values + [0.0]), max(values + [0.0])
    if kind == "line" and min(values) > hi / 2:  # a line's shape matters more than its distance from 0
        lo = min(values)
    hi = hi if hi > lo else lo + 1
    step = nice_step(hi - lo, 4)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    tick_dec = max(0, -math.floor(math.log10(step) + 1e-9))
    ticks = [round(k * step, tick_dec) for k in range(first, last + 1)]

    def y(v: float) -> float:
        return round(bottom - (v - ticks[0]) / (ticks[-1] - ticks[0]) * (bottom - top), 1)

    tick_labels = [_num(t, tick_dec) for t in ticks]
    left = round(max(text_width(t) for t in tick_labels) + 8, 1)
    right = W - 4
    slot = (right - left) / len(labels)
    centres = [left + slot * (i + 0.5) for i in range(len(labels))]
    every = 1
    while max(text_width(lab) for lab in labels) + 4 > slot * every:
        every += 1
    out: dict[str, Any] = {
        "w": W, "h": height, "left": left, "right": right, "zero": y(max(ticks[0], min(0, ticks[-1]))),
        "yticks": [{"y": y(t), "label": lab} for t, lab in zip(ticks, tick_labels, strict=True)],
        "xlabels": [{"x": round(centres[i], 1), "label": labels[i]} for i in range(0, len(labels), every)],
        "xbase": height - 6, "bars": [], "lines": [],
    }
    if kind == "bar":
        group = slot * 0.7
        width = group / len(series)
        show_values = len(series) == 1 and all(text_width(_num(v, decimals), 12) <= slot for v in values)
        for k, s in enumerate(series):
            for i, v in enumerate(s.values):
                y0, y1 = sorted((out["zero"], y(v)))
                x = centres[i] - group / 2 + k * width
                out["bars"].append({"x": round(x + 0.5, 1), "y": y0, "w": round(width - 1, 1), "h": round(y1 - y0, 1),
                                    "key": k, "label": _num(v, decimals) if show_values else None,
                                    "lx": round(centres[i], 1), "ly": round(y(v) - 5 if v >= 0 else y(v) + 15, 1)})
    else:
        for k, s in enumerate(series):
            points = [(round(centres[i], 1), y(v)) for i, v in enumerate(s.values)]
            out["lines"].append({"key": k, "d": "M" + "L".join(f"{px:g},{py:g}" for px, py in points),
                                 "dots": [{"x": px, "y": py} for px, py in points] if len(points) <= 12 else []})
    return out


def _pie(values: list[float]) -> dict[str, Any]:
    """A donut from the top, clockwise; each slice a closed path (a lone slice is two halves)."""
    total = sum(values)
    cx = cy = 100
    r, ri = 96, 54
    slices: list[dict[str, Any]] = []
    start = 0.0
    for k, v in enumerate(values):
        share = v / total
        if share > 0:
            end = start + share
            cuts = [start, (start + end) / 2, end] if share > 0.5 else [start, end]
            d = "".join(_ring_piece(cx, cy, r, ri, a, b) for a, b in zip(cuts, cuts[1:], strict=False))
            slices.append({"key": k, "d": d})
            start = end
    shares = [v / total * 100 for v in values]
    return {"w": 200, "h": 200, "slices": slices, "shares": [f"{s:.1f}%" for s in shares]}


def _ring_piece(cx: float, cy: float, r: float, ri: float, a: float, b: float) -> str:
    def pt(radius: float, turn: float) -> str:
        ang = 2 * math.pi * turn - math.pi / 2
        return f"{cx + radius * math.cos(ang):.1f},{cy + radius * math.sin(ang):.1f}"

    big = 1 if b - a > 0.5 else 0
    return f"M{pt(r, a)}A{r},{r} 0 {big} 1 {pt(r, b)}L{pt(ri, b)}A{ri},{ri} 0 {big} 0 {pt(ri, a)}Z"


def future_value(monthly: float, rate: float, months: int, initial: float = 0) -> float:
    """Value after `months` of paying `monthly` at each month's end, plus `initial` at the start,
    compounded monthly at the nominal annual `rate` (%): i = rate/1200,
    FV = monthly·((1+i)^n − 1)/i + initial·(1+i)^n  (with i = 0: monthly·n + initial)."""
    i = rate / 1200
    if i == 0:
        return monthly * months + initial
    grow = (1 + i) ** months
    return monthly * (grow - 1) / i + initial * grow


def shown(key: str, v: float) -> str:
    """A slider's value as shown next to it (script.js: show)."""
    return f"{_js(v)}%" if key == "rate" else f"{_js(v)} 年" if key == "years" else f"{v:,.0f} 元"


def _js(v: float) -> str:
    """A number written as JavaScript's String(n) writes it, so script.js redraws identically."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _r1(v: float) -> str:
    return _js(math.floor(v * 10 + 0.5) / 10)


def calc_plot(monthly: float, rate: float, years: int, initial: float) -> dict[str, Any]:
    """The calculator's figures and chart at the given values; script.js `draw` is the same code."""
    height, top, bottom, right = 180, 12, 156, W - 16
    invested = [monthly * 12 * t + initial for t in range(years + 1)]
    value = [future_value(monthly, rate, 12 * t, initial) for t in range(years + 1)]
    step = nice_step(max(value[-1], 1), 4)
    ticks = [step * k for k in range(math.ceil(value[-1] / step) + 1)] if value[-1] > 0 else [0, step]
    yt = [_js(t / 1e4) + "万" if step >= 1000 and t else _js(t) for t in ticks]
    left = max(text_width(t) for t in yt) + 8
    ystep = max(1, round(nice_step(years, 5)))

    def x(t: float) -> str:
        return _r1(left + (right - left) * t / years)

    def y(v: float) -> str:
        return _r1(bottom - (bottom - top) * v / ticks[-1])

    def pts(vals: list[float]) -> list[str]:
        return [f"{x(t)},{y(v)}" for t, v in enumerate(vals)]

    line_value, line_invested = "L".join(pts(value)), "L".join(pts(invested))
    return {
        "w": W, "h": height, "left": _r1(left), "right": right, "xbase": height - 6,
        "yticks": [{"y": y(t), "label": lab} for t, lab in zip(ticks, yt, strict=True)],
        "xlabels": [{"x": x(t), "label": f"{t}年"} for t in range(0, years + 1, ystep)],
        # the money paid in, from the axis up; above it, up to the value, the gain
        "invested": f"M{x(0)},{y(0)}L{line_invested}L{x(years)},{y(0)}Z",
        "gain": f"M{line_value}L{'L'.join(reversed(pts(invested)))}Z",
        "invested_line": "M" + line_invested, "value_line": "M" + line_value,
        "total_invested": f"{invested[-1]:,.0f}", "total_value": f"{value[-1]:,.0f}",
        "total_gain": f"{value[-1] - invested[-1]:,.0f}",
        "rows": [[t, f"{a:,.0f}", f"{b:,.0f}"] for t, a, b in zip(range(years + 1), invested, value, strict=True)],
    }
