"""The request path's writes: one writer thread per process; group commit on SQLite (jobs kept apart by
savepoints once one fails), a transaction per job on PostgreSQL, and SQLite writers of several processes
queueing on the file's write lock."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from h5press.api import db
from h5press.api.migrations import migrate
from h5press.api.writer import Writer

T = TypeVar("T")


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
    else:  # PostgreSQL: a transaction per job, one after the other
        assert not any(grouped)
    engine.dispose()


def test_sqlite_groups_use_savepoints_only_once_a_job_has_failed(tmp_path: Path) -> None:
    """A group whose jobs all succeed commits without savepoints; a group with a failing job is rolled back and
    runs again, each job in a savepoint: the others' writes are kept once, the failing one's not at all."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    migrate(engine)
    writer = Writer(engine)
    runs: list[str] = []

    def counted(key: str, fail: bool = False, wait: threading.Event | None = None):  # type: ignore[no-untyped-def]
        job = _keep(key, fail, wait)

        def run(conn: Connection) -> tuple[str, bool]:
            runs.append(key)
            return job(conn)
        return run

    async def group(prefix: str, failing: int | None) -> list[object]:
        """Job 0 holds the writer until jobs 1-9 have queued behind it: they make one group."""
        held = threading.Event()
        first = asyncio.ensure_future(writer.run(counted(f"{prefix}0", wait=held)))
        while f"{prefix}0" not in runs:
            await asyncio.sleep(0.01)
        jobs = [writer.run(counted(f"{prefix}{i}", fail=i == failing)) for i in range(1, 10)]
        gathered = asyncio.gather(first, *jobs, return_exceptions=True)
        await asyncio.sleep(0.2)
        held.set()
        return await gathered

    try:
        with ThreadPoolExecutor(1) as pool:
            clean = pool.submit(asyncio.run, group("a", None)).result()
            assert clean == [(f"a{i}", False) for i in range(10)] and sorted(runs) == [f"a{i}" for i in range(10)]
            runs.clear()
            mixed = pool.submit(asyncio.run, group("b", 4)).result()
    finally:
        writer.close()
    assert isinstance(mixed[4], ValueError)
    assert [r for i, r in enumerate(mixed) if i != 4] == [("b0", False)] + [(f"b{i}", True) for i in range(1, 10) if i != 4]
    # b0 ran alone; b1-b4 ran until b4 failed, then the group again in savepoints
    assert [runs.count(f"b{i}") for i in range(10)] == [1, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    with engine.connect() as conn:
        stored = sorted(conn.execute(select(db.limits.c.key)).scalars())
    assert stored == sorted([f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10) if i != 4])
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


def _awaited(awaitable: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on an event loop of its own thread: an earlier test's loop may still run in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, awaitable).result()


def _end_other_sessions(url: str) -> int:
    """Terminate every other connection to the database of `url`, as a restart of the server would; their number."""
    admin = create_engine(url, poolclass=NullPool)
    with admin.connect() as conn:
        ended = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    admin.dispose()
    time.sleep(0.3)  # the FATAL message reaches the clients' sockets
    return int(ended)


def test_postgres_connections_the_server_ended_are_replaced_before_use(pg_database: str) -> None:
    """Without a ping per checkout, a pooled connection the server ended is still never used: reads and writes
    after the ending succeed on new connections."""
    engine = db.make_engine(pg_database)
    migrate(engine)
    writer = Writer(engine)
    with ThreadPoolExecutor(4) as pool:  # several pooled connections
        list(pool.map(lambda _: writer._alone(lambda conn: conn.execute(text("SELECT pg_sleep(0.05)"))), range(4)))
    assert engine.pool.checkedin() >= 2  # type: ignore[attr-defined]
    assert _end_other_sessions(pg_database) >= 2
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        key = f"alive-{time.time_ns()}"
        assert _awaited(writer.run(_keep(key))) == (key, False)
    finally:
        writer.close()
        engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="descriptor numbers above 1024 are a POSIX select limit")
def test_postgres_connections_with_high_descriptor_numbers_are_checked(pg_database: str) -> None:
    """A server holding many client sockets opens its database connections on descriptors above 1024, which
    `select` refuses: the check before use still works there, and still finds a connection the server ended."""
    import resource  # POSIX only

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard) < 1300:
        pytest.skip("fewer than 1300 file descriptors allowed")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1300), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    engine = db.make_engine(pg_database)
    try:
        with engine.connect() as conn:
            assert conn.connection.dbapi_connection.pgconn.socket > 1024  # type: ignore[union-attr]
        with engine.connect() as conn:  # checked out again: the check runs on that descriptor
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        assert _end_other_sessions(pg_database) >= 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 2")).scalar_one() == 2
    finally:
        engine.dispose()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_postgres_write_whose_connection_dies_runs_again(pg_database: str) -> None:
    """A connection that dies while in use fails its statement: the write runs once more on a new connection,
    and only that run's writes are kept."""
    engine = db.make_engine(pg_database)
    migrate(engine)
    writer = Writer(engine)
    runs: list[int] = []
    key = f"retried-{time.time_ns()}"

    def job(conn: Connection) -> int:
        runs.append(len(runs))
        conn.execute(db.limits.insert().values(key=key, tat_ms=len(runs)))
        if len(runs) == 1:
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return len(runs)

    try:
        assert _awaited(writer.run(job)) == 2
        with engine.connect() as conn:
            assert conn.execute(select(db.limits.c.tat_ms).where(db.limits.c.key == key)).scalars().all() == [2]
    finally:
        writer.close()
        engine.dispose()


def test_a_failing_write_is_not_run_again(db_url: str) -> None:
    """Only a lost connection repeats a write: an error of the statement itself reaches the caller at once."""
    engine = db.make_engine(db_url)
    migrate(engine)
    writer = Writer(engine)
    runs: list[int] = []

    def job(conn: Connection) -> None:
        runs.append(1)
        conn.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(DBAPIError):
            _awaited(writer.run(job))
        assert runs == [1]
    finally:
        writer.close()
        engine.dispose()
