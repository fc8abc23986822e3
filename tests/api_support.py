"""Fixtures of the collaboration-server tests, loaded as a pytest plugin: a project, a database
(SQLite file or a real PostgreSQL, started for the session), a client, a live server, and a built
site served beside a live server for browser tests of the client (`site_with_api`)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the api extra is not installed: pip install 'h5press[api]'")

with warnings.catch_warnings():  # Starlette's notice that its TestClient moves to another package
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, inspect, text  # noqa: E402

from h5fixtures import Server, write_tree  # noqa: E402
from h5press.api.app import create_app  # noqa: E402
from h5press.api.project import load_project  # noqa: E402
from h5press.api.settings import ApiSettings  # noqa: E402

SECRET = "test-secret-0123456789abcdef"

CAMPAIGN = """\
title: 测试活动
start: 2020-01-01
end: 2099-12-31
timezone: Asia/Shanghai
points:
  actions:
    read: {points: 2, per_day: 3}
    checkin: {points: 5, per_day: 1}
    quiz: {points: 10, per_campaign: 2}
    share: {points: 1}
levels:
  - {name: 青铜, min: 0}
  - {name: 白银, min: 10}
  - {name: 黄金, min: 100}
badges:
  - {id: reader, name: 读者, when: {action: read, count: 3}}
  - {id: twenty, name: 二十分, when: {points: 20}}
  - {id: streak3, name: 连续三天, when: {streak: 3}}
rewards:
  - {id: coupon, name: 优惠券, threshold: 10, stock: 5}
  - {id: gift, name: 礼品, threshold: 10, per_user: 2}
  - {id: team-gift, name: 团队礼, threshold: 20, scope: team, stock: 1}
team:
  size: 3
lottery:
  - id: wheel
    name: 幸运转盘
    cost: 0
    per_day: 1000
    rules: 每次抽奖消耗 0 积分
    prizes:
      - {name: 一等奖, probability: 0.5, stock: 7}
      - {name: 二等奖, probability: 0.5}
"""

INDEX = """\
---
title: 首页
---

::: vote commute
question: 你怎么上班？
options: [地铁, 公交, 骑行, 步行]
:::

