"""Stage 2, parse: page Markdown → HTML fragment, with its links, images and anchors.

Python-Markdown does the conversion; one extension (`H5Extension`) resolves links between
Markdown files to their pages, records image references for the assets stage, and wraps
tables so wide ones scroll instead of widening the page. Raw HTML is checked against the CSP.
"""
from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from .components import registry
from .config import ID_RE
from .errors import Diagnostic, Diagnostics
from .load import Page
from .schema import did_you_mean, validate
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
    diagnostics: list[Diagnostic] = field(default_factory=list)
    key: str = ""  # hash of everything the parse depended on (set by the build)


@dataclass
class _Context:
    page: Page
    campaign_dir: Path
    slugs: frozenset[str]
    parsed: Parsed
    root: Path

    def line_of(self, needle: str) -> int | None:
        return line_in(self.page.body, needle, self.page.body_line)

    def report(self, needle: str, message: str, level: str = "error") -> None:
        self.parsed.diagnostics.append(Diagnostic(self.page.source, self.line_of(needle), message, level))  # type: ignore[arg-type]


def line_in(body: str, needle: str, first_line: int) -> int | None:
    """File line of the first occurrence of `needle` in a page body."""
    at = body.find(needle)
    return None if at < 0 else first_line + body.count("\n", 0, at)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith(("/", "#")))


class _Resolver(Treeprocessor):
    """Rewrites `.md` links to `.html`, collects images, wraps tables for horizontal scroll."""

    def __init__(self, md: markdown.Markdown, ext: H5Extension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, root: etree.Element) -> None:
        ctx = self.ext.context
        assert ctx is not None
        join_cjk_lines(root)
        for parent in list(root.iter()):
            for i, el in enumerate(list(parent)):
                if el.tag == "a" and el.get("href"):
                    self._link(ctx, el)
                elif el.tag == "img":
                    self._image(ctx, el)
                if el.get("style") is not None:
                    self._style(ctx, el)
                if el.tag == "table":
                    wrapper = etree.Element("div", {"class": "h5-table"})
                    parent.remove(el)
                    wrapper.append(el)
                    parent.insert(i, wrapper)

    @staticmethod
    def _style(ctx: _Context, el: etree.Element) -> None:
        """Table column alignment becomes a class; any other style attribute would be blocked."""
        style = el.attrib.pop("style")
        align = re.fullmatch(r"\s*text-align:\s*(left|right|center);?\s*", style)
        if el.tag in ("th", "td") and align:
            el.set("class", (el.get("class", "") + f" h5-align-{align.group(1)}").strip())
        else:
            ctx.report("style=", f'style="{style}" on <{el.tag}>: the Content-Security-Policy blocks inline styles; '
                                 "use a class ({: .name }) styled in assets/scss")

    @staticmethod
    def _link(ctx: _Context, el: etree.Element) -> None:
        href = el.get("href", "")
        if not is_local(href):
            return
        parts = urlsplit(href)
        path = unquote(parts.path)
        if not path:
            return
        if not path.endswith(".md"):
            found = resolve_local(ctx.page, path, ctx.campaign_dir)  # any file inside the campaign
            if found is None:
                ctx.report(href, f'broken link "{href}": no such file in this campaign', "warning")
            else:
                ctx.parsed.files.append(found)
                el.set("href", FILE_SCHEME + found)
            return
        here = posixpath.dirname(ctx.page.slug)
        slug = posixpath.normpath(posixpath.join(here, path[:-3]))
        if slug not in ctx.slugs:
            ctx.report(href, f'broken link "{href}": no page {slug}.md in this campaign', "warning")
            return
        target = posixpath.relpath(f"{slug}.html", here or ".")
        fragment = unquote(parts.fragment)
        el.set("href", target + (f"#{fragment}" if fragment else ""))
        ctx.parsed.links.append(Link(ctx.line_of(href), slug, fragment))

    @staticmethod
    def _image(ctx: _Context, el: etree.Element) -> None:
        src = el.get("src", "")
        if not el.get("alt"):
            ctx.report(src or "![", f'image "{src}" has no alt text (screen readers announce nothing)', "warning")
        if not is_local(src):
            if not src.startswith("data:"):
                ctx.report(src, f'remote image "{src}": the Content-Security-Policy allows only the bundle\'s own '
                                "images; save it under images/")
            return
        image = resolve_local(ctx.page, unquote(urlsplit(src).path), ctx.campaign_dir)
        if image is None:
            ctx.report(src, f'image not found: "{src}" (looked in {posixpath.dirname(ctx.page.source) or "."}/)')
            return
        ctx.parsed.images.append(image)
        el.set("src", IMG_SCHEME + image)


