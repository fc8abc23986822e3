"""badges: needs badges in campaign.yaml; an icon is shown as a processed image, else the name's
first character. Earning them in real Chromium is tested with points and levels (test_levels.py)."""
from __future__ import annotations

from h5fixtures import build, one_page_site, png, write_tree

CAMPAIGN = """title: t
start: 2020-01-01
end: 2099-12-31
points: {actions: {read: {points: 1}}}
badges:
  - {id: reader, name: 读者, description: 读完一篇, when: {action: read}, icon: images/reader.png}
  - {id: fan, name: 铁粉, description: 读完十篇, when: {action: read, count: 10}}
"""


def test_badges_need_badges_in_the_campaign(tmp_path):
    result = build(one_page_site(tmp_path, "::: badges\n:::\n"))
    assert result.exit_code == 1
    assert "content/c/index.md:5: badges: campaign.yaml has no badges to show" in result.stderr


def test_icon_is_a_processed_image_and_a_badge_without_one_shows_its_initial(tmp_path):
    root = write_tree(one_page_site(tmp_path, "::: badges\n:::\n", CAMPAIGN), {"content/c/images/reader.png": png(256, 256)})
    assert build(root).exit_code == 0
    html = (root / "dist/c/index.html").read_text()
    reader = html.split('data-badge=reader')[1].split("</li>")[0]
    assert "class=h5c-badges__mark" in reader and "src=assets/reader-256." in reader and "height=256" in reader
    fan = html.split('data-badge=fan')[1].split("</li>")[0]
    assert ">铁</span>" in fan
