"""Markdown → HTML: tables, anchors, links between pages, images, raw HTML against the CSP."""
from __future__ import annotations

import re
from pathlib import Path

from h5press.generator.components import registry
from h5press.generator.config import FrontMatter
from h5press.generator.load import Page
from h5press.generator.parse import IMG_SCHEME, check_links, parse_page, replace_images


def page(body: str, slug: str = "index", first_line: int = 5) -> Page:
    return Page("demo", f"content/demo/{slug}.md", slug, FrontMatter(title="t"), body, first_line)


def parse(body: str, tmp_path: Path, slug: str = "index", slugs=("index", "a", "sub/b")):
    (tmp_path / "images").mkdir(exist_ok=True)
    (tmp_path / "images" / "x.png").write_bytes(b"png")
    return parse_page(page(body, slug), tmp_path, frozenset(slugs), registry(tmp_path))


def test_tables_scroll_inside_a_wrapper(tmp_path):
    html = parse("| a | b |\n|---|---|\n| 1 | 2 |\n", tmp_path).html
    assert re.match(r'<div class="h5-table">\s*<table>', html) and re.search(r"</table>\s*</div>$", html)


def test_unicode_anchors_are_kept_and_deduplicated(tmp_path):
    parsed = parse("## 存款 保险\n\n## 存款 保险\n\n## Hello World\n", tmp_path)
    assert parsed.ids == ["存款-保险", "存款-保险_1", "hello-world"]
    assert 'id="存款-保险"' in parsed.html


def test_fenced_code_and_attribute_lists(tmp_path):
    html = parse("提示内容\n{: .note }\n\n```js\nvar a = '<script>';\n```\n", tmp_path).html
    assert '<p class="note">提示内容</p>' in html
    assert '<pre><code class="language-js">' in html and "&lt;script&gt;" in html


def test_links_between_markdown_files_become_relative_pages(tmp_path):
    parsed = parse("[a](a.md) [b](sub/b.md#第二步) [web](https://x.cn/a.md) [top](#t)", tmp_path)
    assert 'href="a.html"' in parsed.html and 'href="sub/b.html#第二步"' in parsed.html
    assert 'href="https://x.cn/a.md"' in parsed.html and 'href="#t"' in parsed.html
    parsed = parse("[home](../index.md) [a](../a.md)", tmp_path, slug="sub/b")
    assert 'href="../index.html"' in parsed.html and 'href="../a.html"' in parsed.html


def test_broken_link_is_a_warning_with_its_line(tmp_path):
    parsed = parse("第一行\n\n[丢失](missing.md)\n", tmp_path)
    (warning,) = parsed.diagnostics
    assert (warning.level, warning.line) == ("warning", 7)
    assert 'broken link "missing.md"' in warning.message


def test_a_heading_that_skips_a_level_is_a_warning_with_its_line(tmp_path):
    parsed = parse("### 问题一\n\n## 小节\n\n### 问题\n\n##### 细节\n\n## 下一节\n", tmp_path)
    assert [(d.level, d.line, d.message) for d in parsed.diagnostics] == [
        ("warning", 5, "heading level skips from h1 to h3: screen readers navigate by level; use ## here"),
        ("warning", 11, "heading level skips from h3 to h5: screen readers navigate by level; use #### here")]


def test_anchor_check_across_pages(tmp_path):
    one = parse("[b](sub/b.md#没有)\n", tmp_path)
    two = parse("## 有\n", tmp_path, slug="sub/b")
    (warning,) = check_links({"index": (page("", "index"), one), "sub/b": (page("", "sub/b"), two)})
    assert 'broken anchor "#没有"' in warning.message


def test_images_become_placeholders_and_missing_ones_are_errors(tmp_path):
    parsed = parse("![图](images/x.png)\n\n![缺](images/none.png)\n\n![](images/x.png)\n", tmp_path)
    assert parsed.images == ["images/x.png", "images/x.png"]
    assert f'src="{IMG_SCHEME}images/x.png"' in parsed.html
    errors = [d for d in parsed.diagnostics if d.level == "error"]
    assert [(e.line, e.message) for e in errors] == [(7, 'image not found: "images/none.png" (looked in content/demo/)')]
    assert any("no alt text" in d.message for d in parsed.diagnostics if d.level == "warning")
    replaced = replace_images(parsed.html, lambda path, attrs: f"<IMG {path} {attrs}>")
    assert '<IMG images/x.png alt="图">' in replaced


def test_inline_script_and_handlers_in_raw_html_are_errors(tmp_path):
    body = "正文\n\n<div onclick=\"go()\">点我</div>\n\n<script>alert(1)</script>\n\n<a href=\"javascript:void(0)\">x</a>\n"
    errors = parse(body, tmp_path).diagnostics
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (7, 'event-handler attribute onclick="…" on <div>'),
        (9, "inline <script> in raw HTML"),
        (11, "javascript"),
    ]


def test_plain_raw_html_is_allowed(tmp_path):
    parsed = parse('<details><summary>更多</summary>内容</details>\n\n<a href="https://www.pbc.gov.cn/">人民银行</a>\n', tmp_path)
    assert parsed.diagnostics == []


def test_line_breaks_between_chinese_characters_vanish(tmp_path):
    html = parse("少开一天车，\n多走一段路。\nEnglish\nwords 和\n中文\n\n```\n代码\n保留\n```\n", tmp_path).html
    assert "少开一天车，多走一段路。\nEnglish\nwords 和中文" in html
    assert "代码\n保留" in html


