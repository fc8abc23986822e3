"""Whole builds: the output contract of dist/ (docs/output.md)."""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import brotli
import pytest
from PIL import Image

from h5fixtures import build, files_of, png, write_tree
from h5press.generator.headers import headers_for, parse_headers


def test_bundle_layout_and_relative_pages(make_project):
    root = make_project()
    result = build(root)
    assert result.exit_code == 0, result.output
    dist = root / "dist" / "demo"
    for name in ("index.html", "article.html", "guide/intro.html", "offline.html", "sw.js",
                 "manifest.webmanifest", "asset-manifest.json"):
        assert (dist / name).is_file(), name
    guide = (dist / "guide/intro.html").read_text()
    assert 'href="../index.html"' in guide or "href=../index.html" in guide
    assert re.search(r'href="?\.\./assets/main\.[0-9a-f]{10}\.css', guide)
    assert 'data-root="../"' in guide or "data-root=../" in guide
    index = (dist / "index.html").read_text()
    assert re.search(r'href="?guide/intro\.html#第二步', index)


def test_every_script_and_stylesheet_has_matching_sri(make_project):
    root = make_project()
    build(root)
    dist = root / "dist" / "demo"
    for page in ("index.html", "article.html", "guide/intro.html"):
        html = (dist / page).read_text()
        tags = re.findall(r"<(?:script|link)[^>]*\bintegrity=([^\s>]+)[^>]*>", html)
        assert len(tags) == 2
        for tag in re.findall(r"<(?:script|link)[^>]*(?:src|href)=[^>]*assets/[^>]*>", html):
            if "rel=stylesheet" not in tag and "<script" not in tag:
                continue
            url = re.search(r"(?:src|href)=\"?([^\s\">]+)", tag).group(1)
            digest = re.search(r"integrity=\"?(sha384-[^\s\">]+)", tag).group(1)
            data = (dist / Path(page).parent / url).resolve().read_bytes()
            assert digest == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
            assert "crossorigin" in tag


def test_images_become_webp_srcset_with_dimensions(make_project):
    root = make_project()
    build(root)
    dist = root / "dist" / "demo"
    html = (dist / "article.html").read_text()
    first, second = re.findall(r"<img [^>]*>", html)
    assert re.search(r"srcset=\"assets/photo-480\.[0-9a-f]{10}\.webp 480w, assets/photo-960\.[0-9a-f]{10}\.webp 960w\"", first)
    assert "width=960" in first and "height=480" in first and "alt=一张图片" in first
    assert "fetchpriority=high" in first and "loading=lazy" in second
    cover = re.search(r"<figure class=\"h5-cover[^>]*><img [^>]*>", (dist / "index.html").read_text()).group(0)
    assert "fetchpriority=high" in cover and "loading=lazy" not in cover
    webp = next((dist / "assets").glob("photo-480.*.webp")).read_bytes()
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"


def test_small_images_are_never_upscaled(make_project):
    root = make_project({"content/demo/images/photo.png": png(300, 200)})
    build(root)
    names = sorted(p.name for p in (root / "dist/demo/assets").glob("photo-*.webp"))
    assert len(names) == 1 and names[0].startswith("photo-300.")


def test_csp_meta_matches_header_and_blocks_inline_code(make_project):
    root = make_project()
    build(root)
    html = (root / "dist/demo/index.html").read_text()
    meta = re.search(r'<meta content="([^"]+)" http-equiv=Content-Security-Policy>', html).group(1)
    assert "script-src 'self'" in meta and "'unsafe-inline'" not in meta
    headers = (root / "dist/_headers").read_text()
    assert f"/demo/*\n  Content-Security-Policy: {meta}\n" in headers


def test_layout_inline_code_gets_csp_hashes(make_project):
    layout = '{% extends "theme/page.html" %}{% block head %}<style>body{color:red}</style>{% endblock %}'
    root = make_project({"layouts/page.html": layout})
    build(root)
    html = (root / "dist/demo/article.html").read_text()
    digest = base64.b64encode(hashlib.sha256(b"body{color:red}").digest()).decode()
    assert f"style-src 'self' 'sha256-{digest}'" in html
    assert f"'sha256-{digest}'" in (root / "dist/_headers").read_text()