::: vote why
question: 为什么？
options: [省钱, 环保, 健康]
multiple: true
max: 2
:::
"""


def make_site(root: Path, campaign: str = CAMPAIGN, extra: dict[str, str | bytes | None] | None = None) -> Path:
    return write_tree(root, {"h5press.yaml": "base_url: https://h5.example.com/\n", "content/c/campaign.yaml": campaign,
                             "content/c/index.md": INDEX, **(extra or {})})


# --- PostgreSQL: a throwaway cluster for the test session -------------------------------------------

def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def temporary_postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster made with initdb in a temporary folder (as the `postgres` user
    when run as root); yields a server URL without database, or None when no server is installed."""
    bindir = _pg_bin()
    if bindir is None:
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="h5press-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = tmp / "data", _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync",
                    "-E", "UTF8"], check=True, capture_output=True)
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A server URL without database: $H5PRESS_TEST_POSTGRES (an existing server) or a temporary cluster."""
    given = os.environ.get("H5PRESS_TEST_POSTGRES")
    if given:
        yield given.rstrip("/")
        return
    with temporary_postgres() as url:
        if url is None:
            pytest.skip("no PostgreSQL server binary installed (apt-get install postgresql); PostgreSQL cases skipped")
        yield url


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh database for this test session."""
    name = f"h5press_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"{pg_server}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs on a SQLite file and on PostgreSQL (emptied before the test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'api.sqlite3'}"
    url: str = request.getfixturevalue("pg_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        names = [t for t in inspect(conn).get_table_names() if t != "schema_version"]
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def make_client(tmp_path: Path, db_url: str) -> Iterator[Callable[..., TestClient]]:
    """`make_client(campaign=…, **settings)`: a TestClient on a fresh project and the test's database."""
    clients: list[TestClient] = []

    def make(campaign: str = CAMPAIGN, project: Path | None = None, **overrides: object) -> TestClient:
        root = project or make_site(tmp_path / f"site{len(clients)}", campaign)
        options: dict = {"db": db_url, "secret": SECRET, "ip_rate": 0, "identity_rate": 0, "session_rate": 0, **overrides}
        app = create_app(load_project(root), ApiSettings(**options))
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
        client.app.state.api.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def session(client: TestClient) -> dict[str, str]:
    """Authorization headers of a new anonymous identity."""
    response = client.post("/api/v1/session")
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    """A valid ULID: 48 bits of time, 80 random bits."""
    t, r = int(time.time() * 1000), uuid.uuid4().int
    return "".join(B32[(t >> (5 * i)) & 31] for i in reversed(range(10))) + "".join(B32[(r >> (5 * i)) & 31] for i in range(16))


def event(type_: str = "points", payload: dict | None = None, at: str | None = None, campaign: str = "c",
          component: str | None = None, id_: str | None = None) -> dict:
    ev: dict = {"id": id_ or ulid(), "v": 1, "campaign": campaign, "type": type_, "component": component,
                "payload": payload if payload is not None else {}}
    if at is not None:
        ev["at"] = at
    return ev


def send(client: TestClient, headers: dict[str, str], events: list[dict], campaign: str = "c"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/campaigns/{campaign}/events", json={"events": events}, headers=headers)


def pin_clock(client: TestClient, iso: str) -> None:
    """Make the server's "now" a fixed instant (ISO 8601 with offset)."""
    import datetime as dt

    clock = client.app.state.api.clock  # type: ignore[attr-defined]
    clock[:] = [dt.datetime.fromisoformat(iso).timestamp()]


def session_at(client: TestClient, iso: str) -> dict[str, str]:
    """A new identity that first reached the server at `iso` (the clock stays there): its events may be dated back to then."""
    pin_clock(client, iso)
    return session(client)


class LiveUrl(str):
    """The URL of a live server; `.app` is its application (to look at its state)."""

    app: Any


def run_uvicorn(app: object) -> tuple[str, Callable[[], None]]:
    """`app` in a real uvicorn server on a free port, in a thread: (its URL, stop)."""
    import uvicorn

    # Stopped within a second even with live streams open (graceful shutdown would wait for them).
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",  # type: ignore[arg-type]
                            limit_concurrency=1000, timeout_graceful_shutdown=1,
                            proxy_headers=False)  # as `h5press api` runs it: the app decides whom to trust
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture
def live_server(make_client: Callable[..., TestClient]) -> Iterator[Callable[..., LiveUrl]]:
    """`live_server(**settings)`: the app in a real uvicorn server on a free port; returns its URL."""
    stops: list[Callable[[], None]] = []

    def start(**overrides: object) -> LiveUrl:
        app = make_client(**overrides).app
        url, stop = run_uvicorn(app)
        stops.append(stop)
        live = LiveUrl(url)
        live.app = app
        return live

    yield start
    for stop in stops:
        stop()


class SiteWithApi:
    """A site project served from its dist/ on one origin and `h5press api` on another, as deployed."""

    def __init__(self, root: Path, static: Server, api_url: str, engine: object, stop_api: Callable[[], None]) -> None:
        self.root, self.static, self.api_url, self.engine = root, static, api_url, engine
        self.stop_api = stop_api  # the server out of reach, as on a connection that carries nothing

    def url(self, path: str) -> str:
        return self.static.url(path)

    def rows(self, sql: str, **params: object) -> list[tuple]:
        """Rows of the server's real database (SQLite file), to see what it stored."""
        with self.engine.connect() as db:  # type: ignore[attr-defined]
            return [tuple(r) for r in db.execute(text(sql), params)]


@pytest.fixture
def site_with_api(tmp_path: Path, serve: Callable[[Path], Server]) -> Iterator[Callable[[Path], SiteWithApi]]:
    """`site_with_api(root)`: sets `api_url` in root's h5press.yaml to a live `h5press api` for the
    project's campaigns (SQLite file, CORS for the static origin, no rate limits), serves
    root/dist/ (build after calling this) and returns a `SiteWithApi`."""
    stops: list[Callable[[], None]] = []

    def start(root: Path) -> SiteWithApi:
        static = serve(root / "dist")
        origin = static.url().rstrip("/")
        settings = ApiSettings(db=str(tmp_path / f"api{len(stops)}.sqlite3"), secret=SECRET, cors_origins=(origin,),
                            ip_rate=0, identity_rate=0, session_rate=0)
        app = create_app(load_project(root), settings)
        url, stop = run_uvicorn(app)
        stops.append(stop)
        config = root / "h5press.yaml"
        config.write_text(config.read_text("utf-8") + f"api_url: {url}/\n", "utf-8")
        return SiteWithApi(root, static, url + "/", app.state.api.engine, stop)

    yield start
    for stop in stops:
        stop()
