"""`h5press api` under load: event ingestion and leaderboard reads with 100k people, per database.

  python benchmarks/bench_api.py [--users 100000] [--seconds 10] [--clients 32] [--batch 20]
                                 [--db sqlite,postgresql] [--workers 1]

Seeds the people in bulk (straight into the database, not over HTTP), starts `h5press api` (real
uvicorn on loopback) on a SQLite file and on PostgreSQL ($H5PRESS_TEST_POSTGRES, or a temporary
cluster when PostgreSQL is installed), then drives concurrent httpx clients: first batches of
events for random people, then leaderboard reads (individual all/week, team, friends). Prints
events/s ingested and p50/p99 latencies per database. Each database takes about 2 × --seconds
plus seeding (≈10 s for 100k people).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from api_support import CAMPAIGN, make_site, temporary_postgres, ulid  # noqa: E402

from h5press.api import db  # noqa: E402
from h5press.api.db import ALL  # noqa: E402
from h5press.api.identity import sign  # noqa: E402
from h5press.api.migrations import migrate  # noqa: E402
from h5press.api.project import load_project  # noqa: E402
from h5press.api.rules import week_of  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
ACTIONS = ["read", "share", "quiz", "checkin"]
BOARDS = {"individual all": "?scope=individual&period=all", "individual week": "?scope=individual&period=week",
          "team all": "?scope=team&period=all", "friends all": "?scope=friends&period=all"}


def token(sub: str) -> str:
    now = int(time.time())
    return sign({"iss": "h5press", "sub": sub, "iat": now, "exp": now + 86400}, SECRET.encode())


def seed(url: str, users: int, week: str, rng: random.Random) -> float:
    """Members (30 % in teams of 3, a fifth with nicknames), board totals (everyone scored this week), one counted
    event each and share links (every tenth person shared a link two others opened)."""
    started = time.perf_counter()
    engine = db.make_engine(url)
    migrate(engine)
    now = int(time.time() * 1000)
    with engine.begin() as conn:
        teams = [{"id": t + 1, "campaign": "c", "code": f"B{t:07d}", "name": f"队{t}", "owner": f"h5press:u{t * 3}",
                  "created_ms": now} for t in range(int(users * 0.3) // 3)]
        for start in range(0, len(teams), 10_000):
            conn.execute(db.teams.insert(), teams[start:start + 10_000])
        if db.is_postgres(conn) and teams:
            conn.execute(text("SELECT setval('teams_id_seq', :n)"), {"n": len(teams)})
        team_totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        for start in range(0, users, 10_000):
            members, weekly, events, refs = [], [], [], []
            for i in range(start, min(users, start + 10_000)):
                identity, earned = f"h5press:u{i}", rng.randint(1, 500)
                reached = now - rng.randint(0, 30 * 86400_000)
                members.append({"campaign": "c", "identity": identity, "earned": earned, "spent": 0, "reached_ms": reached,
                                "team_id": i // 3 + 1 if i // 3 < len(teams) else None, "joined_ms": now, "created_ms": now,
                                "nickname": f"用户{i}" if i % 5 == 0 else None})
                this_week = rng.randint(1, earned)
                weekly.append({"campaign": "c", "kind": "person", "period": week, "subject": identity, "points": this_week,
                               "reached_ms": reached})
                team = members[-1]["team_id"]
                if isinstance(team, int):
                    for period, points in ((ALL, earned), (week, this_week)):
                        total = team_totals[(period, team)]
                        total[0], total[1] = total[0] + points, max(total[1], reached)
                events.append({"event_id": ulid(), "campaign": "c", "identity": identity, "type": "points", "component": None,
                               "payload": '{"action":"read"}', "client_ms": reached, "at_ms": reached, "received_ms": reached,
                               "day": "2026-01-01", "action": "read", "points": 2, "status": "counted"})
                if i % 10 == 0:
                    refs += [{"campaign": "c", "role": "share", "code": f"R{i}", "identity": identity, "at_ms": now},
                             *({"campaign": "c", "role": "view", "code": f"R{i}", "identity": f"h5press:u{rng.randrange(users)}",
                                "at_ms": now} for _ in range(2))]
            conn.execute(db.members.insert(), members)
            conn.execute(db.scores.insert(), weekly)
            conn.execute(db.events.insert(), events)
            conn.execute(db.insert(conn, db.refs).on_conflict_do_nothing(), refs)
        conn.execute(db.scores.insert(), [{"campaign": "c", "kind": "team", "period": period, "subject": str(team), "points": p,
                                           "reached_ms": r} for (period, team), (p, r) in team_totals.items()])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # as autovacuum would, later
        conn.exec_driver_sql("VACUUM ANALYZE" if db.is_postgres(conn) else "ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(project: Path, url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "h5press", "api", "-p", str(project), "--db", url, "--port", str(port), "--secret", SECRET,
               "--ip-rate", "0", "--identity-rate", "0", "--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"h5press api exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("h5press api did not start within 60 s")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(base: str, users: int, clients: int, seconds: float, batch: int, rng: random.Random) -> dict[str, object]:
    """Phase 1: batches of events for random people; phase 2: leaderboard reads. Latencies in ms."""
    tokens = {i: token(f"u{i}") for i in rng.sample(range(users), min(users, 2000))}
    people = list(tokens)
    batch_ms: list[float] = []
    reads: dict[str, list[float]] = defaultdict(list)
    counted = errors = 0

    async def ingest(http: httpx.AsyncClient, end: float) -> None:
        nonlocal counted, errors
        while time.monotonic() < end:
            who = rng.choice(people)
            events = [{"id": ulid(), "v": 1, "campaign": "c", "type": "points", "payload": {"action": rng.choice(ACTIONS)}}
                      for _ in range(batch - 1)] + [{"id": ulid(), "v": 1, "campaign": "c", "type": "view",
                                                     "payload": {"page": "index.html", "ref": f"R{rng.randrange(0, users, 10)}"}}]
            started = time.perf_counter()
            r = await http.post("/api/v1/campaigns/c/events", json={"events": events},
                                headers={"Authorization": f"Bearer {tokens[who]}"})
            batch_ms.append((time.perf_counter() - started) * 1000)
            if r.status_code == 200:
                counted += len(r.json()["acknowledged"])
            else:
                errors += 1

    async def read(http: httpx.AsyncClient, end: float) -> None:
        nonlocal errors
        kinds = list(BOARDS)
        while time.monotonic() < end:
            kind = rng.choice(kinds)
            started = time.perf_counter()
            r = await http.get("/api/v1/campaigns/c/leaderboard" + BOARDS[kind],
                               headers={"Authorization": f"Bearer {tokens[rng.choice(people)]}"})
            reads[kind].append((time.perf_counter() - started) * 1000)
            errors += r.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        started = time.monotonic()
        await asyncio.gather(*(ingest(http, started + seconds) for _ in range(clients)))
        ingest_s = time.monotonic() - started
        started = time.monotonic()
        await asyncio.gather(*(read(http, started + seconds) for _ in range(clients)))
        read_s = time.monotonic() - started
    every = [ms for values in reads.values() for ms in values]
    return {"events_per_s": counted / ingest_s, "batches": len(batch_ms), "batch_p50": percentile(batch_ms, 0.5),
            "batch_p99": percentile(batch_ms, 0.99), "reads_per_s": len(every) / read_s, "read_p50": percentile(every, 0.5),
            "read_p99": percentile(every, 0.99), "errors": errors,
            "by_board": {k: (percentile(v, 0.5), percentile(v, 0.99), len(v)) for k, v in sorted(reads.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100_000, help="people seeded (default 100000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients (default 32)")
    parser.add_argument("--batch", type=int, default=20, help="events per batch (default 20)")
    parser.add_argument("--db", default="sqlite,postgresql", help="databases to run, comma-separated")
    parser.add_argument("--workers", type=int, default=1, help="h5press api worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not (1 <= args.users <= 2_000_000 and 0 < args.seconds <= 120 and 1 <= args.clients <= 256 and 2 <= args.batch <= 1000):
        parser.error("keep --users ≤ 2000000, --seconds ≤ 120, --clients ≤ 256 and 2 ≤ --batch ≤ 1000")
    print(f"h5press api: {args.users} people, {args.clients} clients, {args.batch} events per batch, "
          f"{args.seconds:g} s per phase, {args.workers} worker(s), {os.cpu_count()} cores for server, database and clients")
    results = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        project = make_site(tmp / "site", CAMPAIGN)
        rules = load_project(project).campaigns["c"]
        for name in [d.strip() for d in args.db.split(",") if d.strip()]:
            if name == "sqlite":
                url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            elif name == "postgresql":
                server_url = os.environ.get("H5PRESS_TEST_POSTGRES") or stack.enter_context(temporary_postgres())
                if server_url is None:
                    print("postgresql: skipped (no server: set H5PRESS_TEST_POSTGRES or install PostgreSQL)")
                    continue
                database = f"h5press_bench_{uuid.uuid4().hex[:8]}"
                admin = create_engine(f"{server_url.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{database}"'))
                stack.callback(_drop, admin, database)
                url = f"{server_url.rstrip('/')}/{database}"
            else:
                parser.error(f"unknown database {name!r} (sqlite, postgresql)")
            rng = random.Random(args.seed)
            seeded = seed(url, args.users, week_of(rules.day(int(time.time() * 1000))), rng)
            server, base = start_server(project, url, args.workers)
            try:
                run = asyncio.run(drive(base, args.users, args.clients, args.seconds, args.batch, rng))
                results[name] = {"seed_s": seeded, **run}
            finally:
                server.terminate()
                server.wait(30)
    print(f"{'database':<11} {'seed s':>7} {'events/s':>9} {'batch p50':>10} {'batch p99':>10} {'reads/s':>8} {'read p50':>9} "
          f"{'read p99':>9} {'errors':>6}")
    for name, r in results.items():
        print(f"{name:<11} {r['seed_s']:>7.1f} {r['events_per_s']:>9.0f} {r['batch_p50']:>8.1f}ms {r['batch_p99']:>8.1f}ms "
              f"{r['reads_per_s']:>8.0f} {r['read_p50']:>7.1f}ms {r['read_p99']:>7.1f}ms {r['errors']:>6}")
    for name, r in results.items():
        boards = ", ".join(f"{k} {p50:.1f}/{p99:.1f}" for k, (p50, p99, _) in r["by_board"].items())  # type: ignore[attr-defined]
        print(f"{name} leaderboard p50/p99 ms: {boards}")


def _drop(admin, database: str) -> None:  # type: ignore[no-untyped-def]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