def test_table_alignment_becomes_classes_and_other_styles_are_errors(tmp_path):
    parsed = parse("| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n段落\n{: style=\"color:red\" }\n", tmp_path)
    assert 'class="h5-align-center"' in parsed.html and 'class="h5-align-right"' in parsed.html
    assert "style=" not in parsed.html
    (error,) = parsed.diagnostics
    assert error.line == 10 and error.message.startswith('style="color:red" on <p>: the Content-Security-Policy blocks')


def test_raw_html_that_would_break_is_reported(tmp_path):
    body = ('<p style="color:red">红</p>\n\n<iframe src="https://v.qq.com/x"></iframe>\n\n'
            '<img src="images/x.png" alt="原始">\n\n<script src="https://evil.example.com/x.js"></script>\n\n'
            '<a href="a.md">原始链接</a>\n')
    messages = [d.message.split(":")[0] for d in sorted(parse(body, tmp_path).diagnostics, key=lambda d: d.line)]
    assert messages == ['style="…" on <p>', "<iframe> in raw HTML", "<img> in raw HTML is not processed or copied",
                        '<script src="https', 'raw HTML link "a.md" is not resolved or copied']


def test_linked_files_are_published_and_remote_images_refused(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "rates.pdf").write_bytes(b"%PDF")
    parsed = parse("[费率表](files/rates.pdf) [没有](files/none.pdf)\n\n![远程](https://img.example.com/a.png)\n", tmp_path)
    assert parsed.files == ["files/rates.pdf"] and 'href="h5file:files/rates.pdf"' in parsed.html
    levels = sorted((d.level, d.message.split(":")[0]) for d in parsed.diagnostics)
    assert levels == [("error", 'remote image "https'), ("warning", 'broken link "files/none.pdf"')]


def test_attribute_lists_on_headings_images_and_links(tmp_path):
    parsed = parse("## 办理流程 {: #flow .step }\n\n![图](images/x.png){: .wide } [办理](a.md){: .h5-btn }\n\n"
                   "价格 {单位: 元} 不是属性\n", tmp_path)
    assert '<h2 id="flow" class="step">办理流程</h2>' in parsed.html and parsed.ids == ["flow"]
    assert f'<img src="{IMG_SCHEME}images/x.png" alt="图" class="wide">' in parsed.html
    assert '<a href="a.html" class="h5-btn">办理</a>' in parsed.html
    assert "价格 {单位: 元} 不是属性" in parsed.html


def test_every_finding_has_its_own_line(tmp_path):
    parsed = parse("[丢失](missing.md)\n\n第二段\n\n![](images/x.png) 和 [丢失](missing.md)\n", tmp_path)
    assert [(d.line, d.message.split(":")[0]) for d in parsed.diagnostics] == [
        (5, 'broken link "missing.md"'), (9, 'image "images/x.png" has no alt text (screen readers announce nothing)'),
        (9, 'broken link "missing.md"')]


def test_code_is_never_taken_for_html_or_blocks(tmp_path):
    body = "用 `<script>` 标签\n\n~~~~yaml\n::: quiz q1\n```\n:::\n~~~~\n\n    <iframe src=x></iframe>\n\n~~旧价~~ 新价\n"
    parsed = parse(body, tmp_path)
    assert parsed.diagnostics == [] and parsed.blocks == []
    assert "&lt;script&gt;" in parsed.html and "::: quiz q1" in parsed.html and "<s>旧价</s>" in parsed.html


def test_component_blocks_are_blocks_only_at_the_margin(tmp_path):
    body = ("> ::: disclosure\n> text: 引用里\n> :::\n\n- 列表\n\n  ::: disclosure\n  :::\n\n"
            "段落紧接\n::: disclosure\ntext: 产品有风险\n:::\n")
    parsed = parse(body, tmp_path)
    assert [(b.name, b.line) for b in parsed.blocks] == [("disclosure", 15)] and parsed.diagnostics == []
    assert "::: disclosure" in parsed.html  # the quoted and indented ones stay text
    assert '<p>段落紧接</p>\n<div data-h5-block="0"></div>' in parsed.html


def test_plugins_render_their_syntax_and_keep_the_csp(tmp_path):
    from h5press.generator.markdown import parser

    md = parser([("footnote", {}), ("tasklists", {}), ("admon", {}), ("deflist", {}), ("attrs", {})])
    body = ("脚注[^1]。\n\n[^1]: 来源。\n\n- [x] 完成\n- [ ] 未完成\n\n!!! warning \"注意\"\n    理财非存款。\n\n"
            "术语\n:   解释\n\n[链接](a.md){style=\"color:red\" .btn}\n")
    parsed = parse_page(page(body), tmp_path, frozenset({"index", "a"}), registry(tmp_path), md)
    html = parsed.html
    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup>' in html and 'id="fn1"' in html
    assert 'class="task-list-item-checkbox" checked="checked" disabled="disabled"' in html
    assert '<div class="admonition warning">' in html and '<dl>\n<dt>术语</dt>' in html
    assert '<a href="a.html" class="btn">链接</a>' in html and "style=" not in html
    (error,) = parsed.diagnostics
    assert error.line == 18 and error.message.startswith('style="color:red" on <a>: the Content-Security-Policy blocks')
