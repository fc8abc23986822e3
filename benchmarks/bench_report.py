"""`h5press report` over a million exported events, against the plain loop it must beat twice over.

  python benchmarks/bench_report.py [--events 1000000] [--seed 1] [--db]

Generates seeded, realistic events (tests/report_events.py: visitors, sessions, views with dwell chains,
component starts and completions, shares and the visitors they bring by `ref=`, two experiments),
writes them as the NDJSON export, then times in the same run: a plain Python loop that reads the file
line by line with json.loads and counts visitors; the full report from the file (load, figures,
bootstrap intervals, report.json, index.html, CSV files). Prints both and their ratio (target ≤ 0.5).
With --db it also loads the events into a SQLite database and times the report from it (per event).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import report_events  # noqa: E402

from h5press.report.command import ReportOptions, run  # noqa: E402


def plain_loop(path: Path) -> int:
    """The baseline: read every line, parse it, count distinct visitors."""
    visitors = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            visitors.add(json.loads(line)["visitor"])
    return len(visitors)


def timed(what: str, fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    print(f"{what}: {seconds:.2f} s", flush=True)
    return seconds, result


def to_sqlite(path: Path, url: str) -> None:
    """The export into the API's analytics table (straight through SQLAlchemy, in bulk)."""
    from h5press.api import db
    from h5press.api.migrations import migrate
    from h5press.report.events import parse_at

    engine = db.make_engine(url)
    migrate(engine)
    with path.open(encoding="utf-8") as lines, engine.begin() as conn:
        rows = []
        for line in lines:
            e = json.loads(line)
            rows.append({"campaign": e["campaign"], "event_id": e["id"], "type": e["type"], "component": e["component"],
                         "payload": json.dumps(e["payload"]), "at_ms": parse_at(e["at"]), "received_ms": parse_at(e["at"]),
                         "visitor": e["visitor"], "session": e["session"], "page": e["page"],
                         "variants": json.dumps(e["variants"])})
            if len(rows) == 50_000:
                conn.execute(db.analytics.insert(), rows)
                rows = []
        if rows:
            conn.execute(db.analytics.insert(), rows)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", action="store_true", help="also time the report from a SQLite database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.ndjson"
        count = report_events.write(path, args.events, args.seed)
        print(f"{count} events, {path.stat().st_size / 1e6:.0f} MB")
        loop, visitors = timed("plain loop (json.loads, count visitors)", lambda: plain_loop(path))
        spent, report = timed("h5press report --events", lambda: run(ReportOptions(events_file=str(path), out=Path(tmp) / "r")))
        assert report is not None and report["campaigns"]["green"]["visitors"] == visitors
        print(f"ratio report / plain loop: {spent / loop:.2f} (target ≤ 0.50); {visitors} visitors")
        if args.db:
            url = f"sqlite:///{tmp}/api.sqlite3"
            timed("loading the SQLite database (not timed against the loop)", lambda: to_sqlite(path, url))
            from_db, _ = timed("h5press report --db", lambda: run(ReportOptions(db=url, out=Path(tmp) / "d")))
            print(f"ratio report from SQLite / plain loop: {from_db / loop:.2f}")


if __name__ == "__main__":
    main()
