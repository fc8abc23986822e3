"""Stage 3, render: Jinja2 layouts turn parsed pages into complete HTML documents.

Template lookup: `theme/<name>` always means the theme's own file (so an override can extend
what it replaces); a bare name finds the project's `layouts/<name>` first, then the theme's.
"""
from __future__ import annotations

import io
import posixpath
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import minify_html
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from markupsafe import Markup

from .assets import THEME_DIR
from .errors import Diagnostic
from .schema import did_you_mean

CSP_PLACEHOLDER = "h5press-csp-placeholder"


def environment(root: Path) -> Environment:
    theme = FileSystemLoader(str(THEME_DIR / "layouts"))
    loader = ChoiceLoader([PrefixLoader({"theme": theme}), FileSystemLoader(str(root / "layouts")), theme])
    # One environment per build: templates cannot change under it, so no stat() per page to check.
    env = Environment(loader=loader, autoescape=select_autoescape(["html", "xml"]), trim_blocks=True, lstrip_blocks=True,
                      auto_reload=False)
    env.globals["relative"] = relative
    env.globals["qr"] = qr_code
    return env


def qr_code(text: str) -> dict[str, str]:
    """A QR code of `text`, made at build time: inline SVG, and its modules as rows of 0/1 for
    drawing on a canvas (a share poster) without a QR library in the browser."""
    import segno  # here, not at the top: it pulls in urllib and http (≈25 ms) and few pages have a QR code

    code = segno.make(text, error="m")
    buf = io.BytesIO()
    code.save(buf, kind="svg", xmldecl=False, svgns=True, nl=False, border=2, scale=4, svgclass="h5-qr", lineclass=None)
    rows = ["".join("1" if cell else "0" for cell in row) for row in code.matrix]
    return {"svg": Markup(buf.getvalue().decode()), "rows": ",".join(rows)}


def relative(target: str, from_page: str) -> str:
    """URL of bundle path `target` as seen from the page at bundle path `from_page`."""
    if "/" not in from_page and target == posixpath.normpath(target) and not target.startswith(("/", "..")):
        return target  # the common case, a page at the bundle's top: relpath costs ~25 µs a call
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def template_sources(env: Environment, names: Iterable[str]) -> list[tuple[str, str]] | None:
    """(name, source) of the templates `names` and of every template they extend, include or
    import, by name; None when one of them names another only at render time or cannot be read
    (then any template may matter)."""
    found: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        try:
            source = env.loader.get_source(env, name)[0] if env.loader else ""
            refs = list(jinja2.meta.find_referenced_templates(env.parse(source)))
        except jinja2.TemplateError:
            return None
        if None in refs:
            return None
        found[name] = source
        todo += [ref for ref in refs if ref is not None]
    return sorted(found.items())


def layout_name(env: Environment, requested: str | None, slug: str) -> tuple[str, str | None]:
    """The template for a page, or an error message naming the layouts that exist."""
    name = f"{requested or ('index' if slug == 'index' else 'page')}.html"
    try:
        env.get_template(name)
    except jinja2.TemplateNotFound:
        available = sorted(n[:-5] for n in env.list_templates(extensions=["html"]) if "/" not in n)
        return name, f'layout "{requested}" not found{did_you_mean(requested or "", available)}; layouts: {", ".join(available)}'
    except jinja2.TemplateError:
        pass  # syntax errors are reported with their location when the page renders
    return name, None


def template_error(exc: Exception, root: Path, fallback: str) -> Diagnostic:
    """Locate a Jinja error in the template that caused it, not in h5press's code."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Diagnostic(_shown(exc.filename, root) or fallback, exc.lineno, f"template error: {exc.message}")
    for frame, line in reversed(list(traceback.walk_tb(exc.__traceback__))):
        name = frame.f_code.co_filename
        if name.endswith((".html", ".xml", ".j2")):
            return Diagnostic(_shown(name, root) or name, line, f"template error: {type(exc).__name__}: {exc}")
    return Diagnostic(fallback, None, f"template error: {type(exc).__name__}: {exc}")


def _shown(filename: str | None, root: Path) -> str | None:
    if not filename:
        return None
    path = Path(filename)
    for base, prefix in ((root, ""), (THEME_DIR, "(theme) ")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            continue
    return filename


def render(env: Environment, name: str, context: dict[str, Any]) -> str:
    return env.get_template(name).render(context)


def minify(html: str) -> str:
    return minify_html.minify(html, minify_css=True, minify_js=True, keep_html_and_head_opening_tags=True,
                              keep_closing_tags=True, allow_noncompliant_unquoted_attribute_values=False)
