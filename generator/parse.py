"""Stage 2, parse: page Markdown → HTML fragment, with its links, images, anchors and blocks.

Markdown is CommonMark with GitHub's tables and strikethrough, converted by markdown-it's Rust
port (markdown-it-pyrs) with source positions on every element. The HTML it writes is regular,
so one pass of small rewrites over its tags does what an AST walk would: links between Markdown
files become links between pages, images become placeholders for the assets stage, headings get
ids, tables scroll in a wrapper, attribute lists (`{: .note }`) apply, and every finding gets
the exact line from the element's source position. Raw HTML is checked against the CSP from
the syntax tree, which holds it apart from what the Markdown produced.
"""
from __future__ import annotations

import html as htmllib
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it_pyrs import MarkdownIt

from .components import registry
from .config import ID_RE
from .errors import Diagnostic, Diagnostics
from .load import Page
from .schema import did_you_mean, validate
from .yamldoc import YamlSyntaxError, load_yaml

IMG_SCHEME = "h5img:"  # placeholder src, replaced once the image has been processed
FILE_SCHEME = "h5file:"  # placeholder href of a linked file (a PDF, say), replaced by its hashed URL

MARKDOWN = MarkdownIt("commonmark").enable_many(["table", "strikethrough", "sourcepos"])


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

