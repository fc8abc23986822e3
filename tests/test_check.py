"""`h5press check` in real Chromium: known defects give exactly the expected findings."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from h5fixtures import one_page_site, png, write_tree
from h5press.cli import cli
from h5press.generator.headers import headers_for, parse_headers

pytestmark = pytest.mark.browser

HEAD = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' \
       '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>' \
       '<style>body{{margin:0;font:16px/1.5 sans-serif}} p{{margin:8px}}</style></head><body>'
CLEAN = HEAD.format(title="干净") + '<h1>干净的页面</h1><p>正文。</p><img src="ok.png" width="40" height="20" alt="图">' \
        '<label style="display:flex;align-items:center;min-height:48px"><input type="checkbox"> 同意（点文字也能勾选）</label></body></html>'
DEFECTS = HEAD.format(title="缺陷") + """
<h1>有缺陷的页面</h1>
<div style="width:360px;height:20px;background:#eee"></div>
<img src="missing.png" width="40" height="20" alt="不存在">
<button style="height:20px;width:120px">小按钮</button>
<p style="font-size:10px">十像素的文字</p>
<img src="ok.png" alt="没有尺寸">
<img src="ok.png" width="40" height="20">
<script>undefinedFunction();</script>
</body></html>"""

DEVICES = "iPhone SE,Pixel 7"


def check(*args: str):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


def findings(report: Path) -> set[tuple[str, str, str]]:
    data = json.loads((report / "check.json").read_text())
    return {(v["page"], v["device"], f["rule"]) for v in data for f in v["findings"] if not f["waived"]}


def test_known_defects_give_exactly_the_expected_findings(tmp_path):
    site = write_tree(tmp_path / "plain", {"clean.html": CLEAN, "defects.html": DEFECTS, "ok.png": png(40, 20)})
    report = tmp_path / "report"
    result = check(str(site), "-p", str(tmp_path), "--devices", DEVICES, "--report", str(report),
                   "--junit", str(tmp_path / "junit.xml"))
    assert result.exit_code == 1, result.output
    expected = {("defects.html", device, rule) for device in ("iPhone SE", "Pixel 7")
                for rule in ("request", "tap-target", "text-size", "image-dimensions", "exception", "axe-image-alt")}
    expected.add(("defects.html", "iPhone SE", "overflow"))
    assert findings(report) == expected
    data = {(v["page"], v["device"]): v for v in json.loads((report / "check.json").read_text())}
    overflow = next(f for f in data[("defects.html", "iPhone SE")]["findings"] if f["rule"] == "overflow")
    assert overflow["selector"] == "body > div" and overflow["severity"] == "error"
    tap = next(f for f in data[("defects.html", "Pixel 7")]["findings"] if f["rule"] == "tap-target")
    assert "under 48×48" in tap["message"]  # Android profile
    request = next(f for f in data[("defects.html", "Pixel 7")]["findings"] if f["rule"] == "request")
    assert request["selector"].endswith("/missing.png") and request["message"] == "HTTP 404"
    alt = next(f for f in data[("defects.html", "Pixel 7")]["findings"] if f["rule"] == "axe-image-alt")
    assert alt["selector"] == 'img[src$="ok.png"][width="40"][height="20"]' and "(critical)" in alt["message"] and alt["box"][2:] == [40, 20]
    assert data[("defects.html", "Pixel 7")]["marked"]  # screenshot with the findings drawn on it
    assert Path(data[("clean.html", "Pixel 7")]["screenshot"]).is_file()
    html = (report / "index.html").read_text()
    assert "defects.html" in html and "tap-target" in html
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 4 and suite.get("failures") == "2"
    assert {c.get("name") for c in cases if c.find("failure") is not None} == {"defects.html"}
    assert "checked 2 pages × 2 profiles" in result.stderr and "errors" in result.stderr


def test_waivers_and_baselines(tmp_path):
    site = write_tree(tmp_path / "plain", {"clean.html": CLEAN, "ok.png": png(40, 20)})
    write_tree(tmp_path, {"h5press.yaml": "check:\n  waive:\n    - {rule: image-dimensions, page: '*.html', reason: 装饰图}\n"})
    report = tmp_path / "report"
    assert check(str(site), "-p", str(tmp_path), "--devices", "Pixel 7", "--report", str(report), "--update-baseline").exit_code == 0
    assert (tmp_path / "check-baseline" / "Pixel-7" / "clean.html.jpg").is_file()
    write_tree(site, {"clean.html": CLEAN.replace("<p>正文。</p>", "<p style='background:#c00;height:200px'>改了</p>")
                      .replace('width="40" height="20" ', "")})
    result = check(str(site), "-p", str(tmp_path), "--devices", "Pixel 7", "--report", str(report))
    assert result.exit_code == 1
    data = json.loads((report / "check.json").read_text())
    (visit,) = data
    rules = {f["rule"]: f for f in visit["findings"]}
    assert rules["image-dimensions"]["waived"] == "装饰图"
    assert rules["baseline"]["severity"] == "error" and visit["diff"]


def test_demo_site_passes_clean_on_every_profile(tmp_path):
    repo = Path(__file__).resolve().parent.parent
    dist = tmp_path / "dist"
    assert CliRunner().invoke(cli, ["build", "-p", str(repo), "-o", str(dist)]).exit_code == 0
    report = tmp_path / "report"
    result = check(str(dist), "-p", str(repo), "--report", str(report))
    data = json.loads((report / "check.json").read_text())
    problems = [(v["page"], v["device"], f["rule"], f["message"]) for v in data for f in v["findings"]]
    assert problems == [] and result.exit_code == 0, problems
    devices = {v["device"] for v in data}
    assert devices == {"iPhone SE", "iPhone 15", "Pixel 7", "Galaxy S24", "Low-end Android", "WeChat iOS"}
    low = [v for v in data if v["device"] == "Low-end Android"]
    assert all(v["metrics"]["lcp_ms"] > 0 for v in low)
    wechat = [v for v in data if v["device"] == "WeChat iOS"]
    assert not any(v["controlled"] for v in wechat)  # service workers blocked, as in WeChat on iOS
    assert all(v["controlled"] for v in data if v["device"] == "Pixel 7")


def test_unknown_device_and_missing_target(tmp_path):
    result = check(str(tmp_path), "--devices", "Nokia 3310")
    assert result.exit_code == 2 and 'unknown device "Nokia 3310"' in result.output
    result = check(str(tmp_path / "nope"))
    assert result.exit_code == 1 and "no such folder" in result.output


def test_headers_file_rules_apply_like_on_the_cdn():
    rules = parse_headers("/*\n  X-A: 1\n/green/assets/*\n  Cache-Control: immutable\n/green/\n  Cache-Control: no-cache\n")
    assert headers_for(rules, "/green/assets/a.1.css") == [("X-A", "1"), ("Cache-Control", "immutable")]
    assert headers_for(rules, "/green/") == [("X-A", "1"), ("Cache-Control", "no-cache")]


def test_deployed_url_is_crawled_and_custom_profiles_come_from_config(tmp_path):
    from h5press.serve.static import StaticServer

    site = write_tree(tmp_path / "plain", {"index.html": CLEAN.replace("<p>正文。</p>", '<p><a href="b.html" style="display:inline-block;padding:14px 0">下一页</a></p>'),
                                           "b.html": CLEAN, "ok.png": png(40, 20)})
    write_tree(tmp_path, {"h5press.yaml": "check:\n  profiles:\n    - {name: Tiny, viewport: {width: 300, height: 600}, is_mobile: true}\n"})
    server = StaticServer(site).start()
    try:
        report = tmp_path / "report"
        result = check(server.url("index.html"), "-p", str(tmp_path), "--devices", "tiny", "--report", str(report))
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    data = json.loads((report / "check.json").read_text())
    assert sorted((v["page"], v["device"]) for v in data) == [("b.html", "Tiny"), ("index.html", "Tiny")]


def test_missing_browser_exits_2_with_instructions(tmp_path):
    write_tree(tmp_path / "plain", {"index.html": CLEAN})
    result = check(str(tmp_path / "plain"), "--browser", str(tmp_path / "no-such-chrome"), "--report", str(tmp_path / "r"))
    assert result.exit_code == 2 and "no such executable" in result.stderr


def findings_behind_slow_server(site: Path, delay: float) -> tuple[list[dict], list[str]]:
    """`check` of a site whose /slow… files take `delay` seconds: (findings, paths requested)."""
    import time

    from h5press.serve.static import Handler, StaticServer

    requested: list[str] = []

    class Slow(Handler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            requested.append(self.path)
            if self.path.startswith("/slow"):
                time.sleep(delay)
            super().do_GET()

    server = StaticServer(site, Slow).start()
    try:
        report = site.parent / "report"
        result = check(server.url("index.html"), "--devices", "Pixel 7", "--report", str(report))
    finally:
        server.stop()
    data = json.loads((report / "check.json").read_text())
    found = [f for v in data for f in v["findings"]]
    assert result.exit_code == (1 if found else 0), result.output
    return found, requested


def test_requests_cut_off_by_moving_to_the_next_page_are_no_finding(tmp_path):
    lingering = CLEAN.replace("<p>正文。</p>", '<p><a href="b.html" style="display:inline-block;padding:14px 0">下一页</a></p>'
                                               "<script>fetch('slow.txt')</script>")
    site = write_tree(tmp_path / "plain", {"index.html": lingering, "b.html": CLEAN, "ok.png": png(40, 20), "slow.txt": "x"})
    found, _ = findings_behind_slow_server(site, 4)
    assert found == []


def test_requests_the_screenshot_itself_sets_off_and_cancels_are_no_finding(tmp_path):
    """A full-page capture resizes the viewport and restores it. Chromium re-picks `srcset`
    candidates on the way and cancels them again (seen on the demo's article images); here a
    page does the same in script, so that it happens on every run: its fetch is cancelled by the
    check's own doing, not a fault of the page."""
    swaps = ("<script>let pending = null; addEventListener('resize', () => { if (pending) { pending.abort(); pending = null; }"
             " else { pending = new AbortController(); fetch('slow.txt', {signal: pending.signal}).catch(() => {}); } });</script>")
    tall = CLEAN.replace("<p>正文。</p>", '<p>正文。</p>' * 80 + swaps)
    site = write_tree(tmp_path / "plain", {"index.html": tall, "ok.png": png(40, 20), "slow.txt": "x"})
    found, requested = findings_behind_slow_server(site, 3)
    assert "/slow.txt" in requested  # the capture did set the page off
    assert found == []


def test_the_collaboration_api_is_left_alone_unless_asked(make_project, site_with_api, tmp_path):
    root = make_project({"content/demo/extra.md": "---\ntitle: 排行\n---\n\n::: leaderboard board\n:::\n"})
    site = site_with_api(root)
    assert CliRunner().invoke(cli, ["build", "-p", str(root)]).exit_code == 0
    report = tmp_path / "report"
    result = check(str(root / "dist"), "-p", str(root), "--devices", "Pixel 7", "--report", str(report))
    data = json.loads((report / "check.json").read_text())
    assert result.exit_code == 0 and [f for v in data for f in v["findings"]] == [], data
    assert site.rows("SELECT count(*) FROM events") == [(0,)]  # QA wrote nothing to the server
    # live, from the origin the server allows (from another one, the CORS refusals are errors)
    result = check(site.url("demo/index.html"), "-p", str(root), "--devices", "Pixel 7", "--report", str(report), "--live-api")
    assert result.exit_code == 0, result.output
    assert site.rows("SELECT count(*) FROM events")[0][0] > 0  # the pages' events reached it


def test_every_variant_of_an_experiment_is_visited_and_named(tmp_path):
    campaign = "title: t\nstart: 2020-01-01\nend: 2099-12-31\nexperiments:\n  - {id: hero, variants: {a: 99, b: 1}}\n"
    body = "::: variant hero a\n文案 A\n:::\n\n::: variant hero b\n文案 B <button type=\"button\">点</button>\n:::\n"
    root = one_page_site(tmp_path / "site", body, campaign)
    assert CliRunner().invoke(cli, ["build", "-p", str(root), "--workers", "1"]).exit_code == 0
    report = tmp_path / "report"
    result = check(str(root / "dist"), "-p", str(root), "--devices", "Pixel 7", "--report", str(report))
    data = {v["page"]: v for v in json.loads((report / "check.json").read_text())}
    assert set(data) == {"c/index.html?h5press-variant=hero:a", "c/index.html?h5press-variant=hero:b",
                         "c/offline.html"}
    rules = {page: {f["rule"] for f in v["findings"]} for page, v in data.items()}
    assert "tap-target" in rules["c/index.html?h5press-variant=hero:b"]  # the button shows in variant b only
    assert rules["c/index.html?h5press-variant=hero:a"] == set()
    assert result.exit_code == 1 and "c/index.html?h5press-variant=hero:b [Pixel 7] tap-target" in result.stderr


def test_a_broken_unsized_image_below_the_fold_is_two_findings(tmp_path):
    """Lazy images load only when scrolled to, which a check that never scrolls misses: the 404
    went unseen. The check loads every image first, so the missing file and its lack of a size
    are both found, on the visit of their page."""
    broken = CLEAN.replace("<p>正文。</p>", '<p>正文。</p>' * 120 + '<p><img loading="lazy" src="gone.png" alt="不存在"></p>')
    site = write_tree(tmp_path / "plain", {"index.html": broken, "ok.png": png(40, 20)})
    found, requested = findings_behind_slow_server(site, 0)
    assert "/gone.png" in requested
    assert sorted((f["rule"], f["severity"], f["message"]) for f in found) == [
        ("image-dimensions", "warning", "image without width and height attributes: the layout shifts when it loads (gone.png)"),
        ("request", "error", "HTTP 404")]
    selectors = {f["rule"]: f["selector"] for f in found}
    assert selectors["image-dimensions"] == "body > p:nth-of-type(121) > img" and selectors["request"].endswith("/gone.png")
