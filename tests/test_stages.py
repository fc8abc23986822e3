"""Unit tests of the assets, service-worker, render and write stages."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from h5fixtures import png
from h5press.generator.assets import hashed, make_icon, process_image, theme_variables
from h5press.generator.config import ImageOptions, Theme
from h5press.generator.headers import inline_hashes, policy
from h5press.generator.render import environment, relative, render, template_error
from h5press.generator.sw import Entry, choose_precache, service_worker
from h5press.generator.write import replace_dir


def test_hashed_names_follow_content():
    a, b = hashed("main.css", b"a{}"), hashed("main.css", b"b{}")
    assert a.path.startswith("assets/main.") and a.path.endswith(".css") and a.path != b.path
    assert hashed("main.css", b"a{}") == a and a.integrity.startswith("sha384-")
    assert hashed("封面 图 (1).JPG", b"x").path.startswith("assets/封面-图-1.") and hashed("封面 图 (1).JPG", b"x").path.endswith(".jpg")


def test_images_resize_to_webp_and_cache(tmp_path):
    options = ImageOptions(widths=[320, 640, 2000], quality=70)
    image = process_image("images/p.png", png(1000, 500), options, tmp_path)
    assert [(v.width, v.height) for v in image.variants] == [(320, 160), (640, 320), (1000, 500)]
    assert (image.width, image.height) == (1000, 500)
    assert len(list(tmp_path.glob("*.json"))) == 1
    again = process_image("images/p.png", png(1000, 500), options, tmp_path)
    assert again == image


def test_svg_is_copied_with_its_size():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"></svg>'
    image = process_image("images/a.svg", svg, ImageOptions(), None)
    assert (image.width, image.height) == (300, 150) and image.largest.asset.data == svg


def test_icons_are_reproducible():
    assert make_icon(192, Theme(), None) == make_icon(192, Theme(), None)
    assert make_icon(192, Theme(primary="#000000"), None) != make_icon(192, Theme(), None)


def test_theme_variables_and_elder_mode():
    assert theme_variables(Theme(primary="#112233"), False).startswith(":root{--h5-primary:#112233;")
    assert "--h5-font:18px" in theme_variables(Theme(), True)


def test_precache_keeps_priority_order_within_budget():
    entries = [Entry(n, s, b"") for n, s in [("offline.html", 10), ("index.html", 50), ("big.webp", 100), ("a.html", 30)]]
    kept, left = choose_precache(entries, 100)
    assert [e.url for e in kept] == ["offline.html", "index.html", "a.html"] and [e.url for e in left] == ["big.webp"]


def test_worker_version_changes_with_content(tmp_path):
    one = service_worker(tmp_path, "c", [Entry("index.html", 1, b"a")], None, True)
    two = service_worker(tmp_path, "c", [Entry("index.html", 1, b"b")], None, True)
    assert one != two and b'"campaign":"c"' in one


def test_csp_lists_cdn_api_and_hashes():
    csp = policy("https://cdn.example.net/x/", "https://api.example.com/", ["'sha256-a'"], [])
    assert "script-src 'self' https://cdn.example.net 'sha256-a'" in csp
    assert "connect-src 'self' https://cdn.example.net https://api.example.com" in csp
    scripts, styles = inline_hashes('<script type="application/json">{}</script><script>go()</script><style>a{}</style>')
    assert len(scripts) == 1 and len(styles) == 1


def test_relative_urls():
    assert relative("assets/a.css", "index.html") == "assets/a.css"
    assert relative("assets/a.css", "guide/x/intro.html") == "../../assets/a.css"
    assert relative("guide/b.html", "guide/a.html") == "b.html"


def test_project_layout_overrides_and_extends_theme(tmp_path):
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "offline.html").write_text('{% extends "theme/offline.html" %}{% block title %}离线{% endblock %}')
    env = environment(tmp_path)
    assert env.get_template("offline.html").filename.startswith(str(tmp_path))
    assert env.get_template("theme/offline.html").filename != env.get_template("offline.html").filename


def test_template_error_points_at_the_template(tmp_path):
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "x.html").write_text("a\nb\n{{ 1 // 0 }}\n")
    env = environment(tmp_path)
    with pytest.raises(ZeroDivisionError) as info:
        render(env, "x.html", {})
    diagnostic = template_error(info.value, tmp_path, "fallback")
    assert (diagnostic.path, diagnostic.line) == ("layouts/x.html", 3)


def test_replace_dir_swaps_and_a_failure_keeps_the_old_output(tmp_path, monkeypatch):
    out = tmp_path / "dist"
    replace_dir(out, {"a/index.html": b"one"})
    replace_dir(out, {"a/index.html": b"two", "b.txt": b"x"})
    assert (out / "a/index.html").read_bytes() == b"two" and (out / "b.txt").exists()

    real_rename = os.rename

    def failing(src, dst):
        if Path(src).name.startswith(".dist.new"):
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(OSError):
        replace_dir(out, {"a/index.html": b"three"})
    assert (out / "a/index.html").read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
