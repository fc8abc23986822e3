"""The `h5press api` process itself, with worker processes: the kernel spreads connections over them, a
worker that dies is replaced, a second server cannot take the port, and the workers end with their
parent, even when the parent is killed with SIGKILL, so a restart can bind the port again."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_support import SECRET, _free_port, make_site

from h5press.api import processes

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")]


def start_api(root: Path, db: Path, port: int) -> subprocess.Popen[bytes]:
    """`h5press api --workers 2` in its own process; returns once it answers."""
    command = [sys.executable, "-m", "h5press", "api", "-p", str(root), "--db", str(db), "--port", str(port), "--workers", "2",
               "--secret", SECRET]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/campaigns/c/votes/commute", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError(f"h5press api did not start: {process.stderr.read().decode() if process.stderr else ''}")


def children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def workers_of(pid: int) -> set[int]:
    return {child for child in children(pid) if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


def connections_of(pids: set[int], port: int) -> dict[int, int]:
    """How many established TCP connections to `port` (IPv4) each process holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # local port, state ESTABLISHED
            inodes.add(fields[9])
    held = {}
    for pid in pids:
        links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir() if fd.is_symlink()]
        held[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
    return held


@pytest.fixture
def server(tmp_path):
    root, port = make_site(tmp_path / "site"), _free_port()
    process = start_api(root, tmp_path / "api.sqlite3", port)
    yield root, port, process
    if process.poll() is None:
        process.terminate()
        process.wait(30)


def test_connections_opened_at_once_reach_every_worker(server):
    _, port, parent = server
    workers = workers_of(parent.pid)
    assert len(workers) == 2, workers
    opened = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        deadline = time.monotonic() + 10
        while sum((held := connections_of(workers, port)).values()) < 32 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum(held.values()) == 32, held
        assert min(held.values()) >= 4, f"one worker got almost every connection: {held}"  # binomial(32, 1/2): p < 1e-5
    finally:
        for sock in opened:
            sock.close()


def test_a_worker_that_dies_is_replaced_on_its_socket(server):
    _, port, parent = server
    first, second = sorted(workers_of(parent.pid))
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not workers_of(parent.pid) - {first, second} and time.monotonic() < deadline:
        time.sleep(0.2)
    replacement = workers_of(parent.pid) - {first, second}
    assert len(replacement) == 1 and not alive(first)
    for _ in range(20):  # new connections land on both sockets again; each is answered
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/campaigns/c/votes/commute", timeout=10).status_code == 200


def test_a_second_server_on_the_port_is_refused(server, tmp_path):
    root, port, parent = server
    command = [sys.executable, "-m", "h5press", "api", "-p", str(root), "--db", str(tmp_path / "other.sqlite3"),
               "--port", str(port), "--workers", "2", "--secret", SECRET]
    second = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert f"cannot serve at 127.0.0.1:{port}" in second.stderr and "Address already in use" in second.stderr
    assert parent.poll() is None and len(workers_of(parent.pid)) == 2


def test_workers_end_with_their_parent_after_sigkill(tmp_path):
    root, port = make_site(tmp_path / "site"), _free_port()
    parent = start_api(root, tmp_path / "api.sqlite3", port)
    workers = workers_of(parent.pid)
    assert len(workers) == 2, workers
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # do not leave them serving after the test
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers still serving after their parent was killed"
    again = start_api(root, tmp_path / "api.sqlite3", port)  # the port is free: no "Address already in use"
    again.terminate()
    again.wait(20)


def test_a_worker_failing_at_start_stops_the_server_and_frees_the_port():
    port = _free_port()
    with pytest.raises(processes.WorkerFailed, match=r"exit code [1-9][0-9]* within 10 s of its start"):
        processes.serve("h5press.no_such_module:app", host="127.0.0.1", port=port, workers=2, log_level="critical")
    with socket.socket() as again:  # the workers are gone and the parent closed its sockets
        again.bind(("127.0.0.1", port))
