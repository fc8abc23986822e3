"""Stage 6, write: precompress text files and replace the output folder in one step.

Output is assembled in memory, written to a sibling temp folder and swapped in by rename, so
a failed or interrupted build never leaves a half-written or emptied `dist/`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import brotli
import deflate

from .incremental.cache import BuildCache, digest
from .workers import fork_map

TEXT = {".html", ".css", ".js", ".json", ".webmanifest", ".svg", ".xml", ".txt", ".conf"}


def is_text(path: str) -> bool:
    return PurePosixPath(path).suffix in TEXT


def effort(path: str) -> tuple[int, int]:
    """Brotli quality and libdeflate level for a file. Hashed assets are shared by every page
    and cached for a year: worth both compressors' slowest, best levels. Pages change with each
    build and are small: Brotli 5 and libdeflate 9 make them about 11 % and 4 % larger than the
    best levels (≈220 and ≈100 bytes on a typical article) and are 35× and 7× faster."""
    return (11, 12) if "/assets/" in f"/{path}" else (5, 9)


def compress(path: str, data: bytes) -> tuple[bytes, bytes]:
    """Brotli and gzip of one file. The gzip is libdeflate's: the format zlib writes, as small
    at the same level and about twice as fast; its header has no timestamp, so output is
    reproducible."""
    quality, level = effort(path)
    return brotli.compress(data, quality=quality), bytes(deflate.gzip_compress(data, level))


def _compression_key(path: str, data: bytes) -> str:
    return digest(data, repr(effort(path)))


def compress_early(files: dict[str, bytes], cache: BuildCache) -> Future[dict[str, tuple[bytes, bytes]]]:
    """Brotli and gzip of the text files among `files`, made in a background thread while the
    build goes on (Brotli and libdeflate release the GIL): shared assets are known before the
    pages render, and their slowest, best levels need not wait for the pages."""
    todo = {path: data for path, data in files.items() if is_text(path)}
    keys = {path: _compression_key(path, data) for path, data in todo.items()}
    known = cache.get_objects("compress", keys.values())  # SQLite stays in this thread
    pool = ThreadPoolExecutor(1)
    future = pool.submit(lambda: {path: known.get(keys[path]) or compress(path, data) for path, data in todo.items()})
    pool.shutdown(wait=False)  # its thread ends after this one job
    return future


def precompress(files: dict[str, bytes], workers: int, cache: BuildCache,
                ready: dict[str, tuple[bytes, bytes]] | None = None) -> dict[str, bytes]:
    """`.br` and `.gz` beside every text file. `ready` were compressed already (pages, while
    rendering, or assets by `compress_early`). Results are cached by content and level."""
    ready = ready or {}
    todo = sorted((p, d) for p, d in files.items() if is_text(p) and not p.startswith("_") and p != "nginx.conf")
    keys = {path: _compression_key(path, data) for path, data in todo}
    known = cache.get_objects("compress", [keys[path] for path, _ in todo if path not in ready])
    fresh = {keys[path]: pair for path, pair in ready.items() if path in keys}
    missing = [(path, data) for path, data in todo if keys[path] not in known and keys[path] not in fresh]
    made = fork_map(lambda item: compress(*item), missing, workers)
    fresh.update({keys[path]: pair for (path, _), pair in zip(missing, made, strict=True)})
    cache.put_objects("compress", fresh)
    known.update(fresh)
    out: dict[str, bytes] = {}
    for path, _ in todo:
        out[path + ".br"], out[path + ".gz"] = known[keys[path]]
    return out


def file_hashes(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}


class Staging:
    """The next content of `out`, filled file by file in a sibling folder and swapped in whole
    by `commit`, so a failed or interrupted build never leaves a half-written `out`. Files can
    be placed while the build goes on (pages as they are rendered).

    `previous` are the hashes of what the last build wrote to `out`: a file whose bytes did not
    change is hard-linked from there instead of written again."""

    def __init__(self, out: Path, previous: dict[str, str] | None = None) -> None:
        self.out = out.resolve()
        self.previous = previous or {}
        self.tmp = self.out.parent / f".{self.out.name}.new-{os.getpid()}"
        self.placed: set[str] = set()
        self.written: list[str] = []
        self._root = str(self.tmp)
        self._dirs: set[str] = set()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)

    def put(self, rel: str, data: bytes, digest: str | None = None) -> bool:
        """Place one file (once: a path placed already is left as it is); True if written.
        Plain os calls on string paths: a cold build places thousands of files."""
        if rel in self.placed:
            return False
        self.placed.add(rel)
        target = os.path.join(self._root, rel)
        folder = os.path.dirname(target)
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)
        if rel in self.previous and self.previous[rel] == (digest or hashlib.sha256(data).hexdigest()) \
                and _link(self.out / rel, target):
            return False
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self.written.append(rel)
        return True

    def commit(self) -> list[str]:
        """Swap the staged folder in for `out`; the paths written (not linked), sorted."""
        old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
        try:
            if self.out.exists():
                os.rename(self.out, old)
            os.rename(self.tmp, self.out)
        except BaseException:
            self.abort()
            if old.exists() and not self.out.exists():
                os.rename(old, self.out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return sorted(self.written)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def replace_dir(out: Path, files: dict[str, bytes], previous: dict[str, str] | None = None,
                hashes: dict[str, str] | None = None) -> list[str]:
    """Make `files` (relative path → bytes) the content of `out`, swapped in atomically;
    `hashes` of `files`, when the caller has them already. Returns the paths written."""
    staging = Staging(out, previous)
    try:
        for rel in sorted(files):
            staging.put(rel, files[rel], hashes[rel] if hashes else None)
    except BaseException:
        staging.abort()
        raise
    return staging.commit()


def update_in_place(out: Path, files: dict[str, bytes], previous: dict[str, str] | None,
                    hashes: dict[str, str] | None = None) -> list[str]:
    """Write only the files that changed, each replaced atomically, and remove the ones gone.

    For `h5press serve`: a whole-folder swap costs a link per file, too slow for a save-to-reload
    loop on a large site; a half-updated folder for a few milliseconds does not matter there."""
    if previous is None or not out.is_dir():
        return replace_dir(out, files, previous, hashes)
    written = write_changed(out, files, dict(previous), hashes)
    for rel in set(previous) - set(files):
        (out / rel).unlink(missing_ok=True)
    return written


def write_changed(out: Path, files: dict[str, bytes], known: dict[str, str], hashes: dict[str, str] | None = None) -> list[str]:
    """Write the files whose hash differs from `known` (updated), each replaced atomically."""
    hashes = hashes or file_hashes(files)
    written = []
    for rel in sorted(files):
        if known.get(rel) != hashes[rel]:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.new")
            temp.write_bytes(files[rel])
            os.replace(temp, target)
            known[rel] = hashes[rel]
            written.append(rel)
    return written


def _link(source: Path, target: str | Path) -> bool:
    try:
        os.link(source, target)
        return True
    except OSError:
        return False


def unchanged(out: Path, hashes: dict[str, str], previous: dict[str, str] | None) -> bool:
    """True when the last build wrote these very files and `out` still has them."""
    if previous is None or previous != hashes or not out.is_dir():
        return False
    return _matches(out, previous)


def _matches(out: Path, hashes: dict[str, str]) -> bool:
    """The folder still holds the files of the last build, by name (not re-hashed: a no-change
    build must stay cheap; a file edited by hand in place is not noticed)."""
    present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    return present == set(hashes)
