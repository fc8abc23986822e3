"""Build time of h5press next to Hugo, Eleventy and MkDocs on the same articles, in one run.

  python benchmarks/bench_ssg.py [--articles 1000] [--repeat 3]

One corpus (corpus.make_site) is converted into each peer's own input format, with a minimal
layout written here (an index listing every article by title and description, and one page per
article). Each tool builds in its own temp folder into a fresh output folder and is timed as a
whole process, wall clock: a cold build (output and caches moved away first) and a no-change
build (the same command again); the median of --repeat runs is printed, with ratios to h5press.

Two things make the runs measure the builds rather than the harness:
- Earlier outputs are moved aside, not deleted, until the end. On ext4 without a journal (the
  disk of the 2-core machines this targets) the inode allocator scans past recently deleted
  inodes, so files created within seconds of deleting thousands cost up to 0.5 ms each of kernel
  time instead of ~0.02 ms: deleting between runs would charge each tool for the previous run's
  deletion, which a cold build in CI (a fresh checkout) never pays.
- h5press's modules are compiled to bytecode first, as installing the wheel does; a checkout run
  with PYTHONDONTWRITEBYTECODE would otherwise compile them on every run (≈0.1 s).

Peers missing on the machine are installed: Hugo with apt-get (Debian package `hugo`), Eleventy
with npm into benchmarks/.peers/ (git-ignored), MkDocs with pip. A peer that cannot be installed
or fails to build is reported and left out, never estimated.

Links between articles (`[第k篇](ak.md)`): Hugo gets `{{< relref "ak.md" >}}` (resolved and
checked, like h5press), Eleventy gets `ak.html` (plain text rewrite), MkDocs keeps `ak.md`
(it resolves and checks .md links itself).
"""
from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402

PEERS = Path(__file__).resolve().parent / ".peers"
ELEVENTY_CLI = PEERS / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
LINK = re.compile(r"\]\((a\d+)\.md\)")
HEAD = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">')


class Unavailable(Exception):
    """A peer could not be installed or could not build the corpus."""


