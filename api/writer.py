"""How the request path writes: a route hands the writer a job (a function of a connection), the job
runs in a write transaction off the event loop, and the route awaits its result once it is committed.

One thread of the process takes every job waiting and runs them in one transaction (group commit);
should one of them fail, the transaction is rolled back and the group runs again with each job in a
savepoint, so a job that fails leaves no trace and does not fail the others (a job may thus run twice:
it must depend on nothing but the connection).

SQLite has one writer at a time, so a process gains nothing from several threads taking turns on the
write lock: each turn costs a lock hand-over, a `BEGIN IMMEDIATE` and a commit, and the threads fight
over the GIL while the lock is held. The other processes of the same file queue on `db.WriteLock`.

PostgreSQL serves many writers at once, but a transaction per request in a pool of threads cost the
process more than the writes: two more round trips per request, and sixteen threads handing the GIL
around (5.6 ms of CPU per single-event request in one process, against 2.9 ms grouped). Groups are
smaller there (each job waits on round trips), and a group takes its row locks in the order of the
jobs' keys (the person), so that two processes' groups never wait on each other in a circle.
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
Job = tuple[str, Callable[[Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]
# Jobs in one transaction at most, per kind of database: the first job's answer waits for the whole group.
GROUP_MAX = {"sqlite": 64}
GROUP_MAX_OTHER = 16


class Writer:
    """Runs write jobs for the routes; `await writer.run(job)` is the job's result (or raises its error)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group_max = GROUP_MAX.get(engine.dialect.name, GROUP_MAX_OTHER)
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    async def run(self, job: Callable[[Connection], T], key: str = "") -> T:
        """`job`'s result once committed; `key` orders it in its group (the rows it locks first: the person's)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._jobs.put((key, job, done, loop))
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
            jobs.sort(key=lambda queued: queued[0])  # row locks in one order in every process
            for (_, _, done, loop), outcome in zip(jobs, self._commit([job for _, job, _, _ in jobs]), strict=True):
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
