"""`h5press serve`: time from saving one article to the open page showing its new text.

  python benchmarks/bench_serve.py [--articles 1000] [--edits 5] [--edit text|title]

`--edit text` appends a line to the article; `--edit title` renames it (its landing-page card and
its neighbours' links change too). Target: within 150 ms in a 1000-article site (2-core machine).
Measured in real Chromium.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402

from h5press.check.browser import launch_options  # noqa: E402
from h5press.serve.dev import DevServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--edit", choices=["text", "title"], default="text", help="what each save changes")
    parser.add_argument("--verbose", action="store_true", help="print each rebuild")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_site(Path(tmp) / "site", args.articles)
        log = print if args.verbose else (lambda message: None)
        server = DevServer(project, project / "dist", port=0, log=log)
        started = time.perf_counter()
        server.start()
        first = time.perf_counter() - started
        article = project / "content" / "bench" / f"a{args.articles // 2}.md"
        times: list[float] = []
        swapped: list[bool] = []  # the edit was swapped into the open page rather than reloaded
        with sync_playwright() as p:
            browser = p.chromium.launch(**launch_options(managed=p.chromium.executable_path))
            page = browser.new_page()
            page.goto(server.url(f"bench/{article.stem}.html"))
            while not server.broadcaster.connections:
                time.sleep(0.01)
            for n in range(args.edits):
                connected = server.broadcaster.connections
                marker = f"第{n}次修改"
                text = article.read_text("utf-8")
                edited = re.sub(r"^title: .*$", f"title: {marker}", text, count=1, flags=re.M) if args.edit == "title" \
                    else text + f"\n{marker}\n"
                page.evaluate("() => { window.sameDocument = true; }")
                saved = time.perf_counter()
                article.write_text(edited, "utf-8")
                page.wait_for_function(f"() => document.body.textContent.includes('{marker}')", timeout=20000, polling=5)
                times.append((time.perf_counter() - saved) * 1000)
                swapped.append(page.evaluate("() => window.sameDocument === true"))
                while not swapped[-1] and server.broadcaster.connections == connected:  # the reloaded page listens again
                    time.sleep(0.01)
            browser.close()
        server.stop()
    median = statistics.median(times)
    print(f"serve: first build of {args.articles} articles {first:.2f}s; save ({args.edit}) → page shows the edit: "
          f"median {median:.0f} ms over {len(times)} edits (min {min(times):.0f}, max {max(times):.0f}; "
          f"{sum(swapped)} swapped in place, {len(swapped) - sum(swapped)} reloaded) "
          f"[target ≤ 150 ms] {'OK' if median <= 150 else 'OVER'}")


if __name__ == "__main__":
    main()
