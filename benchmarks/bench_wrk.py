"""`h5press api` against a minimal FastAPI endpoint, measured with wrk (a native load generator: a Python
client saturates long before the server does).

  python benchmarks/bench_wrk.py [--seconds 10] [--connections 32] [--workers 2] [--db sqlite,postgresql]
                                 [--identity-rate 1000]

Starts on loopback in the same worker processes a minimal FastAPI app (parse the JSON body, answer), and
one after the other `h5press api` on a SQLite file and on PostgreSQL ($H5PRESS_TEST_POSTGRES, or a
temporary cluster). wrk sends single-event POSTs from 2000 identities (each request a new event id), then
batches of 50 events, then single events of one person with 20 and with 30,000 stored events (one
connection: the cost of a request, not queueing), and `GET /me` of both. The per-identity rate limit stays
on (`--identity-rate`, high enough never to refuse: its cost is measured, 0 turns it off), the per-IP and
session limits are off (all requests come from one address). Prints requests/s, events/s and
latency percentiles, and each h5press figure as a share of the minimal endpoint's requests/s, measured
right before it (a machine's load drifts within a run: each ratio compares runs seconds apart).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from api_support import make_site, temporary_postgres  # noqa: E402

from h5press.api import db  # noqa: E402
from h5press.api.identity import sign  # noqa: E402
from h5press.api.migrations import migrate  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
PATH = "/api/v1/campaigns/c/events"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

minimal = FastAPI()


@minimal.post(PATH)
def echo(body: dict[str, object]) -> dict[str, object]:
    """The floor: FastAPI parses the JSON body and answers, nothing else."""
    return {"ok": True, "fields": len(body)}


# The minimal app in the worker processes `h5press api --workers N` runs (one listening socket each), so the
# two differ only in what they do per request.
MINIMAL_SERVER = """import sys; sys.path.insert(0, {here!r})
from h5press.api import processes
processes.serve("bench_wrk:minimal", host="127.0.0.1", port={port}, workers={workers}, log_level="info",
                proxy_headers=False)"""


def token(sub: str, iat: int) -> str:
    return sign({"iss": "h5press", "sub": sub, "iat": iat, "exp": iat + 86400 * 30}, SECRET.encode())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(command: list[str], port: int) -> Iterator[str]:
    """A server process on `port` until the block ends; yields its URL once it answers."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[:4]} did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(30)


LUA = """
local tokens = {TOKENS}
local types = {TYPES}
local per_request = {PER_REQUEST}
local n = 0
local tid = 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function request()
  n = n + 1
  local events = {{}}
  for i = 1, per_request do
    local id = "{PREFIX}" .. string.format("%02d%014d", tid, n * per_request + i)
    local kind = types[(n + i) % #types + 1]
    events[i] = '{{"id":"' .. id .. '","v":1,"campaign":"c",' .. kind .. '}}'
  end
  local body = '{{"events":[' .. table.concat(events, ",") .. ']}}'
  local auth = "Bearer " .. tokens[(n * 7919 + tid * 104729) % #tokens + 1]
  return wrk.format("{METHOD}", "{PATH}", {{["Authorization"] = auth, ["Content-Type"] = "application/json"}}, body)
end
"""


def lua(tokens: list[str], per_request: int, method: str = "POST", path: str = PATH) -> str:
    types = ['"type":"points","payload":{"action":"share"}', '"type":"view","payload":{"page":"index.html"}',
             '"type":"points","payload":{"action":"read"}']
    prefix = "".join(random.choice(CROCKFORD) for _ in range(10))
    return LUA.format(TOKENS="{" + ",".join(json.dumps(t) for t in tokens) + "}",
                      TYPES="{" + ",".join(json.dumps(t) for t in types) + "}", PER_REQUEST=per_request, PREFIX=prefix,
                      METHOD=method, PATH=path)


