"""index.html: one self-contained page (inline CSS and SVG, no script, Chinese labels) that opens offline.
Chart geometry is computed here by small pure functions; report.html.j2 only draws it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

WIDTH = 640  # the SVG coordinate width of every chart
LABEL_W = 150  # room for the labels left of horizontal bars
ROW_H = 26
METRICS = {"dwell_s": "平均停留时长", "share_rate": "分享率"}


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # as printed at the bar's end
    x: float
    y: float
    width: float


def hbars(items: list[tuple[str, float]], fmt: str = "{:,.0f}") -> list[Bar]:
    """Horizontal bars, longest = the chart's width."""
    top = max((v for _, v in items), default=0) or 1
    room = WIDTH - LABEL_W - 120  # the value printed after the longest bar fits
    return [Bar(label, fmt.format(v), LABEL_W, i * ROW_H, room * v / top) for i, (label, v) in enumerate(items)]


def columns(items: list[tuple[str, float]], height: float = 160) -> list[Bar]:
    """Vertical columns (x, y the top-left corner, `width` the height), tallest = `height`."""
    top = max((v for _, v in items), default=0) or 1
    step = (WIDTH - 40) / max(1, len(items))
    return [Bar(label, f"{v:,.0f}", 20 + i * step + step * 0.1, height - height * v / top, height * v / top)
            for i, (label, v) in enumerate(items)]


def percent(x: float) -> str:
    return f"{x * 100:+.0f} %"


def sentence(metric: str, base: str, variant: str, uplift: dict[str, Any]) -> str:
    """「B 的分享率比 A 高 58 %（95 % 置信区间 +31 % 至 +88 %）」, and whether the interval excludes no change."""
    estimate, ci = uplift.get("estimate"), uplift.get("ci95")
    what = METRICS[metric]
    if estimate is None or ci is None:
        return f"{variant.upper()} 与 {base.upper()} 的{what}无法比较（{base.upper()} 没有数据或为零）"
    direction = "高" if estimate >= 0 else "低"
    text = (f"{variant.upper()} 的{what}比 {base.upper()} {direction} {abs(estimate) * 100:.0f} %"
            f"（95 % 置信区间 {percent(ci[0])} 至 {percent(ci[1])}）")
    if ci[0] <= 0 <= ci[1]:
        return text + "，差异不显著"
    return text


@dataclass(frozen=True)
class Interval:
    label: str
    sentence: str
    y: float
    low: float  # x of the interval's ends and of the estimate
    high: float
    mid: float


def forest(experiment: dict[str, Any]) -> tuple[list[Interval], float, list[tuple[float, str]]]:
    """Each variant's uplift intervals on one shared axis: the rows, the x of zero and the axis ticks."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for variant, metrics in experiment["uplift"].items():
        for metric, u in metrics.items():
            rows.append((f"{variant.upper()} · {METRICS[metric]}", sentence(metric, experiment["baseline"], variant, u), u))
    ends = [e for *_, u in rows if u["ci95"] for e in u["ci95"]] + [0.0]
    low, high = min(ends), max(ends)
    span = (high - low) or 1
    low, high = low - span * 0.1, high + span * 0.1
    room = WIDTH - LABEL_W - 30

    def x(v: float) -> float:
        return LABEL_W + room * (v - low) / (high - low)

    intervals = [Interval(label, text, i * ROW_H * 1.4, x(u["ci95"][0]), x(u["ci95"][1]), x(u["estimate"]))
                 for i, (label, text, u) in enumerate(rows) if u["ci95"]]
    ticks = [(x(t), percent(t)) for t in _ticks(low, high)]
    return intervals, x(0), ticks


def _ticks(low: float, high: float) -> list[float]:
    step = next(s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100) if (high - low) / s <= 8)
    first = int(low / step) * step
    return [round(first + i * step, 6) for i in range(12) if low <= first + i * step <= high]


def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.0f} 秒" if seconds < 90 else f"{seconds / 60:.1f} 分钟"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.globals.update(hbars=hbars, columns=columns, forest=forest, minutes=minutes, percent=percent, WIDTH=WIDTH,
                       ROW_H=ROW_H, LABEL_W=LABEL_W)
    return env


def bucket(b: dict[str, Any]) -> str:
    return f"{b['from_s']} 秒以上" if b["to_s"] is None else f"{b['from_s']}–{b['to_s']} 秒"


def chart_items(c: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """The (label, value) series the page charts for one campaign."""
    return {"daily_items": [(d["day"], d["visitors"]) for d in c["daily"]],
            "dwell_items": [(bucket(b), b["sessions"]) for b in c["dwell_histogram"]],
            "funnel_items": [(title, f["visitors"]) for title, f in zip(c["funnel_titles"], c["funnel"], strict=True)],
            "channel_items": [(s["channel"] or "未知", s["shares"]) for s in c["share_channels"]],
            "page_items": [(p["page"], p["views"]) for p in c["pages"][:15]]}


def render(report: dict[str, Any]) -> str:
    campaigns = {name: {**c, **chart_items(c)} for name, c in report["campaigns"].items()}
    return _env().get_template("report.html.j2").render(report=report, campaigns=campaigns)
