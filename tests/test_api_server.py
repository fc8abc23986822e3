"""The `h5press api` command, migrations, CORS and rate limits of the collaboration server."""
from __future__ import annotations

import sys
from pathlib import Path

from api_support import SECRET, make_site, session
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from h5press.api import db
from h5press.api.migrations import MIGRATIONS, migrate
from h5press.api.ratelimit import TokenBucket
from h5press.cli import cli


def test_migrations_are_versioned_and_run_once(db_url):
    engine = db.make_engine(db_url)
    try:
        assert migrate(engine)[1] == len(MIGRATIONS)
        assert migrate(engine) == (len(MIGRATIONS), len(MIGRATIONS))
        with engine.connect() as conn:
            assert conn.execute(select(db.schema_version.c.version)).scalars().all() == [len(MIGRATIONS)]
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = db.make_engine(str(tmp_path / "x.sqlite3"))  # a bare path means SQLite
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_sqlite_readers_never_wait_for_the_writer(tmp_path):
    engine = db.make_engine(str(tmp_path / "x.sqlite3"), busy_timeout_ms=500)
    migrate(engine)
    try:
        with db.transaction(engine) as writer:
            writer.execute(db.members.insert().values(campaign="c", identity="a", earned=1, spent=0, created_ms=1))
            with engine.connect() as reader:  # a board read while an event batch is being written
                assert reader.execute(select(db.members)).all() == []
        with engine.connect() as reader:
            assert len(reader.execute(select(db.members)).all()) == 1
    finally:
        engine.dispose()


