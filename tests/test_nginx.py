"""dist/nginx.conf in a real nginx: the headers of the output contract reach the client."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from h5fixtures import build

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx-light)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def assert_varies_by_encoding(base: str, bundle: Path, paths: list[str]) -> None:
    """Each file is sent gzipped to a client that accepts it and plain to one that does not, and
    both answers say `Vary: Accept-Encoding`, so a shared cache never hands one to the other."""
    for path in paths:
        _, plain_headers, plain = fetch(base + path)
        _, gzip_headers, gzipped = fetch(base + path, **{"Accept-Encoding": "gzip, deflate, br"})
        assert "content-encoding" not in plain_headers and plain == (bundle / path).read_bytes(), path
        assert gzip_headers.get("content-encoding") == "gzip" and gzipped == (bundle / f"{path}.gz").read_bytes(), path
        assert plain_headers.get("vary") == gzip_headers.get("vary") == "Accept-Encoding", path


def test_nginx_snippet_serves_the_contract(make_project, tmp_path):
    root = make_project()
    assert build(root).exit_code == 0
    dist = root / "dist"
    port = free_port()
    conf = tmp_path / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the pytest tmp folder
    conf.write_text(f"""
{user}
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp_path};
    proxy_temp_path {tmp_path};
    fastcgi_temp_path {tmp_path};
    uwsgi_temp_path {tmp_path};
    scgi_temp_path {tmp_path};
    server {{
        listen 127.0.0.1:{port};
        root {dist};
        include {dist}/nginx.conf;
    }}
}}
""")
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    server = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}/demo/"
        status, headers, body = fetch(base + "index.html")
        assert status == 200 and headers["cache-control"] == "no-cache"
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert headers["x-content-type-options"] == "nosniff"
        css = next((dist / "demo/assets").glob("main.*.css")).name
        status, headers, body = fetch(base + "assets/" + css, **{"Accept-Encoding": "gzip"})
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["access-control-allow-origin"] == "*"
        assert headers.get("content-encoding") == "gzip" and body == (dist / "demo/assets" / (css + ".gz")).read_bytes()
        _, headers, _ = fetch(base + "manifest.webmanifest")
        assert headers["content-type"].startswith("application/manifest+json") and headers["cache-control"] == "no-cache"
        _, headers, _ = fetch(base + "sw.js")
        assert headers["cache-control"] == "no-cache"
        _, headers, body = fetch(base)
        assert b"<h1" in body and headers["cache-control"] == "no-cache"
        assert_varies_by_encoding(base, dist / "demo", ["index.html", "guide/intro.html", "sw.js", "manifest.webmanifest",
                                                        "assets/" + css])
        image = next((dist / "demo/assets").glob("*.webp")).name  # no compressed variant: one answer for every client
        assert "vary" not in fetch(base + "assets/" + image)[1] and "vary" not in fetch(base + "assets/" + image,
                                                                                        **{"Accept-Encoding": "gzip"})[1]
    finally:
        server.terminate()
        server.wait(timeout=10)