_CJK = "\u2e80-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])\n(?=[{_CJK}])")


def join_cjk_lines(root: etree.Element) -> None:
    """Drop line breaks between two CJK characters: Chinese has no spaces between words, so
    a hard-wrapped source line must not become a visible space. Code keeps its text."""
    for el in root.iter():
        if el.tag not in ("pre", "code") and el.text:
            el.text = _CJK_BREAK.sub("", el.text)
        if el.tail:
            el.tail = _CJK_BREAK.sub("", el.tail)


def resolve_local(page: Page, src: str, campaign_dir: Path) -> str | None:
    """Campaign-relative path of a file referenced from `page`, or None if missing or outside
    the campaign folder (only the campaign's own files are published with it)."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page.slug), src))
    if src.startswith("/") or path.startswith("../") or path == ".." or not (campaign_dir / path).is_file():
        return None
    return path


BLOCK_OPEN = re.compile(r"^:::[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$")
BLOCK_CLOSE = re.compile(r"^:::[ \t]*$")


def block_placeholder(index: int) -> str:
    return f'<div data-h5-block="{index}"></div>'


class _Blocks(Preprocessor):
    """`::: name id` … `:::` blocks → validated `Block`s and a placeholder in the HTML.

    Runs after fenced code has been stashed (so a block inside a code fence stays text).
    Fenced code collapses lines here, so block lines are found in the page body instead.
    """

    def __init__(self, md: markdown.Markdown, ext: H5Extension) -> None:
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        ctx = self.ext.context
        assert ctx is not None
        out: list[str] = []
        cursor = 0
        i = 0
        while i < len(lines):
            opened = BLOCK_OPEN.match(lines[i])
            if not opened:
                out.append(lines[i])
                i += 1
                continue
            at = ctx.page.body.find(lines[i], cursor)
            cursor = at + len(lines[i]) if at >= 0 else cursor
            line = ctx.page.body_line + ctx.page.body.count("\n", 0, at) if at >= 0 else None
            end = i + 1
            while end < len(lines) and not BLOCK_CLOSE.match(lines[end]) and not BLOCK_OPEN.match(lines[end]):
                end += 1
            if end == len(lines) or BLOCK_OPEN.match(lines[end]):
                nested = " (blocks do not nest)" if end < len(lines) else ""
                ctx.parsed.diagnostics.append(Diagnostic(ctx.page.source, line,
                                                         f'"{lines[i].strip()}" is not closed by a ":::" line{nested}'))
                i = end
                continue
            block = self._block(ctx, opened.group(1), opened.group(2), "\n".join(lines[i + 1:end]), line)
            if block is not None:
                out += ["", self.md.htmlStash.store(block_placeholder(len(ctx.parsed.blocks))), ""]
                ctx.parsed.blocks.append(block)
            cursor = max(cursor, ctx.page.body.find(lines[end], cursor) + 1)
            i = end + 1
        return out

    @staticmethod
    def _block(ctx: _Context, name: str, ident: str | None, body: str, line: int | None) -> Block | None:
        source = ctx.page.source
        known = registry(ctx.root)
        component = known.get(name)
        if component is None:
            message = f'unknown component "{name}"{did_you_mean(name, list(known))}; components: {", ".join(known)}'
            ctx.parsed.diagnostics.append(Diagnostic(source, line, message))
            return None
        label = f'{name} "{ident}"' if ident else name
        if ident is not None and not ID_RE.match(ident):
            ctx.parsed.diagnostics.append(Diagnostic(source, line, f'{label}: id must match [a-z0-9][a-z0-9-]*'))
            return None
        if ident is None and component.stateful:
            ctx.parsed.diagnostics.append(Diagnostic(source, line, f"{name}: an id is required (`::: {name} my-id`): "
                                                                   "it names the component's saved state and events"))
            return None
        try:
            doc = load_yaml(body, offset=line or 0)
        except YamlSyntaxError as exc:
            ctx.parsed.diagnostics.append(Diagnostic(source, exc.line, f"{label}: {exc}"))
            return None
        report = Diagnostics()
        model = validate(component.schema, doc, source, report, label)
        ctx.parsed.diagnostics.extend(report.items)
        if model is None:
            return None
        config = model.model_dump(mode="json")
        for key in component.images:
            at = doc.line_of((key,)) or line
            if isinstance(config.get(key), str) and not _Blocks._image(ctx, config, key, f"{label}: {key}", at):
                return None
        return Block(name, ident, line, config)

    @staticmethod
    def _image(ctx: _Context, config: dict, key: str, label: str, line: int | None) -> bool:
        """An image named by a block key, collected like a Markdown image; the key's value becomes
        its campaign-relative path, so the template can write `src="h5img:{{ c.<key> }}"`."""
        src = config[key]
        if not is_local(src):
            message = f'{label}: remote image "{src}": the Content-Security-Policy allows only the bundle\'s own images; ' \
                      "save it under images/"
        else:
            image = resolve_local(ctx.page, unquote(urlsplit(src).path), ctx.campaign_dir)
            if image is not None:
                ctx.parsed.images.append(image)
                config[key] = image
                return True
            message = f'{label}: image not found: "{src}" (looked in {posixpath.dirname(ctx.page.source) or "."}/)'
        ctx.parsed.diagnostics.append(Diagnostic(ctx.page.source, line, message))
        return False


class H5Extension(Extension):
    def __init__(self) -> None:
        super().__init__()
        self.context: _Context | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Python-Markdown API)
        # After "inline" (20) has created <a>/<img> and "attr_list" (8) has set attributes,
        # before "toc" (5) gives headings their ids.
        md.treeprocessors.register(_Resolver(md, self), "h5press-resolve", 7)
        # After fenced code (25) is stashed, before raw HTML blocks (20) are.
        md.preprocessors.register(_Blocks(md, self), "h5press-blocks", 22)


class _RawHtmlCheck(HTMLParser):
    """Finds what would break in raw HTML: what the CSP blocks (scripts, handlers, style
    attributes, frames, javascript: URLs) and local files the build would not copy."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[tuple[str, str]] = []  # (needle to locate, message)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
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


