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

from ..check.config import CheckConfig
from ..compliance.config import CampaignCompliance, Channel, PageCompliance, Product, SiteCompliance
from ..deploy.config import DeployTarget
from ..report import funnel
from .schema import Strict, did_you_mean

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _color(value: str) -> str:
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
        raise ValueError(f'expected a hex colour like "#15824d", got "{value}"')
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


def _funnel_step(value: str) -> str:
    problem = funnel.step_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Color = Annotated[str, AfterValidator(_color)]
Zone = Annotated[str, AfterValidator(_zone)]
Url = Annotated[str, AfterValidator(_absolute_url)]
Ident = Annotated[str, AfterValidator(_ident)]
Count = Annotated[int, Field(ge=0)]
FunnelStep = Annotated[str, AfterValidator(_funnel_step)]


# --- h5press.yaml ----------------------------------------------------------------------------

class Footer(Strict):
    icp: str = Field("", description="ICP licence number shown in every footer, e.g. 京ICP备12345678号")
    icp_url: Url = Field("https://beian.miit.gov.cn/", description="where the ICP number links to")
    text: str = Field("", description="one line of site-wide footer text (institution name, hotline)")


class ImageOptions(Strict):
    widths: list[Annotated[int, Field(ge=16, le=4096)]] = Field([480, 960], min_length=1, description=(
        "WebP widths generated per image for srcset, 16–4096 px (never upscaled)"))
    quality: Annotated[int, Field(ge=1, le=100)] = Field(80, description="WebP quality, 1–100")


class Budgets(Strict):
    precache_kb: Annotated[int, Field(ge=0)] = Field(2048, description="KB the service worker precaches per bundle")
    first_render_kb: Annotated[int, Field(ge=1)] = Field(
        14, description="HTML + render-blocking CSS of a page, Brotli (in build-report.json); over budget is a warning")
    image_kb: Annotated[int, Field(ge=1)] = Field(200, description="largest WebP variant of one image; over budget is a warning")


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


class SiteConfig(Strict):
    """Settings of the whole site project, shared by every campaign. Unknown keys are errors with a
    suggestion (`footer.icpp: unknown key "icpp" (did you mean "icp"?)`)."""

    base_url: Url | None = Field(None, description=(
        "absolute URL where dist/ is published: canonical links, share-card images, QR codes; without it the build warns"))
    cdn_prefix: Url | None = Field(None, description=(
        "serve hashed assets from another origin as `<cdn_prefix><campaign>/assets/…`; pages and sw.js stay on base_url"))
    api_url: Url | None = Field(None, description=(
        "base URL of the collaboration server (h5press api) that receives the event outbox; allowed in the CSP's "
        "connect-src; build --api-url overrides it"))
    locale: str = Field("zh-CN", description="language of the pages: `<html lang>` and the manifest")
    timezone: Zone = Field("Asia/Shanghai", description="default campaign timezone (IANA name)")
    service_worker: bool = Field(True, description="false emits a kill-switch sw.js that unregisters itself and deletes "
                                                 "the caches")
    footer: Footer = Field(Footer(), description="what every page's footer shows")
    markdown: MarkdownOptions = Field(MarkdownOptions(), description="Markdown extensions")
    images: ImageOptions = Field(ImageOptions(), description="how images are encoded")
    budgets: Budgets = Field(Budgets(), description="size budgets the build reports")
    check: CheckConfig = Field(CheckConfig(), description="settings of h5press check")
    compliance: SiteCompliance = Field(SiteCompliance(), description="the compliance rules every build and h5press lint apply")
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
    """Colours, emitted as CSS custom properties --h5-primary …: branding needs no SCSS."""

    primary: Color = Field("#058341", description="buttons, links, progress bars")
    accent: Color = Field("#fa9d3b", description="highlights and warnings")
    background: Color = Field("#f7f7f7", description="page background")
    surface: Color = Field("#ffffff", description="cards and component boxes")
    text: Color = Field("#1a1a1a", description="body text")
    muted: Color = Field("#6b6b6b", description="secondary text")


