"""Stage 2, parse: page Markdown → HTML fragment, with its links, images, anchors and blocks.

The page is parsed by markdown-it-py (the dialect and the site's plugins are in `markdown`)
into a token stream with source line maps; one walk over the tokens, in document order,
turns links between Markdown files into links between pages and images into placeholders
for the assets stage, gives headings their ids, applies attribute lists (`{: .note }`),
validates component blocks against their schemas and checks raw HTML and every attribute
against the CSP, each finding with its file line. The tokens then render to HTML.
"""
from __future__ import annotations

import pickle
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .components import Component
from .config import ID_RE, CampaignConfig
from .errors import Diagnostic, Diagnostics
from .incremental.cache import BuildCache, digest
from .load import Campaign, Page
from .markdown import COMPONENT, VARIANT, parser
from .schema import did_you_mean, format_path, validate
from .workers import fork_map
from .yamldoc import YamlSyntaxError, load_yaml

IMG_SCHEME = "h5img:"  # placeholder src, replaced once the image has been processed
FILE_SCHEME = "h5file:"  # placeholder href of a linked file (a PDF, say), replaced by its hashed URL


@dataclass
class Link:
    """A link to another page, checked once every page's anchors are known."""

    line: int | None
    slug: str  # campaign-relative slug of the target
    fragment: str


@dataclass
class Block:
    """A component block, validated against its schema; rendered by the render stage."""

    name: str
    id: str | None
    line: int | None
    config: dict  # the schema's model, dumped to JSON-compatible data


@dataclass
class Parsed:
    html: str
    ids: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # campaign-relative image paths
    links: list[Link] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # campaign-relative paths of linked files
    blocks: list[Block] = field(default_factory=list)
    variants: list[tuple[str, str, int | None]] = field(default_factory=list)  # (experiment, variant, line)
    regions: list[Region] = field(default_factory=list)  # what visitors read, for the compliance gate
    diagnostics: list[Diagnostic] = field(default_factory=list)
    key: str = ""  # hash of everything the parse depended on (set by the build)


# A top-level stretch of a page body: (first row, end row) of the body, and a component block's
# meta (name, id, raw YAML body) or None for prose. Code, and HTML comments, are not read by visitors.
Region = tuple[int, int, dict[str, Any] | None]


def regions(tokens: list[Token]) -> list[Region]:
    """The prose blocks and component blocks at the top level of a page, from its token stream."""
    out: list[Region] = []
    for token in tokens:
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        if token.type == COMPONENT:
            out.append((token.map[0], token.map[1], dict(token.meta)))
        elif token.type not in ("fence", "code_block") and not (token.type == "html_block"
                                                                   and token.content.lstrip().startswith("<!--")):
            out.append((token.map[0], token.map[1], None))
    return out


@dataclass
class _Context:
    page: Page
    campaign_dir: Path
    slugs: frozenset[str]
    parsed: Parsed
    components: dict[str, Component]  # the build's registry

    def line(self, row: str | int) -> int:
        """File line of a 1-based row of the page body (a source position)."""
        return self.page.body_line + int(row) - 1

    def report(self, line: int | None, message: str, level: str = "error") -> None:
        self.parsed.diagnostics.append(Diagnostic(self.page.source, line, message, level))  # type: ignore[arg-type]


def line_in(body: str, needle: str, first_line: int) -> int | None:
    """File line of the first occurrence of `needle` in a page body."""
    at = body.find(needle)
    return None if at < 0 else first_line + body.count("\n", 0, at)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith(("/", "#")))


