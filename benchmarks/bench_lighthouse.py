"""Lighthouse (mobile, its default) on every demo page: performance and accessibility scores, the
render-blocking requests and what Lighthouse estimates they cost (docs/benchmarks.md).

  npm install --prefix /tmp/lh lighthouse
  python benchmarks/bench_lighthouse.py --lighthouse /tmp/lh/node_modules/.bin/lighthouse [--chrome /usr/bin/chromium]

The demo is built into a temporary folder and served by h5press's static server (with `_headers`).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from h5press.serve.static import StaticServer

REPO = Path(__file__).resolve().parent.parent


def audit(lighthouse: str, chrome: str, url: str) -> str:
    """One page's line: scores, the metrics that make them, render-blocking requests."""
    done = subprocess.run([lighthouse, url, "--quiet", "--output=json", "--only-categories=performance,accessibility",
                           "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                          capture_output=True, text=True, env={**os.environ, "CHROME_PATH": chrome}, check=True)
    report = json.loads(done.stdout)
    audits, scores = report["audits"], report["categories"]
    blocking = audits["render-blocking-resources"].get("details", {}).get("items", [])
    failed = [ref["id"] for ref in scores["accessibility"]["auditRefs"]
              if ref["weight"] and audits[ref["id"]]["score"] is not None and audits[ref["id"]]["score"] < 1]
    return (f"performance {scores['performance']['score'] * 100:.0f} accessibility {scores['accessibility']['score'] * 100:.0f}"
            f" | FCP {audits['first-contentful-paint']['numericValue']:.0f} ms"
            f" LCP {audits['largest-contentful-paint']['numericValue']:.0f} ms"
            f" TBT {audits['total-blocking-time']['numericValue']:.0f} ms"
            f" | render-blocking requests {len(blocking)} (est. {sum(i.get('wastedMs', 0) for i in blocking):.0f} ms)"
            + (f" | failing: {', '.join(failed)}" if failed else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lighthouse", default=shutil.which("lighthouse"), help="the lighthouse executable (npm)")
    parser.add_argument("--chrome", default=shutil.which("chromium") or shutil.which("google-chrome"))
    args = parser.parse_args()
    if not args.lighthouse or not args.chrome:
        sys.exit("needs lighthouse (npm install lighthouse) and a Chromium")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dist"
        subprocess.run([sys.executable, "-m", "h5press", "build", "--project", str(REPO), "--out", str(out)],
                       check=True, capture_output=True)
        server = StaticServer(out).start()
        try:
            for page in sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")):
                print(f"{page}: {audit(args.lighthouse, args.chrome, server.url(page))}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