def test_headers_cache_only_hashed_files_forever(make_project):
    root = make_project()
    build(root)
    headers = (root / "dist/_headers").read_text()
    assert "/demo/assets/*\n  Cache-Control: public, max-age=31536000, immutable\n  Access-Control-Allow-Origin: *" in headers
    for path in ("/demo/", "/demo/index.html", "/demo/guide/intro.html", "/demo/sw.js", "/demo/manifest.webmanifest",
                 "/demo/asset-manifest.json", "/demo/offline.html"):
        assert f"\n{path}\n  Cache-Control: no-cache\n" in headers, path
    rules = parse_headers(headers)
    for path in [p for p in files_of(root / "dist") if p.endswith(".gz")]:  # each file with a precompressed variant
        assert ("Vary", "Accept-Encoding") in headers_for(rules, "/" + path.removesuffix(".gz")), path
    nginx = (root / "dist/nginx.conf").read_text()
    assert "location ^~ /demo/assets/" in nginx and "immutable" in nginx and "gzip_static on;" in nginx


def test_precompressed_files_beside_every_text_file(make_project):
    root = make_project()
    build(root)
    dist = root / "dist"
    texts = [p for p in dist.rglob("*") if p.suffix in {".html", ".css", ".js", ".json", ".webmanifest", ".svg"}]
    assert texts
    for path in texts:
        if path.name == "build-report.json":
            continue
        data = path.read_bytes()
        assert brotli.decompress(Path(f"{path}.br").read_bytes()) == data
        assert gzip.decompress(Path(f"{path}.gz").read_bytes()) == data


