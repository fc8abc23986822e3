"""Stage: a campaign's pages rendered to minified HTML, each given the CSP its inline code needs
and, for production, compressed; pages whose inputs did not change come from the build cache.

Forked worker processes (they inherit this build's bundle, images and templates) render, add the
CSP and compress; this process stages each page as it arrives. File creation stays in one
process: workers creating files in one folder contend for its lock, and here it overlaps their
rendering.
"""
from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .bundle import Bundle, front_image, key_line
from .context import PageContexts
from .errors import Diagnostic, Diagnostics
from .headers import inline_hashes, policy
from .incremental.keys import TemplateDigests, campaign_inputs, page_key
from .inputs import BuildInputs
from .load import Campaign, Page
from .markdown import block_placeholder
from .parse import Parsed, replace_files, replace_images
from .render import CSP_PLACEHOLDER, layout_name, minify, render, template_error
from .workers import fork_map
from .write import compress

_CSP_ATTR = re.compile(r'content="?' + CSP_PLACEHOLDER + '"?')
Rendered = tuple[str, list[Diagnostic], tuple[bytes, list[str], list[str]], tuple[bytes, bytes] | None]


class PageRenderer:
    """Renders the pages of one campaign into its bundle."""

    def __init__(self, inputs: BuildInputs, campaign: Campaign, parsed: dict[str, Parsed], bundle: Bundle,
                 contexts: PageContexts, templates: TemplateDigests) -> None:
        self.inputs = inputs
        self.campaign = campaign
        self.parsed = parsed
        self.bundle = bundle
        self.contexts = contexts
        self.templates = templates
        assert campaign.config is not None
        self.shared_key = campaign_inputs(inputs.config.model_dump_json(), campaign.config.model_dump_json(), campaign.name,
                                          contexts.summaries, inputs.dev, [a.path for a in bundle.assets.values()])

    def key(self, page: Page) -> str:
        names = (layout_name(self.inputs.env, page.meta.layout, page.slug)[0],
                 *sorted({self.inputs.components[b.name].template for b in self.parsed[page.slug].blocks}))
        return page_key(self.shared_key, self.templates.of(names), self.parsed[page.slug].key, page.url, page.front.data)

    def render_all(self, pages: list[Page]) -> int:
        """Every page into the bundle; returns how many were rendered (the others were cached)."""
        inputs, bundle = self.inputs, self.bundle
        keys = {p.slug: self.key(p) for p in pages}
        cached = inputs.cache.get("html", keys.values())
        todo = [p for p in pages if keys[p.slug] not in cached]
        done = {}
        for page, result in zip(todo, fork_map(lambda i: self.render_final(todo[i]), range(len(todo)), inputs.workers),
                                strict=True):
            done[page.slug] = result
            self.stage(page, result)
        fresh: dict[str, bytes] = {}
        for page in pages:
            self.contexts.check_share_image(page)
            if page.slug in done:
                html, problems, final, compressed = done[page.slug]
                inputs.diags.items.extend(problems)
                if not html:
                    continue
                fresh[keys[page.slug]] = html.encode()
                if compressed:
                    bundle.compressed[page.url] = compressed
            else:
                final = self.finish_html(cached[keys[page.slug]].decode())
            bundle.add_html(page.url, *final)
        inputs.cache.put("html", fresh)
        return len(todo)

    def stage(self, page: Page, result: Rendered) -> None:
        """A production page goes to the staging folder as soon as it is ready, with its .br and .gz."""
        html, _, (data, *_), compressed = result
        if html and compressed and self.inputs.staging:
            rel = f"{self.campaign.name}/{page.url}"
            for path, content in ((rel, data), (rel + ".br", compressed[0]), (rel + ".gz", compressed[1])):
                self.inputs.staging.put(path, content)

    def render_final(self, page: Page) -> Rendered:
        """A page rendered, finished with its CSP and, for production, compressed."""
        html, problems = self.render_page(page)
        if not html:
            return html, problems, (b"", [], []), None
        final = self.finish_html(html)
        compressed = None if self.inputs.dev else compress(f"{self.campaign.name}/{page.url}", final[0])
        return html, problems, final, compressed

    def render_page(self, page: Page) -> tuple[str, list[Diagnostic]]:
        """One page's minified HTML (its CSP still a placeholder), or "" and what went wrong.
        Reads the build's state, changes none of it: it may run in a worker process."""
        report = Diagnostics()
        parsed = self.parsed[page.slug]
        name, problem = layout_name(self.inputs.env, page.meta.layout, page.slug)
        if problem:
            report.error(page.source, key_line(page, "layout"), problem)
            return "", report.items
        seen = {"n": 0}

        def image(path: str, attrs: str) -> str:
            seen["n"] += 1
            return self.contexts.img_tag(path, attrs, page.url, eager=seen["n"] == 1)

        cover_ref = front_image(page, page.meta.cover, self.campaign.dir)
        cover = image(cover_ref, f'alt="{escape(page.meta.title)}"') if cover_ref else ""
        context = self.contexts.page(page, "", cover)
        content = self.render_blocks(page, parsed, context, report)
        content = replace_files(content, lambda path: self.contexts.url(self.bundle.linked[path].path, page.url))
        context["page"]["content"] = Markup(replace_images(content, image))
        context["components"] = self.contexts.components(page, parsed)
        context["css"] = self.contexts.stylesheet(page, parsed)
        return self.render_html(name, context, page.source, report), report.items

    def render_blocks(self, page: Page, parsed: Parsed, context: dict[str, Any], report: Diagnostics) -> str:
        """Each component block's template, rendered in place of its placeholder."""
        html = parsed.html
        for index, block in enumerate(parsed.blocks):
            try:
                rendered = render(self.inputs.env, self.inputs.components[block.name].template,
                                  {**context, "c": block.config, "id": block.id, "component": block.name})
            except Exception as exc:  # a component template's failure, located in the template
                report.items.append(template_error(exc, self.inputs.site.root, page.source))
                rendered = ""
            html = html.replace(block_placeholder(index), rendered, 1)
        return html

    def render_offline(self) -> None:
        """The page the service worker shows offline, in the landing page's context."""
        index = self.campaign.page("index")
        if index is None:
            return
        context = self.contexts.page(index, "", "")
        context["page"].update(title="网络不可用", url="offline.html", is_index=False)
        context["canonical"] = None
        key = page_key(self.shared_key, self.templates.of(("offline.html",)), "", "offline.html", None)
        cached = self.inputs.cache.get("html", [key]).get(key)
        html = cached.decode() if cached else self.render_html("offline.html", context, self.campaign.source,
                                                               self.inputs.diags)
        if html and not cached:
            self.inputs.cache.put("html", {key: html.encode()})
        if html:
            self.bundle.add_html("offline.html", *self.finish_html(html))

    def render_html(self, template: str, context: dict[str, Any], source: str, report: Diagnostics) -> str:
        """A layout rendered and minified; "" after reporting a template failure at its location."""
        try:
            return minify(render(self.inputs.env, template, context))
        except Exception as exc:  # any template failure is the author's, reported with its location
            found = template_error(exc, self.inputs.site.root, source)
            page_specific = found.path != source and not isinstance(exc, jinja2.TemplateSyntaxError)
            culprit = f" (while rendering {source})" if page_specific else ""
            report.items.append(Diagnostic(found.path, found.line, found.message + culprit))
            return ""

    def finish_html(self, html: str) -> tuple[bytes, list[str], list[str]]:
        """A rendered page with the CSP its inline code needs, and the hashes it allowed."""
        scripts, styles = inline_hashes(html)
        csp = policy(self.inputs.config.cdn_prefix, self.inputs.config.api_url, scripts, styles)
        return _CSP_ATTR.sub(lambda _: f'content="{csp}"', html, count=1).encode(), scripts, styles
