"""vote: single or multiple choice. The visitor's vote is kept on the device and sent as an
event; with `api_url` set, the tallies come from the server (GET …/votes/<id>).

    ::: vote favourite-mode
    question: 你最常用的低碳出行方式？
    options: [地铁, 公交, 骑行, 步行]
    :::
"""
from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 35


class Schema(Strict):
    question: str = Field(min_length=1, description="the question asked")
    options: list[str] = Field(min_length=2, max_length=10, description="the choices")
    multiple: bool = Field(False, description="allow several choices")
    max: int | None = Field(None, ge=1, description="with multiple: at most this many choices")
    button: str = Field("投票", min_length=1, description="the vote button")
    action: str | None = Field(None, description="a points action counted for voting")
    points: int | None = Field(None, ge=0, description="with action: points per vote; default: points.actions.<action>")

    @field_validator("max")
    @classmethod
    def _max_fits(cls, value: int | None, info: ValidationInfo) -> int | None:
        options = info.data.get("options") or []
        if value is not None and value > len(options):
            raise ValueError(f"{value} is more than the {len(options)} options")
        return value