class Action(Strict):
    points: Annotated[int, Field(ge=0)] = Field(description="points awarded per counted action")
    per_day: Count | None = Field(None, description="at most this many counted per person per local day")
    per_campaign: Count | None = Field(None, description="at most this many counted per person in the campaign")


class Points(Strict):
    actions: dict[Ident, Action] = Field(default_factory=dict, description=(
        "points actions by id (read, share, checkin, quiz, …): what each counted action is worth and its caps"))


class Level(Strict):
    name: str = Field(description="e.g. 白银")
    min: Count = Field(description="points needed to reach this level")
    perks: list[str] = Field(default_factory=list, description="what the level brings, shown by the levels component")


class BadgeRule(Strict):
    action: Ident | None = Field(None, description="count of this action reaches `count`")
    count: Annotated[int, Field(ge=1)] = Field(1, description="with action: how many counted actions earn the badge")
    streak: Annotated[int, Field(ge=1)] | None = Field(None, description="check-in days in a row")
    points: Annotated[int, Field(ge=1)] | None = Field(None, description="total points reached")

    @model_validator(mode="after")
    def _one_kind(self) -> BadgeRule:
        kinds = [k for k in ("action", "streak", "points") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("expected exactly one of action (with count), streak or points")
        return self


class Badge(Strict):
    id: Ident = Field(description="unique among the badges")
    name: str = Field(description="shown by the badges component")
    description: str = Field("", description="how to earn it, shown beside the badge")
    icon: str | None = Field(None, description="image path relative to the campaign folder")
    when: BadgeRule = Field(description="exactly one of {action, count}, {streak} or {points}")


class Reward(Strict):
    id: Ident = Field(description="unique among the rewards; claims use it")
    name: str = Field(description="shown on the reward shelf")
    description: str = Field("", description="what the visitor gets")
    threshold: Count = Field(description="points (individual or team) that unlock it")
    stock: Count | None = Field(None, description="total number available; none means unlimited")
    per_user: Annotated[int, Field(ge=1)] = Field(1, description="how often one person (or team) may claim it")
    scope: Literal["individual", "team"] = Field("individual", description="team: unlocked by the team's points, "
                                                                           "claimed per team")


class TeamUnlock(Strict):
    points: Annotated[int, Field(ge=1)] = Field(description="team points that unlock the reward")
    reward: Ident = Field(description="a reward id; every member may claim it without its own threshold")


class Team(Strict):
    size: Annotated[int, Field(ge=2, le=20)] = Field(3, description="members per team, 2–20")
    unlock: TeamUnlock | None = Field(None, description="a reward the whole team unlocks with its points")


class Prize(Strict):
    name: str = Field(description="e.g. 一等奖")
    probability: Annotated[float, Field(ge=0, le=1)] = Field(description="chance per draw, 0–1; the rest is no prize")
    stock: Count | None = Field(None, description="how many exist; once gone the prize becomes no prize; none: unlimited")
    value: Annotated[float, Field(ge=0)] | None = Field(None, description=(
        "market value of one prize in yuan: prize promotions must state it, and a top prize over 50,000 is unlawful"))


class Lottery(Strict):
    id: Ident = Field(description="unique among the lotteries; the lottery component names it")
    name: str = Field(description="default title of the lottery component")
    cost: Count = Field(0, description="points spent per draw")
    per_day: Annotated[int, Field(ge=1)] | None = Field(None, description="draws per person per local day; none: unlimited")
    rules: str = Field("", description="published rules shown beside the draw")
    claim: str = Field("", description="how and by when a prize is claimed (领奖方式), shown beside the draw")
    prizes: list[Prize] = Field(min_length=1, description="probabilities add up to at most 1")

    @field_validator("prizes")
    @classmethod
    def _odds(cls, prizes: list[Prize]) -> list[Prize]:
        total = sum(p.probability for p in prizes)
        if total > 1 + 1e-9:
            raise ValueError(f"prize probabilities add up to {total:g}, more than 1")
        return prizes


class Consent(Strict):
    required: bool = Field(False, description=(
        "nothing leaves the device until the visitor agrees in a consent block (the outbox waits)"))
    text: str = Field("为向您提供活动服务，我们将在您同意后收集必要的活动数据。",
                      description="consent wording shown by the consent block")
    policy_url: str | None = Field(None, description="privacy-policy link shown by the consent block")


class Analytics(Strict):
    enabled: bool = Field(True, description="send page-view (view) events")
    dwell: bool = Field(True, description="send dwell-time (dwell) events")
    funnel: list[FunnelStep] = Field(list(funnel.DEFAULT), min_length=1, description=(
        "steps of the funnel in `h5press report`: an event type, or TYPE:NAME for one block id or component kind "
        '(e.g. "completion:quiz")'))


class Experiment(Strict):
    """An A/B test: each visitor sees one variant, picked from its visitor id and the experiment id
    (sticky across visits, no server needed); pages vary copy and blocks with `::: variant` blocks."""

    id: Ident = Field(description="unique among the experiments; `::: variant <id> <variant>` and events name it")
    variants: dict[Ident, Annotated[int, Field(ge=0)]] = Field(min_length=2, description=(
        "variant name → weight (share of visitors), e.g. {a: 50, b: 50}; the first is the control, shown before "
        "start, after end and without JavaScript"))
    start: dt.datetime | dt.date | None = Field(None, description="visitors are assigned from then on (a date: local "
                                                                  "midnight); default: the campaign's start")
    end: dt.datetime | dt.date | None = Field(None, description="the last moment of the test (a date: inclusive); "
                                                                "afterwards everyone sees the control")

    @field_validator("variants")
    @classmethod
    def _weighted(cls, variants: dict[str, int]) -> dict[str, int]:
        if sum(variants.values()) <= 0:
            raise ValueError("at least one variant needs a weight above 0")
        return variants


class CampaignConfig(Strict):
    """One campaign: its window, theme and rules. The build validates all of it, including the rules
    only the collaboration server enforces, which reads this file through the same models."""

    title: str = Field(min_length=1, description="campaign name: page titles, manifest")
    description: str = Field("", description="default page description and share text")
    organization: str = Field("", description="institution shown in the top bar of the landing page")
    product: Product = Field("general", description=(
        "what the campaign advertises: wealth, fund, insurance, credit, deposit or general; selects compliance rules"))
    channels: list[Channel] = Field(["wechat"], min_length=1, description=(
        "where the pages are opened: wechat (its sharing rules apply), browser, app, alipay"))
    compliance: CampaignCompliance = Field(CampaignCompliance(), description="approval and waivers of this campaign")
    start: dt.datetime | dt.date | None = Field(None, description=(
        "start of the campaign window: a date starts at local midnight; outside the window pages show a notice "
        "and interactions are off"))
    end: dt.datetime | dt.date | None = Field(None, description="end of the window: a date is inclusive (its whole day); "
                                                                 "before start is an error")
    timezone: Zone | None = Field(None, description=(
        "IANA name for the window, check-in days and weekly boards (weeks start on Monday); default: the site's"))
    theme: Theme = Field(Theme(), description="colours")
    icon: str | None = Field(None, description="square image for the home-screen icon; default: a mark in the theme colours")
    disclosure: str = Field("", description="risk disclosure in every page's footer, e.g. 理财非存款，产品有风险，投资须谨慎。")
    footer: str = Field("", description="replaces the site's footer text for this campaign (another entity of a group)")
    elder_mode: bool = Field(False, description=(
        "适老化: body text 18 px and none smaller, touch targets at least 60×60 px, near-black text; "
        "h5press check holds the pages to these sizes"))
    service_worker: bool | None = Field(None, description="overrides the site setting for this bundle")
    consent: Consent = Field(Consent(), description="asking before data leaves the device")
    analytics: Analytics = Field(Analytics(), description="analytics events")
    points: Points = Field(Points(), description="the points rules, applied in the browser and by the server")
    levels: list[Level] = Field(default_factory=list, description=(
        "level thresholds in points (member tiers); start at 0 and strictly increase"))
    badges: list[Badge] = Field(default_factory=list, description="badges earned by actions, streaks or points")
    rewards: list[Reward] = Field(default_factory=list, description="rewards unlocked at a points threshold")
    team: Team | None = Field(None, description="teams (needs h5press api)")
    lottery: list[Lottery] = Field(default_factory=list, description="draws decided by the server (needs h5press api)")
    experiments: list[Experiment] = Field(default_factory=list, description=(
        "A/B tests of copy and components (`::: variant` blocks in pages); every event carries the visitor's variants"))

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


def experiment_window(experiment: Experiment, cfg: CampaignConfig, site_zone: str) -> tuple[str | None, str | None]:
    """When visitors are assigned to the experiment's variants; its own start and end, else the campaign's."""
    return window(cfg.model_copy(update={"start": experiment.start or cfg.start, "end": experiment.end or cfg.end}),
                  site_zone)


def client_experiments(cfg: CampaignConfig, site_zone: str) -> list[dict[str, object]]:
    """The experiments as the page's head script assigns them: id, [[variant, weight]…], start and end instants."""
    return [{"id": e.id, "variants": list(map(list, e.variants.items())),
             **dict(zip(("start", "end"), experiment_window(e, cfg, site_zone), strict=True))} for e in cfg.experiments]


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
        "dwell": cfg.analytics.enabled and cfg.analytics.dwell,
        "experiments": [e.id for e in cfg.experiments],
        "api": site.api_url,
    }


