"""The keys rendered pages are cached under: each names every input the page's HTML was made
from, so a page is rendered again exactly when one of them changed.

A page reads its own parsed text (whose key covers the Markdown and what it resolved against),
its front matter, its layout and component templates and everything those extend, include or
import, and what the whole campaign shares: site and campaign config, the titles and order of
its pages (lists, previous/next), and the hashed names of its files.
"""
from __future__ import annotations

import json
from typing import Any

import jinja2

from ..render import template_sources
from .cache import digest


def campaign_inputs(site_json: str, campaign_json: str, name: str, summaries: list[dict[str, Any]], dev: bool,
                    asset_paths: list[str]) -> str:
    """What every page of a campaign depends on beyond itself and its templates."""
    listed = json.dumps(summaries, default=_jsonable, sort_keys=True)
    return digest(digest(site_json, campaign_json, name, listed), str(dev), *sorted(asset_paths))


def _jsonable(value: Any) -> Any:
    """JSON for keys: models as data, everything else by its text."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


class TemplateDigests:
    """Digest of a set of templates and all they reach, found once per set in a build; `every`
    (the digest of all templates) stands in when a template is named only at render time."""

    def __init__(self, env: jinja2.Environment, every: str) -> None:
        self.env = env
        self.every = every
        self.known: dict[tuple[str, ...], str] = {}

    def of(self, names: tuple[str, ...]) -> str:
        if names not in self.known:
            sources = template_sources(self.env, names)
            self.known[names] = self.every if sources is None else digest(*(x for pair in sources for x in pair))
        return self.known[names]


def page_key(inputs: str, templates: str, parsed_key: str, url: str, front_data: Any) -> str:
    """The front matter enters as the data YAML gave (the model is made from it by this h5press,
    part of the cache salt): its repr is ten times cheaper to make than a dump of the model."""
    return digest(inputs, templates, parsed_key, url, repr(front_data))
