"""lottery: a prize wheel (转盘) or a red packet (红包) for one of campaign.yaml's `lottery`
entries. The published rules, odds and stock are in the page at build time (readable before any
script and offline); the draw itself happens only on the collaboration server
(POST …/lottery/<id>/draw), and the wheel stops on, or the packet opens to, the server's result.

    ::: lottery lucky-wheel
    lottery: wheel
    style: wheel
    :::

Without `api_url` the rules are shown and the draw button stays off with an explanation: a prize is
never decided on the device.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from h5press.generator.config import CampaignConfig, Ident, Lottery
from h5press.generator.schema import Strict, did_you_mean

STATEFUL = True
ORDER = 25

MAX_SEGMENTS = 12  # beyond this a wheel's labels no longer fit on a 320 px phone


class Schema(Strict):
    lottery: Ident = Field(description="id of an entry of campaign.yaml `lottery` (its prizes, odds, cost and rules)")
    style: Literal["wheel", "packet"] = Field("wheel", description="wheel: 转盘; packet: 红包")
    title: str | None = Field(None, min_length=1, description="heading; default: the lottery's name")
    button: str | None = Field(None, min_length=1, description="draw button; default 开始抽奖 (wheel) or 拆红包 (packet)")


def segments(lot: Lottery) -> int:
    """Wheel segments: one per prize, plus 谢谢参与 when a draw can end without a prize (odds below 1,
    or a prize whose stock can run out). template.html draws the same."""
    empty = sum(p.probability for p in lot.prizes) < 1 - 1e-9 or any(p.stock is not None for p in lot.prizes)
    return len(lot.prizes) + int(empty)


def check(config: dict, campaign: CampaignConfig) -> list[tuple[tuple[str | int, ...], str]]:
    ids = [lot.id for lot in campaign.lottery]
    if not ids:
        return [(("lottery",), "campaign.yaml has no lottery: add a `lottery:` entry with its prizes and odds")]
    lot = next((x for x in campaign.lottery if x.id == config["lottery"]), None)
    if lot is None:
        return [(("lottery",), f'"{config["lottery"]}" is not a lottery in campaign.yaml (there: {", ".join(ids)})'
                 + did_you_mean(config["lottery"], ids))]
    if config["style"] == "wheel" and segments(lot) > MAX_SEGMENTS:
        return [(("style",), f'a wheel has at most {MAX_SEGMENTS} segments and "{lot.id}" needs {segments(lot)}: '
                 "use style: packet")]
    return []
