"""The whole-build fingerprint: a repeated `h5press build` with nothing changed is answered from
file metadata alone, before the pipeline (or its libraries) is even loaded.

Like make and ninja, it trusts each file's size and modification time (nanoseconds): the inputs
(content, the project's layouts and assets, h5press.yaml, every file of the h5press package and
the libraries that salt the build cache) and the outputs the last build wrote. Any difference, a
different command line, or a failed build in between, and the full build runs; it is then exact
(the content-hashed build cache decides what to rewrite). `--no-cache` skips both.
"""
from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ... import __version__
from .cache import CACHE_DIR
from .salt import LIBRARIES, package_files

FILE = "fingerprint.json"
PROJECT_PARTS = ("content", "layouts", "assets")

Stats = dict[str, list[int]]


@dataclass(frozen=True)
class Summary:
    """What the build printed besides its timing, replayed when nothing changed."""

    warnings: list[str]
    campaigns: int
    pages: int


def _walk(base: Path, into: Stats) -> None:
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in files:
            if not name.startswith("."):
                st = os.stat(os.path.join(folder, name))
                into[os.path.join(folder, name)] = [st.st_size, st.st_mtime_ns]


def inputs(root: Path) -> Stats:
    """Size and modification time of everything a build of `root` reads."""
    found: Stats = {}
    for base in [root / part for part in PROJECT_PARTS]:
        _walk(base, found)
    libraries = [spec.origin for name in LIBRARIES if (spec := importlib.util.find_spec(name)) and spec.origin]
    for path in [str(root / "h5press.yaml"), *_rule_files(root), *map(str, package_files()), *libraries]:
        if os.path.isfile(path):
            st = os.stat(path)
            found[path] = [st.st_size, st.st_mtime_ns]
    return found


def _rule_files(root: Path) -> list[str]:
    """The site's own compliance rule files (h5press.yaml `compliance.rules`), which may sit anywhere."""
    import yaml  # only when the fingerprint is taken

    try:
        site = yaml.safe_load((root / "h5press.yaml").read_text("utf-8")) or {}
        listed = site.get("compliance", {}).get("rules", []) if isinstance(site, dict) else []
    except (OSError, yaml.YAMLError, AttributeError):
        return []  # the build itself reports a broken h5press.yaml
    return [str(root / p) for p in listed if isinstance(p, str)] if isinstance(listed, list) else []


def outputs(out: Path) -> Stats:
    found: Stats = {}
    _walk(out, found)
    return found


def _file(root: Path) -> Path:
    return root / CACHE_DIR / FILE


def unchanged(root: Path, out: Path, command: str) -> Summary | None:
    """The last build's summary if it ran the same `command` and nothing it read or wrote has
    changed since; else None (and the caller builds)."""
    try:
        saved = json.loads(_file(root).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("version") != __version__ or saved.get("command") != command:
        return None
    if saved.get("inputs") != inputs(root) or saved.get("outputs") != outputs(out):
        return None
    return Summary(saved["warnings"], saved["campaigns"], saved["pages"])


def record(root: Path, out: Path, command: str, seen: Stats, summary: Summary) -> None:
    """Remember a successful build: `seen` are its inputs as stated before it read them, so an
    edit made during the build is noticed by the next one."""
    data = {"version": __version__, "command": command, "inputs": seen, "outputs": outputs(out),
            "warnings": summary.warnings, "campaigns": summary.campaigns, "pages": summary.pages}
    path = _file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{FILE}.new")
    temp.write_text(json.dumps(data), "utf-8")
    os.replace(temp, path)


def forget(root: Path) -> None:
    """A build that failed or was interrupted leaves no fingerprint behind."""
    _file(root).unlink(missing_ok=True)
