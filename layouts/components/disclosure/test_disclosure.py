"""disclosure: rendered always visible, from the block or the campaign, and never collapsed."""
from __future__ import annotations

from h5fixtures import build, one_page_site


def test_text_falls_back_to_the_campaign_disclosure(tmp_path):
    root = one_page_site(tmp_path, "::: disclosure\n:::\n", "title: t\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    aside = html[html.index("<aside"):html.index("</aside>")]
    assert "理财非存款，产品有风险，投资须谨慎。" in aside and "role=note" in aside and "<details" not in aside


def test_own_text_title_and_level(tmp_path):
    page = "::: disclosure\ntitle: 基金风险提示\ntext: 基金过往业绩不代表未来表现。\nlevel: info\n:::\n"
    root = one_page_site(tmp_path, page, "title: t\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "h5c-disclosure--info" in html and "基金风险提示" in html and "基金过往业绩不代表未来表现。" in html


def test_no_text_anywhere_is_an_error(tmp_path):
    result = build(one_page_site(tmp_path, "::: disclosure\n:::\n", "title: t\n"))
    assert result.exit_code == 1
    assert "content/c/index.md:5: disclosure: text: is required when campaign.yaml has no `disclosure`" in result.stderr
