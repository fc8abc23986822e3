"""The `check:` section of `h5press.yaml`: which phones `h5press check` uses, its budgets and
the findings a team has accepted.

It lives with the check package, apart from the authoring contract, and imports only the
schema base so `SiteConfig` can hold it without loading Playwright.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..generator.schema import Strict


class Viewport(Strict):
    width: Annotated[int, Field(ge=200, le=3000)] = Field(description="CSS pixels, 200–3000")
    height: Annotated[int, Field(ge=200, le=4000)] = Field(description="CSS pixels, 200–4000")


class Profile(Strict):
    """A phone to check on: a Playwright device descriptor, with any field overridden."""

    name: str = Field(min_length=1, description="what reports and --devices call it")
    device: str | None = Field(None, description="a Playwright device name to start from, e.g. Pixel 7")
    viewport: Viewport | None = Field(None, description="the layout viewport; default: the device's")
    device_scale_factor: Annotated[float, Field(gt=0, le=5)] | None = Field(
        None, description="device pixels per CSS pixel, above 0 and at most 5; default: the device's")
    user_agent: str | None = Field(None, description="the User-Agent header and navigator.userAgent; default: the device's")
    is_mobile: bool | None = Field(None, description="honour the viewport meta tag like a phone; default: the device's")
    has_touch: bool | None = Field(None, description="a touch screen; default: the device's")
    service_workers: Literal["allow", "block"] = Field("allow", description="block: like WeChat's iOS web view")
    android: bool | None = Field(None, description="48 px tap targets instead of 44; default: from the user agent")
    low_end: bool = Field(False, description="LCP/CLS are measured on this profile, throttled")


class Waiver(Strict):
    """A finding the team accepts, with the reason the report shows beside it."""

    rule: str = Field(min_length=1, description="finding rule, e.g. tap-target")
    page: str = Field("*", description="glob on the page path, e.g. green/*.html")
    device: str = Field("*", description="glob on the profile name")
    selector: str = Field("*", description="glob on the finding's selector or URL")
    reason: str = Field(min_length=1, description="why this is accepted; shown in the report")


class CheckBudgets(Strict):
    lcp_ms: Annotated[int, Field(ge=100)] = Field(2500, description="largest contentful paint, throttled low-end profile")
    cls: Annotated[float, Field(ge=0)] = Field(0.1, description="cumulative layout shift, same run")


class CheckConfig(Strict):
    devices: list[str] | None = Field(None, description="profiles checked by default (names); default: the built-in six")
    profiles: list[Profile] = Field(default_factory=list, description="more profiles, or built-in ones overridden by name")
    budgets: CheckBudgets = Field(CheckBudgets(), description="performance budgets; over budget is an error")
    waive: list[Waiver] = Field(default_factory=list, description="accepted findings, each with its reason")
    baseline: str = Field("check-baseline", description="folder for --update-baseline screenshots")
    diff_threshold: Annotated[float, Field(ge=0, le=1)] = Field(0.001, description="share of changed pixels that fails")
