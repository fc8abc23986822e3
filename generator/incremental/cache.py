"""The build cache: results of earlier builds, addressed by the hash of everything they depend on.

One SQLite file (`.h5press-cache/build.sqlite`). Entries are keyed by content hashes, so a
stale entry is never looked up, only left behind; the whole cache is dropped when the h5press
version or the site config differs from the build that wrote it. A build with the cache is
byte-identical to one without: the cache only ever returns what the same inputs produced.

Writes land on threads of their own, in order: SQLite works without holding the GIL, so the build
goes on with its next stage (the render after the parse, finishing after the render)
while a stage's results are stored. Reads and `close` wait for the writes before them.
"""
from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()

CACHE_DIR = ".h5press-cache"  # in the site project: this database, encoded images, the build fingerprint


class BuildCache:
    def __init__(self, path: Path | None, salt: str) -> None:
        """`path` None disables caching (every lookup misses, nothing is stored)."""
        self.db: sqlite3.Connection | None = None
        self._writes: list[Future[None]] = []
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # one thread at a time: see _wait
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS entry (kind TEXT, key TEXT, value BLOB, PRIMARY KEY (kind, key))")
        row = self.db.execute("SELECT v FROM meta WHERE k = 'salt'").fetchone()
        if row is None or row[0] != salt:
            self.db.execute("DELETE FROM entry")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('salt', ?)", (salt,))

    def get(self, kind: str, keys: Iterable[str]) -> dict[str, bytes]:
        if self.db is None:
            return {}
        self._wait()
        wanted = list(dict.fromkeys(keys))
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, value FROM entry WHERE kind = ? AND key IN ({marks})", (kind, *chunk))
            found.update(rows.fetchall())
        return found

    def put(self, kind: str, items: dict[str, bytes]) -> None:
        """Store `items` on a thread of its own that ends with the write; returns at once."""
        if self.db is not None and items:
            before = self._writes[-1] if self._writes else None
            writer = ThreadPoolExecutor(1, thread_name_prefix="h5press-cache")
            self._writes.append(writer.submit(self._insert, [(kind, k, v) for k, v in items.items()], before))
            writer.shutdown(wait=False)

    def _insert(self, rows: list[tuple[str, str, bytes]], before: Future[None] | None) -> None:
        assert self.db is not None
        if before is not None:
            before.result()  # writes land in order, and one thread at a time uses the connection
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def _wait(self) -> None:
        """Until every write made so far has landed (its error, if any, raised here)."""
        writes, self._writes = self._writes, []
        for write in writes:
            write.result()

    def get_objects(self, kind: str, keys: Iterable[str]) -> dict[str, Any]:
        return {k: pickle.loads(v) for k, v in self.get(kind, keys).items()}

    def put_objects(self, kind: str, items: dict[str, Any]) -> None:
        self.put(kind, {k: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL) for k, v in items.items()})

    def close(self) -> None:
        if self.db is not None:
            try:
                self._wait()
            finally:
                self.db.close()
                self.db = None
