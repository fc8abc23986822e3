"""puzzle: an image tile puzzle. The picture is cut into `grid` × `grid` tiles and shuffled;
`swap` mode swaps two tapped tiles, `slide` mode is the classic sliding puzzle with one empty
cell (arrow keys move too). The arrangement, moves and time survive a reload; finishing awards
points once and sends a `puzzle.complete` event.

    ::: puzzle green-landscape
    image: images/landscape.jpg
    alt: 阳光下的山坡上，风机转动，光伏板整齐排列
    grid: 3
    mode: slide
    points: 10
    :::

`image` is relative to the page, like a Markdown image, and processed like one (resized,
WebP, hashed, precached). Before the script runs, the whole picture is shown.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from h5press.generator.schema import Strict

STATEFUL = True
ORDER = 45
IMAGES = ("image",)  # processed by the build; the template receives the campaign-relative path


class Schema(Strict):
    image: str = Field(min_length=1, description="the picture, relative to the page (JPEG, PNG, WebP); square ones work best")
    alt: str = Field(min_length=1, description="what the picture shows, for screen readers")
    title: str = Field("拼图挑战", min_length=1, description="heading of the card")
    intro: str = Field("", description="a line under the heading")
    grid: int = Field(3, ge=2, le=5, description="tiles per row and column")
    mode: Literal["swap", "slide"] = Field("swap", description="swap: tap two tiles to swap them; slide: one empty cell")
    seed: int | None = Field(None, ge=0, description="fixed shuffle (the same for every visitor); default: random")
    timer: bool = Field(False, description="show the time taken (it is always sent with puzzle.complete)")
    button: str = Field("开始拼图", min_length=1, description="label of the start button")
    message: str = Field("拼图完成！", min_length=1, description="shown when the picture is put together")
    action: str = Field("puzzle", description="the points action in campaign.yaml that counts it")
    points: int | None = Field(None, ge=0, description="points on completion; default: campaign points.actions.<action>")
