"""The text visitors read, located to the character: Markdown prose, front matter, component
blocks and campaign.yaml become `Span`s whose every character knows its file line and column.

YAML strings are read from the composed node tree, so a rule sees the value a page shows while
a finding points at the character in the file; Markdown prose is read from the raw lines of the
top-level blocks markdown-it finds, leaving out code and HTML comments.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from ..generator.load import Campaign, Page
from ..generator.markdown import parser
from ..generator.parse import Region, regions
from ..generator.yamldoc import YamlDoc, YamlSyntaxError, load_yaml

Where = str  # "markdown", "front", "campaign" or "block:<component>"
SKIPPED_KEYS = {"compliance"}  # waivers quote the text they excuse: never a finding themselves
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Span:
    """One run of visible text, the source text it was read from, and where that starts: the
    1-based (line, column) of each character is worked out only when a rule reports one."""

    source: str
    where: Where
    text: str
    raw: str
    origin: tuple[int, int]

    @cached_property
    def at(self) -> tuple[tuple[int, int], ...]:
        return _raw_positions(self.text, self.raw, *self.origin)

    def position(self, index: int) -> tuple[int, int]:
        return self.at[min(index, len(self.at) - 1)] if self.at else self.origin


@dataclass
class BlockDoc:
    """A component block as written: its name, id, opener line and YAML (key → line)."""

    source: str
    name: str
    id: str | None
    line: int
    doc: YamlDoc


@dataclass
class CampaignText:
    """Everything one campaign shows, ready for the rules."""

    campaign: Campaign
    root: Path
    spans: list[Span] = field(default_factory=list)
    blocks: list[BlockDoc] = field(default_factory=list)
    pages: dict[str, list[Span]] = field(default_factory=dict)  # page source → its spans (front matter, body, blocks)
    lines: dict[str, list[str]] = field(default_factory=dict)  # file → its lines, read when a key's position is asked

    def position(self, source: str, line: int | None, key: str | int | None = None) -> tuple[int, int]:
        """(line, column) of a key on a line of a file: where `key` is written, else the line's first character."""
        row = line or 1
        if source not in self.lines:
            self.lines[source] = _read(self.root / source).split("\n")
        text = self.lines[source]
        written = text[row - 1] if 0 < row <= len(text) else ""
        at = written.find(f"{key}:") if isinstance(key, str) else -1
        return row, (at if at >= 0 else len(written) - len(written.lstrip())) + 1


def _raw_positions(value: str, raw: str, line: int, col: int) -> tuple[tuple[int, int], ...]:
    """Where each character of a value sits in its raw source, which starts at (line, col):
    characters are matched in order, skipping the quotes, indentation and line breaks the value lost."""
    places, row, column = [], line, col
    for ch in raw:
        places.append((row, column))
        row, column = (row + 1, 1) if ch == "\n" else (row, column + 1)
    out, j = [], 0
    for ch in value:
        k = raw.find(ch, j) if not ch.isspace() else j
        if k < 0 or (ch.isspace() and k >= len(raw)):
            k = min(j, len(raw) - 1)
        out.append(places[max(k, 0)] if places else (line, col))
        j = k + 1 if not ch.isspace() and k >= 0 else j
    return tuple(out)


def yaml_spans(text: str, source: str, where: Where, line_offset: int = 0) -> Iterator[Span]:
    """Every string value of a YAML document (keys of SKIPPED_KEYS left out), with positions."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return  # the load stage reports malformed YAML with its line
    if node is not None:
        yield from _walk(node, text, source, where, line_offset)


def _walk(node: Any, text: str, source: str, where: Where, offset: int) -> Iterator[Span]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value not in SKIPPED_KEYS:
                yield from _walk(value, text, source, where, offset)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, text, source, where, offset)
    elif isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str") and node.value.strip():
        raw = text[node.start_mark.index:node.end_mark.index]
        yield Span(source, where, node.value, raw, (node.start_mark.line + 1 + offset, node.start_mark.column + 1))


def prose_spans(page: Page, plugins: tuple[tuple[str, dict[str, Any]], ...],
                found: list[Region] | None = None) -> tuple[list[Span], list[BlockDoc]]:
    """The Markdown body: one span per top-level block of prose, and the component blocks; from the
    regions the build's parse stage `found`, or parsed here (`h5press lint`)."""
    spans: list[Span] = []
    blocks: list[BlockDoc] = []
    lines = page.body.split("\n")
    for first, end, meta in found if found is not None else regions(parser(plugins).parse(page.body)):
        if meta is not None:
            body_line = page.body_line + first + 1
            blocks += _block(page.source, meta, body_line - 1)
            spans += yaml_spans(meta["body"], page.source, f"block:{meta['name']}", body_line - 1)
        else:
            spans.append(_lines_span(page.source, lines[first:end], page.body_line + first))
    return spans, blocks


def _block(source: str, meta: dict[str, Any], line: int) -> list[BlockDoc]:
    try:
        doc = load_yaml(meta["body"], offset=line)
    except YamlSyntaxError:
        return []  # reported by the parse stage
    return [BlockDoc(source, meta["name"], meta["id"], line, doc)]


def _lines_span(source: str, lines: list[str], first: int) -> Span:
    """Consecutive Markdown lines as one text (a Chinese sentence runs on over line breaks)."""
    text = lines[0] + "".join(line.lstrip() for line in lines[1:]) if lines else ""
    return Span(source, "markdown", text, "\n".join(lines), (first, 1))


def front_spans(page: Page) -> list[Span]:
    """The front matter's strings, from the tree the load stage composed."""
    node = page.front.node
    return list(_walk(node, page.front_text, page.source, "front", 1)) if node is not None else []


def _read(path: Path) -> str:
    return path.read_text("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")


def campaign_text(root: Path, campaign: Campaign, plugins: tuple[tuple[str, dict[str, Any]], ...],
                  found: dict[str, list[Region]] | None = None) -> CampaignText:
    """The campaign's pages as the load stage read them (already validated), and its campaign.yaml,
    into spans and blocks; `found`: each page's regions (by source) as the build's parse stage saw them."""
    out = CampaignText(campaign, root)
    config_text = _read(root / campaign.source)
    out.lines[campaign.source] = config_text.split("\n")
    out.spans += yaml_spans(config_text, campaign.source, "campaign")
    for page in campaign.pages:
        prose, blocks = prose_spans(page, plugins, found.get(page.source) if found is not None else None)
        out.pages[page.source] = front_spans(page) + prose
        out.spans += out.pages[page.source]
        out.blocks += blocks
    return out
