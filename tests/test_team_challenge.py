"""The team-challenge demo end to end, as three people on three phones with a real `h5press api`:
a team formed through the invite link, every task done by tapping (one person offline, replayed
later), the team's reward unlocked and claimed, and the other phones following without reload."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from h5fixtures import build

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
LESSONS = ("family-budget.html", "emergency-fund.html", "education-savings.html")


def demo_project(root: Path) -> Path:
    """The repository's team-challenge campaign, its window opened wide so the test never expires."""
    shutil.copytree(REPO / "content/team-challenge", root / "content/team-challenge")
    shutil.copy(REPO / "h5press.yaml", root / "h5press.yaml")
    config = root / "content/team-challenge/campaign.yaml"
    text = re.sub(r"(?m)^start: .*$", "start: 2020-01-01", config.read_text("utf-8"))
    config.write_text(re.sub(r"(?m)^end: .*$", "end: 2099-12-31", text), "utf-8")
    return root


class Phone:
    """One person's phone: its own browser context (storage, identity), touch, 375 px."""

    def __init__(self, browser, workers: str = "block") -> None:  # type: ignore[no-untyped-def]
        self.context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True, has_touch=True,
                                           service_workers=workers)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_function("() => [...document.querySelectorAll('[data-h5c]')].every(e => e.hasAttribute('data-h5-ready'))")

    def block(self, name: str):  # type: ignore[no-untyped-def]
        return self.page.locator(f'[data-h5c="{name}"]')

    def read_lessons(self, base: str) -> None:
        """Each lesson counts as read when its end (the lesson's task block) scrolls into view."""
        for lesson in LESSONS:
            self.open(base + lesson)
            self.page.locator('[data-h5c="task"]').scroll_into_view_if_needed()
            self.page.wait_for_function(f"() => (h5press.wallet().actions.read || {{}}).count >= {LESSONS.index(lesson) + 1}")

    def check_in(self, index: str) -> None:
        self.open(index)
        self.block("checkin").get_by_role("button", name="聊过了，打卡").tap()
        self.page.wait_for_function("() => (h5press.wallet().actions.checkin || {}).count === 1")

    def answer_survey(self, base: str) -> None:
        self.open(base + "survey.html")
        survey = self.block("survey")
        for label, answer in (("家里谁管钱", "一起商量"), ("您家有每月预算吗", "没有"), ("家里的应急金大约够几个月开支", "1-3 个月")):
            survey.get_by_role("group", name=label).get_by_text(answer, exact=True).tap()
        survey.get_by_role("button", name="提交").tap()
        self.page.wait_for_function("() => (h5press.wallet().actions.survey || {}).count === 1")

    def shows_team_points(self, points: str) -> None:
        """The team block comes to show `points`: a page first paints what it last knew, then what /me says."""
        expect(self.block("team").locator("[data-points]")).to_have_text(points, timeout=10_000)


