"""checkin: a daily check-in with a streak; `carbon` mode records the travel mode and distance,
shows the carbon saved against driving alone, and a report of the current week.

    ::: checkin green-commute
    mode: carbon
    :::

Days end at midnight in the campaign's timezone; weeks start on Monday. Carbon saved per
check-in = (baseline − the mode's grams per km) × km, never below zero. The default factors are
rounded per-passenger estimates (g CO₂e per km); set `baseline` and `modes` to use your own.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from h5press.generator.config import Ident
from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 40


class TravelMode(Strict):
    id: Ident = Field(description="sent in the checkin event")
    label: str = Field(min_length=1, description="e.g. 地铁")
    grams_per_km: float = Field(ge=0, description="per passenger, g CO₂e per km")


DEFAULT_MODES = [
    TravelMode(id="walk", label="步行", grams_per_km=0),
    TravelMode(id="bike", label="骑行", grams_per_km=0),
    TravelMode(id="metro", label="地铁", grams_per_km=30),
    TravelMode(id="bus", label="公交", grams_per_km=60),
    TravelMode(id="carpool", label="拼车", grams_per_km=60),
]


class Schema(Strict):
    title: str = Field("每日打卡", description="heading of the check-in")
    mode: Literal["daily", "carbon"] = Field("daily", description="daily: one tap; carbon: travel mode and distance")
    action: str = Field("checkin", description="the points action in campaign.yaml that counts it")
    points: int | None = Field(None, ge=0, description="points per check-in; default: campaign points.actions.<action>")
    button: str = Field("打卡", description="the check-in button")
    baseline: float = Field(180, ge=0, description="carbon mode: g CO₂e per km of driving alone, the comparison")
    modes: list[TravelMode] = Field(default_factory=lambda: list(DEFAULT_MODES), min_length=1,
                                   description="carbon mode: travel modes to choose from")
    distances: list[float] = Field([2, 5, 10, 20], min_length=1, description="carbon mode: distance choices in km")

