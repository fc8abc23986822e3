"""The `h5press api` process itself, with worker processes: they end with their parent, even when the
parent is killed with SIGKILL, so a restart can bind the port again."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_support import SECRET, _free_port, make_site

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


def test_workers_end_with_their_parent_after_sigkill(tmp_path):
    root, port = make_site(tmp_path / "site"), _free_port()
    parent = start_api(root, tmp_path / "api.sqlite3", port)
    workers = {pid for pid in children(parent.pid) if "uvicorn" in Path(f"/proc/{pid}/cmdline").read_text("latin-1")
               or "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text("latin-1")}
    assert len(workers) >= 2, workers
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