def test_three_phones_form_a_team_unlock_the_reward_and_see_it_live(tmp_path, site_with_api, browser):
    root = demo_project(tmp_path / "site")
    site = site_with_api(root)
    assert build(root).exit_code == 0
    base = site.url("team-challenge/")
    index = base + "index.html"

    # 小周 creates the team and copies the invite link
    zhou = Phone(browser)
    zhou.open(index)
    team = zhou.block("team")
    team.get_by_label("或者自己建一支队，起个队名").fill("三口之家")
    team.get_by_role("button", name="创建队伍").tap()
    zhou.page.wait_for_selector('[data-view="team"]:not([hidden])')
    link = team.get_by_label("邀请链接（好友打开即可加入）").input_value()
    assert "?team=" in link

    # 小青 and 阿杰 open the link and join with one tap; 阿杰's phone keeps the pages for offline use
    qing, jie = Phone(browser), Phone(browser, workers="allow")
    for phone in (qing, jie):
        phone.open(link)
        phone.block("team").get_by_role("button", name="加入队伍").tap()
        phone.page.wait_for_selector('[data-view="team"]:not([hidden])')
        assert phone.block("team").locator("[data-name]").inner_text() == "三口之家"
    zhou.page.wait_for_function("() => !document.querySelector('[data-members] .is-empty')", timeout=5000)
    jie.page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)

    # 小周 and 小青 do their tasks online: three lessons, a check-in and the survey; 小周's invite earns
    # nothing (WeChat forbids rewards for sharing or inviting): points are for what the visitor does
    for phone in (zhou, qing):
        phone.read_lessons(base)
        phone.check_in(index)
    zhou.page.evaluate("() => { navigator.share = () => Promise.resolve(); }")
    zhou.block("team").get_by_role("button", name="邀请好友").tap()
    assert zhou.page.evaluate("() => h5press.wallet().total") == 35
    for phone in (zhou, qing):
        phone.answer_survey(base)
    for phone in (zhou, qing):
        phone.page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:team-challenge:outbox')).length === 0")
    assert site.rows("SELECT sum(points) FROM events WHERE status = 'counted'") == [(110,)]  # 55 + 55

    # 阿杰 is on the underground: everything he does stays on his phone
    identity = jie.page.evaluate("() => h5press.refresh().then(me => me.identity)")
    # Chromium's offline emulation does not reach requests that pass through a service worker,
    # so the server is also made unreachable for his phone, as a dead connection would be.
    jie.context.route(site.api_url + "**", lambda route: route.abort("internetdisconnected"))
    jie.context.set_offline(True)
    jie.read_lessons(base)
    jie.answer_survey(base)
    jie.check_in(index)
    assert jie.page.evaluate("() => h5press.wallet().total") == 55
    points = site.rows("SELECT identity, type, status, payload FROM events WHERE type = 'points'")
    assert len(points) == 10 and all(row[0] != identity for row in points), points  # five each for the others, none of his yet

    # the other two watch the team page and the team board
    for phone in (zhou, qing):
        phone.open(index)
        phone.shows_team_points("110")
    expect(zhou.block("leaderboard")).to_contain_text(re.compile("三口之家.*110", re.S), timeout=10_000)
    assert zhou.block("leaderboard").locator("li:visible").count() == 2  # the one team and one 虚位以待, not ten rows

    # back above ground: his events are replayed, and both other phones follow without reload
    jie.context.unroute(site.api_url + "**")
    jie.context.set_offline(False)
    jie.page.wait_for_function("() => JSON.parse(localStorage.getItem('h5press:team-challenge:outbox')).length === 0",
                               timeout=10000)
    for phone in (zhou, qing):
        phone.page.wait_for_function("() => document.querySelector('[data-h5c=team] [data-points]').textContent === '165'",
                                     timeout=10000)
        phone.page.wait_for_function("() => document.querySelector('[data-h5c=leaderboard]').innerText.includes('165')",
                                     timeout=10000)
        assert "已解锁" in phone.block("team").locator("[data-unlock]").inner_text()
    assert site.rows("SELECT sum(points) FROM events WHERE status = 'counted'") == [(165,)]

    # the team's reward: every member may claim it, the server keeps count
    zhou.page.reload()
    zhou.page.wait_for_function("() => document.querySelector('[data-h5c=reward]').hasAttribute('data-h5-ready')")
    claim = zhou.page.locator('[data-reward="family-pack"] button')
    claim.wait_for(state="visible")
    zhou.page.wait_for_function("() => !document.querySelector('[data-reward=\"family-pack\"] button').disabled", timeout=10000)
    claim.tap()
    zhou.page.wait_for_function("() => document.querySelector('[data-reward=\"family-pack\"] [data-state]').textContent.includes('已领取')",
                                timeout=10000)
    assert site.rows("SELECT count(*) FROM claims") == [(1,)]
    assert zhou.errors == qing.errors == jie.errors == []
    for phone in (zhou, qing, jie):
        phone.context.close()
