"""Drive one browser over every page × profile, in parallel contexts, and collect findings.

Phases: (1) every page on every profile — probes, an axe-core audit, component self-tests,
screenshot, a 200 % text pass and a dark-mode pass; (2) LCP and CLS of every page on the low-end profiles, cold and
throttled; (3) with the local server stopped, every page again on each profile that allows
service workers (offline reload).
"""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from ..serve.static import StaticServer
from . import axe
from .baseline import compare, mark
from .browser import LAUNCH_ARGS, BrowserNotFound, find_chromium
from .config import CheckConfig
from .findings import Finding, Visit
from .profiles import Device, resolve

PROBES = (Path(__file__).resolve().parent / "probes.js").read_text("utf-8")
NEXT_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r())))"
# Lazy images load only when scrolled to, and a check does not scroll: load them all (each until
# it loads or fails, 5 s at most) so that a missing or broken image is a finding of its page.
LOAD_IMAGES = """() => Promise.race([new Promise(r => setTimeout(r, 5000)), Promise.all([...document.images].map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(r => ['load', 'error'].forEach(e => img.addEventListener(e, r, {once: true})));
}))])"""
SW_TIMEOUT_MS = 8000
NAV_TIMEOUT_MS = 20000
# ≈150 ms round trip and 1.6 Mbps down (a slow 4G cell), with the CPU slowed 4× (DESIGN §8).
THROTTLE = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
METRICS = """() => new Promise(done => {
    let lcp = 0, cls = 0;
    new PerformanceObserver(l => l.getEntries().forEach(e => { lcp = e.startTime; }))
        .observe({type: 'largest-contentful-paint', buffered: true});
    new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) cls += e.value; }))
        .observe({type: 'layout-shift', buffered: true});
    setTimeout(() => done({lcp, cls}), 250);
})"""


@dataclass
class CheckOptions:
    target: str  # a folder, or an http(s) URL
    devices: list[Any]  # Profile models
    out: Path  # report folder (screenshots live there)
    config: CheckConfig
    baseline: Path
    update_baseline: bool = False
    browser: str | None = None
    engine: str = "chromium"
    workers: int = 4
    max_pages: int = 200
    live_api: bool = False  # let pages reach the collaboration API (by default its requests are refused)
    progress: Callable[[int, int], None] = field(default=lambda done, total: None)


API_URL = re.compile(r"^https?://[^?#]*/api/v1/")  # the collaboration API's contract path, on any origin
VARIANT_BLOCK = re.compile(r'data-variant="?([a-z0-9][a-z0-9-]*):([a-z0-9][a-z0-9-]*)')
VARIANT_PARAM = "h5press-variant"
# Before any script of a page: forget the variants earlier visits of this profile were given, and on a
# variant visit (`?h5press-variant=hero:b`) make the head script read that one as the visitor's stored variant.
PRESET_VARIANT = """(() => {
    Object.keys(localStorage).filter(k => k.endsWith(':variants')).forEach(k => localStorage.removeItem(k));
    const m = /[?&]VARIANT_PARAM=([a-z0-9-]+):([a-z0-9-]+)/.exec(location.search);
    if (!m) return;
    const getItem = Storage.prototype.getItem;
    Storage.prototype.getItem = function (key) {
        return key.endsWith(':variants') ? JSON.stringify({[m[1]]: m[2]}) : getItem.call(this, key);
    };
})()""".replace("VARIANT_PARAM", VARIANT_PARAM)


def slug(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or "index"


def local_pages(root: Path, limit: int) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html"))[:limit]


def variant_visits(path: str, html: str) -> list[str]:
    """A page with `::: variant` blocks is visited once per variant it shows (the visit names it);
    any other page once."""
    found = dict.fromkeys(f"{experiment}:{variant}" for experiment, variant in VARIANT_BLOCK.findall(html))
    return [f"{path}?{VARIANT_PARAM}={v}" for v in found] or [path]


async def crawl(browser: Browser, start: str, limit: int) -> list[str]:
    """Same-origin pages under the start URL's folder, breadth first, as paths relative to it (one per
    variant for pages with variant blocks)."""
    base = start.rsplit("/", 1)[0] + "/"
    seen, queue = [start], [start]
    html: dict[str, str] = {}
    context = await browser.new_context(service_workers="block")
    page = await context.new_page()
    while queue and len(seen) < limit:
        url = queue.pop(0)
        try:
            await page.goto(url, timeout=NAV_TIMEOUT_MS)
        except Exception:  # an unreachable page is reported by the visit itself
            continue
        html[url] = await page.content()
        for href in await page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)"):
            link = urljoin(url, href).split("#")[0]
            if link.startswith(base) and link not in seen and (link.endswith((".html", "/"))):
                seen.append(link)
                queue.append(link)
    await context.close()
    return [v for u in seen[:limit] for v in variant_visits(u[len(base):] or "index.html", html.get(u, ""))]


