"""The typed authoring contract: `h5press.yaml`, `campaign.yaml` and page front matter.

The same models are read by the build and by the collaboration server, so the rules a
campaign declares (points, caps, badges, levels, rewards, team, lottery) are written once.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .schema import Strict, did_you_mean

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _color(value: str) -> str:
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        raise ValueError(f'expected a hex colour like "#1a9e5f", got "{value}"')
    return value.lower()


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown timezone "{value}" (expected an IANA name like "Asia/Shanghai")') from None
    return value


def _absolute_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f'expected an absolute http(s) URL, got "{value}"')
    return value.rstrip("/") + "/"


def _ident(value: str) -> str:
    if not ID_RE.match(value):
        raise ValueError(f'"{value}" is not a valid id (lowercase letters, digits and "-", starting with a letter or digit)')
    return value


def _endpoint(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+/?$", value):
        raise ValueError(f'expected an http(s) URL with no path, like "https://oss-cn-hangzhou.aliyuncs.com", got "{value}"')
    return value.rstrip("/")


S3_URL = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?")


def s3_url(value: str) -> str:
    """`s3://bucket/prefix`, the prefix normalised to "" or "a/b/" (keys are prefix + dist path)."""
    found = S3_URL.fullmatch(value)
    if not found:
        raise ValueError(f'expected s3://bucket/prefix (a bucket name of 3-63 lowercase letters, digits, "." and "-"), '
                         f'got "{value}"')
    prefix = (found.group(2) or "").strip("/")
    return f"s3://{found.group(1)}/{prefix + '/' if prefix else ''}"


Color = Annotated[str, AfterValidator(_color)]
Zone = Annotated[str, AfterValidator(_zone)]
Url = Annotated[str, AfterValidator(_absolute_url)]
Ident = Annotated[str, AfterValidator(_ident)]
Endpoint = Annotated[str, AfterValidator(_endpoint)]
S3Url = Annotated[str, AfterValidator(s3_url)]
Count = Annotated[int, Field(ge=0)]


# --- h5press.yaml ----------------------------------------------------------------------------

class Footer(Strict):
    icp: str = Field("", description="ICP licence number shown in every footer, e.g. 京ICP备12345678号")
    icp_url: Url = Field("https://beian.miit.gov.cn/", description="where the ICP number links to")
    text: str = Field("", description="one line of site-wide footer text (institution name, hotline)")


class ImageOptions(Strict):
    widths: list[Annotated[int, Field(ge=16, le=4096)]] = Field([480, 960], min_length=1,
                                                               description="WebP widths for srcset (never upscaled)")
    quality: Annotated[int, Field(ge=1, le=100)] = Field(80, description="WebP quality")


class Budgets(Strict):
    precache_kb: Annotated[int, Field(ge=0)] = Field(2048, description="bytes the service worker precaches per bundle")
    first_render_kb: Annotated[int, Field(ge=1)] = Field(
        14, description="HTML + render-blocking CSS, Brotli; over budget is a warning")
    image_kb: Annotated[int, Field(ge=1)] = Field(200, description="largest WebP variant of one image; over budget is a warning")


class Viewport(Strict):
    width: Annotated[int, Field(ge=200, le=3000)]
    height: Annotated[int, Field(ge=200, le=4000)]


class Profile(Strict):
    """A phone to check on: a Playwright device descriptor, with any field overridden."""

    name: str = Field(min_length=1, description="what reports and --devices call it")
    device: str | None = Field(None, description="a Playwright device name to start from, e.g. Pixel 7")
    viewport: Viewport | None = None
    device_scale_factor: Annotated[float, Field(gt=0, le=5)] | None = None
    user_agent: str | None = None
    is_mobile: bool | None = None
    has_touch: bool | None = None
    service_workers: Literal["allow", "block"] = Field("allow", description="block: like WeChat's iOS web view")
    android: bool | None = Field(None, description="48 px tap targets instead of 44; default: from the user agent")
    low_end: bool = Field(False, description="LCP/CLS are measured on this profile, throttled")


class Waiver(Strict):
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
    budgets: CheckBudgets = CheckBudgets()
    waive: list[Waiver] = Field(default_factory=list)
    baseline: str = Field("check-baseline", description="folder for --update-baseline screenshots")
    diff_threshold: Annotated[float, Field(ge=0, le=1)] = Field(0.001, description="share of changed pixels that fails")


def _plugin(value: str | dict[str, dict[str, Any] | None]) -> str | dict[str, dict[str, Any] | None]:
    from .markdown import PluginError, check_plugin  # imports markdown-it only for sites that name plugins

    if isinstance(value, dict) and len(value) != 1:
        raise ValueError("expected one plugin name with its options, like {footnote: {inline: false}}, "
                         f"got {len(value)} keys")
    name, options = next(iter(value.items())) if isinstance(value, dict) else (value, None)
    try:
        check_plugin(name, options or {})
    except PluginError as exc:
        raise ValueError(str(exc)) from None
    return value


Plugin = Annotated[str | dict[str, dict[str, Any] | None], AfterValidator(_plugin)]


class MarkdownOptions(Strict):
    plugins: list[Plugin] = Field(default_factory=list, description=(
        "markdown-it plugins: names from mdit-py-plugins (footnote, tasklists, admon, deflist, …), "
        "{name: {option: value}}, or a third-party plugin as package.module:function"))

    def specs(self) -> tuple[tuple[str, dict[str, Any]], ...]:
        """The plugins as (name, options) pairs, in the order they are applied."""
        pairs = (next(iter(p.items())) if isinstance(p, dict) else (p, None) for p in self.plugins)
        return tuple((name, options or {}) for name, options in pairs)


class DeployTarget(Strict):
    """Where `h5press deploy` publishes dist/. Credentials never live here: boto3 finds them
    (environment, profile, instance role)."""

    name: str = Field(min_length=1, description="what --to calls it")
    url: S3Url = Field(description="s3://bucket/prefix")
    endpoint: Endpoint | None = Field(None, description="the storage's S3 endpoint; none: AWS S3")
    region: str | None = Field(None, description="signing region, e.g. cn-hangzhou")
    addressing: Literal["virtual", "path"] = Field("virtual", description="virtual: bucket.endpoint/key (OSS and COS "
                                                                          "require it); path: endpoint/bucket/key")
    encoding: Literal["gzip", "br", "none"] = Field("gzip", description="Content-Encoding of text objects")
    purge: str | None = Field(None, description="shell command run after a deploy, the changed page URLs on stdin")

    @property
    def bucket(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[1]


class SiteConfig(Strict):
    base_url: Url | None = Field(None, description="absolute URL where dist/ is published (canonical links, share cards)")
    cdn_prefix: Url | None = Field(None, description="absolute URL prefix for hashed assets on another origin")
    api_url: Url | None = Field(None, description="base URL of the collaboration API (h5press api)")
    locale: str = Field("zh-CN", description="language of the pages (html lang)")
    timezone: Zone = Field("Asia/Shanghai", description="default timezone of campaigns")
    service_worker: bool = Field(True, description="false emits a kill-switch sw.js that unregisters itself")
    footer: Footer = Footer()
    markdown: MarkdownOptions = MarkdownOptions()
    images: ImageOptions = ImageOptions()
    budgets: Budgets = Budgets()
    check: CheckConfig = CheckConfig()
    deploy: list[DeployTarget] = Field(default_factory=list, description="targets of h5press deploy")

    @field_validator("deploy")
    @classmethod
    def _unique_targets(cls, targets: list[DeployTarget]) -> list[DeployTarget]:
        names = [t.name for t in targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f'two deploy targets are named "{twice[0]}": names must be unique')
        return targets


# --- campaign.yaml ---------------------------------------------------------------------------

class Theme(Strict):
    primary: Color = "#07c160"
    accent: Color = "#fa9d3b"
    background: Color = "#f7f7f7"
    surface: Color = "#ffffff"
    text: Color = "#1a1a1a"
    muted: Color = "#6b6b6b"


class Action(Strict):
    points: Annotated[int, Field(ge=0)] = Field(description="points awarded per counted action")
    per_day: Count | None = Field(None, description="at most this many counted per person per local day")
    per_campaign: Count | None = Field(None, description="at most this many counted per person in the campaign")


class Points(Strict):
    actions: dict[Ident, Action] = Field(default_factory=dict)


class Level(Strict):
    name: str
    min: Count = Field(description="points needed to reach this level")
    perks: list[str] = Field(default_factory=list, description="what the level brings, shown by the levels component")


class BadgeRule(Strict):
    action: Ident | None = Field(None, description="count of this action reaches `count`")
    count: Annotated[int, Field(ge=1)] = 1
    streak: Annotated[int, Field(ge=1)] | None = Field(None, description="consecutive check-in days")
    points: Annotated[int, Field(ge=1)] | None = Field(None, description="total points reached")

    @model_validator(mode="after")
    def _one_kind(self) -> BadgeRule:
        kinds = [k for k in ("action", "streak", "points") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("expected exactly one of action (with count), streak or points")
        return self


class Badge(Strict):
    id: Ident
    name: str
    description: str = ""
    icon: str | None = Field(None, description="image path relative to the campaign folder")
    when: BadgeRule


class Reward(Strict):
    id: Ident
    name: str
    description: str = ""
    threshold: Count = Field(description="points (individual or team) that unlock it")
    stock: Count | None = Field(None, description="total number available; none means unlimited")
    per_user: Annotated[int, Field(ge=1)] = 1
    scope: Literal["individual", "team"] = "individual"


class TeamUnlock(Strict):
    points: Annotated[int, Field(ge=1)]
    reward: Ident


class Team(Strict):
    size: Annotated[int, Field(ge=2, le=20)] = 3
    unlock: TeamUnlock | None = None


class Prize(Strict):
    name: str
    probability: Annotated[float, Field(ge=0, le=1)]
    stock: Count | None = None


class Lottery(Strict):
    id: Ident
    name: str
    cost: Count = Field(0, description="points spent per draw")
    per_day: Annotated[int, Field(ge=1)] | None = None
    rules: str = Field("", description="published rules shown beside the draw")
    prizes: list[Prize] = Field(min_length=1)

    @field_validator("prizes")
    @classmethod
    def _odds(cls, prizes: list[Prize]) -> list[Prize]:
        total = sum(p.probability for p in prizes)
        if total > 1 + 1e-9:
            raise ValueError(f"prize probabilities add up to {total:g}, more than 1")
        return prizes


class Consent(Strict):
    required: bool = Field(False, description="ask before personal data or analytics leave the device")
    text: str = "为向您提供活动服务，我们将在您同意后收集必要的活动数据。"
    policy_url: str | None = None


class Analytics(Strict):
    enabled: bool = True
    dwell: bool = True


class CampaignConfig(Strict):
    title: str = Field(min_length=1)
    description: str = ""
    organization: str = ""
    start: dt.datetime | dt.date | None = Field(None, description="first day (local) of the campaign window")
    end: dt.datetime | dt.date | None = Field(None, description="last day (local, inclusive) of the window")
    timezone: Zone | None = Field(None, description="defaults to the site timezone")
    theme: Theme = Theme()
    icon: str | None = Field(None, description="square image for the home-screen icon")
    disclosure: str = Field("", description="risk disclosure shown in every footer")
    footer: str = Field("", description="replaces the site's footer text for this campaign (another entity of a group)")
    elder_mode: bool = False
    service_worker: bool | None = Field(None, description="overrides the site setting for this bundle")
    consent: Consent = Consent()
    analytics: Analytics = Analytics()
    points: Points = Points()
    levels: list[Level] = Field(default_factory=list)
    badges: list[Badge] = Field(default_factory=list)
    rewards: list[Reward] = Field(default_factory=list)
    team: Team | None = None
    lottery: list[Lottery] = Field(default_factory=list)

    @field_validator("levels")
    @classmethod
    def _ascending(cls, levels: list[Level]) -> list[Level]:
        mins = [lv.min for lv in levels]
        if mins and (mins[0] != 0 or mins != sorted(set(mins))):
            raise ValueError(f"level thresholds must start at 0 and strictly increase, got {mins}")
        return levels


def window(cfg: CampaignConfig, site_zone: str) -> tuple[str | None, str | None]:
    """The campaign window as ISO instants: start at local midnight, end exclusive after its last day."""
    zone = ZoneInfo(cfg.timezone or site_zone)

    def instant(value: dt.datetime | dt.date | None, day_end: bool) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=zone)
        else:
            day = value + dt.timedelta(days=1) if day_end else value
            moment = dt.datetime.combine(day, dt.time(), zone)
        return moment.isoformat()

    return instant(cfg.start, False), instant(cfg.end, True)


def client_rules(cfg: CampaignConfig, site: SiteConfig) -> dict[str, object]:
    """The rules the browser runtime applies offline, from the same models the server reads."""
    return {
        "timezone": cfg.timezone or site.timezone,
        "actions": {name: action.model_dump(exclude_none=True) for name, action in cfg.points.actions.items()},
        "levels": [level.model_dump(include={"name", "min"}) for level in cfg.levels],
        "badges": [{"id": b.id, "name": b.name, "when": b.when.model_dump(exclude_none=True)} for b in cfg.badges],
        "rewards": [{"id": r.id, "threshold": r.threshold, "scope": r.scope} for r in cfg.rewards],
        "consent": {"required": cfg.consent.required},
        "analytics": cfg.analytics.enabled,
        "api": site.api_url,
    }


def references(cfg: CampaignConfig, site_zone: str) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules a schema cannot express: the window's order, ids that must exist and be unique."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    start, end = window(cfg, site_zone)
    if start and end and dt.datetime.fromisoformat(end) <= dt.datetime.fromisoformat(start):
        problems.append((("end",), f"end ({cfg.end}) is before start ({cfg.start})"))
    for section in ("badges", "rewards", "lottery"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(cfg, section)):
            if item.id in seen:
                problems.append(((section, i, "id"), f'duplicate id "{item.id}"'))
            seen.add(item.id)
    actions = list(cfg.points.actions)
    for i, badge in enumerate(cfg.badges):
        if badge.when.action and badge.when.action not in actions:
            problems.append((("badges", i, "when", "action"),
                             f'"{badge.when.action}" is not an action in points.actions'
                             + did_you_mean(badge.when.action, actions)))
    reward_ids = [r.id for r in cfg.rewards]
    if cfg.team and cfg.team.unlock and cfg.team.unlock.reward not in reward_ids:
        problems.append((("team", "unlock", "reward"),
                         f'"{cfg.team.unlock.reward}" is not a reward id{did_you_mean(cfg.team.unlock.reward, reward_ids)}'))
    return problems


# --- front matter ----------------------------------------------------------------------------

class Share(Strict):
    title: str | None = None
    desc: str | None = None
    image: str | None = None


class FrontMatter(BaseModel):
    """Known keys are typed; any other key is kept and reaches layouts as `page.meta.<key>`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    title: str = Field(min_length=1)
    description: str = ""
    layout: str | None = None
    date: dt.date | None = None
    draft: bool = False
    order: int | None = None
    cover: str | None = None
    share: Share = Share()
