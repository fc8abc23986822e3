"""disclosure: rendered always visible, from the block or the campaign, and never collapsed."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from h5press.cli import cli


def site(tmp_path: Path, campaign: str, page: str) -> Path:
    files = {
        "h5press.yaml": "base_url: https://h5.example.com/\n",
        "content/c/campaign.yaml": campaign,
        "content/c/index.md": "---\ntitle: 首页\n---\n" + page,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, "utf-8")
    return tmp_path


def build(root: Path):
    return CliRunner().invoke(cli, ["build", "-p", str(root), "-j", "1"])


def test_text_falls_back_to_the_campaign_disclosure(tmp_path):
    root = site(tmp_path, "title: t\ndisclosure: 理财非存款，产品有风险，投资须谨慎。\n", "::: disclosure\n:::\n")
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    aside = html[html.index("<aside"):html.index("</aside>")]
    assert "理财非存款，产品有风险，投资须谨慎。" in aside and "role=note" in aside and "<details" not in aside


def test_own_text_title_and_level(tmp_path):
    page = "::: disclosure\ntitle: 基金风险提示\ntext: 基金过往业绩不代表未来表现。\nlevel: info\n:::\n"
    root = site(tmp_path, "title: t\n", page)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "h5c-disclosure--info" in html and "基金风险提示" in html and "基金过往业绩不代表未来表现。" in html


def test_no_text_anywhere_is_an_error(tmp_path):
    result = build(site(tmp_path, "title: t\n", "\n::: disclosure\n:::\n"))
    assert result.exit_code == 1
    assert "content/c/index.md:5: disclosure: text: is required when campaign.yaml has no `disclosure`" in result.stderr
