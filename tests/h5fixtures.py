"""Shared fixtures and helpers, loaded as a pytest plugin (`-p h5fixtures`) so tests under
tests/ and component tests under layouts/components/ share one browser."""
from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from h5press.cli import cli
from h5press.serve.static import StaticServer

SITE_YAML = """\
base_url: https://h5.example.com/
footer:
  icp: 京ICP备12345678号
  text: 测试银行
"""

CAMPAIGN_YAML = """\
title: 测试活动
description: 一个测试用的活动
start: 2020-01-01
end: 2099-12-31
theme:
  primary: "#15824d"
disclosure: 理财非存款，产品有风险，投资须谨慎。
points:
  actions:
    read: {points: 2, per_day: 5}
"""

INDEX_MD = """\
---
title: 活动首页
description: 首页描述
cover: images/photo.png
---

欢迎参加。先读 [第一篇](article.md)，再读 [指南](guide/intro.md#第二步)。
"""

ARTICLE_MD = """\
---
title: 第一篇文章
order: 1
date: 2026-11-02
author: 小青
---

## 存款保险

| 类别 | 保障 |
| --- | --- |
| 存款 | 是 |

- 列表一
- 列表二

![一张图片](images/photo.png)

正文继续。

![第二张图片](images/photo.png)

[返回首页](index.md)
"""

GUIDE_MD = """\
---
title: 参与指南
order: 2
---

## 第一步

打开页面。

## 第二步

分享链接。[返回](../index.md)
"""


def png(width: int = 1200, height: int = 600, color: str = "#3a7") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def write_tree(root: Path, files: dict[str, str | bytes | None]) -> Path:
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.unlink(missing_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def base_files() -> dict[str, str | bytes | None]:
    return {
        "h5press.yaml": SITE_YAML,
        "content/demo/campaign.yaml": CAMPAIGN_YAML,
        "content/demo/index.md": INDEX_MD,
        "content/demo/article.md": ARTICLE_MD,
        "content/demo/guide/intro.md": GUIDE_MD,
        "content/demo/images/photo.png": png(),
    }


def one_page_site(root: Path, body: str, campaign: str = "title: t\nstart: 2020-01-01\nend: 2099-12-31\n") -> Path:
    """A site with one campaign `c` whose landing page is `body`: for component tests."""
    return write_tree(root, {"h5press.yaml": "base_url: https://h5.example.com/\n", "content/c/campaign.yaml": campaign,
                             "content/c/index.md": "---\ntitle: 首页\n---\n\n" + body})


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A valid small site; keyword `files` adds, replaces (str/bytes) or removes (None) files."""

    def make(files: dict[str, str | bytes | None] | None = None, name: str = "site") -> Path:
        return write_tree(tmp_path / name, {**base_files(), **(files or {})})

    return make


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def build(root: Path, *args: str) -> Result:
    return run("build", "--project", str(root), "--workers", "1", *args)


# --- HTTP server and browser ------------------------------------------------------------------

class Server(StaticServer):
    """Serves a folder with its `_headers`; `stop()` makes the network really unavailable."""


@pytest.fixture
def serve() -> Iterator[Callable[[Path], Server]]:
    servers: list[Server] = []

    def start(directory: Path) -> Server:
        servers.append(Server(directory).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def open_served(root: Path, serve: Callable[[Path], Server], browser, path: str, width: int = 375,  # type: ignore[no-untyped-def]
                workers: str = "allow"):
    """Build `root`, serve its dist/, open `path` on a phone-sized page and, where service
    workers are allowed, wait until one controls it. Returns (server, context, page, page errors)."""
    assert build(root).exit_code == 0
    server = serve(root / "dist")
    context = browser.new_context(viewport={"width": width, "height": 700}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, service_workers=workers)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url(path))
    if workers == "allow":
        page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                               timeout=15000)
    return server, context, page, errors


def reload_after_offline(page, server: Server, workers: str) -> None:  # type: ignore[no-untyped-def]
    """Reload after offline use: a service worker serves the page from its cache with the network
    still gone; without one (WeChat on iOS) the page needs the network back, the state is local."""
    if workers == "block":
        server.start()
    page.reload()


def layout_shift(page) -> float:  # type: ignore[no-untyped-def]
    """Cumulative layout shift of the page so far (hydration must add none)."""
    return page.evaluate("""() => new Promise(done => {
        let total = 0;
        new PerformanceObserver(list => list.getEntries().forEach(e => { if (!e.hadRecentInput) total += e.value; }))
            .observe({type: 'layout-shift', buffered: true});
        setTimeout(() => done(total), 300);
    })""")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from h5press.check.browser import launch_options

    with sync_playwright() as p:
        chromium = p.chromium.launch(**launch_options(managed=p.chromium.executable_path))
        yield chromium
        chromium.close()
