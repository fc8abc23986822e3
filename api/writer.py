"""How the request path writes: a route hands the writer a job (a function of a connection), the job
runs in a write transaction off the event loop, and the route awaits its result once it is committed.
One thread of each process runs the jobs, in the order they came.

SQLite has one writer at a time, so a process gains nothing from several threads taking turns on the
write lock: each turn costs a lock hand-over, a `BEGIN IMMEDIATE` and a commit, and the threads fight
over the GIL while the lock is held. There the thread takes every job waiting and runs them in one
transaction (group commit); should one of them fail, the transaction is rolled back and the group
runs again with each job in a savepoint, so a job that fails leaves no trace and does not fail the
others (a job may thus run twice: it must depend on nothing but the connection). The other processes
of the same file queue on `db.WriteLock`.

On PostgreSQL each job is its own transaction. A pool of sixteen threads, a transaction each, cost
more than the writes (the GIL handed around between them: 3.1 ms of CPU per single-event request in
two processes, against 2.3–2.8 ms on one thread). Groups there were faster still (1.8–2.0 ms), but
a group holds the row locks of all its jobs until it commits, and two processes' groups can then
wait on each other in a circle (members of two teams, each group updating the teams' totals in the
opposite order): PostgreSQL breaks that only after `deadlock_timeout`, a second.
"""
from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import db

T = TypeVar("T")
Job = tuple[Callable[[Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
GROUP_MAX = 64  # SQLite's jobs in one transaction at most: the first job's answer waits for the whole group


class Writer:
    """Runs write jobs for the routes; `await writer.run(job)` is the job's result (or raises its error)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group_max = GROUP_MAX if engine.dialect.name == "sqlite" else 1  # PostgreSQL: a transaction per job
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, job: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put((job, done, loop))
        return await done

    def close(self) -> None:
        """Let the writer thread finish the jobs already queued, then end."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(30)
            self._thread = None

    def _alone(self, job: Callable[[Connection], T]) -> T:
        try:
            return self._once(job)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # Its connection had died (the database restarted) and nothing was committed: once more, on a new one. Had
        # the commit itself arrived, the events are stored and the run again finds them (replays count once).
        return self._once(job)

    def _once(self, job: Callable[[Connection], T]) -> T:
        with db.transaction(self.engine) as conn:
            return job(conn)

    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="h5press-writer", daemon=True)
                self._thread.start()

    def _serve(self) -> None:
        while (first := self._jobs.get()) is not None:
            jobs = [first]
            while len(jobs) < self._group_max:
                try:
                    following = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._jobs.put(None)  # finish this group, then stop
                    break
                jobs.append(following)
            for (_, done, loop), outcome in zip(jobs, self._commit([job for job, _, _ in jobs]), strict=True):
                try:
                    loop.call_soon_threadsafe(_settle, done, outcome)
                except RuntimeError:  # its event loop has closed: nobody waits for this answer any more
                    pass

    def _commit(self, jobs: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        """Each job's (ok, result or exception), once the group's transaction has ended. The jobs run one after the
        other without savepoints (a savepoint and its release cost a fifth of the writer's time); when one fails,
        that transaction is rolled back and the group runs again, each job in a savepoint."""
        try:
            if len(jobs) == 1:  # nothing to keep apart
                return [(True, self._alone(jobs[0]))]
            try:
                with db.transaction(self.engine) as conn:
                    return [(True, job(conn)) for job in jobs]
            except Exception:  # a job failed (or the commit did): nothing was kept
                with db.transaction(self.engine) as conn:
                    return [_in_savepoint(conn, job) for job in jobs]
        except Exception as exc:  # the job alone failed, or the group's commit did: nothing was kept
            return [(False, exc)] * len(jobs)


def _in_savepoint(conn: Connection, job: Callable[[Connection], Any]) -> tuple[bool, Any]:
    savepoint = conn.begin_nested()
    try:
        result = job(conn)
    except Exception as exc:
        savepoint.rollback()
        return False, exc
    savepoint.commit()
    return True, result


def _settle(done: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if done.cancelled():  # the client went away; the job's writes stand, as they would have anyway
        return
    ok, value = outcome
    if ok:
        done.set_result(value)
    else:
        done.set_exception(value)
