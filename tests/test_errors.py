"""Errors for people: every problem in one run, file:line, exit 1, no traceback, dist/ untouched."""
from __future__ import annotations

from h5fixtures import build, files_of, write_tree

BROKEN = {
    "h5press.yaml": "base_url: https://h5.example.com/\nfooter:\n  icpp: 京ICP备1号\n",
    "content/demo/campaign.yaml": "title: 测试\nstart: 2026-12-01\nend: 2026-11-01\n",
    "content/demo/wrong-type.md": "---\ntitle: 类型\norder: first\n---\n",
    "content/demo/bad-yaml.md": "---\ntitle: [未闭合\n---\n正文\n",
    "content/demo/no-title.md": "---\ndescription: 缺标题\n---\n正文\n",
    "content/demo/gbk.md": "---\ntitle: 编码\n---\n中文\n".encode("gbk"),
    "content/demo/missing-image.md": "---\ntitle: 图片\n---\n\n第一段\n\n![不存在的图](images/nope.jpg)\n",
    "content/demo/script.md": "---\ntitle: 脚本\n---\n\n<script>track()</script>\n",
}

EXPECTED = [
    'h5press.yaml:3: footer.icpp: unknown key "icpp" (did you mean "icp"?)',
    "content/demo/campaign.yaml:3: end: end (2026-11-01) is before start (2026-12-01)",
    "content/demo/wrong-type.md:3: front matter: order: input should be a valid integer",
    "content/demo/bad-yaml.md:2: invalid YAML",
    "content/demo/no-title.md:2: front matter: title: is required",
    "content/demo/gbk.md:2: not valid UTF-8",
    'content/demo/missing-image.md:7: image not found: "images/nope.jpg"',
    "content/demo/script.md:5: inline <script> in raw HTML",
]


def test_all_problems_in_one_run_and_dist_untouched(make_project):
    root = make_project()
    assert build(root).exit_code == 0
    before = files_of(root / "dist")
    write_tree(root, BROKEN)
    result = build(root)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    for expected in EXPECTED:
        assert any(line.startswith(f"error: {expected}") for line in lines), (expected, lines)
    assert lines[-1] == f"build failed with {sum(line.startswith('error:') for line in lines)} errors"
    assert files_of(root / "dist") == before
    assert not [p for p in root.iterdir() if p.name.startswith(".dist.")]


def test_template_syntax_error_in_project_layout(make_project):
    root = make_project({"layouts/page.html": '{% extends "theme/page.html" %}\n{% block content %}\n{% if %}\n{% endblock %}\n'})
    result = build(root)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: layouts/page.html:3: template error:")


def test_template_runtime_error_in_project_layout(make_project):
    root = make_project({"layouts/page.html": '{% extends "theme/page.html" %}\n{% block content %}\n{{ page.title.nope() }}\n{% endblock %}\n'})
    result = build(root)
    assert result.exit_code == 1
    assert "error: layouts/page.html:3: template error: UndefinedError" in result.stderr
    assert "(while rendering content/demo/article.md)" in result.stderr


def test_unknown_layout_suggests_existing_ones(make_project):
    root = make_project({"content/demo/x.md": "---\ntitle: x\nlayout: pgae\n---\n"})
    result = build(root)
    assert 'error: content/demo/x.md:3: layout "pgae" not found (did you mean "page"?)' in result.stderr


def test_scss_error_names_the_project_partial(make_project):
    root = make_project({"assets/scss/_chrome.scss": ".a {\n  color: red\n  b: ;\n"})
    result = build(root)
    assert result.exit_code == 1
    assert "error: assets/scss/_chrome.scss:" in result.stderr and "SCSS:" in result.stderr


def test_strict_turns_warnings_into_errors(make_project):
    root = make_project({"content/demo/article.md": "---\ntitle: a\n---\n[坏链接](nowhere.md)\n"})
    assert build(root).exit_code == 0
    result = build(root, "--strict")
    assert result.exit_code == 1
    assert 'content/demo/article.md:4: broken link "nowhere.md"' in result.stderr and "(--strict)" in result.stderr


def test_bad_base_url_option(make_project):
    result = build(make_project(), "--base-url", "h5.example.com")
    assert result.exit_code == 1
    assert 'error: --base-url: expected an absolute http(s) URL, got "h5.example.com"' in result.stderr
    result = build(make_project(), "--api-url", "api.example.com")
    assert result.exit_code == 1 and 'error: --api-url: expected an absolute http(s) URL, got "api.example.com"' in result.stderr


def test_unexpected_failure_is_one_line_without_debug(make_project, monkeypatch):
    import h5press.generator.build as build_module

    def explode(options):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_module, "build", explode)
    result = build(make_project())
    assert result.exit_code == 1
    assert "RuntimeError: disk on fire (run again with --debug for the traceback)" in result.stderr
    assert "Traceback" not in result.output


def test_output_folder_that_is_not_a_build_is_never_replaced(make_project, tmp_path):
    root = make_project()
    precious = tmp_path / "documents"
    (precious / "notes.txt").parent.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = build(root, "--out", str(precious))
    assert result.exit_code == 1 and "--out is a folder with other files" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
    assert "--out would replace the project itself" in build(root, "--out", str(root)).stderr
    assert "--out would replace the project itself" in build(root, "--out", str(root.parent)).stderr
    (tmp_path / "file.txt").write_text("x")
    assert "is a file" in build(root, "--out", str(tmp_path / "file.txt")).stderr
    assert build(root, "--out", str(tmp_path / "new" / "dist")).exit_code == 0
    assert build(root, "--out", str(tmp_path / "new" / "dist")).exit_code == 0  # a previous build is replaced
