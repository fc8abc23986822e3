"""`h5press report` over a million exported events, against the plain loop it must beat twice over.

  python benchmarks/bench_report.py [--events 1000000] [--seed 1] [--runs 1] [--db] [--postgres]

Generates seeded, realistic events (tests/report_events.py: visitors, sessions, views with dwell chains,
component starts and completions, shares and the visitors they bring by `ref=`, two experiments),
writes them as the NDJSON export, then times in the same run: a plain Python loop that reads the file
line by line with json.loads and counts visitors; the full report from the file (load, figures,
bootstrap intervals, report.json, index.html, CSV files). With --db the events are also stored in a
SQLite `analytics` table, with --postgres in a PostgreSQL one ($H5PRESS_TEST_POSTGRES or a temporary
cluster), and the report is timed from each database too; their figures must equal the file's.
Each of --runs rounds times every candidate once, in turn; the medians and their ratios to the
loop's median are printed (target ≤ 0.5; each round's ratios too, as the machine's load drifts), a
database's also to the export's median, with the load average before and after.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import report_events  # noqa: E402

from h5press.report.command import ReportOptions, run  # noqa: E402

LOOP = "plain loop (json.loads, count visitors)"


def plain_loop(path: Path) -> int:
    """The baseline: read every line, parse it, count distinct visitors."""
    visitors = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            visitors.add(json.loads(line)["visitor"])
    return len(visitors)


def timed(what: str, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time; the process's CPU time (all its threads, not a database server's) is printed beside it,
    as it varies far less than the wall time with the load of other jobs."""
    started, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{what}: {seconds:.2f} s (CPU {time.process_time() - cpu:.2f} s)", flush=True)
    return seconds, result


def rows(path: Path) -> Any:
    """The export's events as rows of the API's analytics table."""
    from h5press.report.events import parse_at

    with path.open(encoding="utf-8") as lines:
        for line in lines:
            e = json.loads(line)
            yield {"campaign": e["campaign"], "event_id": e["id"], "type": e["type"], "component": e["component"],
                   "payload": json.dumps(e["payload"]), "at_ms": parse_at(e["at"]), "received_ms": parse_at(e["at"]),
                   "visitor": e["visitor"], "session": e["session"], "page": e["page"], "variants": json.dumps(e["variants"])}


def store(path: Path, url: str) -> None:
    """The export into the API's analytics table (SQLite: in bulk through SQLAlchemy; PostgreSQL: COPY)."""
    from h5press.api import db
    from h5press.api.migrations import migrate

    engine = db.make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        if db.is_postgres(conn):
            columns = ["campaign", "event_id", "type", "component", "payload", "at_ms", "received_ms", "visitor", "session",
                       "page", "variants"]
            raw: Any = conn.connection.driver_connection
            with raw.cursor().copy(f"COPY analytics ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows(path):
                    copy.write_row([row[c] for c in columns])
        else:
            batch = []
            for row in rows(path):
                batch.append(row)
                if len(batch) == 50_000:
                    conn.execute(db.analytics.insert(), batch)
                    batch = []
            if batch:
                conn.execute(db.analytics.insert(), batch)
    engine.dispose()


def postgres_database(stack: contextlib.ExitStack) -> str:
    """A fresh database on $H5PRESS_TEST_POSTGRES or on a temporary cluster."""
    from api_support import temporary_postgres
    from sqlalchemy import create_engine, text

    server = os.environ.get("H5PRESS_TEST_POSTGRES") or stack.enter_context(temporary_postgres())
    if server is None:
        raise SystemExit("--postgres: no PostgreSQL server installed")
    admin = create_engine(f"{server.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "h5press_bench_report"'))
        conn.execute(text('CREATE DATABASE "h5press_bench_report"'))
    admin.dispose()
    return f"{server.rstrip('/')}/h5press_bench_report"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="rounds of timing (medians are printed)")
    parser.add_argument("--db", action="store_true", help="also time the report from a SQLite database")
    parser.add_argument("--postgres", action="store_true", help="also time the report from a PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        path = Path(tmp) / "events.ndjson"
        count = report_events.write(path, args.events, args.seed)
        print(f"{count} events, {path.stat().st_size / 1e6:.0f} MB")
        sources = {"h5press report --events": ReportOptions(events_file=str(path), out=Path(tmp) / "file")}
        if args.db:
            url = f"sqlite:///{tmp}/api.sqlite3"
            timed("storing them in SQLite (not timed against the loop)", lambda: store(path, url))
            sources["h5press report --db (SQLite)"] = ReportOptions(db=url, out=Path(tmp) / "sqlite")
        if args.postgres:
            pg = postgres_database(stack)
            timed("storing them in PostgreSQL (not timed against the loop)", lambda: store(path, pg))
            sources["h5press report --db (PostgreSQL)"] = ReportOptions(db=pg, out=Path(tmp) / "postgres")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        times: dict[str, list[float]] = {LOOP: [], **{name: [] for name in sources}}
        for _ in range(args.runs):
            seconds, visitors = timed(LOOP, lambda: plain_loop(path))
            times[LOOP].append(seconds)
            figures = []
            for name, options in sources.items():
                seconds, report = timed(name, lambda options=options: run(options))  # type: ignore[misc]
                times[name].append(seconds)
                assert report is not None and report["campaigns"]["green"]["visitors"] == visitors
                figures.append(report["campaigns"])
            assert all(f == figures[0] for f in figures), "the databases' figures differ from the file's"
            print("  this round's ratios to the loop: " + ", ".join(
                f"{name.removeprefix('h5press report ')} {measured[-1] / times[LOOP][-1]:.2f}" for name, measured in times.items()
                if name != LOOP), flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        loop = statistics.median(times.pop(LOOP))
        export = statistics.median(next(iter(times.values())))
        print(f"medians of {args.runs} run(s); {visitors} visitors, the same figures from every source")
        print(f"  {LOOP}: {loop:.2f} s")
        for name, measured in times.items():
            median = statistics.median(measured)
            versus = f", {median / export:.2f} × the export's" if "--db" in name else ""
            print(f"  {name}: {median:.2f} s, ratio to the loop {median / loop:.2f} (target ≤ 0.50){versus}")


if __name__ == "__main__":
    main()
