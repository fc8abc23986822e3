"""Loading: front matter, encodings, drafts, page order."""
from __future__ import annotations

import shutil

from h5fixtures import write_tree
from h5press.generator.errors import Diagnostics
from h5press.generator.load import load_site, split_front_matter


def load(root):
    report = Diagnostics()
    return load_site(root, report), report


def test_split_front_matter_reports_body_line():
    meta, body, line = split_front_matter("---\ntitle: a\n---\nhello\n")
    assert meta == "title: a" and body == "hello\n" and line == 4
    assert split_front_matter("no front matter") == (None, "no front matter", 1)


def test_loads_pages_in_reading_order_with_extra_keys(make_project):
    site, report = load(make_project())
    assert report.errors == []
    pages = site.campaigns[0].pages
    assert [p.slug for p in pages] == ["index", "article", "guide/intro"]
    assert pages[1].meta.model_dump()["author"] == "小青"
    assert pages[1].body_line == 7


def test_drafts_are_left_out(make_project):
    root = make_project({"content/demo/draft.md": "---\ntitle: 草稿\ndraft: true\n---\n"})
    site, _ = load(root)
    assert "draft" not in [p.slug for p in site.campaigns[0].pages]


def test_not_utf8_names_the_line(make_project):
    root = make_project({"content/demo/gbk.md": "---\ntitle: 标题\n---\n第一行\n".encode("gbk")})
    _, report = load(root)
    assert [str(e) for e in report.errors] == ["content/demo/gbk.md:2: not valid UTF-8 (byte 0xb1); save the file as UTF-8"]


def test_invalid_front_matter_yaml_points_into_the_file(make_project):
    root = make_project({"content/demo/bad.md": "---\ntitle: 好\ntags: [a, b\n---\n正文\n"})
    _, report = load(root)
    (error,) = report.errors
    assert error.path == "content/demo/bad.md" and error.line in (3, 4)
    assert error.message.startswith("invalid YAML")


def test_missing_title(make_project):
    root = make_project({"content/demo/untitled.md": "---\ndescription: 没有标题\n---\n正文\n"})
    _, report = load(root)
    assert [str(e) for e in report.errors] == ["content/demo/untitled.md:2: front matter: title: is required"]


def test_folder_without_campaign_yaml_and_bad_name(make_project):
    root = make_project({"content/Bad Name/campaign.yaml": "title: x\n", "content/Bad Name/index.md": "---\ntitle: a\n---\n",
                         "content/stray/readme.md": "x"})
    _, report = load(root)
    messages = [str(e) for e in report.errors]
    assert "content/stray: folder has no campaign.yaml; every folder in content/ is a campaign" in messages
    assert any(m.startswith("content/Bad Name: campaign folder names") for m in messages)


def test_not_a_project(tmp_path):
    site, report = load(tmp_path)
    assert site is None and "has no h5press.yaml" in report.errors[0].message


def test_reserved_and_unsafe_page_names(make_project):
    root = make_project({"content/demo/offline.md": "---\ntitle: 离线说明\n---\n", "content/demo/assets/notes.md": "---\ntitle: 笔记\n---\n",
                         "content/demo/利率 表.md": "---\ntitle: 利率\n---\n", "content/demo/中文页.md": "---\ntitle: 中文\n---\n"})
    (root / "content/demo/folder.md").mkdir()
    _, report = load(root)
    messages = [str(e) for e in report.errors]
    assert 'content/demo/offline.md: "offline" is reserved: offline.html is the page shown offline; rename this page' in messages
    assert any(m.startswith('content/demo/assets/notes.md: "assets" is reserved') for m in messages)
    assert "content/demo/利率 表.md: page file and folder names become URLs: use letters, digits, '-' and '_'" in messages
    assert len(messages) == 3  # 中文页.md is a fine name; a folder called folder.md is not a page


def test_landing_page_cannot_be_a_draft(make_project):
    root = make_project({"content/demo/index.md": "---\ntitle: 首页\ndraft: true\n---\n"})
    _, report = load(root)
    assert [str(e) for e in report.errors] == ["content/demo/index.md: the landing page cannot be a draft"]


def test_unclosed_front_matter(make_project):
    root = make_project({"content/demo/open.md": "---\ntitle: 没有结束\n\n正文\n"})
    _, report = load(root)
    assert [str(e) for e in report.errors] == ["content/demo/open.md:1: front matter is not closed: add a --- line after it"]


def test_what_serve_keeps_loaded_follows_the_files(make_project):
    from h5press.generator import load as load_module

    root = make_project()
    load_module._loaded.clear()
    for n in range(5):  # five saves of one page keep one entry for it
        write_tree(root, {"content/demo/article.md": f"---\ntitle: 第{n}版\n---\n正文\n"})
        site = load_site(root, Diagnostics())
        assert site is not None and next(p for p in site.campaigns[0].pages if p.slug == "article").meta.title == f"第{n}版"
    assert sorted(source for _, source in load_module._loaded) == [
        "content/demo/article.md", "content/demo/guide/intro.md", "content/demo/index.md"]
    (root / "content/demo/guide/intro.md").unlink()
    load_site(root, Diagnostics())
    assert "content/demo/guide/intro.md" not in {source for _, source in load_module._loaded}
    write_tree(root, {"content/other/campaign.yaml": "title: 另一个\n", "content/other/index.md": "---\ntitle: 首页\n---\n"})
    load_site(root, Diagnostics())
    shutil.rmtree(root / "content/other")
    load_site(root, Diagnostics())
    assert {campaign for campaign, _ in load_module._loaded} == {"demo"}
