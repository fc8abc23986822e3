"""A local static server that sends the headers a CDN would, read from `dist/_headers`.

Checking a bundle with its real headers means the CSP, caching and CORS rules are exercised
too: a page that only works without its CSP fails here, as it would in production.
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

from ..generator.headers import MEDIA_TYPES, Rule, headers_for, parse_headers


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MEDIA_TYPES}
    rules: list[Rule] = []

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        # Last-Modified has one-second resolution, so a rebuild within the same second would be
        # answered 304 and look unchanged; CDNs compare ETags. Always answer in full.
        del self.headers["If-Modified-Since"]
        return super().send_head()

    def end_headers(self) -> None:
        for name, value in headers_for(self.rules, unquote(urlsplit(self.path).path)):
            self.send_header(name, value)
        super().end_headers()


class StaticServer:
    """Serves `root` on 127.0.0.1 with its `_headers`; `stop()` makes it really unreachable
    (connections refused), and `start()` again brings it back on the same port."""

    def __init__(self, root: Path, handler: type[Handler] = Handler) -> None:
        self.root = root
        self.handler_class = handler
        self.httpd: http.server.ThreadingHTTPServer | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def start(self) -> Self:
        headers = self.root / "_headers"
        rules = parse_headers(headers.read_text("utf-8")) if headers.is_file() else []
        handler = functools.partial(type("Handler", (self.handler_class,), {"rules": rules}), directory=str(self.root))
        self.httpd = http.server.ThreadingHTTPServer((self.host, self.port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def url(self, path: str = "") -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/{path}"
