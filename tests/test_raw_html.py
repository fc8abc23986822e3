"""Raw HTML in Markdown never swallows the page's footer: an element opened and not closed (or
closed out of turn) is a build error at its line, and on every page that builds, the risk
disclosure is a visible child of the footer, as Chromium parses the minified page."""
from __future__ import annotations

import random

import pytest

from h5fixtures import build, write_tree

DISCLOSURE = "理财非存款，产品有风险，投资须谨慎。"
CAMPAIGN = f"title: 测试\nstart: 2020-01-01\nend: 2099-12-31\ndisclosure: {DISCLOSURE}\n"

# Balanced raw HTML: void elements, self-closing SVG, tags in comments, a stylesheet, Markdown
# between an opener and its closer.
BALANCED = [
    '<div class="note">\n\n段落 **粗体**\n\n</div>',
    "<details><summary>更多</summary>\n\n内容\n\n</details>",
    "<table><tr><td>一</td><td>二</td></tr>\n<tr><td>三</td><td>四</td></tr></table>",
    "<ul><li>一</li><li>二</li></ul>",
    "<p>一段 HTML 写的文字</p>",
    '<svg viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/><path d="M0 0h10"/></svg>',
    '行内 <span class="x">文字</span> 与 <b>粗</b>，<br/>换行',
    "<!-- <div> 注释里的标签 </section> -->",
    "<style>\n.note { color: #333 }\n</style>",
    "<section>\n<div>\n\n嵌套的 *Markdown*\n\n</div>\n</section>",
    "<dl><dt>词</dt><dd>释义</dd></dl>",
    "<hr>\n\n<div><hr/></div>",
]

# (raw HTML after two lines of text, the line of the error in the page, what the message says)
UNBALANCED = [
    ('<div class="x">\n\n段落', 7, "<div> in raw HTML is never closed in the page"),
    ("<style>\n.a { color: red }", 7, "<style> in raw HTML is never closed in the page"),
    ("文字\n\n</div>", 9, "</div> in raw HTML closes no <div> opened before it"),
    ("<div><span>文字</div>", 7, "<span> in raw HTML is not closed before </div> on line 7"),
    ("<div/>\n\n文字", 7, "<div> in raw HTML is never closed in the page"),
    ("文字 <span>没有关上\n的行内元素", 7, "<span> in raw HTML is never closed in its paragraph"),
    ("<section>\n<div>\n</section>", 8, "<div> in raw HTML is not closed before </section> on line 9"),
    ("<svg><g></svg>", 7, "<g> in raw HTML is not closed before </svg>"),
    # End tags HTML lets authors leave out: the minifier then drops </table> and the </main> after it.
    ("<table><tr><td>一<td>二</tr></table>", 7, "<td> in raw HTML is not closed before </tr> on line 7"),
    ("<p>没有结束标签的段落", 7, "<p> in raw HTML is never closed in the page"),
]


def page(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n\n开头的文字。\n\n{body}\n"


def test_disclosure_is_a_visible_child_of_the_footer_on_every_page(tmp_path, serve, browser):
    rng = random.Random(20)
    mixes = [BALANCED[i:i + 1] for i in range(len(BALANCED))]
    mixes += [rng.sample(BALANCED, rng.randint(2, 5)) for _ in range(40)]
    files: dict[str, str | bytes | None] = {"h5press.yaml": "base_url: https://h5.example.com/\n",
                                            "content/c/campaign.yaml": CAMPAIGN,
                                            "content/c/index.md": page("首页", "欢迎。")}
    files |= {f"content/c/p{n}.md": page(f"第{n}页", "\n\n".join(mix)) for n, mix in enumerate(mixes)}
    root = write_tree(tmp_path / "site", files)
    result = build(root)
    assert result.exit_code == 0, result.output
    server = serve(root / "dist")
    context = browser.new_context(service_workers="block")
    tab = context.new_page()
    for n in range(len(mixes)):
        tab.goto(server.url(f"c/p{n}.html"))
        where = tab.evaluate("""() => {
            const p = [...document.querySelectorAll('p')].find(e => e.textContent.includes('理财非存款'));
            const footer = document.querySelector('body > footer.h5-footer');
            return {parent: p && p.parentElement === footer, footers: document.querySelectorAll('footer').length,
                    inMain: !!(p && p.closest('main')), visible: !!(p && p.checkVisibility({checkVisibilityCSS: true})),
                    text: p ? p.textContent : null};
        }""")
        assert where == {"parent": True, "footers": 1, "inMain": False, "visible": True, "text": DISCLOSURE}, (n, mixes[n])
    context.close()


@pytest.mark.parametrize(("raw", "line", "message"), UNBALANCED, ids=[m for _, _, m in UNBALANCED])
def test_unbalanced_raw_html_is_an_error_at_its_line(make_project, raw, line, message):
    root = make_project({"content/demo/bad.md": page("坏的", raw)})
    result = build(root)
    assert result.exit_code == 1
    assert f"content/demo/bad.md:{line}: {message}" in result.stderr, result.stderr
    assert not (root / "dist").exists()  # nothing half-written
