"""`h5press deploy` against a real S3 HTTP endpoint: moto's standalone server, reached through a
small recording proxy that logs every request in order and can answer 503 for chosen keys."""
from __future__ import annotations

import datetime as dt
import gzip
import http.client
import http.server
import itertools
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import brotli
import pytest

from h5fixtures import build, png, run
from h5press.deploy.local import HEADERS_FILE, LocalObject, group
from h5press.deploy.plan import DeployRecord, Record, Remote, known_digests, make_plan, purge_urls, to_verify
from h5press.generator.headers import headers_for, parse_headers

SERVICE_UNAVAILABLE = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
                       b"<Message>Please reduce your request rate.</Message></Error>")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """Forwards every request to moto and logs (method, path) in arrival order; `fail[path]` is
    how many more PUTs of that path get a 503 instead."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream).netloc
        self.log: list[tuple[str, str]] = []
        self.fail: dict[str, int] = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers boto3's `Expect: 100-continue` at once

            def log_message(self, *args: object) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                with proxy.lock:
                    proxy.log.append((self.command, path))
                    refuse = self.command == "PUT" and proxy.fail.get(path, 0) > 0
                    if refuse:
                        proxy.fail[path] -= 1
                if refuse:
                    self.answer(503, [("Content-Type", "application/xml")], SERVICE_UNAVAILABLE)
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                conn.request(self.command, self.path, body, {k: v for k, v in self.headers.items() if k.lower() != "expect"})
                response = conn.getresponse()
                data = response.read()
                conn.close()
                self.answer(response.status, response.getheaders(), data)

            def answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                hop = {"connection", "transfer-encoding", "server", "date"}
                for name, value in headers:
                    if name.lower() not in hop:
                        self.send_header(name, value)
                if not any(name.lower() == "content-length" for name, _ in headers):
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def requests(self, bucket: str, since: int = 0) -> list[tuple[str, str]]:
        """This bucket's requests from the `since`-th logged one on, as (method, key)."""
        head = f"/{bucket}/"
        return [(m, p[len(head):]) for m, p in self.log[since:] if p.startswith(head) or p == head[:-1]]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "moto's server did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


@pytest.fixture(scope="session")
def proxy(moto_url: str) -> Iterator[Proxy]:
    proxy = Proxy(moto_url)
    yield proxy
    proxy.httpd.shutdown()
    proxy.httpd.server_close()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials from the environment, as boto3's chain reads them; no host config."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)


_buckets = itertools.count()


@pytest.fixture
def bucket(moto_url: str) -> str:
    name = f"site-{next(_buckets)}"
    s3(moto_url).create_bucket(Bucket=name)
    return name


def s3(url: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1")


def site(make_project, proxy: Proxy, bucket: str, name: str = "site", **target: str) -> Path:  # type: ignore[no-untyped-def]
    """The small test site, built, with one deploy target `moto` (path addressing via the proxy)."""
    settings = {"name": "moto", "url": f"s3://{bucket}/live", "endpoint": proxy.url, "addressing": "path", **target}
    lines = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in settings.items()).replace("    ", "  - ", 1)
    root = make_project({"h5press.yaml": f"base_url: https://h5.example.com/\ndeploy:\n{lines}"}, name)
    assert build(root).exit_code == 0
    return root


def deploy(root: Path, *args: str):  # type: ignore[no-untyped-def]
    return run("deploy", "-p", str(root), *args)


def stored(url: str, bucket: str) -> dict[str, dict]:
    """Every object under live/ with its headers and body, by key relative to live/."""
    client = s3(url)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key[len("live/"):]: read(client.get_object(Bucket=bucket, Key=key)) for key in keys}


def read(answer: dict) -> dict:
    return answer | {"body": answer["Body"].read()}


def decoded(obj: dict) -> bytes:
    return {"gzip": gzip.decompress, "br": brotli.decompress}.get(obj.get("ContentEncoding", ""), bytes)(obj["body"])


def published(dist: Path) -> dict[str, bytes]:
    """What should become objects: every file of the build but server config, the report and the
    precompressed siblings."""
    files = {p.relative_to(dist).as_posix(): p for p in sorted(dist.rglob("*")) if p.is_file()}
    return {key: path.read_bytes() for key, path in files.items()
            if key not in {HEADERS_FILE, "nginx.conf", "build-report.json"} and not key.endswith((".br", ".gz"))}


