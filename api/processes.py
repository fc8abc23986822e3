"""The worker processes of `h5press api --workers N`, each listening on a socket of its own.

uvicorn's own multi-process mode hands every worker the same listening socket, and a worker that wakes
accepts every connection pending. A burst of keep-alive connections (a load balancer opening its pool,
the first second after a push message) then often lands on one worker while the others idle: 32
connections opened at once went 32 to 0 in two of five tries, halving what the server answers. Here
each worker has its own socket on the same port (`SO_REUSEPORT`), and the kernel spreads connections
over them by their addresses' hash.

The parent keeps every socket open and only watches: a worker that dies is started again on the same
socket, so the connections queued on it are served, and the port stays taken while the server runs.
"""
from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

import uvicorn

log = logging.getLogger("h5press.api")
BACKLOG = 2048  # as uvicorn's default
STARTUP_S = 10.0  # a worker exiting with an error sooner after its start failed to start: it would again
RESTART_PAUSE_S = 1.0  # before starting again a worker that ended right after its start: no tight loop


def serve(app: str, *, host: str, port: int, workers: int, **config: Any) -> None:
    """Run `workers` processes of uvicorn serving `app` ("module:attribute"; `config` as `uvicorn.Config`'s)
    until SIGINT or SIGTERM, which each worker answers with uvicorn's graceful shutdown. Raises `OSError` when
    the address cannot be bound, and `WorkerFailed` when a first worker exits with an error right after its
    start (it would again). Whatever was bound or started is closed and stopped, whenever it ends."""
    stopping: list[int] = []
    previous = {sig: signal.signal(sig, lambda number, _frame: stopping.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    sockets: list[socket.socket] = []
    running: list[_Worker] = []
    try:
        sockets = bind(host, port, workers)
        for sock in sockets:
            if not stopping:
                running.append(_Worker(app, sock, config))
        while not stopping:
            time.sleep(0.2)
            for worker in running:
                if not worker.process.is_alive() and not stopping:
                    worker.restart()
    finally:
        _stop([worker.process for worker in running], float(config.get("timeout_graceful_shutdown") or 0) + 5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sock in sockets:
            sock.close()


class WorkerFailed(RuntimeError):
    """One of the first workers failed within `STARTUP_S` of its start (exited with an error, rather than being
    killed): the app cannot start, and would not on a restart either."""


class _Worker:
    """One worker process on its socket, started again on the same socket when it ends."""

    def __init__(self, app: str, sock: socket.socket, config: dict[str, Any]) -> None:
        self.args = (app, sock, config)
        self.first = True
        self.process = self._start()

    def _start(self) -> multiprocessing.process.BaseProcess:
        process = multiprocessing.get_context("spawn").Process(target=_worker, args=self.args, name="h5press-api-worker")
        process.start()
        self.started = time.monotonic()
        return process

    def restart(self) -> None:
        """A first worker's error at start ends the server; any other ending starts another (after a pause, when
        it had only just started: a worker killed as it starts, or failing while the database is away)."""
        pid, code = self.process.pid, self.process.exitcode
        soon = time.monotonic() - self.started < STARTUP_S
        if self.first and soon and code is not None and code > 0:
            raise WorkerFailed(f"worker {pid} ended with exit code {code} within {STARTUP_S:g} s of its start")
        log.warning("worker %s ended with exit code %s; starting another on its socket", pid, code)
        if soon:
            time.sleep(RESTART_PAUSE_S)
        self.first = False
        self.process = self._start()


def bind(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address. A port another server holds is refused here, with the usual
    "Address already in use", even when that server's sockets allow sharing (an `h5press api` still running):
    a plain socket is bound first, alone."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]  # port 0: the one the system chose, for every worker
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP by name: asyncio turns Nagle off only then
            sockets.append(sock)  # closed with the others should a later step fail
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(BACKLOG)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _worker(app: str, sock: socket.socket, config: dict[str, Any]) -> None:
    """One worker process: uvicorn on the socket it was handed. Ctrl-C reaches the whole process group; the
    parent's SIGTERM reaches each worker on its own: both end in uvicorn's graceful shutdown."""
    uvicorn.Server(uvicorn.Config(app, **config)).run(sockets=[sock])


def _stop(running: list[multiprocessing.process.BaseProcess], grace_s: float) -> None:
    """SIGTERM to every worker; those still running after `grace_s` are killed."""
    for process in running:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in running:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