BLOCK_OPEN = re.compile(r"^:::[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$")
BLOCK_CLOSE = re.compile(r"^:::[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def block_placeholder(index: int) -> str:
    return f'<div data-h5-block="{index}"></div>'


def _fenced(lines: list[str]) -> list[bool]:
    """Which lines belong to a fenced code block (CommonMark's rules), where `:::` is text."""
    inside = [False] * len(lines)
    fence = ""
    for i, line in enumerate(lines):
        found = _FENCE.match(line)
        if fence:
            inside[i] = True
            if found and found.group(1)[0] == fence[0] and len(found.group(1)) >= len(fence) and not found.group(2).strip():
                fence = ""
        elif found and not (found.group(1)[0] == "`" and "`" in found.group(2)):
            inside[i] = True
            fence = found.group(1)
    return inside


def _extract_blocks(ctx: _Context) -> str:
    """`::: name id` … `:::` blocks → validated `Block`s, each replaced by a placeholder line.

    The block's other lines become blank, so every source position after it stays true."""
    if ":::" not in ctx.page.body:
        return ctx.page.body
    lines = ctx.page.body.split("\n")
    fenced = _fenced(lines)
    i = 0
    while i < len(lines):
        opened = BLOCK_OPEN.match(lines[i]) if lines[i].startswith(":::") and not fenced[i] else None
        if not opened:
            i += 1
            continue
        line = ctx.line(i + 1)
        end = i + 1
        while end < len(lines) and not BLOCK_CLOSE.match(lines[end]) and not BLOCK_OPEN.match(lines[end]):
            end += 1
        if end == len(lines) or BLOCK_OPEN.match(lines[end]):
            nested = " (blocks do not nest)" if end < len(lines) else ""
            ctx.report(line, f'"{lines[i].strip()}" is not closed by a ":::" line{nested}')
            i = end
            continue
        block = _block(ctx, opened.group(1), opened.group(2), "\n".join(lines[i + 1:end]), line)
        placeholder = block_placeholder(len(ctx.parsed.blocks)) if block else ""
        if block:
            ctx.parsed.blocks.append(block)
        lines[i:end + 1] = [placeholder] + [""] * (end - i)
        i = end + 1
    return "\n".join(lines)


def _block(ctx: _Context, name: str, ident: str | None, body: str, line: int) -> Block | None:
    known = registry(ctx.root)
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


# -- rewriting the converted HTML -------------------------------------------------------------

_POS = r' data-sourcepos="(\d+):\d+-(\d+):\d+"'
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_ATTR_LIST = r"\{:?[ ]*([^}\n ][^}\n]*?)[ ]*\}"  # `{: #id .class key=value }`, as Python-Markdown wrote it
_ATTR_TOKEN = re.compile(r"""([#.])([\w-]+)|([\w-]+)=(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_HEADING = re.compile(r"<h([1-6])" + _POS + r">(.*?)(?:[ ]+" + _ATTR_LIST + r")?</h\1>", re.S)
_PARAGRAPH_END = re.compile(r"\n[ ]*" + _ATTR_LIST + r"[ ]*</p>")
_PARAGRAPH = re.compile(r"<p" + _POS + ">")
_LINK = re.compile(r"<a" + _POS + r"([^>]*)>(.*?)</a>(?:" + _ATTR_LIST + r")?", re.S)
_IMAGE = re.compile(r"<img" + _POS + r"([^>]*?) ?/?>(?:" + _ATTR_LIST + r")?")
_TABLE = re.compile(r"<table" + _POS + r">.*?</table>", re.S)
_ALIGNED = re.compile(r'<(th|td)' + _POS + r' style="text-align:(left|right|center)">')
_SOURCEPOS = re.compile(_POS)
_TAGS = re.compile(r"<[^>]*>")
_PRE = re.compile(r"(<pre[\s>].*?</pre>)", re.S)
_CJK = "\u2e80-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(f"\n(?<=[{_CJK}]\n)(?=[{_CJK}])")


def _attrs(text: str) -> dict[str, str]:
    """Attributes of a tag markdown-it wrote (always double-quoted, HTML-escaped)."""
    return {name: htmllib.unescape(value) for name, value in _ATTR.findall(text)}


def _attr_list(text: str | None) -> dict[str, str] | None:
    """`#id .a .b key=value` → attributes; None when it is not an attribute list after all."""
    if text is None:
        return None
    text = htmllib.unescape(text)
    if _ATTR_TOKEN.sub(" ", text).strip():
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


def _tag(name: str, attrs: dict[str, str]) -> str:
    return f"<{name}" + "".join(f' {k}="{htmllib.escape(v)}"' for k, v in attrs.items()) + ">"


def _text_after(listed: str | None, extra: dict[str, str] | None) -> str:
    """Braces that turned out not to be an attribute list stay in the text."""
    return "{" + listed + "}" if listed is not None and extra is None else ""


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


class _Rewriter:
    """One page's converted HTML → the fragment the render stage takes."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.used: set[str] = set()

    def run(self, html: str) -> str:
        html = _HEADING.sub(self.heading, html)
        html = self.paragraphs(html)
        if "<img" in html:
            html = _IMAGE.sub(self.image, html)
        if "<a " in html:
            html = _LINK.sub(self.link, html)
        if "<table" in html:
            html = _TABLE.sub(lambda m: f'<div class="h5-table">{m.group(0)}</div>', html)
        if ' style="text-align:' in html:
            html = _ALIGNED.sub(lambda m: f'<{m.group(1)} class="h5-align-{m.group(4)}">', html)
        html = _SOURCEPOS.sub("", html)
        if "<pre" not in html:
            return _CJK_BREAK.sub("", html)
        return "".join(part if part.startswith("<pre") else _CJK_BREAK.sub("", part) for part in _PRE.split(html))

    def extra(self, attrs: dict[str, str], extra: dict[str, str] | None, line: int, tag: str) -> dict[str, str]:
        """An attribute list laid over the element's own attributes; what the CSP blocks is refused."""
        for key, value in (extra or {}).items():
            if key == "style":
                self.ctx.report(line, f'style="{value}" on <{tag}>: the Content-Security-Policy blocks inline styles; '
                                      "use a class ({: .name }) styled in assets/scss")
            elif key.lower().startswith("on"):
                self.ctx.report(line, f'event-handler attribute {key}="…" on <{tag}>: the Content-Security-Policy blocks it')
            elif key == "class" and "class" in attrs:
                attrs["class"] += " " + value
            else:
                attrs[key] = value
        return attrs

    def heading(self, m: re.Match[str]) -> str:
        level, row, _, inner, listed = m.groups()
        extra = _attr_list(listed)
        inner += (" " if listed and extra is None else "") + _text_after(listed, extra)
        attrs = self.extra({}, extra, self.ctx.line(row), f"h{level}")
        if "id" in attrs:
            self.used.add(attrs["id"])
        else:
            attrs = {"id": _unique(slugify(htmllib.unescape(_TAGS.sub("", inner))), self.used), **attrs}
        self.ctx.parsed.ids.append(attrs["id"])
        return f"{_tag(f'h{level}', attrs)}{inner}</h{level}>"

    def paragraphs(self, html: str) -> str:
        """`{: .note }` on a paragraph's last line: the attributes go to the paragraph's <p>,
        the last one opened before it (paragraphs do not nest)."""
        edits: list[tuple[int, int, str]] = []
        for m in _PARAGRAPH_END.finditer(html):
            extra = _attr_list(m.group(1))
            tag = _PARAGRAPH.match(html, html.rfind("<p ", 0, m.start())) if extra is not None else None
            if tag:
                attrs = self.extra({}, extra, self.ctx.line(tag.group(2)), "p")
                edits += [(tag.start(), tag.end(), _tag("p", attrs)), (m.start(), m.end(), "</p>")]
        out, at = [], 0
        for start, end, text in edits:
            out += [html[at:start], text]
            at = end
        return "".join(out) + html[at:]

    def image(self, m: re.Match[str]) -> str:
        row, _, rest, listed = m.groups()
        line, attrs, extra = self.ctx.line(row), _attrs(rest), _attr_list(listed)
        self.image_source(attrs, line)
        return _tag("img", self.extra(attrs, extra, line, "img")) + _text_after(listed, extra)

    def link(self, m: re.Match[str]) -> str:
        row, _, rest, inner, listed = m.groups()
        line, attrs, extra = self.ctx.line(row), _attrs(rest), _attr_list(listed)
        self.link_target(attrs, line)
        return f"{_tag('a', self.extra(attrs, extra, line, 'a'))}{inner}</a>" + _text_after(listed, extra)

    def link_target(self, attrs: dict[str, str], line: int) -> None:
        ctx, href = self.ctx, attrs.get("href", "")
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
                attrs["href"] = FILE_SCHEME + found
            return
        here = posixpath.dirname(ctx.page.slug)
        slug = posixpath.normpath(posixpath.join(here, path[:-3]))
        if slug not in ctx.slugs:
            ctx.report(line, f'broken link "{unquote(href)}": no page {slug}.md in this campaign', "warning")
            return
        fragment = unquote(parts.fragment)
        attrs["href"] = posixpath.relpath(f"{slug}.html", here or ".") + (f"#{fragment}" if fragment else "")
        ctx.parsed.links.append(Link(line, slug, fragment))

    def image_source(self, attrs: dict[str, str], line: int) -> None:
        src = attrs.get("src", "")
        if not attrs.get("alt"):
            self.ctx.report(line, f'image "{unquote(src)}" has no alt text (screen readers announce nothing)', "warning")
        image, problem = _local_image(self.ctx, src, unquote(src))
        if problem:
            self.ctx.report(line, problem)
        if image:
            attrs["src"] = IMG_SCHEME + image


# -- raw HTML ---------------------------------------------------------------------------------

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


def _check_raw_html(ctx: _Context, text: str) -> None:
    """Raw HTML, found in the syntax tree (code spans and blocks are not HTML), checked alone."""
    data = text.encode()
    for node in MARKDOWN.tree(text).walk():
        if node.name not in ("html_block", "html_inline") or node.srcmap is None:
            continue
        content = node.meta["content"]
        checker = _RawHtmlCheck()
        checker.feed(content)
        checker.close()
        first = ctx.line(data.count(b"\n", 0, node.srcmap[0]) + 1)
        for needle, message in checker.problems:
            ctx.report(line_in(content, needle, first) or first, message)


def parse_page(page: Page, campaign_dir: Path, slugs: frozenset[str], root: Path) -> Parsed:
    """Convert one page; problems are returned in `Parsed.diagnostics`, never raised."""
    parsed = Parsed("")
    ctx = _Context(page, campaign_dir, slugs, parsed, root)
    text = _extract_blocks(ctx)
    parsed.html = _Rewriter(ctx).run(MARKDOWN.render(text))
    if "<" in _PLACEHOLDERS.sub("", text):
        _check_raw_html(ctx, text)
    parsed.diagnostics.sort(key=lambda d: d.line or 0)  # in the order of the page
    return parsed


_PLACEHOLDERS = re.compile(r'^<div data-h5-block="\d+"></div>$', re.M)


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
