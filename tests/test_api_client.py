"""The browser's API client (assets/js/api.js) against a real `h5press api`, in real Chromium:
identities, delivery, the server's state reconciled into the page, and pages without a server."""
from __future__ import annotations

import time

import pytest
from api_support import SECRET

from h5fixtures import CAMPAIGN_YAML as CAMPAIGN
from h5fixtures import build
from h5press.api.identity import sign

pytestmark = pytest.mark.browser

OUTBOX = "() => JSON.parse(localStorage.getItem('h5press:demo:outbox') || '[]').length"


def open_page(browser, url: str, offline: bool = False):  # type: ignore[no-untyped-def]
    context = browser.new_context(service_workers="block")
    context.set_offline(offline)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    if offline:
        context.set_offline(False)
        page.goto(url)
        context.set_offline(True)
    else:
        page.goto(url)
    page.wait_for_function("() => window.h5press && h5press.server")
    return context, page, errors


def test_the_server_corrects_the_device_and_offline_points_arrive_later(make_project, site_with_api, browser):
    root = make_project()
    site = site_with_api(root)
    assert build(root).exit_code == 0
    context, page, errors = open_page(browser, site.url("demo/index.html"))
    context.set_offline(True)
    assert page.evaluate("() => h5press.award('read')") == 2
    assert page.evaluate(OUTBOX) >= 1 and site.rows("SELECT count(*) FROM events WHERE type = 'points'") == [(0,)]
    # a tampered wallet: the device claims 999 points
    page.evaluate("() => { const w = h5press.wallet(); w.total = 999; h5press.set('points', w); }")
    context.set_offline(False)
    page.wait_for_function(OUTBOX + " === 0")
    page.wait_for_function("() => h5press.wallet().total === 2", timeout=5000)
    assert site.rows("SELECT action, points, status FROM events WHERE type = 'points'") == [("read", 2, "counted")]
    me = page.evaluate("() => h5press.me()")
    assert me["points"] == 2 and me["actions"]["read"]["count"] == 1
    assert page.evaluate("() => h5press.wallet().actions.read.count") == 1
    assert errors == []
    context.close()


def test_an_institution_login_restores_state_after_storage_is_wiped(make_project, site_with_api, browser):
    root = make_project()
    site = site_with_api(root)
    assert build(root).exit_code == 0
    now = int(time.time())
    token = sign({"iss": "h5press", "sub": "customer-42", "iat": now, "exp": now + 3600}, SECRET.encode())
    context, page, errors = open_page(browser, site.url("demo/index.html"))
    page.evaluate("t => h5press.identify(t)", token)
    page.evaluate("() => { h5press.award('read'); h5press.award('read'); }")
    page.wait_for_function(OUTBOX + " === 0")
    page.evaluate("() => localStorage.clear()")  # as iOS does after 7 days, or WeChat at will
    page.reload()
    page.wait_for_function("() => window.h5press && h5press.server")
    assert page.evaluate("() => h5press.wallet().total") == 0
    page.evaluate("t => h5press.identify(t)", token)
    page.wait_for_function("() => h5press.wallet().total === 4")
    assert page.evaluate("() => h5press.me().identity") == "h5press:customer-42"
    assert errors == []
    context.close()


def test_a_token_the_server_refuses_is_replaced_once(make_project, site_with_api, browser):
    root = make_project()
    site = site_with_api(root)
    assert build(root).exit_code == 0
    context, page, _ = open_page(browser, site.url("demo/index.html"))
    key = f"h5press:token:{site.api_url}"
    page.evaluate("k => localStorage.setItem(k, 'forged.token')", key)
    assert page.evaluate("() => h5press.api('GET', '/me').then(me => me.points)") == 0
    assert page.evaluate("k => localStorage.getItem(k)", key) != "forged.token"
    failure = page.evaluate("() => h5press.api('POST', '/teams', {name: 'x'}).catch(e => [e.status, e.code])")
    assert failure == [404, "no_teams"]  # the server's error code reaches the component
    context.close()


def test_writes_wait_for_consent_but_public_reads_do_not(make_project, site_with_api, browser):
    root = make_project({"content/demo/campaign.yaml": CAMPAIGN + "consent: {required: true}\n"})
    site = site_with_api(root)
    assert build(root).exit_code == 0
    context, page, _ = open_page(browser, site.url("demo/index.html"))
    assert page.evaluate("() => h5press.api('POST', '/teams', {name: 'x'}).catch(e => e.code)") == "consent"
    board = page.evaluate("() => h5press.api('GET', '/leaderboard?scope=individual&period=all')")
    assert board["entries"] == [] and board["me"] is None  # read without an identity
    context.set_offline(True)
    assert page.evaluate("() => h5press.api('GET', '/me').catch(e => [e.status, e.code])") == [0, "offline"]
    context.close()


def test_without_api_url_the_page_has_no_client_and_says_so(make_project, serve, browser):
    root = make_project()
    assert build(root).exit_code == 0
    assert "api." not in (root / "dist/demo/index.html").read_text()
    server = serve(root / "dist")
    page = browser.new_page()
    page.goto(server.url("demo/index.html"))
    page.wait_for_function("() => window.h5press")
    assert page.evaluate("() => [h5press.server, h5press.me()]") == [False, None]
    assert page.evaluate("() => h5press.api('GET', '/me').catch(e => e.code)") == "no_api"
    page.close()
