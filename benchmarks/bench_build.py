"""Build targets of h5press (docs/benchmarks.md); prints each figure next to its target.

  python benchmarks/bench_build.py [--articles 1000]

1. First render of every demo article: HTML + render-blocking CSS, Brotli (target ≤ 14 KB);
   the runtime on a page without components (target ≤ 3 KB Brotli); a table of each theme
   component's JS and CSS against its budget (≤ 4 KB / ≤ 2 KB Brotli); all JS of a page with
   quiz + checkin (target ≤ 12 KB Brotli).
2. Two builds of the demo in different folders are byte-identical.
3. Cold build of N generated articles, next to a naive single-process markdown-it-py +
   Jinja2 loop (the same Markdown parser h5press uses) measured in the same run, both as
   processes timed from outside, interpreter start-up included (ratio printed).
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
KB = 1024


def timed(*command: str) -> float:
    """Wall clock of a whole process, as a user waits for it."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def naive_build(project: Path, out: Path) -> None:
    """What a hand-rolled generator does: parse, template, write; one process, no extras."""
    template = jinja2.Template("<!doctype html><html><head><meta charset=utf-8><title>{{ title }}</title></head>"
                               "<body><main>{{ body }}</main></body></html>")
    markdown = MarkdownIt("commonmark").enable("table")
    out.mkdir(parents=True, exist_ok=True)
    for source in sorted((project / "content").rglob("*.md")):
        text = source.read_text("utf-8")
        _, front, body = text.split("---", 2)
        title = front.split("title:", 1)[1].split("\n", 1)[0].strip()
        html = markdown.render(body)
        (out / f"{source.stem}.html").write_text(template.render(title=title, body=html), "utf-8")


def first_render() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dist"
        timed("-m", "h5press", "build", "--project", str(REPO), "--out", str(out))
        report = json.loads((out / "build-report.json").read_text())
    lines = []
    for name, campaign in report["campaigns"].items():
        worst = max(campaign["pages"], key=lambda p: p["first_render_br"])
        lines.append(f"{name}: largest first render {worst['first_render_br'] / KB:.1f} KB br ({worst['path']}) "
                     f"[target ≤ 14 KB] {'OK' if worst['first_render_br'] <= 14 * KB else 'OVER'}")
        lines.append(f"{name}: runtime {campaign['runtime_br'] / KB:.2f} KB br [target ≤ 3 KB] "
                     f"{'OK' if campaign['runtime_br'] <= 3 * KB else 'OVER'}")
        parts = campaign["components"]
        if {"quiz", "checkin"} <= set(parts):
            total = campaign["runtime_br"] + parts["quiz"]["js_br"] + parts["checkin"]["js_br"]
            lines.append(f"{name}: all JS of a page with quiz + checkin, runtime included: {total / KB:.2f} KB br "
                         f"[target ≤ 12 KB] {'OK' if total <= 12 * KB else 'OVER'}")
    return lines + component_table(report)


def component_table(report: dict) -> list[str]:
    """Every theme component's JS and CSS against its budget (≤ 4 KB / ≤ 2 KB Brotli); the same
    file is shared by every campaign, so one row each, and a component the demo lacks is named."""
    sizes: dict[str, dict[str, int]] = {}
    for campaign in report["campaigns"].values():
        sizes.update(campaign["components"])
    theme = sorted(p.name for p in (REPO / "layouts/components").iterdir() if (p / "schema.py").is_file())
    lines = ["component     JS KB br  CSS KB br  budget (JS ≤ 4, CSS ≤ 2)"]
    for name in theme:
        size = sizes.get(name)
        if size is None:
            lines.append(f"{name:<13} not used by the demo content")
            continue
        ok = size["js_br"] <= 4 * KB and size["css_br"] <= 2 * KB
        lines.append(f"{name:<13} {size['js_br'] / KB:8.2f}  {size['css_br'] / KB:9.2f}  {'OK' if ok else 'OVER'}")
    return lines


def identical() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        for name in ("a", "b"):
            copy = Path(tmp) / name / "site"
            shutil.copytree(REPO / "content", copy / "content")
            shutil.copy(REPO / "h5press.yaml", copy)
            timed("-m", "h5press", "build", "--project", str(copy))
            dirs.append(copy / "dist")
        cmp = filecmp.dircmp(str(dirs[0]), str(dirs[1]))
        diffs = _differences(cmp)
    return "byte-identical builds in two folders: " + ("yes" if not diffs else f"NO ({diffs[:5]})")


def _differences(cmp: filecmp.dircmp) -> list[str]:
    _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
    out = mismatch + errors + cmp.left_only + cmp.right_only
    for sub in cmp.subdirs.values():
        out += _differences(sub)
    return out


def cold_build(n: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        project = make_site(Path(tmp) / "site", n)
        naive = timed(__file__, "--naive", str(project), str(Path(tmp) / "naive"))
        ours = timed("-m", "h5press", "build", "--project", str(project))
        pages = len(list((project / "dist").rglob("*.html")))
    return [f"cold build, {n} articles, {os.cpu_count()} cores: h5press {ours:.2f}s ({pages} pages, minified, "
            f"Brotli+gzip, service worker, SRI, CSP) | naive Markdown+Jinja loop {naive:.2f}s | "
            f"ratio h5press/naive {ours / naive:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--naive", nargs=2, metavar=("PROJECT", "OUT"), help="run only the naive loop (timed by section 3)")
    args = parser.parse_args()
    if args.naive:
        naive_build(Path(args.naive[0]), Path(args.naive[1]))
        return
    for line in [*first_render(), identical(), *cold_build(args.articles)]:
        print(line)


if __name__ == "__main__":
    main()