@pytest.mark.parametrize("encoding", ["gzip", "br", "none"])
def test_every_object_has_its_headers_and_body(make_project, proxy, moto_url, bucket, encoding):
    root = site(make_project, proxy, bucket, encoding=encoding)
    result = deploy(root)
    assert result.exit_code == 0, result.output
    dist = root / "dist"
    files = published(dist)
    objects = stored(moto_url, bucket)
    assert set(objects) == set(files) | {".h5press-deploy.json"}
    rules = parse_headers((dist / HEADERS_FILE).read_text())
    for key, data in files.items():
        obj = objects[key]
        assert decoded(obj) == data, key
        cache = [v for n, v in headers_for(rules, f"/{key}") if n == "Cache-Control"]
        assert obj.get("CacheControl") == cache[0], key
        text = key.endswith((".html", ".css", ".js", ".json", ".webmanifest", ".svg"))
        assert obj["ContentType"].endswith("; charset=utf-8") == text, key
        assert obj.get("ContentEncoding") == (encoding if text and encoding != "none" else None), key
    assert objects["demo/index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["demo/sw.js"]["CacheControl"] == "no-cache"
    assert [k for k in objects if k.startswith("demo/assets/") and objects[k]["CacheControl"] != "public, max-age=31536000, immutable"] == []
    assert objects["demo/assets/" + next(k.split("/")[-1] for k in files if k.endswith(".webp"))]["ContentType"] == "image/webp"
    # Object storage cannot send the CSP: the page carries it, and deploy prints the CDN rules.
    assert re.search(rb'<meta content="default-src [^"]+" http-equiv=Content-Security-Policy>', files["demo/index.html"])
    assert "/live/demo/*  Content-Security-Policy: default-src 'self'" in result.output
    assert "/live/*  X-Content-Type-Options: nosniff" in result.output


def group_of(key: str) -> int:
    return 0 if "/assets/" in key else 2 if key.endswith("sw.js") else 1


def test_assets_then_pages_then_workers_then_deletions(make_project, proxy, bucket):
    root = site(make_project, proxy, bucket)
    start = len(proxy.log)
    assert deploy(root).exit_code == 0
    puts = [key for method, key in proxy.requests(bucket, start) if method == "PUT" and key.startswith("live/demo/")]
    assert len(puts) == len(published(root / "dist"))
    order = [group_of(key) for key in puts]
    assert order == sorted(order) and order[0] == 0 and order[-1] == 2

    old_webp = {k for k in published(root / "dist") if k.endswith(".webp")}
    s3(proxy.url).put_object(Bucket=bucket, Key="live/demo/by-hand.txt", Body=b"not h5press's")
    (root / "content/demo/guide/intro.md").unlink()
    (root / "content/demo/index.md").write_text("---\ntitle: 首页\ncover: images/photo.png\n---\n\n新的首页。\n", "utf-8")
    (root / "content/demo/images/photo.png").write_bytes(png(color="#c33"))
    assert build(root).exit_code == 0
    start = len(proxy.log)
    result = deploy(root)
    assert result.exit_code == 0, result.output
    changes = [(m, k) for m, k in proxy.requests(bucket, start) if m in ("PUT", "DELETE") and k.startswith("live/demo/")]
    assert [k for m, k in changes if m == "DELETE"] == ["live/demo/guide/intro.html"]
    assert changes[-1] == ("DELETE", "live/demo/guide/intro.html")  # after the new pages are live
    order = [group_of(k) for m, k in changes if m == "PUT"]
    assert order == sorted(order) and order[-1] == 2
    keys = set(stored(proxy.url, bucket))
    assert old_webp <= keys, "hashed assets the new build no longer references are kept"
    assert "demo/by-hand.txt" in keys, "objects h5press did not put there are never deleted"
    assert "no longer references" in result.output


def test_repeat_deploy_uploads_nothing_and_header_changes_are_uploads(make_project, proxy, moto_url, bucket):
    root = site(make_project, proxy, bucket, encoding="gzip")
    assert deploy(root).exit_code == 0
    start = len(proxy.log)
    result = deploy(root)
    assert result.exit_code == 0
    assert "upload      0 objects" in result.output and "deployed 0 object(s)" in result.output
    assert [m for m, _ in proxy.requests(bucket, start) if m != "GET"] == []  # one listing, the record: no HEAD, PUT

    s3(moto_url).delete_object(Bucket=bucket, Key="live/.h5press-deploy.json")  # lost record: objects are verified by HEAD
    start = len(proxy.log)
    assert "deployed 0 object(s)" in deploy(root).output
    assert {m for m, _ in proxy.requests(bucket, start)} == {"GET", "HEAD", "PUT"}
    assert [k for m, k in proxy.requests(bucket, start) if m == "PUT"] == ["live/.h5press-deploy.json"]

    yaml = root / "h5press.yaml"
    yaml.write_text(yaml.read_text().replace('encoding: "gzip"', 'encoding: "br"'))
    result = deploy(root)
    text = [k for k in published(root / "dist") if not k.endswith((".webp", ".png"))]
    assert f"deployed {len(text)} object(s)" in result.output, result.output


def test_prune_removes_hashed_assets_unreferenced_that_long(make_project, proxy, moto_url, bucket):
    root = site(make_project, proxy, bucket)
    assert deploy(root).exit_code == 0
    old = {k for k in published(root / "dist") if k.startswith("demo/assets/") and k.endswith(".webp")}
    (root / "content/demo/images/photo.png").write_bytes(png(color="#c33"))
    assert build(root).exit_code == 0
    assert deploy(root).exit_code == 0
    result = deploy(root, "--prune-older-than", "7")
    assert old <= set(stored(moto_url, bucket)) and f"keep   {len(old):6} objects" in result.output

    client = s3(moto_url)
    record = json.loads(client.get_object(Bucket=bucket, Key="live/.h5press-deploy.json")["Body"].read())
    assert set(record["unreferenced"]) == old
    ten_days_ago = (dt.date.today() - dt.timedelta(days=10)).isoformat()
    record["unreferenced"] = {k: ten_days_ago for k in old}
    client.put_object(Bucket=bucket, Key="live/.h5press-deploy.json", Body=json.dumps(record).encode())
    assert deploy(root, "--prune-older-than", "11").exit_code == 0
    assert old <= set(stored(moto_url, bucket))
    result = deploy(root, "--prune-older-than", "7")
    assert result.exit_code == 0 and f"{len(old)} deleted" in result.output
    keys = set(stored(moto_url, bucket))
    assert not old & keys and set(published(root / "dist")) <= keys


def test_dry_run_changes_nothing(make_project, proxy, moto_url, bucket):
    root = site(make_project, proxy, bucket)
    files = published(root / "dist")
    start = len(proxy.log)
    result = deploy(root, "--dry-run")
    assert result.exit_code == 0
    assert f"upload {len(files):6} objects" in result.output and "(dry run: nothing is changed)" in result.output
    assert {m for m, _ in proxy.requests(bucket, start)} == {"GET"}
    assert stored(moto_url, bucket) == {}

    assert deploy(root).exit_code == 0
    (root / "content/demo/guide/intro.md").unlink()
    assert build(root).exit_code == 0
    before = {k: v["ETag"] for k, v in stored(moto_url, bucket).items()}
    result = deploy(root, "--dry-run")
    assert "delete      1 objects" in result.output and "    - demo/guide/intro.html" in result.output
    assert {k: v["ETag"] for k, v in stored(moto_url, bucket).items()} == before


def test_a_storage_failing_half_way_stops_before_the_next_group(make_project, proxy, moto_url, bucket, monkeypatch):
    root = site(make_project, proxy, bucket)
    page = f"/{bucket}/live/demo/index.html"
    proxy.fail[page] = 1  # once: the retry succeeds
    assert deploy(root).exit_code == 0
    assert proxy.fail[page] == 0

    (root / "content/demo/index.md").write_text("---\ntitle: 首页\ncover: images/photo.png\n---\n\n改过的首页。\n", "utf-8")
    (root / "content/demo/images/photo.png").write_bytes(png(color="#c33"))
    assert build(root).exit_code == 0
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    proxy.fail[page] = 2
    start = len(proxy.log)
    result = deploy(root)
    assert result.exit_code == 1
    assert f"uploading s3://{bucket}/live/demo/index.html: ServiceUnavailable (HTTP 503): Please reduce your request rate." \
        in result.output
    assert "run it again to finish" in result.output
    puts = [k for m, k in proxy.requests(bucket, start) if m == "PUT"]
    assert "live/demo/sw.js" not in puts, "the service worker waits for the pages"
    objects = stored(moto_url, bucket)
    files = published(root / "dist")
    assert {k for k in files if "/assets/" in k} <= set(objects), "the new assets were all uploaded"
    assert b"\xe6\x94\xb9\xe8\xbf\x87" not in decoded(objects["demo/index.html"])  # still the old page

    start = len(proxy.log)
    result = deploy(root)
    assert result.exit_code == 0, result.output
    redone = [k for m, k in proxy.requests(bucket, start) if m == "PUT" and k != "live/.h5press-deploy.json"]
    assert "live/demo/index.html" in redone and "live/demo/sw.js" in redone
    assert not [k for k in redone if "/assets/" in k], "what the failed run uploaded is not uploaded again"
    objects = stored(moto_url, bucket)
    assert all(decoded(objects[k]) == data for k, data in files.items())
    assert "deployed 0 object(s)" in deploy(root).output


def test_purge_gets_the_changed_page_urls_and_its_failure_is_reported(make_project, proxy, bucket, tmp_path):
    urls = tmp_path / "urls.txt"
    root = site(make_project, proxy, bucket, purge=f"cat > {urls}")
    assert deploy(root).exit_code == 0
    listed = urls.read_text().split()
    assert "https://h5.example.com/demo/index.html" in listed and "https://h5.example.com/demo/" in listed
    assert not [u for u in listed if "/assets/" in u]

    (root / "content/demo/guide/intro.md").write_text("---\ntitle: 指南\n---\n\n新的指南。\n", "utf-8")
    assert build(root).exit_code == 0
    yaml = root / "h5press.yaml"
    yaml.write_text(yaml.read_text().replace(f"cat > {urls}", "exit 7"))
    result = deploy(root)
    assert result.exit_code == 3
    assert "the purge command failed (exit 7)" in result.output
    yaml.write_text(yaml.read_text().replace("exit 7", f"cat > {urls}"))
    result = deploy(root)
    assert result.exit_code == 0 and "deployed 0 object(s)" in result.output
    assert "https://h5.example.com/demo/guide/intro.html" in urls.read_text().split(), "the failed purge is done again"


def test_bad_targets_and_missing_dist_are_clear_errors(make_project, proxy, bucket):
    root = site(make_project, proxy, bucket)
    result = deploy(root, "--to", "staging")
    assert result.exit_code == 2 and 'no deploy target named "staging": h5press.yaml has 1 deploy targets (moto)' in result.output
    result = deploy(root, "--to", "s3://Bad_Bucket/x")
    assert result.exit_code == 2 and 'expected s3://bucket/prefix' in result.output and '"s3://Bad_Bucket/x"' in result.output
    yaml = root / "h5press.yaml"
    yaml.write_text(yaml.read_text().replace("addressing", "adressing").replace(f"s3://{bucket}/live", "http://x"))
    result = deploy(root)
    assert result.exit_code == 1
    assert 'h5press.yaml:4: deploy[0].url: expected s3://bucket/prefix' in result.output
    assert 'deploy[0].adressing: unknown key "adressing" (did you mean "addressing"?)' in result.output

    yaml.write_text(yaml.read_text().replace("adressing", "addressing").replace("http://x", "s3://no-such-bucket/live"))
    result = deploy(root)
    assert result.exit_code == 1 and "listing s3://no-such-bucket/live/: NoSuchBucket (HTTP 404)" in result.output

    yaml.write_text("deploy:\n  - {name: a, url: s3://b-1}\n  - {name: b, url: s3://b-2}\n")
    result = deploy(root)
    assert result.exit_code == 2 and "h5press.yaml has 2 deploy targets (a, b): pass --to NAME" in result.output
    shutil.rmtree(root / "dist")
    result = deploy(root, "--to", "a")
    assert result.exit_code == 1 and "dist: no such folder (build first with `h5press build`)" in result.output


def obj(key: str, digest: str = "d") -> LocalObject:
    return LocalObject(key, Path(key), 1, {}, digest, group(key, "immutable" if "/assets/" in key else ""))


def test_plan_uploads_what_differs_keeps_unreferenced_assets_and_deletes_only_its_own():
    local = [obj("c/assets/new.css"), obj("c/index.html", "changed"), obj("c/sw.js"), obj("c/a.html")]
    remote = {k: Remote(f"e-{k}", 1) for k in ("c/index.html", "c/sw.js", "c/a.html", "c/assets/old.css",
                                                "c/assets/older.css", "c/gone.html", "c/by-hand.txt")}
    record = DeployRecord({k: Record("d", f"e-{k}", "/assets/" in k) for k in remote if k != "c/by-hand.txt"},
                          {"c/assets/older.css": "2026-01-01"})
    known = known_digests(remote, record)
    assert to_verify(local, remote, known) == []
    today = dt.date(2026, 1, 11)
    plan = make_plan(local, remote, known, record, today, None)
    assert [[o.key for o in g] for g in plan.groups] == [["c/assets/new.css"], ["c/index.html"], []]
    assert [o.key for o in plan.unchanged] == ["c/sw.js", "c/a.html"]
    assert plan.kept == {"c/assets/old.css": "2026-01-11", "c/assets/older.css": "2026-01-01"}
    assert plan.delete == ["c/gone.html"]
    assert make_plan(local, remote, known, record, today, 11).delete == ["c/gone.html"]
    assert make_plan(local, remote, known, record, today, 10).delete == ["c/assets/older.css", "c/gone.html"]
    assert purge_urls(["c/index.html", "c/gone.html"], "https://h5.example.com/") == [
        "https://h5.example.com/c/", "https://h5.example.com/c/gone.html", "https://h5.example.com/c/index.html"]
    changed_etag = {**remote, "c/a.html": Remote("edited by hand", 1)}
    assert to_verify(local, changed_etag, known_digests(changed_etag, record)) == ["c/a.html"]
