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
from typing import Any
from urllib.parse import urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..compliance.config import SiteCompliance
from ..generator.assets import THEME_DIR
from ..generator.build import BuildOptions, BuildResult, build
from ..generator.errors import BuildError
from ..generator.incremental.cache import CACHE_DIR
from ..generator.incremental.dev import DevState, rebuild_page
from .static import Handler, StaticServer

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
        self.connections = 0  # pages that connected so far (a reloaded page connects anew)

    def subscribe(self) -> queue.Queue[tuple[str, str]]:
        q: queue.Queue[tuple[str, str]] = queue.Queue()
        with self.lock:
            self.clients.append(q)
            self.connections += 1
            if self.failure:
                q.put(("failed", json.dumps({"message": self.failure})))
        return q

    def unsubscribe(self, q: queue.Queue[tuple[str, str]]) -> None:
        with self.lock:
            self.clients.remove(q)

    def send(self, event: str, data: dict[str, Any] | None = None) -> None:
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
    """Collects what changed between two builds; `notify` wakes the builder."""

    def __init__(self, notify: Callable[[], None], ignored: list[Path]) -> None:
        self.notify = notify
        self.ignored = ignored
        self.lock = threading.Lock()
        self.edited: set[Path] = set()  # files whose content changed in place
        self.structural = False  # a file or folder created, deleted or moved

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = Path(str(event.src_path))
        if event.is_directory and event.event_type == "modified" or event.event_type == "opened":
            return
        if any(path.is_relative_to(i) for i in self.ignored):
            return
        with self.lock:
            if event.event_type in ("modified", "closed", "closed_no_write") and not event.is_directory:
                if event.event_type != "closed_no_write":
                    self.edited.add(path)
            else:
                self.structural = True
        if event.event_type != "closed_no_write":
            self.notify()

    def take(self) -> tuple[set[Path], bool]:
        """The edited files and whether anything structural happened since the last call."""
        with self.lock:
            taken = (self.edited, self.structural)
            self.edited, self.structural = set(), False
        return taken


class DevServer:
    """Build, serve and watch a project; `start()` returns once the first build is served."""

    def __init__(self, project: Path, out: Path, host: str = "127.0.0.1", port: int = 8000,
                 log: Callable[[str], None] = print, api_url: str | None = None) -> None:
        self.project = project.resolve()
        self.api_url = api_url
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
        reports = self.project / SiteCompliance().report_dir  # written by every build: not a change to rebuild for
        self.changes = _Changes(self.pending.set, [self.out, self.project / CACHE_DIR, reports])
        self.state: DevState | None = None  # the last good build, for one-page rebuilds
        self.watched: set[Path] = set()

    def rebuild(self, edited: set[Path] | None = None) -> BuildResult | None:
        """Rebuild after a save: the edited pages alone when that is all that changed, else everything."""
        started = time.perf_counter()
        try:
            result = self._pages(edited) if edited else None
            if result is None:
                self.state = None
                result = build(BuildOptions(self.project, self.out, dev=True, api_url=self.api_url))
                self.state = result.state
        except BuildError as exc:
            self.log(exc.format_message())
            self.broadcaster.send("failed", {"message": exc.format_message()})
            return None
        finally:
            self.builds += 1
        ms = (time.perf_counter() - started) * 1000
        if result.written:
            self.log(f"rebuilt in {ms:.0f} ms: {len(result.written)} file(s) changed; reloading pages")
            self.broadcaster.send("reload", {"paths": result.written})
        else:
            self.broadcaster.send("ok")
        return result

    def _pages(self, edited: set[Path]) -> BuildResult | None:
        if self.state is None or any(p.suffix != ".md" for p in edited):
            return None
        written: list[str] = []
        for path in sorted(edited):
            changed = rebuild_page(self.state, self.out, path)
            if changed is None:
                return None
            written += changed
        return BuildResult(self.out, {}, [], written, rendered=len(edited), state=self.state)

    def start(self) -> None:
        self.rebuild()
        self.out.mkdir(parents=True, exist_ok=True)
        self.server.start()
        self.observer.schedule(self.changes, str(self.project), recursive=False)  # h5press.yaml, new source folders
        self.watch_sources()
        self.observer.start()
        self.builder.start()

    def watch_sources(self) -> None:
        """Watch content/, layouts/ and assets/, also once they appear (a first component folder
        creates layouts/ in a project that had none)."""
        for path in (self.project / "content", self.project / "layouts", self.project / "assets"):
            if path.is_dir() and path not in self.watched:
                self.observer.schedule(self.changes, str(path), recursive=True)
                self.watched.add(path)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            if not self.pending.wait(timeout=0.2):
                continue
            time.sleep(DEBOUNCE_S)  # an editor's save is often several events
            self.pending.clear()
            edited, structural = self.changes.take()
            if structural:
                self.watch_sources()
            self.rebuild(None if structural else edited)

    def url(self, path: str = "") -> str:
        return self.server.url(path)

    def stop(self) -> None:
        self.stopping.set()
        self.observer.stop()
        self.observer.join(timeout=5)
        self.server.stop()
