"""Stage 1, load: find the site config, campaigns and pages on disk and validate them.

Everything read from disk enters the build here, as typed, validated objects; later stages
never touch the project files except for images and layouts.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .config import ID_RE, CampaignConfig, FrontMatter, SiteConfig, references
from .errors import BuildError, Diagnostics
from .schema import format_path, validate
from .yamldoc import YamlDoc, YamlSyntaxError, load_yaml

SITE_FILE = "h5press.yaml"
CAMPAIGN_FILE = "campaign.yaml"
CONTENT_DIR = "content"


@dataclass
class Page:
    campaign: str
    source: str  # project-relative path, for diagnostics
    slug: str  # campaign-relative path without ".md", e.g. "index" or "guide/intro"
    meta: FrontMatter
    body: str
    body_line: int  # file line where the Markdown body starts
    front: YamlDoc = field(repr=False, default_factory=lambda: YamlDoc(None))  # for key → line
    front_text: str = field(repr=False, default="")  # the front matter's YAML as written, for the compliance gate

    @property
    def url(self) -> str:
        return f"{self.slug}.html"


@dataclass
class Campaign:
    name: str
    dir: Path
    source: str
    config: CampaignConfig | None  # None when invalid: its pages are still checked
    pages: list[Page] = field(default_factory=list)
    doc: YamlDoc | None = field(default=None, repr=False)  # campaign.yaml, for key → line

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        return self.doc.line_of(path) if self.doc else None

    def page(self, slug: str) -> Page | None:
        return next((p for p in self.pages if p.slug == slug), None)


@dataclass
class Site:
    root: Path
    config: SiteConfig | None  # None when invalid: the campaigns are still checked
    campaigns: list[Campaign]


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def read_text(path: Path, source: str, report: Diagnostics) -> str | None:
    """Read a UTF-8 file; a file in another encoding is an error naming the line of the first bad byte."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(source, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def read_yaml(path: Path, source: str, report: Diagnostics, offset: int = 0, text: str | None = None) -> YamlDoc | None:
    if text is None:
        text = read_text(path, source, report)
        if text is None:
            return None
    try:
        return load_yaml(text, offset)
    except YamlSyntaxError as exc:
        report.error(source, exc.line, str(exc))
        return None


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, file line where the body starts)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2
    raise ValueError("front matter is not closed: add a --- line after it")


# (campaign, source) → the text last loaded from that file and its Page, for a long-running `serve`:
# one entry per page file, replaced when the file changes and dropped when it goes.
_loaded: dict[tuple[str, str], tuple[str, Page]] = {}


def load_page(root: Path, campaign: str, path: Path, campaign_dir: Path, report: Diagnostics) -> Page | None:
    return load_pages(root, campaign, [path], campaign_dir, report)[0]


def load_pages(root: Path, campaign: str, paths: list[Path], campaign_dir: Path, report: Diagnostics) -> list[Page | None]:
    """The pages at `paths` (None for each that is invalid, with its problems in `report`).
    A page whose text this process loaded before is reused (a long-running `serve`). The others
    are read here: front matter takes ≈0.06 ms a page, less than sending a page back from a
    worker process would cost."""
    sources = [rel(root, path) for path in paths]
    texts = [read_text(path, source, report) for path, source in zip(paths, sources, strict=True)]
    for path, source, text in zip(paths, sources, texts, strict=True):
        if (campaign, source) in _loaded and _loaded[campaign, source][0] != text:
            del _loaded[campaign, source]  # changed, unreadable or invalid now
        if text is not None and (campaign, source) not in _loaded:
            page = _load_page(campaign, source, text, path, campaign_dir, report)
            if page is not None:
                _loaded[campaign, source] = (text, page)
    return [_loaded[campaign, source][1] if (campaign, source) in _loaded else None for source in sources]


def _forget_others(campaigns: set[str], sources: set[str] | None = None) -> None:
    """Drop what was loaded from files that are gone: pages of `campaigns` not in `sources`
    (all of them when `sources` is None)."""
    for key in [k for k in _loaded if k[0] in campaigns and (sources is None or k[1] not in sources)]:
        del _loaded[key]


def _load_page(campaign: str, source: str, text: str, path: Path, campaign_dir: Path, report: Diagnostics) -> Page | None:
    try:
        yaml_text, body, body_line = split_front_matter(text)
    except ValueError as exc:
        report.error(source, 1, str(exc))
        return None
    if yaml_text is None:
        report.error(source, 1, "missing front matter: start the file with a --- block containing at least `title:`")
        return None
    doc = read_yaml(path, source, report, offset=1, text=yaml_text)
    if doc is None:
        return None
    meta = validate(FrontMatter, doc, source, report, "front matter")
    if meta is None:
        return None
    slug = path.relative_to(campaign_dir).with_suffix("").as_posix()
    return Page(campaign, source, slug, meta, body, body_line, doc, yaml_text)