def test_cors_allows_the_site_origin_by_default(make_client):
    client = make_client()
    preflight = {"Origin": "https://h5.example.com", "Access-Control-Request-Method": "POST"}
    r = client.options("/api/v1/campaigns/c/events", headers=preflight)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://h5.example.com"
    r = client.options("/api/v1/campaigns/c/events", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    other = make_client(cors_origins=("https://cdn.example.net",))
    r = other.options("/api/v1/session", headers={**preflight, "Origin": "https://cdn.example.net"})
    assert r.headers["access-control-allow-origin"] == "https://cdn.example.net"


def test_rate_limits_per_ip_and_per_identity(make_client):
    client = make_client(ip_rate=1000, identity_rate=1)  # identity: burst of 5
    h = session(client)
    codes = [client.get("/api/v1/campaigns/c/me", headers=h).status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429
    r = client.get("/api/v1/campaigns/c/me", headers=h)
    assert r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
    assert client.get("/api/v1/campaigns/c/me", headers=session(client)).status_code == 200  # another identity is not limited
    by_ip = make_client(ip_rate=1)
    assert [by_ip.post("/api/v1/session").status_code for _ in range(6)][-1] == 429


def test_token_bucket_refills():
    bucket = TokenBucket(rate=2, burst=2)
    assert bucket.take("k", now=0) == 0 and bucket.take("k", now=0) == 0
    assert bucket.take("k", now=0) > 0
    assert bucket.take("k", now=0.6) == 0


def test_cli_reports_config_errors_like_the_build(tmp_path):
    root = make_site(tmp_path / "site", "title: t\npoints:\n  actions:\n    read: {pointz: 2}\n")
    result = CliRunner().invoke(cli, ["api", "-p", str(root), "--secret", SECRET, "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert 'content/c/campaign.yaml:4: points.actions.read.pointz: unknown key "pointz"' in result.output
    assert "cannot serve the campaigns: 2 errors in the project" in result.output


def test_cli_needs_a_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("H5PRESS_API_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["api", "-p", str(make_site(tmp_path / "site"))])
    assert result.exit_code == 1 and "H5PRESS_API_SECRET" in result.output


def test_cli_names_the_install_command_when_the_extra_is_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import fails as if not installed
    result = CliRunner().invoke(cli, ["api", "-p", str(make_site(tmp_path / "site")), "--secret", SECRET])
    assert result.exit_code == 1 and "pip install 'h5press[api]'" in result.output


def test_cli_migrates_and_serves(tmp_path, monkeypatch):
    import uvicorn

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    target = tmp_path / "data" / "api.sqlite3"
    result = CliRunner().invoke(cli, ["api", "-p", str(make_site(tmp_path / "site")), "--secret", SECRET, "--db", str(target),
                                      "--port", "9123"])
    assert result.exit_code == 0, result.output
    assert f"database migrated from schema version 0 to {len(MIGRATIONS)}" in result.output and served["port"] == 9123
    engine = create_engine(f"sqlite:///{target}")
    with engine.connect() as conn:
        assert conn.execute(select(db.schema_version.c.version)).scalar() == len(MIGRATIONS)
    engine.dispose()
    assert Path(target).exists()


def test_cli_checks_the_admin_token_and_wechat_options(tmp_path):
    site = str(make_site(tmp_path / "site"))
    for extra, message in [(["--admin-token", "short"], "admin token must be at least 16"),
                           (["--wechat-app-id", "wx1"], "both --wechat-app-id and --wechat-secret")]:
        result = CliRunner().invoke(cli, ["api", "-p", site, "--secret", SECRET, "--db", str(tmp_path / "x.db"), *extra])
        assert result.exit_code == 1 and message in result.output, result.output


def test_a_worker_app_leaves_what_it_built_out_of_the_garbage_collectors_walks(tmp_path):
    import os
    import subprocess

    from h5press.api.settings import ApiSettings

    settings = ApiSettings(project=make_site(tmp_path / "site").resolve(), db=str(tmp_path / "x.db"), secret=SECRET)
    code = ("import gc; from h5press.api.app import app_from_env; app_from_env(); "
            "print(gc.get_freeze_count(), sum(gc.get_count()))")
    env = {**os.environ, **settings.as_env()}
    frozen, tracked = map(int, subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                              check=True).stdout.split())
    assert frozen > 50_000 and tracked < 1000, (frozen, tracked)  # the modules, models and campaigns: frozen


def test_cli_hands_every_option_to_the_workers(tmp_path, monkeypatch):
    import os

    from h5press.api import processes
    from h5press.api.settings import ApiSettings

    served = {}
    monkeypatch.setattr(processes, "serve", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))
    site = make_site(tmp_path / "site")
    result = CliRunner().invoke(cli, ["api", "-p", str(site), "--secret", SECRET, "--db", str(tmp_path / "x.db"),
                                      "--workers", "2", "--admin-token", "admin-token-0123456789", "--wechat-app-id", "wx1",
                                      "--wechat-secret", "s3cret", "--ip-rate", "0", "--issuer", "bank=bank-key-0123456789",
                                      "--cors-origin", "https://a.example", "--cors-origin", "https://b.example"])
    assert result.exit_code == 0, result.output
    assert served["app"] == "h5press.api.app:app_from_env" and served["workers"] == 2 and served["timeout_graceful_shutdown"] == 10
    assert ApiSettings.from_env(os.environ) == ApiSettings(
        project=site.resolve(), db=str(tmp_path / "x.db"), workers=2, secret=SECRET, issuers={"bank": "bank-key-0123456789"},
        cors_origins=("https://a.example", "https://b.example"), admin_token="admin-token-0123456789", wechat_app_id="wx1",
        wechat_secret="s3cret", ip_rate=0.0)


def test_cli_joins_issuer_options_and_the_issuers_variable(tmp_path, monkeypatch):
    import os

    from h5press.api import processes
    from h5press.api.settings import ApiSettings

    monkeypatch.setattr(processes, "serve", lambda app, **kw: None)
    monkeypatch.setattr(os, "environ", dict(os.environ, H5PRESS_API_ISSUERS="school=school-key,"))
    args = ["api", "-p", str(make_site(tmp_path / "site")), "--secret", SECRET, "--db", str(tmp_path / "x.db"), "--workers", "2"]
    result = CliRunner().invoke(cli, [*args, "--issuer", "bank=bank-key"])
    assert result.exit_code == 0, result.output
    assert ApiSettings.from_env(os.environ).issuers == {"bank": "bank-key", "school": "school-key"}
    result = CliRunner().invoke(cli, [*args, "--issuer", "bank"])
    assert result.exit_code == 1 and 'issuer must be NAME=KEY, got "bank"' in result.output
