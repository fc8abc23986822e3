"""`h5press deploy` throughput (docs/benchmarks.md): objects per second for an N-article site
against moto's S3 server on this machine, each deploy timed as a whole process.

  python benchmarks/bench_deploy.py [--articles 1000] [-j 8]

1. Full: the first deploy into an empty bucket (every object uploaded).
2. Incremental, nothing changed: one listing and the deploy record, nothing uploaded.
3. Incremental, one article edited: the page, its neighbours' links and the service worker.

moto answers from one Python process on the same two cores as the client, so these figures
bound h5press's own cost; a real storage adds network latency per request (which -j hides).
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402

ENV = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto's server did not start")


def h5press(*args: str) -> tuple[float, str]:
    """Wall clock and stdout of one h5press process, as a user waits for it."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "h5press", *args], env=ENV, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def deployed(stdout: str) -> tuple[int, int]:
    """(uploaded, unchanged) from the summary line."""
    found = re.search(r"deployed (\d+) object\(s\) .* in [\d.]+s: (\d+) unchanged", stdout)
    assert found, stdout
    return int(found.group(1)), int(found.group(2))


def report(what: str, seconds: float, stdout: str) -> None:
    uploaded, unchanged = deployed(stdout)
    total = uploaded + unchanged
    print(f"{what:<34} {seconds:6.2f} s  {uploaded:5} uploaded  {unchanged:5} unchanged  "
          f"{total / seconds:7.0f} objects/s considered  {uploaded / seconds:6.0f} uploads/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("-j", "--workers", default="8")
    args = parser.parse_args()
    server, url = start_moto()
    try:
        boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
                     aws_secret_access_key="bench").create_bucket(Bucket="bench")
        with tempfile.TemporaryDirectory() as tmp:
            root = make_site(Path(tmp) / "site", args.articles)
            with (root / "h5press.yaml").open("a", encoding="utf-8") as yaml:
                yaml.write(f"deploy:\n  - {{name: moto, url: s3://bench/live, endpoint: {url}, addressing: path}}\n")
            h5press("build", "-p", str(root))
            deploy = ("deploy", "-p", str(root), "-j", args.workers)
            print(f"{args.articles} articles, -j {args.workers}, moto {url}")
            report("full (empty bucket)", *h5press(*deploy))
            report("incremental, nothing changed", *h5press(*deploy))
            page = root / "content" / "bench" / "a500.md"
            page.write_text(page.read_text("utf-8") + "\n补充一句。\n", "utf-8")
            h5press("build", "-p", str(root))
            report("incremental, one article edited", *h5press(*deploy))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
