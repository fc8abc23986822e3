"""The request path's writes: group commit on SQLite (jobs kept apart by savepoints), a transaction per
job on PostgreSQL, and SQLite writers of several processes queueing on the file's write lock."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from h5press.api import db
from h5press.api.migrations import migrate
from h5press.api.writer import Writer


def _keep(key: str, fail: bool = False, wait: threading.Event | None = None):  # type: ignore[no-untyped-def]
    """A job writing one `limits` row; it may wait for an event first, or fail after writing."""
    def job(conn: Connection) -> tuple[str, bool]:
        if wait is not None:
            wait.wait(10)
        conn.execute(db.limits.insert().values(key=key, tat_ms=1))
        if fail:
            raise ValueError(f"job {key} fails")
        return key, conn.in_nested_transaction()
    return job


def test_a_failing_job_leaves_no_trace_and_the_others_commit(db_url: str) -> None:
    engine = db.make_engine(db_url)
    migrate(engine)
    writer = Writer(engine)
    first_runs = threading.Event()

    async def submit() -> list[object]:
        jobs = [writer.run(_keep("k0", wait=first_runs))]  # holds the writer while the others queue up
        jobs += [writer.run(_keep(f"k{i}", fail=i == 7)) for i in range(1, 20)]
        gathered = asyncio.gather(*jobs, return_exceptions=True)
        await asyncio.sleep(0.2)
        first_runs.set()
        return await gathered

    try:  # in a thread of its own: an event loop of an earlier test may still run in this one
        with ThreadPoolExecutor(1) as pool:
            results = pool.submit(asyncio.run, submit()).result()
    finally:
        writer.close()
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and str(failed[0]) == "job k7 fails"
    with engine.connect() as conn:
        stored = set(conn.execute(select(db.limits.c.key)).scalars())
    assert stored == {f"k{i}" for i in range(20)} - {"k7"}
    grouped = [r[1] for r in results if isinstance(r, tuple)]
    if engine.dialect.name == "sqlite":  # those queued while k0 held the writer shared a transaction, in savepoints
        assert grouped.count(True) >= 18, grouped
    else:  # PostgreSQL: a transaction per job
        assert not any(grouped)
    engine.dispose()


WRITER_PROCESS = """
import sys, time
from h5press.api import db
engine = db.make_engine(sys.argv[1], busy_timeout_ms=0)  # SQLite's busy handler never waits
for i in range(300):
    with db.transaction(engine) as conn:
        conn.execute(db.limits.insert().values(key=f"{sys.argv[2]}-{i}", tat_ms=i))
        time.sleep(0.0005)  # hold the lock a moment, so that the processes collide
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the write lock between processes is an flock (POSIX)")
def test_processes_queue_for_the_sqlite_write_lock(tmp_path: Path) -> None:
    """Without the file lock, two processes writing with no busy timeout fail at once with "database is locked"."""
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    engine = db.make_engine(url)
    migrate(engine)
    started = time.monotonic()
    runs = [subprocess.Popen([sys.executable, "-c", WRITER_PROCESS, url, name], stderr=subprocess.PIPE, text=True)
            for name in ("a", "b")]
    errors = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    with engine.connect() as conn:
        assert len(conn.execute(select(db.limits.c.key)).all()) == 600
    assert time.monotonic() - started < 60
    engine.dispose()
