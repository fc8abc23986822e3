"""points: before any script runs the wallet reads 0 with the first level and the way to the next;
earning and levelling up in real Chromium are tested with levels and badges (test_levels.py)."""
from __future__ import annotations

from h5fixtures import build, one_page_site

CAMPAIGN = "title: t\nstart: 2020-01-01\nend: 2099-12-31\nlevels:\n  - {name: 新手, min: 0}\n  - {name: 达人, min: 100}\n"


def test_wallet_is_readable_before_its_script(tmp_path):
    root = one_page_site(tmp_path, "::: points\ntitle: 我的绿色积分\n:::\n", CAMPAIGN)
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    assert "我的绿色积分" in html and "<b data-total>0</b> 积分 · <span data-level>新手</span>" in html
    assert "再得 100 积分升为「达人」" in html


def test_without_levels_there_is_no_progress_bar(tmp_path):
    root = one_page_site(tmp_path, "::: points\n:::\n")
    assert build(root).exit_code == 0
    assert "data-bar" not in (root / "dist/c/index.html").read_text()
