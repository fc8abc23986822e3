"""consent: a PIPL-style consent gate before personal data or analytics leave the device.

    ::: consent
    :::

Text and policy link default to the campaign's `consent`; the choice is remembered, can be
changed later, and is an outbox event itself. Until the visitor agrees, the runtime keeps every
event on the device (with `consent.required`), so declining loses nothing already done.
"""
from __future__ import annotations

from pydantic import Field

from h5press.generator.schema import Strict

STATEFUL = False
ORDER = 5


class Schema(Strict):
    title: str = Field("个人信息保护提示", min_length=1, description="heading of the consent box")
    text: str | None = Field(None, description="default: the campaign's consent.text")
    policy_url: str | None = Field(None, description="default: the campaign's consent.policy_url")
    agree: str = Field("同意", min_length=1, description="label of the agree button")
    decline: str = Field("暂不同意", min_length=1, description="label of the decline button")
