"""The component registry: interactive blocks written as `::: name id` with a YAML body.

Each component is one folder, `layouts/components/<name>/`, holding `schema.py` (a pydantic
model named `Schema`, plus `STATEFUL` and `ORDER`), `template.html`, and optionally
`style.scss` and `script.js`. `IMAGES`, optional in `schema.py`, names the block's top-level
keys whose values are images (relative to the page, as in Markdown): the parse stage resolves
them to campaign-relative paths and the build processes them, so a template writes
`<img src="h5img:{{ c.<key> }}" alt="…">` and gets the responsive `<img>`. The theme's
folders are read first; a site project's own `layouts/components/<name>/` adds a component or
replaces the theme's of that name.
"""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .assets import THEME_DIR

COMPONENTS_DIR = Path("layouts") / "components"


class ComponentError(Exception):
    """A component folder that cannot be loaded (a developer error, reported with its path)."""


@dataclass(frozen=True)
class _Definition:
    """What a component's `schema.py` declares."""

    schema: type[BaseModel]
    stateful: bool  # needs an id: it keeps state and sends events under that id
    order: int  # position of its CSS and JS among the components of a page
    check: Callable[[dict, Any], list[tuple[tuple, str]]] | None  # rules that need the campaign config
    images: tuple[str, ...]  # top-level keys whose values are images, processed like Markdown images


@dataclass(frozen=True)
class Component:
    """One component folder. Its `schema.py` is imported the first time a page uses the
    component (a site pays for the pydantic models of the components it uses, not of all), and
    again only when the file changes."""

    name: str
    folder: Path

    def file(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.is_file() else None

    @property
    def template(self) -> str:
        return f"components/{self.name}/template.html"

    @property
    def definition(self) -> _Definition:
        stat = (self.folder / "schema.py").stat()
        return _load(self.folder, stat.st_mtime_ns, stat.st_size)

    @property
    def schema(self) -> type[BaseModel]:
        return self.definition.schema

    @property
    def stateful(self) -> bool:
        return self.definition.stateful

    @property
    def order(self) -> int:
        return self.definition.order

    @property
    def check(self) -> Callable[[dict, Any], list[tuple[tuple, str]]] | None:
        return self.definition.check

    @property
    def images(self) -> tuple[str, ...]:
        return self.definition.images


@lru_cache(maxsize=256)
def _load(folder: Path, mtime_ns: int, size: int) -> _Definition:
    """A component's `schema.py`, imported; the file's time and size make an edit a new key."""
    spec = importlib.util.spec_from_file_location(f"h5press_component_{folder.name.replace('-', '_')}", folder / "schema.py")
    if spec is None or spec.loader is None:
        raise ComponentError(f"{folder}/schema.py cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the schema's annotations through it
    spec.loader.exec_module(module)
    schema = getattr(module, "Schema", None)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ComponentError(f"{folder}/schema.py must define `Schema`, a pydantic model")
    if not (folder / "template.html").is_file():
        raise ComponentError(f"{folder} has no template.html")
    images = getattr(module, "IMAGES", ())
    if not (isinstance(images, tuple) and all(isinstance(key, str) for key in images)):
        raise ComponentError(f"{folder}/schema.py: IMAGES must be a tuple of key names")
    return _Definition(schema, bool(getattr(module, "STATEFUL", True)), int(getattr(module, "ORDER", 50)),
                       getattr(module, "check", None), images)


def registry(root: Path) -> dict[str, Component]:
    """Every component available to the project at `root`, by name, as the folders are now: each
    build reads it once, so a component added or removed while `serve` runs is seen by the next."""
    found: dict[str, Component] = {}
    for base in (THEME_DIR / COMPONENTS_DIR, root / COMPONENTS_DIR):
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            if (folder / "schema.py").is_file():
                found[folder.name] = Component(folder.name, folder)
    return dict(sorted(found.items()))


def in_order(components: Iterable[Component]) -> list[Component]:
    """Components in the order their CSS and JS are included in a page."""
    return sorted(components, key=lambda c: (c.order, c.name))
