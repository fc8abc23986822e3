"""What a PostgreSQL primary sustains of `h5press api`'s write path, without the Python processes: pgbench
(a native client) runs the statements of one event batch per transaction, as the server sends them.

  python benchmarks/bench_pg_primary.py [--seconds 10] [--clients 16] [--batch 1,50] [--people 100000]

Uses $H5PRESS_TEST_POSTGRES or a temporary cluster (as the tests: `fsync=off`, `synchronous_commit=off`;
a production primary with durable commits is slower per transaction, see the figures' notes). Each
transaction: the shared rate-limit upsert (its own transaction, as in the server), then lock-and-create
the person's row, read their tallies, check-ins and badges, insert the batch's events, add to their
totals, week score, tallies, and append to the change log. Prints transactions/s and events/s.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from api_support import temporary_postgres  # noqa: E402

from h5press.api import db  # noqa: E402
from h5press.api.migrations import migrate  # noqa: E402

SCRIPT = """\\set p random(1, {people})
\\set e random(1, 900000000000)
INSERT INTO limits (key, tat_ms) VALUES ('identity:h5press:p' || :p, 1) ON CONFLICT (key) DO UPDATE
  SET tat_ms = GREATEST(limits.tat_ms, 2) + 100 WHERE GREATEST(limits.tat_ms, 2) + 100 - 2 <= 5000 RETURNING tat_ms;
BEGIN;
INSERT INTO members (campaign, identity, earned, spent, created_ms) VALUES ('c', 'h5press:p' || :p, 0, 0, 1)
  ON CONFLICT (campaign, identity) DO UPDATE SET campaign = excluded.campaign RETURNING *;
SELECT 'tally', action, day, count FROM tallies WHERE campaign = 'c' AND identity = 'h5press:p' || :p
  UNION ALL SELECT 'checkin', day, '', 0 FROM checkins WHERE campaign = 'c' AND identity = 'h5press:p' || :p
  UNION ALL SELECT 'badge', badge, '', at_ms FROM badges WHERE campaign = 'c' AND identity = 'h5press:p' || :p;
INSERT INTO events (event_id, campaign, identity, type, component, payload, client_ms, at_ms, received_ms, day, action,
                    points, status)
  SELECT lpad(:e::text, 13, '0') || lpad(i::text, 13, '0'), 'c', 'h5press:p' || :p, 'points', NULL,
         '{{"action":"share"}}', 1, 1, 1, '2026-12-06', 'share', 1, 'counted' FROM generate_series(1, {batch}) AS i
  ON CONFLICT (event_id) DO NOTHING RETURNING event_id;
UPDATE members SET earned = earned + {batch}, reached_ms = 2 WHERE campaign = 'c' AND identity = 'h5press:p' || :p;
INSERT INTO scores (campaign, kind, period, subject, points, reached_ms) VALUES ('c', 'person', '2026-11-30',
  'h5press:p' || :p, {batch}, 2) ON CONFLICT (campaign, kind, period, subject) DO UPDATE
  SET points = scores.points + excluded.points, reached_ms = GREATEST(scores.reached_ms, excluded.reached_ms);
INSERT INTO tallies (campaign, identity, action, day, count) VALUES ('c', 'h5press:p' || :p, 'share', '2026-12-06', {batch})
  ON CONFLICT (campaign, identity, action, day) DO UPDATE SET count = tallies.count + excluded.count;
INSERT INTO changes (campaign, kind, key, at_ms) VALUES ('c', 'board', '', 2);
COMMIT;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", default="1,50")
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    with temporary_postgres() as server:
        server = os.environ.get("H5PRESS_TEST_POSTGRES") or server
        if server is None:
            raise SystemExit("no PostgreSQL server installed")
        admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "h5press_primary"'))
        admin.dispose()
        engine = db.make_engine(f"{server}/h5press_primary")
        migrate(engine)
        engine.dispose()
        url = make_url(f"{server}/h5press_primary")
        print(f"pgbench, {args.clients} clients, {args.seconds} s per run, {os.cpu_count()} cores")
        for batch in (int(b) for b in args.batch.split(",")):
            with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
                f.write(SCRIPT.format(people=args.people, batch=batch))
            run = subprocess.run(["pgbench", "-n", "-c", str(args.clients), "-j", "2", "-T", str(args.seconds),
                                  "-f", f.name, "-h", str(url.host), "-p", str(url.port), "-U", str(url.username),
                                  str(url.database)], capture_output=True, text=True)
            if run.returncode:
                raise SystemExit(run.stderr[-2000:])
            out = run.stdout
            os.unlink(f.name)
            tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
            latency = re.search(r"latency average = ([\d.]+) ms", out).group(1)  # type: ignore[union-attr]
            print(f"batch of {batch:>3}: {tps:>8.0f} transactions/s, {tps * batch:>9.0f} events/s, latency average {latency} ms")


if __name__ == "__main__":
    main()
