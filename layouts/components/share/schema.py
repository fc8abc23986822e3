"""share: share the page — the Web Share API where there is one, otherwise copy the link; a QR
code of the page made at build time; and a share poster drawn in the browser with that QR code.
Each share has its own id, on the shared link as `ref=<share id>`, so the server can count the visits a
share brings and link friends.

    ::: share
    text: 一起来参加绿色低碳月，每天打卡赢出行券！
    :::

Share cards (title, description, image) come from the page's `share:` front matter. The QR code
needs `base_url` in h5press.yaml (it must point to the published page).
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 36


class Schema(Strict):
    title: str = Field("分享给好友", min_length=1, description="heading of the share box")
    text: str | None = Field(None, description="share text; default: the page's share description")
    button: str = Field("分享", min_length=1, description="the share button")
    qr: bool = Field(True, description="show the page's QR code")
    poster: bool = Field(True, description="offer a poster image (with the QR code) to save and send")
    action: str | None = Field("share", description="the points action a share counts as (if the campaign has it)")
