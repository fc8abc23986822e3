"""`h5press check` speed: N pages × the default six profiles (target: 20 × 6 within 60 s on 2 cores).

  python benchmarks/bench_check.py [--pages 20] [--workers 4]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = make_site(Path(tmp) / "site", args.pages - 1)  # the articles plus the landing page
        subprocess.run([sys.executable, "-m", "h5press", "build", "-p", str(project)], check=True, capture_output=True)
        pages = len(list((project / "dist" / "bench").glob("*.html")))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "h5press", "check", str(project / "dist" / "bench"), "-p", str(project),
                               "--report", str(Path(tmp) / "report"), "-j", str(args.workers)], capture_output=True, text=True)
        seconds = time.perf_counter() - started
    summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "(no output)"
    print(f"h5press check: {pages} pages × 6 profiles in {seconds:.1f}s [target ≤ 60 s] "
          f"{'OK' if seconds <= 60 else 'OVER'} (exit {done.returncode}; {summary})")


if __name__ == "__main__":
    main()
