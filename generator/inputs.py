"""What every stage of one build reads: the site and its config, the templates, the compiled
theme, the component registry, and where diagnostics, cached results and finished files go.
`build()` makes it once; stages read it and add only diagnostics and staged files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from .components import Component
from .config import SiteConfig
from .errors import Diagnostics
from .incremental.cache import BuildCache
from .load import Site
from .theme import Theme
from .write import Staging


@dataclass
class BuildInputs:
    site: Site
    config: SiteConfig
    env: jinja2.Environment
    theme: Theme
    diags: Diagnostics
    workers: int
    image_cache: Path  # encoded images, kept between builds
    cache: BuildCache
    templates: str  # digest of every layout and component template, theme's and project's
    components: dict[str, Component]  # this build's registry
    dev: bool = False  # `h5press serve`: no service worker, nothing compressed
    staging: Staging | None = None  # where finished pages go as soon as they are rendered (production builds)