def references(cfg: CampaignConfig, site_zone: str) -> list[tuple[tuple[str | int, ...], str]]:
    """Rules a schema cannot express: the window's order, ids that must exist and be unique."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    start, end = window(cfg, site_zone)
    if start and end and dt.datetime.fromisoformat(end) <= dt.datetime.fromisoformat(start):
        problems.append((("end",), f"end ({cfg.end}) is before start ({cfg.start})"))
    for section in ("badges", "rewards", "lottery", "experiments"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(cfg, section)):
            if item.id in seen:
                problems.append(((section, i, "id"), f'duplicate id "{item.id}"'))
            seen.add(item.id)
    for i, experiment in enumerate(cfg.experiments):
        begins, ends = experiment_window(experiment, cfg, site_zone)
        if begins and ends and dt.datetime.fromisoformat(ends) <= dt.datetime.fromisoformat(begins):
            problems.append((("experiments", i, "end"), f"the experiment ends ({ends}) before it starts ({begins})"))
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
    title: str | None = Field(None, description="share-card title; default: the page title")
    desc: str | None = Field(None, description="share-card text; default: the page description")
    image: str | None = Field(None, description="share-card image relative to the page; default: cover")


class FrontMatter(BaseModel):
    """Known keys are typed; any other key is kept and reaches layouts as `page.meta.<key>`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    title: str = Field(min_length=1, description="page title")
    description: str = Field("", description="meta description, share text, the card on the landing page")
    layout: str | None = Field(None, description="template in layouts/; default: index for index.md, page otherwise")
    date: dt.date | None = Field(None, description="publication date")
    draft: bool = Field(False, description="left out of the build")
    order: int | None = Field(None, description="reading order: landing-page cards, previous/next links")
    cover: str | None = Field(None, description="image above the article, relative to the page")
    share: Share = Field(Share(), description="the share card")
    compliance: PageCompliance = Field(PageCompliance(), description="waivers of compliance rules for this page")