def test_asset_manifest_lists_hashed_urls_sizes_and_integrity(make_project):
    root = make_project()
    build(root)
    dist = root / "dist/demo"
    manifest = json.loads((dist / "asset-manifest.json").read_text())
    assert {"main.css", "runtime.js", "icon-192.png", "images/photo.png@480w"} <= set(manifest)
    for entry in manifest.values():
        data = (dist / entry["url"]).read_bytes()
        assert entry["size"] == len(data)
        assert entry["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    web = json.loads((dist / "manifest.webmanifest").read_text())
    assert web["start_url"] == "./index.html" and web["theme_color"] == "#15824d"
    assert [i["sizes"] for i in web["icons"]] == ["192x192", "512x512"]


def test_theme_colours_footer_and_window(make_project):
    root = make_project()
    build(root)
    dist = root / "dist/demo"
    css = next((dist / "assets").glob("main.*.css")).read_text()
    assert css.startswith(":root{--h5-primary:#15824d;")
    html = (dist / "article.html").read_text()
    assert "京ICP备12345678号" in html and "理财非存款，产品有风险，投资须谨慎。" in html
    assert "data-start=2020-01-01T00:00:00+08:00" in html and "data-end=2100-01-01T00:00:00+08:00" in html


def test_front_matter_extras_reach_layouts(make_project):
    root = make_project({"layouts/page.html": '{% extends "theme/page.html" %}{% block content %}<p class=by>{{ page.meta.author }}</p>{{ super() }}{% endblock %}'})
    build(root)
    assert "<p class=by>小青</p>" in (root / "dist/demo/article.html").read_text()


def test_project_scss_partial_overrides_theme(make_project):
    root = make_project({"assets/scss/_chrome.scss": ".h5-bar{background:#123456}"})
    build(root)
    css = next((root / "dist/demo/assets").glob("main.*.css")).read_text()
    assert "#123456" in css and ".h5-card" not in css and ".h5-prose" in css


def test_cdn_prefix_moves_assets_not_the_worker(make_project):
    root = make_project({"h5press.yaml": "base_url: https://h5.example.com/\ncdn_prefix: https://cdn.example.net/h5\n"})
    build(root)
    html = (root / "dist/demo/article.html").read_text()
    assert re.search(r"src=https://cdn\.example\.net/h5/demo/assets/runtime\.[0-9a-f]{10}\.js", html)
    assert "script-src 'self' https://cdn.example.net" in html
    sw = (root / "dist/demo/sw.js").read_text()
    assert '"https://cdn.example.net/h5/demo/assets/main.' in sw


def test_precache_budget_leaves_files_for_runtime_caching(make_project):
    noise = io.BytesIO()
    Image.effect_noise((1200, 600), 90).convert("RGB").save(noise, "PNG")
    root = make_project({"h5press.yaml": "base_url: https://h5.example.com/\nbudgets: {precache_kb: 30}\n",
                         "content/demo/images/photo.png": noise.getvalue()})
    result = build(root)
    config = json.loads(re.match(r"self\.H5_SW_CONFIG=(\{.*?\});", (root / "dist/demo/sw.js").read_text()).group(1))
    assert config["precache"][:2] == ["offline.html", "index.html"]
    dist = root / "dist/demo"
    assert sum((dist / u).stat().st_size for u in config["precache"]) <= 30 * 1024
    assert "guide/intro.html" in config["precache"]
    assert not any(u.endswith("webp") for u in config["precache"])
    assert "over the 30 KB precache budget" in result.stderr


def test_kill_switch_worker(make_project):
    root = make_project({"h5press.yaml": "service_worker: false\n"})
    build(root)
    sw = (root / "dist/demo/sw.js").read_text()
    assert "unregister()" in sw and "addAll" not in sw
    assert "data-sw=0" in (root / "dist/demo/index.html").read_text()


def test_build_report(make_project):
    root = make_project()
    build(root)
    report = json.loads((root / "dist/build-report.json").read_text())
    pages = report["campaigns"]["demo"]["pages"]
    assert [p["path"] for p in pages] == ["demo/index.html", "demo/article.html", "demo/guide/intro.html"]
    assert all(0 < p["br"] < p["bytes"] and p["first_render_br"] > p["br"] for p in pages)
    assert "timings_ms" not in report  # dist/ is byte-identical: the timings go to the terminal on request


def test_timings_are_printed_on_request(make_project):
    root = make_project()
    result = build(root, "--timings", "--no-cache")
    assert result.exit_code == 0, result.output
    stages = re.search(r"^timings: (.*)$", result.stderr, re.M)
    assert stages and [s.split()[0] for s in stages.group(1).split(", ")] == ["load", "parse", "render", "compliance", "compress", "write"]
    assert "timings" not in build(root, "--no-cache").stderr


def test_identical_input_gives_identical_output_in_other_folders(make_project, tmp_path):
    """Every byte of dist/, build-report.json included: two builds into two folders, and a copy of
    the project at another path built with other settings of the machine (workers, cache)."""
    one = make_project(name="one")
    two = Path(shutil.copytree(one, tmp_path / "a" / "much longer path to the other checkout"))
    assert build(one).exit_code == 0
    assert build(one, "--out", str(tmp_path / "again"), "--no-cache").exit_code == 0
    assert build(two, "--workers", "2").exit_code == 0
    a = files_of(one / "dist")
    assert len(a) > 20 and a == files_of(tmp_path / "again") == files_of(two / "dist")


@pytest.mark.slow
def test_demo_site_builds_byte_identical_at_two_paths(tmp_path):
    """The demo uses every component, images and several campaigns."""
    repo = Path(__file__).resolve().parent.parent
    outs = []
    for where in ("x", "y/deeper"):
        copy = tmp_path / where / "site"
        shutil.copytree(repo / "content", copy / "content")
        shutil.copy(repo / "h5press.yaml", copy)
        assert build(copy).exit_code == 0
        outs.append(files_of(copy / "dist"))
    assert len(outs[0]) > 200 and outs[0] == outs[1]


def test_only_rebuilds_one_campaign_and_keeps_the_others(make_project):
    root = make_project({"content/other/campaign.yaml": "title: 另一个\n", "content/other/index.md": "---\ntitle: 另一个\n---\n旧\n"})
    build(root)
    write_tree(root, {"content/other/index.md": "---\ntitle: 另一个\n---\n新内容\n", "content/demo/index.md": "---\ntitle: 改\n---\n改了\n"})
    assert build(root, "--only", "other").exit_code == 0
    assert "新内容" in (root / "dist/other/index.html").read_text()
    assert "改了" not in (root / "dist/demo/index.html").read_text()
    assert "/demo/assets/*" in (root / "dist/_headers").read_text()


def test_demo_site_builds_clean_in_strict_mode(tmp_path):
    repo = Path(__file__).resolve().parent.parent
    result = build(repo, "--strict", "--out", str(tmp_path / "dist"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "dist/build-report.json").read_text())
    green = report["campaigns"]["green"]
    assert len(green["pages"]) >= 4
    assert all(p["first_render_br"] <= 14 * 1024 for p in green["pages"])
    assert green["runtime_br"] <= 3 * 1024
    assert report["warnings"] == []


def test_first_render_budget_is_a_warning(make_project):
    root = make_project({"h5press.yaml": "base_url: https://h5.example.com/\nbudgets: {first_render_kb: 1}\n"})
    result = build(root)
    assert result.exit_code == 0
    assert "warning: content/demo/article.md: first render is" in result.stderr and "over the 1 KB budget" in result.stderr
    assert build(root, "--strict").exit_code == 1


def test_image_problems_are_errors_naming_the_file(make_project):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="100" height="50"/></svg>'
    root = make_project({"content/demo/images/photo.png": b"not an image", "content/demo/images/bad.svg": svg,
                         "content/demo/guide/intro.md": "---\ntitle: 指南\ncover: ../images/bad.svg\n---\n",
                         "content/demo/campaign.yaml": "title: t\nicon: ../../h5press.yaml\n"})
    result = build(root)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: content/demo/images/photo.png: not a readable image" in result.stderr
    assert "error: content/demo/images/bad.svg: SVG has no viewBox and no width/height" in result.stderr
    assert 'error: content/demo/campaign.yaml:2: icon: no file "../../h5press.yaml" in the campaign folder' in result.stderr


def test_svg_sizes_and_same_named_images(make_project):
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 1e3 500"><rect width="100"/></svg>'
    root = make_project({"content/demo/images/a/hero.png": png(600, 300), "content/demo/images/b/hero.png": png(600, 300, "#a00"),
                         "content/demo/images/wide.svg": svg,
                         "content/demo/article.md": "---\ntitle: a\n---\n![一](images/a/hero.png) ![二](images/b/hero.png) ![三](images/wide.svg)\n"})
    assert build(root).exit_code == 0
    html = (root / "dist/demo/article.html").read_text()
    assert re.search(r"src=assets/wide\.[0-9a-f]{10}\.svg[^>]* width=1000|height=500[^>]*width=1000", html)
    manifest = json.loads((root / "dist/demo/asset-manifest.json").read_text())
    assert {"images/a/hero.png@480w", "images/b/hero.png@480w"} <= set(manifest)


def test_api_url_from_the_command_line_adds_the_api_client(make_project):
    root = make_project()
    assert build(root, "--api-url", "https://api.bank.example.com/h5").exit_code == 0
    html = (root / "dist/demo/index.html").read_text()
    client = re.search(r'src=(\S+?api\.[0-9a-f]+\.js)', html)
    assert client and "connect-src 'self' https://api.bank.example.com" in html
    rules = json.loads(re.search(r'id=h5-rules type=application/json>(.*?)</script>', html).group(1))
    assert rules["api"] == "https://api.bank.example.com/h5/"
    asset = client.group(1).rsplit("/", 1)[1]
    assert asset in (root / "dist/demo/sw.js").read_text()  # precached with the shell
    assert build(root).exit_code == 0  # a build without it drops the client again
    assert not re.search(r'src=\S+?api\.[0-9a-f]+\.js', (root / "dist/demo/index.html").read_text())


def test_stylesheets_have_no_byte_order_mark_inside(make_project):
    """Sass marks non-ASCII output with a BOM; joined after the theme colours it would void the first rule."""
    root = make_project()
    assert build(root).exit_code == 0
    sheets = list((root / "dist/demo/assets").glob("*.css"))
    assert sheets and all("\ufeff" not in p.read_text("utf-8") for p in sheets)
    main = next(p for p in sheets if p.name.startswith("main."))
    assert "box-sizing:border-box" in main.read_text("utf-8").split("}", 2)[1]  # right after the theme's :root


def test_pages_rendered_in_worker_processes_match_one_process(make_project):
    """Enough pages for the forked render workers, which stage pages as they finish them."""
    many = {f"content/demo/p{i}.md": f"---\ntitle: 第{i}篇\n---\n\n## 小节\n\n正文{i}，见[首页](index.md)。\n" for i in range(60)}
    root = make_project(many)
    assert build(root, "--workers", "2", "--no-cache").exit_code == 0
    parallel = files_of(root / "dist")
    assert build(root, "--workers", "1", "--no-cache", "--out", str(root / "one")).exit_code == 0
    one = files_of(root / "one")
    assert len(one) > 180 and one == parallel
    assert not [p for p in root.iterdir() if p.name.startswith((".dist.", ".one."))]


def test_a_failure_while_pages_are_staged_leaves_no_trace(make_project):
    many = {f"content/demo/p{i}.md": f"---\ntitle: 第{i}篇\n---\n\n正文{i}\n" for i in range(60)}
    root = make_project(many)
    assert build(root).exit_code == 0
    before = files_of(root / "dist")
    write_tree(root, {"layouts/page.html": '{% extends "theme/page.html" %}\n'
                                           '{% block content %}{% if page.meta.boom %}{{ page.title.nope() }}{% endif %}{% endblock %}\n',
                      "content/demo/p59.md": "---\ntitle: 最后\nboom: true\n---\n\n正文\n"})
    result = build(root, "--workers", "2", "--no-cache")
    assert result.exit_code == 1 and "UndefinedError" in result.stderr
    assert files_of(root / "dist") == before
    assert not [p for p in root.iterdir() if p.name.startswith(".dist.")]


def test_markdown_plugins_of_the_site_config_shape_every_page(make_project):
    site = "base_url: https://h5.example.com/\nmarkdown:\n  plugins: [footnote, tasklists, admon]\n"
    page = "---\ntitle: 插件\n---\n\n限额 50 万元[^1]。\n\n[^1]: 《存款保险条例》第五条。\n\n- [x] 已测评\n\n!!! note \"提示\"\n    理财非存款。\n"
    root = make_project({"h5press.yaml": site, "content/demo/plugins.md": page})
    result = build(root)
    assert result.exit_code == 0, result.output
    html = (root / "dist" / "demo" / "plugins.html").read_text()
    assert re.search(r"<li class=footnote-item id=fn1>", html) and "task-list-item-checkbox" in html
    assert 'class="admonition note"' in html
    assert ".admonition" in next((root / "dist/demo/assets").glob("main.*.css")).read_text()  # styles come with plugins
    plain = make_project(name="plain")
    assert build(plain).exit_code == 0 and ".admonition" not in next((plain / "dist/demo/assets").glob("main.*.css")).read_text()
    bad = build(make_project({"h5press.yaml": "markdown:\n  plugins:\n    - tasklist\n"}, name="bad"))
    assert bad.exit_code == 1 and not (root.parent / "bad" / "dist").exists()
    assert 'error: h5press.yaml:3: markdown.plugins[0]: unknown Markdown plugin "tasklist" (did you mean "tasklists"?)' in bad.stderr


def test_each_page_makes_one_stylesheet_request_shared_by_pages_with_the_same_components(make_project):
    quiz = "::: quiz {}\npoints: 5\nquestions:\n  - q: 存款保险的上限是多少？\n    options: [50万元, 100万元]\n    answer: 1\n:::\n\n::: disclosure\n:::\n"
    root = make_project({"content/demo/a.md": "---\ntitle: 甲\n---\n\n" + quiz.format("qa"),
                         "content/demo/b.md": "---\ntitle: 乙\n---\n\n正文。\n\n" + quiz.format("qb")})
    result = build(root)
    assert result.exit_code == 0, result.output
    dist = root / "dist/demo"
    sheets = {}
    for page in ("index.html", "article.html", "guide/intro.html", "a.html", "b.html", "offline.html"):
        links = re.findall(r"<link[^>]*rel=\"?stylesheet[^>]*>", (dist / page).read_text())
        assert len(links) == 1, (page, links)
        sheets[page] = re.search(r"assets/([^\s\">]+\.css)", links[0]).group(1)
    assert sheets["a.html"] == sheets["b.html"] and sheets["a.html"].startswith("main-disclosure-quiz.")
    assert {sheets[p] for p in ("index.html", "article.html", "guide/intro.html", "offline.html")} == {
        next((dist / "assets").glob("main.*.css")).name}
    combined = (dist / "assets" / sheets["a.html"]).read_text()
    assert combined.startswith((dist / "assets" / sheets["index.html"]).read_text()) and ".h5c-quiz" in combined
    assert not list((dist / "assets").glob("c-*.css"))
    precache = (dist / "sw.js").read_text()
    assert all(name in precache for name in set(sheets.values()))
    report = json.loads((root / "dist/build-report.json").read_text())["campaigns"]["demo"]
    page = next(p for p in report["pages"] if p["path"] == "demo/a.html")
    assert page["first_render_br"] == page["br"] + page["stylesheet_br"] == page["br"] + len(
        (dist / "assets" / (sheets["a.html"] + ".br")).read_bytes())
    assert 0 < report["components"]["quiz"]["css_br"] < page["stylesheet_br"]
