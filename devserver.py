"""`h5press serve`: build, serve dist/, rebuild on every save and reload open pages.

Pages get one extra script, served by this server only: it listens on a Server-Sent Events
stream and reloads the page after a successful rebuild, or shows the build errors in an overlay.
Service workers are switched off for development builds (their kill switch is served), so a page
is never answered from a stale cache.
"""
from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .check.serve import Handler, StaticServer
from .generator.assets import THEME_DIR
from .generator.build import CACHE_DIR, BuildOptions, BuildResult, build
from .generator.errors import BuildError

EVENTS = "/__h5press/events"
CLIENT = "/__h5press/reload.js"
DEBOUNCE_S = 0.02
RELOAD_JS = (THEME_DIR / "assets" / "js" / "dev-reload.js").read_bytes()  # listens on EVENTS


class Broadcaster:
    """Fans build outcomes out to every open page; a page that connects late gets the last error."""

    def __init__(self) -> None:
        self.clients: list[queue.Queue[tuple[str, str]]] = []
        self.lock = threading.Lock()
        self.failure: str | None = None

    def subscribe(self) -> queue.Queue[tuple[str, str]]:
        q: queue.Queue[tuple[str, str]] = queue.Queue()
        with self.lock:
            self.clients.append(q)
            if self.failure:
                q.put(("failed", json.dumps({"message": self.failure})))
        return q

    def unsubscribe(self, q: queue.Queue[tuple[str, str]]) -> None:
        with self.lock:
            self.clients.remove(q)

    def send(self, event: str, data: dict[str, str] | None = None) -> None:
        self.failure = data["message"] if event == "failed" and data else None
        with self.lock:
            for q in self.clients:
                q.put((event, json.dumps(data or {})))


class DevHandler(Handler):
    broadcaster: Broadcaster

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        path = urlsplit(self.path).path
        if path == EVENTS:
            self._events()
        elif path == CLIENT:
            self._send(RELOAD_JS, "text/javascript")
        elif path.endswith((".html", "/")) and self._html(path):
            return
        else:
            super().do_GET()

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _html(self, path: str) -> bool:
        """A page with the reload script added (the built file itself is untouched)."""
        file = Path(self.translate_path(path))
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            return False
        html = file.read_bytes().replace(b"</body>", f'<script src="{CLIENT}"></script></body>'.encode(), 1)
        self._send(html, "text/html; charset=utf-8")
        return True

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        q = self.broadcaster.subscribe()
        try:
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            while True:
                try:
                    event, data = q.get(timeout=15)
                    self.wfile.write(f"event: {event}\ndata: {data}\n\n".encode())
                except queue.Empty:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.broadcaster.unsubscribe(q)


class _Changes(FileSystemEventHandler):
    def __init__(self, notify: Callable[[], None], ignored: list[Path]) -> None:
        self.notify = notify
        self.ignored = ignored

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(str(event.src_path))
        if event.is_directory and event.event_type == "modified":
            return
        if not any(path.is_relative_to(i) for i in self.ignored):
            self.notify()


class DevServer:
    """Build, serve and watch a project; `start()` returns once the first build is served."""

    def __init__(self, project: Path, out: Path, host: str = "127.0.0.1", port: int = 8000,
                 log: Callable[[str], None] = print) -> None:
        self.project = project.resolve()
        self.out = out.resolve()
        self.log = log
        self.broadcaster = Broadcaster()
        handler = type("DevHandler", (DevHandler,), {"broadcaster": self.broadcaster})
        self.server = StaticServer(self.out, handler)
        self.server.host, self.server.port = host, port
        self.pending = threading.Event()
        self.stopping = threading.Event()
        self.observer = Observer()
        self.builder = threading.Thread(target=self._loop, daemon=True)
        self.builds = 0  # finished builds, good or failed (tests wait on it)

    def rebuild(self) -> BuildResult | None:
        started = time.perf_counter()
        try:
            result = build(BuildOptions(self.project, self.out, dev=True))
        except BuildError as exc:
            self.log(exc.format_message())
            self.broadcaster.send("failed", {"message": exc.format_message()})
            return None
        finally:
            self.builds += 1
        ms = (time.perf_counter() - started) * 1000
        if result.written:
            self.log(f"rebuilt in {ms:.0f} ms: {len(result.written)} file(s) changed; reloading pages")
            self.broadcaster.send("reload")
        else:
            self.broadcaster.send("ok")
        return result

    def start(self) -> None:
        self.rebuild()
        self.out.mkdir(parents=True, exist_ok=True)
        self.server.start()
        watched = [p for p in (self.project / "content", self.project / "layouts", self.project / "assets") if p.is_dir()]
        changes = _Changes(self.pending.set, [self.out, self.project / CACHE_DIR])
        for path in watched:
            self.observer.schedule(changes, str(path), recursive=True)
        self.observer.schedule(changes, str(self.project), recursive=False)  # h5press.yaml
        self.observer.start()
        self.builder.start()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self.pending.wait(timeout=0.2):
                continue
            time.sleep(DEBOUNCE_S)  # an editor's save is often several events
            self.pending.clear()
            self.rebuild()

    def url(self, path: str = "") -> str:
        return self.server.url(path)

    def stop(self) -> None:
        self.stopping.set()
        self.observer.stop()
        self.observer.join(timeout=5)
        self.server.stop()
