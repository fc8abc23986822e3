"""What every cached result depends on besides its own inputs: h5press's code and templates, the
libraries that shape the output, and the site config. Their digest salts the build cache, so an
edited module (an editable install, a bugfix release that kept its version), another library
release or a changed `h5press.yaml` renders every page again instead of serving stale output.
"""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from ... import __version__
from .cache import digest

PACKAGE = Path(__file__).resolve().parents[2]  # the installed h5press package
DATA_DIRS = ("layouts", "assets")  # package data beside the Python packages

# Libraries whose releases can change the bytes of dist/: import name → distribution name.
LIBRARIES = {
    "markdown_it": "markdown-it-py", "mdit_py_plugins": "mdit-py-plugins", "jinja2": "Jinja2", "markupsafe": "MarkupSafe",
    "PIL": "pillow", "sass": "libsass", "minify_html": "minify-html", "rjsmin": "rjsmin", "brotli": "brotli",
    "deflate": "deflate", "pydantic": "pydantic", "pydantic_core": "pydantic-core", "segno": "segno", "yaml": "PyYAML",
}


def _shipped(folder: str, names: list[str]) -> bool:
    """A folder of the package as a wheel ships it: a Python package or package data. In a
    checkout the package root also holds the demo content, tests and build outputs, which are not."""
    return (not folder.startswith((".", "__pycache__")) and
            ("__init__.py" in names or folder in DATA_DIRS))


def package_files() -> list[Path]:
    """Every file of the installed package that can shape a build: its modules, templates and assets."""
    found = [PACKAGE / name for name in sorted(os.listdir(PACKAGE)) if name.endswith(".py")]
    for name in sorted(os.listdir(PACKAGE)):
        top = PACKAGE / name
        if not top.is_dir() or not _shipped(name, os.listdir(top)):
            continue
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
            found += [Path(folder, f) for f in sorted(files) if not f.startswith(".") and not f.endswith(".pyc")]
    return found


@cache
def code_digest() -> str:
    """Digest of h5press's own files, read once per process (a running `serve` picks up an
    edited h5press only when restarted, as Python itself does)."""
    return digest(*(part for path in package_files()
                    for part in (path.relative_to(PACKAGE).as_posix(), path.read_bytes())))


def library_versions() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version  # not needed by a no-change build

    found = []
    for distribution in LIBRARIES.values():
        try:
            found.append(f"{distribution} {version(distribution)}")
        except PackageNotFoundError:
            found.append(f"{distribution} (not installed)")
    return found


def cache_salt(config_json: str) -> str:
    """The one key every build cache entry is stored under."""
    return digest(__version__, code_digest(), *library_versions(), config_json)
