"""The build cache and incremental output: safe, exact, and nearly free when nothing changed."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from h5fixtures import build, files_of, write_tree
from h5press.generator.build import BuildOptions
from h5press.generator.build import build as run_build
from h5press.generator.incremental import fingerprint
from h5press.generator.incremental.dev import rebuild_page


def inodes(dist: Path) -> dict[str, int]:
    return {p.relative_to(dist).as_posix(): p.stat().st_ino for p in dist.rglob("*") if p.is_file()}


def test_no_change_build_writes_nothing(make_project):
    root = make_project()
    first = run_build(BuildOptions(root, workers=1))
    assert first.written and (root / ".h5press-cache" / "build.sqlite").is_file()
    before = inodes(root / "dist")
    second = run_build(BuildOptions(root, workers=1))
    assert second.written == [] and inodes(root / "dist") == before
    assert "nothing changed" in build(root).output


def test_layout_change_rewrites_its_dependants_and_nothing_else(make_project):
    root = make_project()
    run_build(BuildOptions(root, workers=1))
    write_tree(root, {"layouts/page.html": '{% extends "theme/page.html" %}{% block head %}<meta name="x" content="1">{% endblock %}'})
    written = run_build(BuildOptions(root, workers=1)).written
    pages = {p for p in written if p.endswith(".html")}
    assert pages == {"demo/article.html", "demo/guide/intro.html"}  # index.html uses the index layout
    # the service worker and headers change because two precached pages did; nothing else does
    assert set(written) - {p for p in written if p.startswith(tuple(pages))} == {
        "demo/sw.js", "demo/sw.js.br", "demo/sw.js.gz", "build-report.json"}


def test_a_template_change_re_renders_only_the_pages_that_reach_it(make_project, monkeypatch):
    from h5press.generator.pages import PageRenderer
    rendered: list[str] = []
    render_final = PageRenderer.render_final
    monkeypatch.setattr(PageRenderer, "render_final",
                        lambda self, page: rendered.append(page.slug) or render_final(self, page))
    root = make_project()
    run_build(BuildOptions(root, workers=1))
    assert {"index", "article", "guide/intro"} <= set(rendered)
    rendered.clear()
    write_tree(root, {"layouts/index.html": '{% extends "theme/index.html" %}{% block head %}<meta name="x" content="1">{% endblock %}'})
    run_build(BuildOptions(root, workers=1))
    assert rendered == ["index"]  # the article layouts neither extend nor include the index layout
    rendered.clear()
    write_tree(root, {"layouts/partials/footer.html": "<footer class=\"h5-footer\">页脚</footer>"})
    run_build(BuildOptions(root, workers=1))
    assert sorted(rendered) == ["article", "guide/intro", "index"]  # base.html includes the footer: every page


def test_edit_one_page_and_delete_another(make_project):
    root = make_project()
    run_build(BuildOptions(root, workers=1))
    write_tree(root, {"content/demo/guide/intro.md": None,
                      "content/demo/article.md": (root / "content/demo/article.md").read_text().replace("列表一", "第一项")})
    write_tree(root, {"content/demo/index.md": (root / "content/demo/index.md").read_text().replace(" 再读 [指南](guide/intro.md#第二步)。", "")})
    result = run_build(BuildOptions(root, workers=1))
    assert not (root / "dist/demo/guide/intro.html").exists()
    assert "第一项" in (root / "dist/demo/article.html").read_text()
    assert "demo/article.html" in result.written


def test_cached_build_is_byte_identical_to_uncached(make_project, tmp_path):
    root = make_project()
    run_build(BuildOptions(root, workers=1))
    write_tree(root, {"content/demo/article.md": (root / "content/demo/article.md").read_text() + "\n新增一段。\n"})
    run_build(BuildOptions(root, workers=1))  # cached, incremental
    run_build(BuildOptions(root, out=tmp_path / "clean", workers=1, cache=False))
    assert files_of(root / "dist") == files_of(tmp_path / "clean")


def test_cache_writes_land_in_order_before_reads_and_close(tmp_path):
    """Writes go to SQLite on threads of their own while the build goes on: a read, and the next
    process, see every write made before it; a write that fails is raised by `close`."""
    from h5press.generator.incremental.cache import BuildCache

    path = tmp_path / "build.sqlite"
    cache = BuildCache(path, "salt")
    for n in range(20):  # the same key written again and again: the last write wins
        cache.put("html", {"k": str(n).encode(), f"k{n}": b"x" * 100_000})
    assert cache.get("html", ["k", "k19"]) == {"k": b"19", "k19": b"x" * 100_000}
    cache.put_objects("parse", {"p": {"a": 1}})
    cache.close()
    again = BuildCache(path, "salt")
    assert again.get_objects("parse", ["p"]) == {"p": {"a": 1}} and len(again.get("html", [f"k{n}" for n in range(20)])) == 20
    again.db.execute("DROP TABLE entry")  # type: ignore[union-attr]
    again.put("html", {"k": b"1"})
    with pytest.raises(Exception, match="no such table"):
        again.close()
    assert again.db is None


def test_cache_from_another_version_or_config_is_ignored(make_project, monkeypatch):
    from h5press.generator.incremental import salt
    from h5press.generator.incremental.cache import BuildCache

    root = make_project()
    run_build(BuildOptions(root, workers=1))
    dropped = []
    real_init = BuildCache.__init__

    def spy(self, path, salt):
        real_init(self, path, salt)
        if self.db is not None:
            dropped.append(self.db.execute("SELECT count(*) FROM entry").fetchone()[0] == 0)

    monkeypatch.setattr(BuildCache, "__init__", spy)
    run_build(BuildOptions(root, workers=1))
    monkeypatch.setattr(salt, "__version__", "99.0")
    run_build(BuildOptions(root, workers=1))
    monkeypatch.undo()
    monkeypatch.setattr(BuildCache, "__init__", spy)
    write_tree(root, {"h5press.yaml": "base_url: https://other.example.com/\n"})
    run_build(BuildOptions(root, workers=1))
    assert dropped == [False, True, True]
    assert "https://other.example.com/demo/article.html" in (root / "dist/demo/article.html").read_text()


def test_serve_rerenders_one_edited_page_exactly_as_a_full_build(make_project, tmp_path):
    root = make_project()
    dev = tmp_path / "dev"
    state = run_build(BuildOptions(root, dev, workers=1, dev=True)).state
    assert state is not None
    article = root / "content/demo/article.md"
    before = inodes(dev)
    write_tree(root, {"content/demo/article.md": article.read_text().replace("正文继续。", "正文改过了。")})
    assert rebuild_page(state, dev, article) == ["demo/article.html"]
    after = inodes(dev)
    assert {p for p in after if after[p] != before[p]} == {"demo/article.html"}
    full = tmp_path / "full"
    run_build(BuildOptions(root, full, workers=1, dev=True, cache=False))
    assert files_of(dev) == files_of(full) | {"build-report.json": files_of(dev)["build-report.json"]}
    # Reverting the edit: the next full build must notice the page on disk differs again.
    write_tree(root, {"content/demo/article.md": article.read_text().replace("正文改过了。", "正文继续。")})
    assert "demo/article.html" in run_build(BuildOptions(root, dev, workers=1, dev=True)).written


@pytest.mark.parametrize("overrides", [{}, {"layouts/page.html": "{% extends 'theme/page.html' %}{% block content %}"
                                                                "{{ super() }}<ol>{% for p in campaign.pages %}<li>{{ p.title }}</li>"
                                                                "{% endfor %}</ol>{% endblock %}"}],
                         ids=["theme", "a layout listing every page"])
def test_serve_rerenders_the_pages_that_show_an_edited_title_exactly_as_a_full_build(make_project, tmp_path, overrides):
    """A new title or description: the page, the landing page's card and the neighbours' links
    (or, with a layout that lists every page, every page), nothing else."""
    root = make_project(overrides)
    dev = tmp_path / "dev"
    state = run_build(BuildOptions(root, dev, workers=1, dev=True)).state
    assert state is not None
    article = root / "content/demo/article.md"
    before = inodes(dev)
    write_tree(root, {"content/demo/article.md": article.read_text().replace("title: 第一篇文章", "title: 改了标题\ndescription: 新的摘要")})
    expected = ["demo/article.html", "demo/guide/intro.html", "demo/index.html"]
    assert sorted(rebuild_page(state, dev, article) or []) == expected
    after = inodes(dev)
    assert sorted(p for p in after if after[p] != before[p]) == expected
    assert "改了标题" in (dev / "demo/index.html").read_text() and "新的摘要" in (dev / "demo/index.html").read_text()
    full = tmp_path / "full"
    run_build(BuildOptions(root, full, workers=1, dev=True, cache=False))
    assert files_of(dev) == files_of(full) | {"build-report.json": files_of(dev)["build-report.json"]}


def test_which_templates_show_other_pages():
    from jinja2 import DictLoader, Environment

    from h5press.generator.incremental.dev import shows_other_pages

    env = Environment(loader=DictLoader({
        "plain.html": "{{ campaign.name }} {{ campaign.config.title }} {{ page.title }}",
        "pager.html": "{% include 'plain.html' %}{% if next %}{{ next.title }}{% endif %}",
        "list.html": "{% extends 'pager.html' %}{% for p in campaign['pages'] %}{% endfor %}",
        "handed.html": "{% set c = campaign %}{{ c.name }}",
        "dynamic.html": "{% include page.meta.part %}"}))
    seen: dict[str, tuple[bool, bool]] = {}
    assert [shows_other_pages(env, name, seen) for name in ("plain.html", "pager.html", "list.html", "handed.html",
                                                             "dynamic.html")] == [
        (False, False), (False, True), (True, True), (True, False), (True, True)]


@pytest.mark.parametrize("edit", [
    ("title: 第一篇文章", "title: 第一篇文章\norder: 9"),  # the reading order: other pages' neighbours
    ("title: 活动首页", "title: 首页改名"),  # the landing page's title is also the offline page's
    ("![第二张图片](images/photo.png)", ""),  # images
    ("## 存款保险", "## 存款保障"),  # heading ids: links from other pages may point at them
    ("正文继续。", "正文继续。\n\n[坏链接](missing.md)"),  # a problem to report
    ("正文继续。", "::: disclosure\ntext: 风险提示。\n:::"),  # a component: its assets
    ("正文继续。", "正文继续，稳赚不赔。"),  # a compliance finding
])
def test_serve_falls_back_to_a_full_build_when_an_edit_reaches_further(make_project, tmp_path, edit):
    root = make_project()
    state = run_build(BuildOptions(root, tmp_path / "dev", workers=1, dev=True)).state
    page = root / ("content/demo/index.md" if "活动首页" in edit[0] else "content/demo/article.md")
    write_tree(root, {page.relative_to(root).as_posix(): page.read_text().replace(*edit)})
    assert state is not None and rebuild_page(state, tmp_path / "dev", page) is None


def test_unchanged_build_is_answered_from_the_fingerprint_until_anything_moves(make_project):
    root = make_project()
    dist = (root / "dist").resolve()
    first = build(root, "--strict")
    assert first.exit_code == 0
    command = json.dumps([str(dist), None, None, [], True])  # out, --base-url, --api-url, --only, --strict
    assert fingerprint.unchanged(root, dist, command) is not None
    again = build(root, "--strict")
    assert "nothing changed" in again.output
    assert fingerprint.unchanged(root, dist, json.dumps([str(dist), "https://other.example/", None, [], True])) is None

    article = root / "content/demo/article.md"
    text = article.read_text()
    article.write_text(text.replace("正文继续", "正文续写"))  # same size, new modification time
    assert fingerprint.unchanged(root, dist, command) is None
    assert build(root, "--strict").exit_code == 0 and "正文续写" in (dist / "demo/article.html").read_text()
    assert fingerprint.unchanged(root, dist, command) is not None

    (dist / "demo/article.html").unlink()  # an output gone: the build puts it back
    assert fingerprint.unchanged(root, dist, command) is None
    assert build(root, "--strict").exit_code == 0 and (dist / "demo/article.html").is_file()

    article.write_text("---\ntitle: [坏\n---\n")  # a failed build leaves no fingerprint behind
    assert build(root, "--strict").exit_code == 1
    article.write_text(text)
    assert fingerprint.unchanged(root, dist, command) is None


def test_warnings_are_repeated_when_nothing_changed(make_project):
    root = make_project({"h5press.yaml": "locale: zh-CN\n"})  # no base_url: a warning
    first = build(root)
    second = build(root)
    assert "nothing changed" in second.output
    assert "base_url is not set" in first.stderr and "base_url is not set" in second.stderr


def rendered(result) -> int:
    """Pages the build rendered itself, from the last line the command prints."""
    line = result.output.strip().splitlines()[-1]
    return int(line.split(": ", 1)[1].split(" rendered")[0])


def test_the_cache_key_holds_h5press_itself_and_the_libraries(make_project, tmp_path, monkeypatch):
    from h5press.generator.incremental import salt

    package = write_tree(tmp_path / "package", {"__init__.py": "", "generator/__init__.py": "", "generator/x.py": "A = 1\n",
                                                "layouts/base.html": "<html>", "content/demo/index.md": "not shipped"})
    monkeypatch.setattr(salt, "PACKAGE", package)
    root = make_project()

    def full_build(*args: str) -> int:
        """A build past the fingerprint (which would answer "nothing changed" from file times)."""
        salt.code_digest.cache_clear()
        fingerprint.forget(root)
        return rendered(build(root, *args))

    first = build(root, "--no-cache")
    assert rendered(first) == 3 and "3 rendered, 0 from cache" in first.output
    assert full_build() == 3 and full_build() == 0
    (package / "generator" / "x.py").write_text("A = 2\n")  # an edited module of the installed package
    assert full_build() == 3 and full_build() == 0
    (package / "content" / "demo" / "index.md").write_text("a checkout's content is not the package's")
    assert full_build() == 0

    real = salt.library_versions()
    monkeypatch.setattr(salt, "library_versions", lambda: [v.replace("Jinja2 ", "Jinja2 99.") for v in real])
    assert full_build() == 3  # another release of a library that shapes the output
    cached = files_of(root / "dist")
    build(root, "--no-cache")
    assert files_of(root / "dist") == cached


def test_the_package_digest_reads_what_the_wheel_ships():
    from h5press.generator.incremental import salt

    files = {p.relative_to(salt.PACKAGE).as_posix() for p in salt.package_files()}
    assert {"cli.py", "generator/build.py", "generator/markdown.py", "api/app.py", "layouts/base.html",
            "assets/scss/main.scss", "layouts/components/quiz/schema.py"} <= files
    assert not any(f.startswith(("content/", "tests/", "benchmarks/", "dist/", ".git/")) or f.endswith(".pyc") for f in files)


def test_a_running_serve_sees_components_added_changed_and_removed(make_project):
    from test_components import POLL

    from h5press.serve.dev import DevServer

    root = make_project()
    server = DevServer(root, root / ".h5press-cache" / "serve", port=0, log=lambda message: None)
    server.start()
    out = root / ".h5press-cache" / "serve" / "demo"

    def settled(check, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not check() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check(), server.broadcaster.failure

    try:
        write_tree(root, {"content/demo/poll.md": "---\ntitle: 投票\n---\n\n::: poll p1\nquestion: 哪个好？\noptions: [甲, 乙]\n:::\n"})
        settled(lambda: server.broadcaster.failure is not None and 'unknown component "poll"' in server.broadcaster.failure)
        write_tree(root, POLL)  # a new component folder, in a project that had no layouts/
        # The build writes the page before it tells the pages (and clears the last failure): wait for both.
        settled(lambda: (out / "poll.html").is_file() and "哪个好？" in (out / "poll.html").read_text()
                and server.broadcaster.failure is None)
        schema = POLL["layouts/components/poll/schema.py"].replace("    answer: int | None = None\n", "    answer: int\n")
        write_tree(root, {"layouts/components/poll/schema.py": schema})  # a changed schema: answer is now required
        settled(lambda: server.broadcaster.failure is not None and "answer: is required" in server.broadcaster.failure)
        shutil.rmtree(root / "layouts" / "components" / "poll")
        settled(lambda: server.broadcaster.failure is not None and 'unknown component "poll"' in server.broadcaster.failure)
    finally:
        server.stop()