def _page_files(campaign_dir: Path) -> list[Path]:
    """Every `.md` file of the campaign, leaving out names (and folders) starting with . or _."""
    found = []
    for folder, dirs, names in os.walk(campaign_dir):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [path for name in names
                  if name.endswith(".md") and not name.startswith((".", "_")) and (path := Path(folder, name)).is_file()]
    return sorted(found)


RESERVED = {"offline": "offline.html is the page shown offline", "assets": "assets/ holds the hashed, immutable files"}
PAGE_NAME = re.compile(r"^[\w-]+$")


def load_campaign(root: Path, cdir: Path, report: Diagnostics, site_zone: str) -> Campaign:
    source = rel(root, cdir / CAMPAIGN_FILE)
    if not ID_RE.match(cdir.name):
        report.error(rel(root, cdir), None, "campaign folder names become URL paths: use lowercase letters, digits and '-'")
    doc = read_yaml(cdir / CAMPAIGN_FILE, source, report)
    config = validate(CampaignConfig, doc, source, report) if doc else None
    if config is not None and doc is not None:
        for key, message in references(config, site_zone):
            report.error(source, doc.line_of(key), f"{format_path(key)}: {message}")
    files = _page_files(cdir)
    for path in files:
        parts = path.relative_to(cdir).with_suffix("").parts
        if parts[0] in RESERVED:
            report.error(rel(root, path), None, f'"{parts[0]}" is reserved: {RESERVED[parts[0]]}; rename this page')
        elif not all(PAGE_NAME.match(part) for part in parts):
            report.error(rel(root, path), None, "page file and folder names become URLs: use letters, digits, '-' and '_'")
    pages = [p for p in load_pages(root, cdir.name, files, cdir, report) if p]
    _forget_others({cdir.name}, {rel(root, path) for path in files})
    pages = [p for p in pages if not p.meta.draft]
    if not (cdir / "index.md").is_file():
        report.error(rel(root, cdir), None, "campaign has no index.md (its landing page)")
    elif not any(p.slug == "index" for p in pages) and not any(d.path == rel(root, cdir / "index.md") for d in report.items):
        report.error(rel(root, cdir / "index.md"), None, "the landing page cannot be a draft")
    pages.sort(key=lambda p: (p.slug != "index", p.meta.order is None, p.meta.order or 0, p.slug))
    return Campaign(cdir.name, cdir, source, config, pages, doc)


def load_site(root: Path, report: Diagnostics, only: tuple[str, ...] = ()) -> Site | None:
    """Load and validate the whole project; problems go to `report`, never raised.

    Invalid configs still yield a `Site` so that pages are checked too: one run reports all.
    """
    site_path = root / SITE_FILE
    if not site_path.exists():
        report.error(SITE_FILE, None, f"not an h5press project: {root} has no {SITE_FILE} (create one with `h5press new`)")
        return None
    doc = read_yaml(site_path, SITE_FILE, report)
    config = validate(SiteConfig, doc, SITE_FILE, report) if doc else None
    content = root / CONTENT_DIR
    dirs = sorted(d for d in content.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))) if content.is_dir() else []
    campaigns = []
    for cdir in dirs:
        if not (cdir / CAMPAIGN_FILE).exists():
            report.error(rel(root, cdir), None, f"folder has no {CAMPAIGN_FILE}; every folder in content/ is a campaign")
            continue
        if only and cdir.name not in only:
            continue
        zone = config.timezone if config else SiteConfig().timezone
        campaigns.append(load_campaign(root, cdir, report, zone))
    if not only:
        _forget_others({c for c, _ in _loaded} - {d.name for d in dirs})
    for name in only:
        if name not in [d.name for d in dirs]:
            report.error(CONTENT_DIR, None, f'--only: no campaign "{name}" in content/')
    if not dirs:
        report.error(CONTENT_DIR, None, "no campaigns: add a folder content/<name>/ with a campaign.yaml")
    return Site(root, config, campaigns)


def load_site_config(project: Path) -> SiteConfig:
    """The project's h5press.yaml alone, for the commands that read only it (`check`, `deploy`);
    defaults when there is none, `BuildError` with every problem when it is invalid."""
    path = project / SITE_FILE
    if not path.is_file():
        return SiteConfig()
    report = Diagnostics()
    doc = read_yaml(path, SITE_FILE, report)
    site = validate(SiteConfig, doc, SITE_FILE, report) if doc else None
    if site is None:
        raise BuildError(report.errors)
    return site