@dataclass
class Tool:
    """One generator, ready to build its copy of the corpus."""

    name: str
    version: str
    command: list[str]
    root: Path
    output: Path
    caches: tuple[Path, ...] = ()

    def reset(self, trash: Path) -> None:
        """Move the output and every cache into `trash`, for a cold build."""
        for path in (self.output, *self.caches):
            if path.exists():
                os.rename(path, trash / f"{self.name}-{len(list(trash.iterdir()))}")

    def build(self) -> float:
        """Run the build once; seconds of wall clock for the whole process."""
        started = time.perf_counter()
        done = subprocess.run(self.command, cwd=self.root, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise Unavailable(f"build failed (exit {done.returncode}): " + " | ".join(tail))
        return elapsed

    def pages(self) -> int:
        return sum(1 for _ in self.output.rglob("*.html"))


def first_line(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else "unknown"


def apt_install(*packages: str) -> None:
    """apt-get install, with one apt-get update and a retry when the package lists are stale."""
    if os.geteuid() != 0:
        raise Unavailable(f"not root, cannot apt-get install {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", *packages]
    if subprocess.run(install, capture_output=True, env=env).returncode == 0:
        return
    subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
    done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise Unavailable(f"apt-get install {' '.join(packages)} failed: {done.stderr.strip()[-300:]}")


def articles(project: Path) -> list[tuple[str, str]]:
    """(file name, text) of every generated article, in order."""
    files = sorted((project / "content" / "bench").glob("a*.md"), key=lambda p: int(p.stem[1:]))
    return [(f.name, f.read_text("utf-8")) for f in files]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def h5press(project: Path) -> Tool:
    return Tool("h5press", first_line([sys.executable, "-m", "h5press", "--version"]),
                [sys.executable, "-m", "h5press", "build", "-p", str(project)], project,
                project / "dist", (project / ".h5press-cache",))


def hugo(project: Path, root: Path) -> Tool:
    if not shutil.which("hugo"):
        apt_install("hugo")
    binary = shutil.which("hugo")
    if not binary:
        raise Unavailable("hugo not on PATH after apt-get install")
    write(root / "hugo.toml", 'baseURL = "https://h5.example.com/"\ntitle = "基准测试"\nuglyURLs = true\n'
          'buildFuture = true\n'  # corpus dates run to 2026-11-28; Hugo skips future pages otherwise
          'disableKinds = ["taxonomy", "term", "section", "RSS", "sitemap", "robotsTXT", "404"]\n'
          "[markup.highlight]\ncodeFences = false\n")  # h5press does not highlight code either
    layouts = root / "layouts" / "_default"
    write(layouts / "baseof.html", HEAD + '<title>{{ .Title }}</title>{{ with .Description }}'
          '<meta name="description" content="{{ . }}">{{ end }}</head>'
          '<body><main><h1>{{ .Title }}</h1>{{ block "main" . }}{{ end }}</main></body></html>')
    write(layouts / "single.html", '{{ define "main" }}{{ .Content }}{{ end }}')
    write(layouts / "list.html", '{{ define "main" }}{{ .Content }}<nav>{{ range site.RegularPages.ByParam "order" }}'
          '<a href="{{ .RelPermalink }}"><span>{{ .Title }}</span> <span>{{ .Description }}</span></a>'
          "{{ end }}</nav>{{ end }}")
    write(root / "content" / "_index.md", (project / "content" / "bench" / "index.md").read_text("utf-8"))
    for name, text in articles(project):
        write(root / "content" / "posts" / name, LINK.sub(r']({{< relref "\1.md" >}})', text))
    return Tool("Hugo", first_line([binary, "version"]),
                [binary, "--quiet", "--destination", "out", "--cacheDir", str(root / ".hugo-cache")],
                root, root / "out", (root / ".hugo-cache", root / "resources"))


def eleventy(project: Path, root: Path) -> Tool:
    if not (shutil.which("node") and shutil.which("npm")):
        apt_install("nodejs", "npm")
    if not ELEVENTY_CLI.is_file():
        PEERS.mkdir(parents=True, exist_ok=True)
        (PEERS / ".gitignore").write_text("*\n")
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEERS), "@11ty/eleventy@3"],
                              cwd=PEERS, capture_output=True, text=True)
        if done.returncode != 0 or not ELEVENTY_CLI.is_file():
            raise Unavailable(f"npm install @11ty/eleventy@3 failed: {done.stderr.strip()[-300:]}")
    src = root / "src"
    write(src / "_includes" / "base.njk", HEAD + "<title>{{ title }}</title>{% if description %}"
          '<meta name="description" content="{{ description }}">{% endif %}</head>'
          "<body><main><h1>{{ title }}</h1>{{ content | safe }}</main></body></html>")
    write(src / "_includes" / "home.njk", "---\nlayout: base.njk\n---\n{{ content | safe }}<nav>"
          '{% for post in collections.posts | sort(false, false, "data.order") %}<a href="{{ post.url }}">'
          "<span>{{ post.data.title }}</span> <span>{{ post.data.description }}</span></a>{% endfor %}</nav>")
    write(src / "index.md", (project / "content" / "bench" / "index.md").read_text("utf-8"))
    write(src / "index.11tydata.json", '{"layout": "home.njk"}')
    write(src / "posts" / "posts.json",
          '{"layout": "base.njk", "tags": "posts", "permalink": "posts/{{ page.fileSlug }}.html"}')
    for name, text in articles(project):
        write(src / "posts" / name, LINK.sub(r"](\1.html)", text))
    return Tool("Eleventy", first_line(["node", str(ELEVENTY_CLI), "--version"]),
                ["node", str(ELEVENTY_CLI), "--input=src", "--output=out", "--quiet"], root, root / "out")