def resolve_local(page: Page, src: str, campaign_dir: Path) -> str | None:
    """Campaign-relative path of a file referenced from `page`, or None if missing or outside
    the campaign folder (only the campaign's own files are published with it)."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page.slug), src))
    if src.startswith("/") or path.startswith("../") or path == ".." or not (campaign_dir / path).is_file():
        return None
    return path


# -- component blocks -------------------------------------------------------------------------

def _component(ctx: _Context, token: Token, line: int) -> None:
    """A `::: name id` token → a validated `Block`; the token renders as its placeholder."""
    meta = token.meta
    if meta["unclosed"]:
        nested = " (blocks do not nest)" if meta["nested"] else ""
        ctx.report(line, f'"{meta["opener"]}" is not closed by a ":::" line{nested}')
        return
    block = _block(ctx, meta["name"], meta["id"], meta["body"], line)
    if block:
        meta["index"] = len(ctx.parsed.blocks)
        ctx.parsed.blocks.append(block)


def _block(ctx: _Context, name: str, ident: str | None, body: str, line: int) -> Block | None:
    known = ctx.components
    component = known.get(name)
    if component is None:
        ctx.report(line, f'unknown component "{name}"{did_you_mean(name, list(known))}; components: {", ".join(known)}')
        return None
    label = f'{name} "{ident}"' if ident else name
    if ident is not None and not ID_RE.match(ident):
        ctx.report(line, f"{label}: id must match [a-z0-9][a-z0-9-]*")
        return None
    if ident is None and component.stateful:
        ctx.report(line, f"{name}: an id is required (`::: {name} my-id`): it names the component's saved state and events")
        return None
    try:
        doc = load_yaml(body, offset=line)
    except YamlSyntaxError as exc:
        ctx.report(exc.line, f"{label}: {exc}")
        return None
    report = Diagnostics()
    model = validate(component.schema, doc, ctx.page.source, report, label)
    ctx.parsed.diagnostics.extend(report.items)
    if model is None:
        return None
    config = model.model_dump(mode="json")
    for key in component.images:
        at = doc.line_of((key,)) or line
        if isinstance(config.get(key), str) and not _block_image(ctx, config, key, f"{label}: {key}", at):
            return None
    return Block(name, ident, line, config)


def _block_image(ctx: _Context, config: dict, key: str, label: str, line: int) -> bool:
    """An image named by a block key, collected like a Markdown image; the key's value becomes
    its campaign-relative path, so the template can write `src="h5img:{{ c.<key> }}"`."""
    image, problem = _local_image(ctx, config[key], config[key])
    if image is None:  # a data: URL cannot be written as h5img: either: only the campaign's files
        ctx.report(line, f"{label}: {problem or _remote_image(config[key])}")
        return False
    config[key] = image
    return True


def _remote_image(shown: str) -> str:
    return f'remote image "{shown}": the Content-Security-Policy allows only the bundle\'s own images; save it under images/'


def _local_image(ctx: _Context, src: str, shown: str) -> tuple[str | None, str | None]:
    """A page's image: its campaign-relative path (collected for the assets stage), or why
    there is none (None, None for a data: URL, which needs no file)."""
    if not is_local(src):
        return None, None if src.startswith("data:") else _remote_image(shown)
    image = resolve_local(ctx.page, unquote(urlsplit(src).path), ctx.campaign_dir)
    if image is None:
        return None, f'image not found: "{shown}" (looked in {posixpath.dirname(ctx.page.source) or "."}/)'
    ctx.parsed.images.append(image)
    return image, None


# -- attribute lists, ids, links and images ---------------------------------------------------

_ATTR_LIST = r"\{:?[ ]*([^}\n ][^}\n]*?)[ ]*\}"  # `{: #id .class key=value }`, as Python-Markdown writes it
_ATTR_TOKEN = re.compile(r"""([#.])([\w-]+)|([\w-]+)=(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_HEADING_ATTRS = re.compile(r"[ ]+" + _ATTR_LIST + "$")
_PARAGRAPH_ATTRS = re.compile(r"[ ]*" + _ATTR_LIST + "[ ]*")
_INLINE_ATTRS = re.compile(_ATTR_LIST)
_ALIGN = re.compile(r"text-align:(left|right|center)")


def _attr_list(text: str | None) -> dict[str, str] | None:
    """`#id .a .b key=value` → attributes; None when it is not an attribute list after all."""
    if text is None or _ATTR_TOKEN.sub(" ", text).strip():
        return None
    found: dict[str, str] = {}
    for mark, name, key, *values in _ATTR_TOKEN.findall(text):
        if mark == "#":
            found["id"] = name
        elif mark == ".":
            found["class"] = f"{found['class']} {name}" if "class" in found else name
        else:
            found[key] = next((v for v in values if v), "")
    return found


def slugify(text: str) -> str:
    """A heading's anchor: Chinese and other letters kept, punctuation dropped, spaces → '-'
    (`## 存款 保险` → `存款-保险`)."""
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _unique(ident: str, used: set[str]) -> str:
    """`x`, then `x_1`, `x_2`, … for headings with the same text."""
    base, n = ident, 0
    while ident in used or not ident:
        n += 1
        ident = f"{base}_{n}"
    used.add(ident)
    return ident


def _plain(children: list[Token]) -> str:
    """The text a heading shows, without markup."""
    return "".join(" " if c.type in ("softbreak", "hardbreak") else c.content
                   for c in children if c.type in ("text", "code_inline", "softbreak", "hardbreak"))


def _csp_blocks(attribute: str) -> bool:
    """Inline styles and event handlers: the Content-Security-Policy refuses both."""
    return attribute == "style" or attribute.lower().startswith("on")


class _Walk:
    """One page's tokens, in document order: rewritten for the bundle and checked."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.used: set[str] = set()
        self.blocks = OpenElements()  # what HTML blocks opened: Markdown may sit between opener and closer
        self.level = 1  # the layout's <h1>, the page title, comes first

    def run(self, tokens: list[Token]) -> None:
        before = self.ctx.line(0)  # the file line before the body: a token on row r (1-based) sits on before + r
        line = before + 1
        for i, token in enumerate(tokens):
            kind = token.type
            if token.map is not None:
                line = before + token.map[0] + 1
            if kind == "inline" and token.children is not None:
                opener = tokens[i - 1]
                if opener.type == "heading_open":
                    self.heading(opener, token.children, line)
                elif opener.type == "paragraph_open" and not opener.hidden and token.map:
                    self.paragraph(opener, token.children, before + token.map[1])
                self.inline(token.children, line)
            elif kind == COMPONENT:
                _component(self.ctx, token, line)
            elif kind == VARIANT + "_open":
                self.variant(token.meta, line)
            elif kind == "html_block":
                _check_raw_html(self.ctx, token.content, line, self.blocks, "before it in the page")
            elif kind in ("th_open", "td_open") and (align := _ALIGN.fullmatch(str(token.attrs.get("style", "")))):
                del token.attrs["style"]  # a table column's alignment becomes a class the CSP allows
                token.attrs["class"] = f"h5-align-{align.group(1)}"
            if token.attrs:
                self.refuse(token, line)
        self.report(self.blocks, "in the page", "left open, it would swallow the page's footer and its risk disclosure")

    def report(self, elements: OpenElements, scope: str, harm: str) -> None:
        if not (elements.problems or elements.stack):
            return
        for line, message in [*elements.problems, *elements.unclosed(scope, harm)]:
            self.ctx.report(line, message)
        elements.problems.clear()

    def variant(self, meta: dict[str, Any], line: int) -> None:
        """A `::: variant` block, checked against the campaign's experiments with the other blocks."""
        if meta["unclosed"]:
            self.ctx.report(line, f'"{meta["opener"]}" is not closed by a ":::" line (variant blocks do not nest)')
        self.ctx.parsed.variants.append((meta["experiment"], meta["variant"], line))

    def apply(self, token: Token, extra: dict[str, str], line: int) -> None:
        """An attribute list laid over the element's own attributes; what the CSP blocks is refused."""
        for key, value in extra.items():
            if key == "style":
                self.ctx.report(line, f'style="{value}" on <{token.tag}>: the Content-Security-Policy blocks inline styles; '
                                      "use a class ({: .name }) styled in assets/scss")
            elif key.lower().startswith("on"):
                self.ctx.report(line, f'event-handler attribute {key}="…" on <{token.tag}>: '
                                      "the Content-Security-Policy blocks it")
            elif key == "class" and "class" in token.attrs:
                token.attrs["class"] = f"{token.attrs['class']} {value}"
            else:
                token.attrs[key] = value

    def refuse(self, token: Token, line: int) -> None:
        """Attributes a plugin put on an element are held to the same CSP rules as attribute lists."""
        blocked = {k: str(v) for k, v in token.attrs.items() if _csp_blocks(k)}
        if blocked:
            token.attrs = {k: v for k, v in token.attrs.items() if k not in blocked}
            self.apply(token, blocked, line)

    def heading(self, opener: Token, children: list[Token], line: int) -> None:
        last = children[-1] if children else None
        found = _HEADING_ATTRS.search(last.content) if last is not None and last.type == "text" else None
        extra = _attr_list(found.group(1)) if found else None
        if last is not None and found and extra is not None:
            last.content = last.content[:found.start()]
            self.apply(opener, extra, line)
        if "id" in opener.attrs:
            self.used.add(str(opener.attrs["id"]))
        else:
            opener.attrs = {"id": _unique(slugify(_plain(children)), self.used), **opener.attrs}
        self.ctx.parsed.ids.append(str(opener.attrs["id"]))
        level = int(opener.tag[1])
        if level > self.level + 1:
            self.ctx.report(line, f"heading level skips from h{self.level} to h{level}: screen readers navigate by level; "
                                  f"use {'#' * (self.level + 1)} here", "warning")
        self.level = level

    def paragraph(self, opener: Token, children: list[Token], last_line: int) -> None:
        """`{: .note }` alone on a paragraph's last line: the attributes go to its <p>."""
        if len(children) < 2 or children[-2].type != "softbreak" or children[-1].type != "text":
            return
        found = _PARAGRAPH_ATTRS.fullmatch(children[-1].content)
        extra = _attr_list(found.group(1)) if found else None
        if extra is not None:
            del children[-2:]
            self.apply(opener, extra, last_line)

    def inline(self, children: list[Token], line: int) -> None:
        """Links, images and raw HTML inside a paragraph, heading or cell, each at its own line. An
        element raw HTML opens there must close there: the paragraph's end would cut it off."""
        opened: list[Token] = []
        elements = OpenElements()
        for j, child in enumerate(children):
            if child.type == "link_open":
                opened.append(child)
                self.link_target(child, line)
            elif child.type in ("link_close", "image"):
                element = opened.pop() if child.type == "link_close" else child
                if child.type == "image":
                    self.image_source(child, line)
                self.trailing_attrs(element, children, j + 1, line)
            elif child.type == "html_inline":
                _check_raw_html(self.ctx, child.content, line, elements, "in the same paragraph")
            if child.attrs:
                self.refuse(child, line)
            line += 1 if child.type in ("softbreak", "hardbreak") else child.content.count("\n")
        self.report(elements, "in its paragraph", "the paragraph's end would cut it off")

    def trailing_attrs(self, element: Token, children: list[Token], after: int, line: int) -> None:
        """`[text](url){: .h5-btn }`, `![alt](src){: .wide }`: braces right after the element."""
        text = children[after] if after < len(children) else None
        found = _INLINE_ATTRS.match(text.content) if text is not None and text.type == "text" else None
        extra = _attr_list(found.group(1)) if found else None
        if text is not None and found and extra is not None:
            text.content = text.content[found.end():]
            self.apply(element, extra, line)

    def link_target(self, token: Token, line: int) -> None:
        ctx, href = self.ctx, str(token.attrs.get("href", ""))
        if not is_local(href):
            return
        parts = urlsplit(href)
        path = unquote(parts.path)
        if not path:
            return
        if not path.endswith(".md"):
            found = resolve_local(ctx.page, path, ctx.campaign_dir)  # any file inside the campaign
            if found is None:
                ctx.report(line, f'broken link "{unquote(href)}": no such file in this campaign', "warning")
            else:
                ctx.parsed.files.append(found)
                token.attrs["href"] = FILE_SCHEME + found
            return
        here = posixpath.dirname(ctx.page.slug)
        slug = posixpath.normpath(posixpath.join(here, path[:-3]))
        if slug not in ctx.slugs:
            ctx.report(line, f'broken link "{unquote(href)}": no page {slug}.md in this campaign', "warning")
            return
        fragment = unquote(parts.fragment)
        token.attrs["href"] = posixpath.relpath(f"{slug}.html", here or ".") + (f"#{fragment}" if fragment else "")
        ctx.parsed.links.append(Link(line, slug, fragment))

    def image_source(self, token: Token, line: int) -> None:
        src = str(token.attrs.get("src", ""))
        if not token.content:
            self.ctx.report(line, f'image "{unquote(src)}" has no alt text (screen readers announce nothing)', "warning")
        image, problem = _local_image(self.ctx, src, unquote(src))
        if problem:
            self.ctx.report(line, problem)
        if image:
            token.attrs["src"] = IMG_SCHEME + image


# -- raw HTML ---------------------------------------------------------------------------------

# Elements without content: the only ones raw HTML may leave without an end tag. HTML lets authors
# leave out others (`</p>`, `</li>`, `</td>`), but the minifier then mis-nests the page: a table
# without `</td>` loses its `</table>` and the `</main>` after it, and the footer moves inside.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"})
FOREIGN = frozenset({"svg", "math"})  # inside them `<x/>` closes itself, as in XML


@dataclass
class OpenElements:
    """Elements raw HTML opened and has not closed yet, with their file lines. An element left
    open would swallow what follows it, the page's footer and its risk disclosure included."""

    stack: list[tuple[str, int]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (file line, message)

    def open(self, tag: str, line: int) -> None:
        if tag not in VOID:
            self.stack.append((tag, line))

    def close(self, tag: str, line: int, scope: str) -> None:
        if tag in VOID:
            return
        at = next((i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i][0] == tag), None)
        if at is None:
            self.problems.append((line, f"</{tag}> in raw HTML closes no <{tag}> opened {scope}: it would close an "
                                        "element of the page itself"))
            return
        for inner, opened in self.stack[at + 1:]:
            self.problems.append((opened, f"<{inner}> in raw HTML is not closed before </{tag}> on line {line}"))
        del self.stack[at:]

    def unclosed(self, scope: str, harm: str) -> list[tuple[int, str]]:
        """Elements still open at the end of `scope`, as problems; the stack is emptied."""
        left = [(line, f"<{tag}> in raw HTML is never closed {scope}: close it with </{tag}>; {harm}")
                for tag, line in self.stack]
        self.stack.clear()
        return left


class _RawHtmlCheck(HTMLParser):
    """Finds what would break in raw HTML: what the CSP blocks (scripts, handlers, style
    attributes, frames, javascript: URLs), local files the build would not copy, and elements
    opened or closed out of turn (kept in `elements` across the pieces of one scope)."""

    def __init__(self, elements: OpenElements, first: int, scope: str) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[tuple[str, str]] = []  # (needle to locate, message)
        self.elements, self.first, self.scope = elements, first, scope

    def _line(self) -> int:
        return self.first + self.getpos()[0] - 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """`<x/>` is a start tag in HTML (the slash is ignored), except inside SVG and MathML."""
        foreign = any(t in FOREIGN for t, _ in self.elements.stack)
        self.handle_starttag(tag, attrs)
        if foreign and tag not in VOID:
            self.elements.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        self.elements.close(tag, self._line(), self.scope)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.open(tag, self._line())
        values = dict(attrs)
        if tag == "script":
            kind = "inline <script>" if values.get("src") is None else f'<script src="{values["src"]}">'
            self.problems.append(("<script", f"{kind} in raw HTML: the Content-Security-Policy blocks it (and the build "
                                             "copies no scripts); use a component or a script file in the theme"))
        elif tag in ("iframe", "frame", "object", "embed"):
            self.problems.append((f"<{tag}", f"<{tag}> in raw HTML: the Content-Security-Policy blocks embedded pages"))
        elif tag in ("img", "source", "video", "audio") and (values.get("src") or values.get("srcset")):
            self.problems.append((f"<{tag}", f"<{tag}> in raw HTML is not processed or copied: write images in Markdown "
                                             "(![alt](images/x.jpg)) so they are resized, hashed and precached"))
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append((name, f'event-handler attribute {name}="…" on <{tag}>: '
                                            "the Content-Security-Policy blocks it"))
            elif name == "style":
                self.problems.append(("style=", f'style="…" on <{tag}>: the Content-Security-Policy blocks inline '
                                                "styles; use a class styled in assets/scss"))
            elif value and name in ("href", "src", "action") and value.strip().lower().startswith("javascript:"):
                self.problems.append(("javascript:", f"javascript: URL on <{tag}>: the Content-Security-Policy blocks it"))
            elif tag == "a" and name == "href" and value and is_local(value):
                self.problems.append((value, f'raw HTML link "{value}" is not resolved or copied: write it as a '
                                             "Markdown link"))


def _check_raw_html(ctx: _Context, content: str, first: int, elements: OpenElements, scope: str) -> None:
    """One piece of raw HTML (code spans and blocks are never HTML: the tokens tell); the elements
    it opens and closes are followed in `elements` across the pieces of `scope`."""
    checker = _RawHtmlCheck(elements, first, scope)
    checker.feed(content)
    checker.close()
    for needle, message in checker.problems:
        ctx.report(line_in(content, needle, first) or first, message)


def parse_page(page: Page, campaign_dir: Path, slugs: frozenset[str], components: dict[str, Component],
               md: MarkdownIt | None = None) -> Parsed:
    """Convert one page with `md` (default: no plugins); problems are returned in
    `Parsed.diagnostics`, never raised."""
    md = md or parser()
    parsed = Parsed("")
    ctx = _Context(page, campaign_dir, slugs, parsed, components)
    env: dict = {}
    tokens = md.parse(page.body, env)
    parsed.regions = regions(tokens)
    _Walk(ctx).run(tokens)
    parsed.html = md.renderer.render(tokens, md.options, env)
    parsed.diagnostics.sort(key=lambda d: d.line or 0)  # in the order of the page
    return parsed


def check_links(pages: dict[str, tuple[Page, Parsed]]) -> list[Diagnostic]:
    """Warn about links to anchors that do not exist on their target page."""
    out = []
    for page, parsed in pages.values():
        for link in parsed.links:
            target = pages.get(link.slug)
            if link.fragment and target and link.fragment not in target[1].ids:
                out.append(Diagnostic(page.source, link.line,
                                      f'broken anchor "#{link.fragment}": {link.slug}.md has no such heading', "warning"))
    return out


_FILE_RE = re.compile(r'href="' + FILE_SCHEME + r'([^"]+)"')


def replace_files(html: str, url: Callable[[str], str]) -> str:
    """Swap placeholder hrefs of linked files for their hashed URLs."""
    return _FILE_RE.sub(lambda m: f'href="{url(m.group(1))}"', html)


_IMG_RE = re.compile(r'<img\b([^>]*?)\ssrc="' + IMG_SCHEME + r'([^"]+)"([^>]*)>')


def replace_images(html: str, render: Callable[[str, str], str]) -> str:
    """Swap placeholder <img> tags for processed ones; `render(path, other_attrs)` gives the tag."""
    return _IMG_RE.sub(lambda m: render(m.group(2), (m.group(1) + m.group(3)).strip()), html)


# -- the stage over the whole site -------------------------------------------------------------

def parse_all(work: list[tuple[Page, Path, frozenset[str]]], md: MarkdownIt, components: dict[str, Component],
              cache: BuildCache, workers: int) -> list[Parsed]:
    """Parse pages (each with its campaign folder and page slugs), reusing earlier results whose
    inputs are unchanged: the page text, the campaign's pages and files (links and images resolve
    against them), the component schemas."""
    schemas = digest(*(c.folder.joinpath("schema.py").read_bytes() for c in components.values()))
    listing: dict[Path, str] = {}
    keys = []
    for page, campaign_dir, slugs in work:
        if campaign_dir not in listing:
            files = sorted(p.relative_to(campaign_dir).as_posix() for p in campaign_dir.rglob("*"))
            listing[campaign_dir] = digest(*files, "\0", *sorted(slugs))
        keys.append(digest(schemas, listing[campaign_dir], page.source, page.body, str(page.body_line)))
    known = cache.get_objects("parse", keys)
    todo = [i for i, key in enumerate(keys) if key not in known]
    made: dict[str, bytes] = {}  # pickled where they were made: the same bytes cross to this process and go to the cache
    for i, data in zip(todo, fork_map(lambda i: pickle.dumps(parse_page(*work[i], components, md), pickle.HIGHEST_PROTOCOL),
                                      todo, workers), strict=True):
        known[keys[i]], made[keys[i]] = pickle.loads(data), data
    cache.put("parse", made)
    for key in keys:
        known[key].key = key
    return [known[key] for key in keys]


def check_blocks(campaign: Campaign, parsed: dict[str, Parsed], components: dict[str, Component]) -> list[Diagnostic]:
    """Rules across a campaign's blocks: unique ids, each component's own campaign checks, variant
    blocks naming an experiment and variant of campaign.yaml."""
    out: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for page in campaign.pages:
        if campaign.config is not None and page.slug in parsed:
            out += [Diagnostic(page.source, line, message)
                    for line, message in _variant_problems(parsed[page.slug], campaign.config)]
        for block in parsed[page.slug].blocks if page.slug in parsed else []:
            where = f"{page.source}:{block.line}"
            if block.id is not None:
                if block.id in seen:
                    out.append(Diagnostic(page.source, block.line,
                                          f'{block.name} "{block.id}": id already used at {seen[block.id]}; '
                                          "ids are unique in a campaign"))
                seen.setdefault(block.id, where)
            if campaign.config is None:
                continue
            label = f'{block.name} "{block.id}"' if block.id else block.name
            problems = _points_rule(block.config, campaign.config)
            check = components[block.name].check
            problems += check(block.config, campaign.config) if check else []
            out += [Diagnostic(page.source, block.line, f"{label}: {format_path(path) + ': ' if path else ''}{message}")
                    for path, message in problems]
    return out


def _variant_problems(parsed: Parsed, campaign: CampaignConfig) -> list[tuple[int | None, str]]:
    experiments = {e.id: list(e.variants) for e in campaign.experiments}
    problems = []
    for experiment, variant, line in parsed.variants:
        if experiment not in experiments:
            problems.append((line, f'variant block: no experiment "{experiment}" in campaign.yaml'
                                   + did_you_mean(experiment, list(experiments))
                                   + f"; experiments: {', '.join(experiments) or 'none'}"))
        elif variant not in experiments[experiment]:
            problems.append((line, f'variant block: experiment "{experiment}" has no variant "{variant}"'
                                   + did_you_mean(variant, experiments[experiment])
                                   + f"; variants: {', '.join(experiments[experiment])}"))
    return problems


def _points_rule(config: dict[str, Any], campaign: CampaignConfig) -> list[tuple[tuple, str]]:
    """Components that award points have `action` and `points` keys: the points come from the
    block or from the campaign's rule for that action; one of the two must exist."""
    action = config.get("action")
    if "points" not in config or action is None or config["points"] is not None or action in campaign.points.actions:
        return []
    return [(("points",), f"is required: campaign.yaml has no points.actions.{action}")]