@dataclass
class Tab:
    """What one browser tab is doing: whose visit it is on, and whether the check is capturing it."""

    visit: Visit
    capturing: bool = False


class Runner:
    def __init__(self, options: CheckOptions) -> None:
        self.o = options
        self.visits: list[Visit] = []
        self.server: StaticServer | None = None
        self.base = ""
        self.done = 0
        self.total = 0

    async def run(self) -> list[Visit]:
        local = not re.match(r"^https?://", self.o.target)
        if local:
            self.server = StaticServer(Path(self.o.target)).start()
            self.base = self.server.url()
        async with async_playwright() as p:
            browser = await self._launch(p, "chromium")
            webkit = await self._launch(p, "webkit") if self.o.engine == "webkit" else None
            try:
                if local:
                    root = Path(self.o.target)
                    pages = [v for path in local_pages(root, self.o.max_pages)
                             for v in variant_visits(path, (root / path).read_text("utf-8", errors="replace"))]
                else:
                    self.base = self.o.target.rsplit("/", 1)[0] + "/"
                    pages = await crawl(browser, self.o.target, self.o.max_pages)
                devices = [resolve(d, p.devices) for d in self.o.devices]
                lows = [d for d in devices if d.low_end]
                self.total = len(pages) * len(devices) + len(pages) * len(lows)
                self.total += len(pages) * sum(1 for d in devices if d.service_workers)
                contexts = {}
                for device in devices:
                    engine = webkit if webkit and device.webkit_capable else browser
                    contexts[device.name] = await self._context(engine, device.options)
                    contexts[device.name].set_default_timeout(NAV_TIMEOUT_MS)
                limit = asyncio.Semaphore(self.o.workers)
                await asyncio.gather(*(self._guarded(limit, self._device(contexts[d.name], d, pages)) for d in devices))
                for device in lows:  # one page at a time: the timings must not compete for the CPU
                    await self._performance(browser, device, pages)
                await self._offline(contexts, devices, pages, local)  # last: it stops the server
                for context in contexts.values():
                    await context.close()
            finally:
                await browser.close()
                if webkit:
                    await webkit.close()
                if self.server:
                    self.server.stop()
        order = {d.name: i for i, d in enumerate(self.o.devices)}
        self.visits.sort(key=lambda v: (v.page, order.get(v.device, 0)))
        return self.visits

    async def _launch(self, p: Any, engine: str) -> Browser:
        if engine == "webkit":
            try:
                return await p.webkit.launch()
            except Exception as exc:
                raise BrowserNotFound("--engine webkit needs Playwright's WebKit: python -m playwright install webkit") from exc
        path = find_chromium(self.o.browser, p.chromium.executable_path)
        return await p.chromium.launch(args=LAUNCH_ARGS, **({"executable_path": path} if path else {}))

    async def _context(self, browser: Browser, options: dict[str, Any]) -> BrowserContext:
        """A profile's context. Unless --live-api, requests to the collaboration API are refused:
        QA visits never write to a real server, and pages are checked in their no-server fallback."""
        context = await browser.new_context(**options)
        await context.add_init_script(PRESET_VARIANT)
        if not self.o.live_api:
            await context.route(API_URL, lambda route: route.abort("blockedbyclient"))
        return context

    async def _guarded(self, limit: asyncio.Semaphore, job: Any) -> None:
        async with limit:
            await job

    def _tick(self) -> None:
        self.done += 1
        self.o.progress(self.done, self.total)

    def _visit_of(self, page: str, device: str) -> Visit:
        found = next((v for v in self.visits if v.page == page and v.device == device), None)
        if found is None:
            found = Visit(page, device)
            self.visits.append(found)
        return found

    def _listen(self, page: Page, tab: Tab) -> None:
        """Page events go to the visit under way in this tab."""

        def console(message: Any) -> None:
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                tab.visit.add(Finding("console", "error", message.text[:500]))

        def response(r: Any) -> None:
            if r.status >= 400 and not API_URL.search(r.url):  # the API's 4xx are answers components show
                tab.visit.add(Finding("request", "error", f"HTTP {r.status}", r.url))

        # A request belongs to the visit that made it: when the tab moves on, Chromium aborts what
        # the last page still had in flight, which is no fault of either page; nor is closing a
        # live stream (EventSource), which stays open as long as its page. A full-page capture resizes
        # the viewport and restores it: what the page starts or cancels meanwhile (Chromium re-picks
        # `srcset` candidates, scripts react to `resize`) is the check's doing, not the page's.
        made_by: dict[Any, tuple[Visit, bool]] = {}

        def made(r: Any) -> None:
            made_by[r] = (tab.visit, tab.capturing)

        def finished(r: Any) -> None:
            made_by.pop(r, None)

        def failed(r: Any) -> None:
            visit, made_in_capture = made_by.pop(r, (tab.visit, False))
            by_capture = made_in_capture or tab.capturing
            cut_off = visit is not tab.visit or by_capture or r.resource_type == "eventsource"
            if cut_off and r.failure == "net::ERR_ABORTED":
                return
            if not API_URL.search(r.url):
                visit.add(Finding("request", "error", f"request failed: {r.failure}", r.url))
            elif self.o.live_api:  # the pages fall back to what the device knows: worth knowing, not broken
                visit.add(Finding("request", "warning", f"collaboration API unreachable: {r.failure}", r.url))

        page.on("console", console)
        page.on("pageerror", lambda exc: tab.visit.add(Finding("exception", "error", str(exc)[:500])))
        page.on("request", made)
        page.on("requestfinished", finished)
        page.on("requestfailed", failed)
        page.on("response", response)

    async def _probe(self, page: Page, visit: Visit, device: Device, run: str) -> None:
        # The 200 % and dark passes report only what the plain pass did not already find.
        known = any(f.rule == "overflow" for f in visit.findings)
        for item in await page.evaluate(PROBES, {"tapMin": device.tap_min, "pass": run, "overflowKnown": known}):
            visit.add(Finding(item["rule"], item["severity"], item["message"], item["selector"], item["box"]))

    async def _device(self, context: BrowserContext, device: Device, paths: list[str]) -> None:
        """Every page on one profile, in one tab: a tab keeps its renderer (and its loaded fonts)
        from page to page, which makes a visit several times cheaper than a fresh tab."""
        page = await context.new_page()
        tab = Tab(Visit("", device.name))
        self._listen(page, tab)
        cdp = await context.new_cdp_session(page) if self._chromium(context) else None
        for path in paths:
            tab.visit = self._visit_of(path, device.name)
            await self._visit(page, cdp, device, tab)
        await page.close()

    @staticmethod
    def _chromium(context: BrowserContext) -> bool:
        return bool(context.browser and context.browser.browser_type.name == "chromium")

    async def _visit(self, page: Page, cdp: Any, device: Device, tab: Tab) -> None:
        visit = tab.visit
        started = time.perf_counter()
        try:
            await page.emulate_media(color_scheme="light")
            await page.goto(self.base + visit.page, wait_until="load")
            if device.service_workers and await page.evaluate("document.documentElement.dataset.sw === '1'"):
                try:
                    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=SW_TIMEOUT_MS)
                except Exception:
                    visit.add(Finding("offline", "error", "the service worker did not take control of the page"))
            visit.controlled = await page.evaluate("!!(navigator.serviceWorker && navigator.serviceWorker.controller)")
            await page.evaluate(LOAD_IMAGES)
            await page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))")
            visit.title = await page.title()
            await self._probe(page, visit, device, "main")
            for finding in await axe.audit(page):
                visit.add(finding)
            for problem in await page.evaluate("window.h5press && h5press.selftest ? h5press.selftest() : []"):
                visit.add(Finding("selftest", "error", problem))
            shot = self.o.out / "shots" / slug(device.name) / f"{slug(visit.page)}.jpg"
            shot.parent.mkdir(parents=True, exist_ok=True)
            tab.capturing = True  # until the page has seen the frames where the capture resized it
            try:
                await page.screenshot(path=str(shot), full_page=True, scale="css", animations="disabled", type="jpeg", quality=80)
                await page.evaluate(NEXT_FRAMES)
            finally:
                tab.capturing = False
            visit.screenshot = shot
            if cdp:  # 200 % text, as a phone's font-size setting does (WebKit has no such control)
                await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
                await self._probe(page, visit, device, "large-text")
                await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 16, "fixed": 13}})
            await page.emulate_media(color_scheme="dark")
            await self._probe(page, visit, device, "dark-mode")
        except Exception as exc:  # a page that cannot be loaded at all is itself a finding
            visit.add(Finding("load", "error", f"page did not load: {str(exc).splitlines()[0]}"))
        self._compare(visit, device)
        visit.ms = round((time.perf_counter() - started) * 1000)
        self._tick()

    def _compare(self, visit: Visit, device: Device) -> None:
        if not visit.screenshot:
            return
        reference = self.o.baseline / slug(device.name) / visit.screenshot.name
        if self.o.update_baseline:
            reference.parent.mkdir(parents=True, exist_ok=True)
            reference.write_bytes(visit.screenshot.read_bytes())
        elif reference.is_file():
            finding, diff = compare(reference, visit.screenshot, self.o.config.diff_threshold)
            if finding:
                visit.add(finding)
                visit.diff = diff
        boxes = [(f.box, f.severity) for f in visit.findings if f.box]
        if boxes:
            visit.marked = mark(visit.screenshot, boxes)

    async def _offline(self, contexts: dict[str, BrowserContext], devices: list[Device], pages: list[str], local: bool) -> None:
        """Reload every page with the network really gone; the service worker must serve it."""
        with_workers = [d for d in devices if d.service_workers]
        if not with_workers:
            return
        if self.server:
            self.server.stop()
        for device in with_workers:
            context = contexts[device.name]
            if not local:  # a remote site cannot be switched off: refuse every request instead
                await context.set_offline(True)
                await context.route("**/*", lambda route: route.abort("internetdisconnected"))
            page = await context.new_page()
            for path in pages:
                visit = self._visit_of(path, device.name)
                if visit.controlled:
                    await self._offline_page(page, visit, path)
                self._tick()
            await page.close()

    async def _offline_page(self, page: Page, visit: Visit, path: str) -> None:
        try:
            response = await page.goto(self.base + path, wait_until="load", timeout=10000)
            title = await page.title()
        except Exception as exc:
            visit.add(Finding("offline", "error", f"offline reload failed: {str(exc).splitlines()[0]}"))
            return
        if response is None or title != visit.title:
            visit.add(Finding("offline", "error", f'offline reload showed "{title}" instead of the page'))

    async def _performance(self, browser: Browser, device: Device, paths: list[str]) -> None:
        """LCP and CLS of each page loaded cold (no HTTP cache, no service worker), throttled."""
        context = await self._context(browser, {**device.options, "service_workers": "block"})
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        await cdp.send("Network.emulateNetworkConditions", THROTTLE)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        budgets = self.o.config.budgets
        for path in paths:
            visit = self._visit_of(path, device.name)
            try:
                await page.goto(self.base + path, wait_until="load", timeout=60000)
                metrics = await page.evaluate(METRICS)
            except Exception as exc:
                visit.add(Finding("lcp", "error", f"throttled load failed: {str(exc).splitlines()[0]}"))
                self._tick()
                continue
            visit.metrics = {"lcp_ms": round(metrics["lcp"]), "cls": round(metrics["cls"], 4)}
            if metrics["lcp"] > budgets.lcp_ms:
                visit.add(Finding("lcp", "error", f"LCP {metrics['lcp']:.0f} ms throttled, over the {budgets.lcp_ms} ms budget"))
            if metrics["cls"] > budgets.cls:
                visit.add(Finding("cls", "error", f"CLS {metrics['cls']:.3f}, over the {budgets.cls} budget"))
            self._tick()
        await context.close()
