"""The package's styles and scripts ship precompiled: a build needs libsass and rjsmin only for a
project's own SCSS and scripts (neither has wheels for every platform h5press installs on)."""
from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from h5fixtures import build, files_of
from h5press.generator import precompile

CUSTOM_COMPONENT = {
    "layouts/components/poll/schema.py": "from pydantic import BaseModel\n\n\nclass Schema(BaseModel):\n    question: str\n",
    "layouts/components/poll/template.html": '<section class="poll"><h2>{{ c.question }}</h2></section>\n',
    "layouts/components/poll/script.js": "document.querySelectorAll('.poll').forEach(function (el) {\n  el.dataset.ready = '1';\n});\n",
    "content/demo/poll.md": "---\ntitle: 投票\n---\n\n::: poll p1\nquestion: 你最常用的出行方式？\n:::\n",
}


@pytest.fixture
def no_compilers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a platform without libsass and rjsmin wheels: importing either fails."""
    monkeypatch.setitem(sys.modules, "sass", None)
    monkeypatch.setitem(sys.modules, "rjsmin", None)
    yield


def test_the_table_is_current() -> None:
    assert precompile.main(["--check"]) == 0, "run python -m h5press.generator.precompile"


def test_a_build_without_compilers_is_byte_identical(make_project, tmp_path, monkeypatch) -> None:
    root = make_project()
    assert build(root, "--no-cache", "--out", str(tmp_path / "with")).exit_code == 0
    monkeypatch.setitem(sys.modules, "sass", None)
    monkeypatch.setitem(sys.modules, "rjsmin", None)
    assert build(root, "--no-cache", "--out", str(tmp_path / "without")).exit_code == 0
    with_, without = files_of(tmp_path / "with"), files_of(tmp_path / "without")
    with_.pop("build-report.json"), without.pop("build-report.json")  # timings
    assert with_ == without


def test_project_scss_without_libsass_is_a_clear_error(make_project, no_compilers) -> None:
    root = make_project({"assets/scss/_chrome.scss": ".h5-bar{background:#123456}"})
    result = build(root)
    assert result.exit_code == 1
    assert "SCSS: your project's SCSS needs libsass" in result.stderr and "pip install libsass" in result.stderr
    assert not (root / "dist").exists()


def test_project_scripts_without_rjsmin_ship_as_written(make_project, no_compilers) -> None:
    root = make_project(CUSTOM_COMPONENT)
    assert build(root).exit_code == 0
    scripts = [p.read_text("utf-8") for p in (root / "dist/demo/assets").glob("*.js")]
    assert any("el.dataset.ready = '1';" in s for s in scripts)


def test_project_scripts_are_minified_where_rjsmin_is_installed(make_project) -> None:
    root = make_project(CUSTOM_COMPONENT)
    assert build(root).exit_code == 0
    scripts = [p.read_text("utf-8") for p in (root / "dist/demo/assets").glob("*.js")]
    assert any("el.dataset.ready='1';" in s for s in scripts)