def mkdocs(project: Path, root: Path) -> Tool:
    probe = [sys.executable, "-m", "mkdocs", "--version"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "mkdocs"], capture_output=True, text=True)
        if done.returncode != 0:
            raise Unavailable(f"pip install mkdocs failed: {done.stderr.strip()[-300:]}")
    write(root / "mkdocs.yml", "site_name: 基准测试\nsite_url: https://h5.example.com/\nuse_directory_urls: false\n"
          "site_dir: out\ntheme:\n  name: null\n  custom_dir: theme\nplugins: []\n")  # no search index
    write(root / "theme" / "main.html", HEAD + "<title>{{ page.title }}</title>{% if page.meta.description %}"
          '<meta name="description" content="{{ page.meta.description }}">{% endif %}</head>'
          "<body><main><h1>{{ page.title }}</h1>{{ page.content }}{% if page.is_homepage %}<nav>"
          "{% for p in nav.pages|rejectattr('is_homepage')|sort(attribute='meta.order') %}"
          '<a href="{{ p.url|url }}"><span>{{ p.title }}</span> <span>{{ p.meta.description }}</span></a>'
          "{% endfor %}</nav>{% endif %}</main></body></html>")
    write(root / "docs" / "index.md", (project / "content" / "bench" / "index.md").read_text("utf-8"))
    for name, text in articles(project):
        write(root / "docs" / "posts" / name, text)
    version = first_line(probe)
    return Tool("MkDocs", version.split(" from ")[0].replace("python -m mkdocs, version", "mkdocs").strip(),
                [sys.executable, "-m", "mkdocs", "build", "--quiet"], root, root / "out")


def measure(tools: list[Tool], repeat: int, trash: Path) -> tuple[dict[str, tuple[float, float]], list[str]]:
    """Median (cold, no-change) seconds per tool; runs interleave tools so drift hits all alike."""
    trash.mkdir()
    cold: dict[str, list[float]] = {t.name: [] for t in tools}
    warm: dict[str, list[float]] = {t.name: [] for t in tools}
    failed: list[str] = []
    for _ in range(repeat):
        for tool in tools:
            if tool.name in failed:
                continue
            tool.reset(trash)
            try:
                cold[tool.name].append(tool.build())
                warm[tool.name].append(tool.build())
            except Unavailable as error:
                failed.append(tool.name)
                print(f"{tool.name}: {error}")
    results = {n: (statistics.median(cold[n]), statistics.median(warm[n])) for n in cold if n not in failed}
    return results, failed


def compile_h5press() -> None:
    """Bytecode for every h5press module, including the component schemas it imports by path."""
    spec = importlib.util.find_spec("h5press")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(folder, quiet=1, rx=re.compile(r"[/\\](\.peers|node_modules|tests|build)[/\\]"))


def verdict(ours: float, theirs: float) -> str:
    return "OK" if ours < theirs else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ssg-") as tmp:
        project = make_site(Path(tmp) / "h5press", args.articles)
        tools = [h5press(project)]
        for name, setup in (("Hugo", hugo), ("Eleventy", eleventy), ("MkDocs", mkdocs)):
            try:
                tools.append(setup(project, Path(tmp) / name.lower()))
            except Unavailable as error:
                print(f"{name}: NOT MEASURED, {error}")
        compile_h5press()
        results, failed = measure(tools, args.repeat, Path(tmp) / "trash")
        if "h5press" in failed:
            sys.exit("h5press failed to build; no ratios to print")
        pages = {t.name: t.pages() for t in tools if t.name in results}
    print(f"{args.articles} articles, {os.cpu_count()} cores, median of {args.repeat}, wall clock of the whole process")
    for tool in tools:
        print(f"version: {tool.name}: {tool.version}")
    ours_cold, ours_warm = results["h5press"]
    print(f"{'tool':<10}{'pages':>7}{'cold s':>9}{'no-change s':>13}{'cold ÷ h5press':>16}{'no-change ÷ h5press':>21}")
    for name, (cold, warm) in results.items():
        print(f"{name:<10}{pages[name]:>7}{cold:>9.2f}{warm:>13.2f}{cold / ours_cold:>16.2f}{warm / ours_warm:>21.2f}")
    if "Eleventy" in results:
        peer = results["Eleventy"][0]
        print(f"cold build: h5press {ours_cold:.2f}s vs Eleventy {peer:.2f}s [target: h5press faster] "
              f"{verdict(ours_cold, peer)}")
    else:
        print("cold build: h5press vs Eleventy: NOT MEASURED (Eleventy unavailable)")
    if "Hugo" in results:
        peer = results["Hugo"][0]
        print(f"no-change h5press {ours_warm:.2f}s vs Hugo cold {peer:.2f}s [target: h5press faster] "
              f"{verdict(ours_warm, peer)}")
    else:
        print("no-change h5press vs Hugo cold: NOT MEASURED (Hugo unavailable)")


if __name__ == "__main__":
    main()