def wrk(url: str, script: str, seconds: float, connections: int) -> dict[str, float]:
    """One wrk run: requests/s, latency percentiles (ms) and non-2xx answers."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", f.name]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    found = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(\w+)", out).groups()  # type: ignore[union-attr]
        found[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    found["errors"] = float(errors.group(1)) if errors else 0.0
    return found


def seed_history(url: str, identity: str, events: int, iat_ms: int) -> None:
    """`events` stored events of one person (counted `share` points and views), with their tallies and totals."""
    engine = db.make_engine(url)
    now = int(time.time() * 1000)
    day = time.strftime("%Y-%m-%d", time.localtime(now / 1000))
    rows = [{"event_id": f"0SEED{identity[-6:].upper().replace('I', '1').replace('L', '1').replace('O', '0')}"
                         f"{i:015d}", "campaign": "c", "identity": identity, "type": "points" if i % 2 else "view",
             "component": None, "payload": "{}", "client_ms": now, "at_ms": now - i, "received_ms": now, "day": day,
             "action": "share" if i % 2 else None, "points": 1 if i % 2 else 0, "status": "counted" if i % 2 else "recorded"}
            for i in range(events)]
    with engine.begin() as conn:
        conn.execute(db.members.insert().values(campaign="c", identity=identity, earned=events // 2, spent=0,
                                                reached_ms=now, created_ms=iat_ms))
        for start in range(0, len(rows), 5000):
            conn.execute(db.events.insert(), rows[start:start + 5000])
        conn.execute(db.tallies.insert().values(campaign="c", identity=identity, action="share", day=day, count=events // 2))
    engine.dispose()


def run_server(database: str, url_db: str, args: argparse.Namespace, floor: str, root: Path) -> list[str]:
    """The h5press figures on one database, as lines of the report."""
    engine = db.make_engine(url_db)
    migrate(engine)
    engine.dispose()
    now = int(time.time())
    crowd = [token(f"crowd-{i}", now) for i in range(2000)]
    few, many = f"history-{random.randrange(10**6):06d}a", f"history-{random.randrange(10**6):06d}b"
    seed_history(url_db, "h5press:" + few, 20, now * 1000)
    seed_history(url_db, "h5press:" + many, 30_000, now * 1000)
    port = free_port()
    command = [sys.executable, "-m", "h5press", "api", "-p", str(root), "--db", url_db, "--port", str(port),
               "--workers", str(args.workers), "--secret", SECRET, "--ip-rate", "0", "--session-rate", "0",
               "--identity-rate", str(args.identity_rate)]
    lines = []
    with serving(command, port) as url:
        for label, per in (("1 event/POST", 1), ("50 events/POST", 50)):
            base = wrk(floor + PATH, lua(crowd[:1], 1), args.seconds, args.connections)  # right before: the same load
            r = wrk(url + PATH, lua(crowd, per), args.seconds, args.connections)
            lines.append(f"{database:<11} {label:<16} {r['rps']:>8.0f} {r['rps'] * per:>9.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                         f"{100 * r['rps'] / base['rps']:>6.1f}% {r['errors']:>6.0f} {base['rps']:>8.0f}")
        for name, sub in (("20 stored", few), ("30000 stored", many)):
            one = [token(sub, now)]
            post = wrk(url + PATH, lua(one, 1), args.seconds / 2, 1)
            me = wrk(url + "/api/v1/campaigns/c/me", lua(one, 1, "GET", "/api/v1/campaigns/c/me"), args.seconds / 2, 1)
            lines.append(f"{database:<11} one person, {name:<13} POST p50 {post['p50']:.1f} ms p99 {post['p99']:.1f} ms, "
                         f"GET /me p50 {me['p50']:.1f} ms p99 {me['p99']:.1f} ms, errors {post['errors'] + me['errors']:.0f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--identity-rate", type=float, default=1000, help="the server's per-identity limit; 0: off")
    args = parser.parse_args()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="h5press-wrk-")))
        root = make_site(tmp / "site")
        port = free_port()
        minimal_cmd = [sys.executable, "-c", MINIMAL_SERVER.format(here=str(Path(__file__).parent), port=port,
                                                                  workers=args.workers)]
        floor = stack.enter_context(serving(minimal_cmd, port))
        print(f"wrk, {args.connections} connections, {args.seconds:g} s per run, {args.workers} uvicorn worker(s) each; "
              "'of min': share of the minimal endpoint's requests/s measured just before ('min req/s')")
        print(f"{'database':<11} {'request':<16} {'req/s':>8} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'of min':>7} "
              f"{'errors':>6} {'min req/s':>9}")
        for database in args.db.split(","):
            if database == "sqlite":
                url_db = f"sqlite:///{tmp / 'api.sqlite3'}"
            else:
                server = os.environ.get("H5PRESS_TEST_POSTGRES") or stack.enter_context(temporary_postgres())
                if server is None:
                    print("postgresql: no server installed, skipped")
                    continue
                from sqlalchemy import create_engine, text
                admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text('CREATE DATABASE "h5press_wrk"'))
                admin.dispose()
                url_db = f"{server}/h5press_wrk"
            for line in run_server(database, url_db, args, floor, root):
                print(line, flush=True)


if __name__ == "__main__":
    main()