_md_cache: tuple[markdown.Markdown, H5Extension] | None = None


def _markdown() -> tuple[markdown.Markdown, H5Extension]:
    global _md_cache
    if _md_cache is None:
        ext = H5Extension()
        md = markdown.Markdown(
            extensions=["tables", "fenced_code", "attr_list", "toc", ext],
            extension_configs={"toc": {"slugify": slugify_unicode}},
            output_format="html",
        )
        _md_cache = (md, ext)
    return _md_cache


def _collect_ids(tokens: list[dict]) -> list[str]:
    ids: list[str] = []
    for token in tokens:
        ids.append(token["id"])
        ids.extend(_collect_ids(token.get("children", [])))
    return ids


def parse_page(page: Page, campaign_dir: Path, slugs: frozenset[str], root: Path) -> Parsed:
    """Convert one page; problems are returned in `Parsed.diagnostics`, never raised."""
    md, ext = _markdown()
    md.reset()
    parsed = Parsed("")
    ext.context = _Context(page, campaign_dir, slugs, parsed, root)
    try:
        parsed.html = md.convert(page.body)
    finally:
        ext.context = None
    parsed.ids = _collect_ids(getattr(md, "toc_tokens", []))
    checker = _RawHtmlCheck()
    for raw in md.htmlStash.rawHtmlBlocks:
        checker.feed(str(raw))
    checker.close()
    for needle, message in checker.problems:
        parsed.diagnostics.append(Diagnostic(page.source, line_in(page.body, needle, page.body_line), message))
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
