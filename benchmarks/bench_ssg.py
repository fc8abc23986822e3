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
- A tool that deletes files as it builds (MkDocs empties its output folder on every build) runs
  after the others, not between them. The same inode scan makes every file created in the next
  60 s (360 s while the inode table is unwritten) cost that much more: interleaved, MkDocs's
  no-change build charged the next tools' cold builds ≈0.5 ms a file, three times as much to
  h5press, which writes a .br and a .gz beside each page, as to Eleventy.

Beside the wall clock, the CPU time of each build (user and kernel, all its processes) is
printed: kernel time well above a tool's usual share means the disk state, not the tool, set
that run's figure.

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
import resource
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


@dataclass(frozen=True)
class Run:
    """One build: seconds of wall clock, and of CPU in user and kernel mode (all its processes)."""

    wall: float
    user: float
    system: float


def median_run(runs: list[Run]) -> Run:
    return Run(*(statistics.median(getattr(r, name) for r in runs) for name in ("wall", "user", "system")))


@dataclass
class Tool:
    """One generator, ready to build its copy of the corpus."""

    name: str
    version: str
    command: list[str]
    root: Path
    output: Path
    caches: tuple[Path, ...] = ()
    deletes: bool = False  # deletes files as it builds, so it runs after the others

    def reset(self, trash: Path) -> None:
        """Move the output and every cache into `trash`, for a cold build."""
        for path in (self.output, *self.caches):
            if path.exists():
                os.rename(path, trash / f"{self.name}-{len(list(trash.iterdir()))}")

    def build(self) -> Run:
        """Run the build once, timed as a whole process."""
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        done = subprocess.run(self.command, cwd=self.root, capture_output=True, text=True)
        elapsed, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise Unavailable(f"build failed (exit {done.returncode}): " + " | ".join(tail))
        return Run(elapsed, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime)

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
                [sys.executable, "-m", "mkdocs", "build", "--quiet"], root, root / "out", deletes=True)


def measure(tools: list[Tool], repeat: int, trash: Path) -> tuple[dict[str, tuple[Run, Run]], list[str]]:
    """Median (cold, no-change) run per tool. Runs interleave the tools so drift hits all alike;
    the tools that delete files run after the others (see the module's docstring)."""
    trash.mkdir()
    runs: dict[str, tuple[list[Run], list[Run]]] = {t.name: ([], []) for t in tools}
    failed: list[str] = []
    for group in ([t for t in tools if not t.deletes], [t for t in tools if t.deletes]):
        for _ in range(repeat):
            for tool in group:
                if tool.name in failed:
                    continue
                tool.reset(trash)
                try:
                    runs[tool.name][0].append(tool.build())
                    runs[tool.name][1].append(tool.build())
                except Unavailable as error:
                    failed.append(tool.name)
                    print(f"{tool.name}: {error}")
    results = {n: (median_run(cold), median_run(warm)) for n, (cold, warm) in runs.items() if n not in failed}
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
    ours_cold, ours_warm = (run.wall for run in results["h5press"])
    print(f"{'tool':<10}{'pages':>7}{'cold s':>9}{'no-change s':>13}{'cold ÷ h5press':>16}{'no-change ÷ h5press':>21}"
          f"{'cold cpu s (user+sys)':>24}")
    for name, (cold, warm) in results.items():
        print(f"{name:<10}{pages[name]:>7}{cold.wall:>9.2f}{warm.wall:>13.2f}{cold.wall / ours_cold:>16.2f}"
              f"{warm.wall / ours_warm:>21.2f}{f'{cold.user:.2f}+{cold.system:.2f}':>24}")
    if "Eleventy" in results:
        peer = results["Eleventy"][0].wall
        print(f"cold build: h5press {ours_cold:.2f}s vs Eleventy {peer:.2f}s [target: h5press faster] "
              f"{verdict(ours_cold, peer)}")
    else:
        print("cold build: h5press vs Eleventy: NOT MEASURED (Eleventy unavailable)")
    if "Hugo" in results:
        peer = results["Hugo"][0].wall
        print(f"no-change h5press {ours_warm:.2f}s vs Hugo cold {peer:.2f}s [target: h5press faster] "
              f"{verdict(ours_warm, peer)}")
    else:
        print("no-change h5press vs Hugo cold: NOT MEASURED (Hugo unavailable)")


if __name__ == "__main__":
    main()
