"""Build speed against the peers, measured in the same run on the same articles:
h5press, Hugo (Debian package), Eleventy (npm) and MkDocs (PyPI).

  python benchmarks/bench_peers.py [--articles 1000] [--repeat 3]

Each tool gets the same N generated articles (Chinese text, front matter, headings, lists, a
table, code) in its own format and a minimal layout, and is timed as a whole process: a cold
build (output and caches removed) and a no-change build (the same command again). Peers missing
on the machine are installed where the registries allow (apt for Hugo, npm for Eleventy into
benchmarks/.peers/, pip for MkDocs); a peer that cannot be had is reported, never estimated.

Fairness: h5press does more per page than the peers here: minified HTML, Brotli and gzip
files, a service worker with a precache list, SRI, CSP, hashed assets; the peers write plain
HTML with their default Markdown settings.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import make_site  # noqa: E402

HERE = Path(__file__).resolve().parent
PEERS = HERE / ".peers"
Tool = tuple[str, list[str], Path, Callable[[], None]]  # name, command, output, reset for a cold build


def run(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def articles(project: Path) -> list[Path]:
    return sorted((project / "content" / "bench").glob("a*.md"), key=lambda p: int(p.stem[1:]))


def ensure_hugo() -> str | None:
    if not shutil.which("hugo"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], capture_output=True, check=False)
    return shutil.which("hugo")


def ensure_eleventy() -> Path | None:
    cli = PEERS / "node_modules" / "@11ty" / "eleventy" / "cmd.cjs"
    if not cli.is_file() and shutil.which("npm"):
        PEERS.mkdir(exist_ok=True)
        (PEERS / ".gitignore").write_text("*\n")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEERS), "@11ty/eleventy@3"],
                       capture_output=True, check=False)
    return cli if cli.is_file() else None


def ensure_mkdocs() -> bool:
    if subprocess.run([sys.executable, "-m", "mkdocs", "--version"], capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "mkdocs"], capture_output=True, check=False)
    return subprocess.run([sys.executable, "-m", "mkdocs", "--version"], capture_output=True).returncode == 0


def hugo_site(project: Path, root: Path) -> Path:
    (root / "layouts" / "_default").mkdir(parents=True)
    (root / "content" / "posts").mkdir(parents=True)
    (root / "config.toml").write_text('baseURL = "https://h5.example.com/"\ntitle = "bench"\n'
                                      'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
    base = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
            '<body><main>{{ block "main" . }}{{ end }}</main></body></html>')
    (root / "layouts" / "_default" / "baseof.html").write_text(base)
    (root / "layouts" / "_default" / "single.html").write_text('{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}{{ end }}')
    (root / "layouts" / "_default" / "list.html").write_text(
        '{{ define "main" }}{{ range .Pages }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}{{ end }}')
    for source in articles(project):
        shutil.copy(source, root / "content" / "posts" / source.name)
    return root


def eleventy_site(project: Path, root: Path) -> Path:
    (root / "src" / "_includes").mkdir(parents=True)
    (root / "src" / "_includes" / "base.njk").write_text(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title></head>'
        "<body><main><h1>{{ title }}</h1>{{ content | safe }}</main></body></html>")
    (root / "src" / "src.json").write_text('{"layout": "base.njk"}')
    for source in articles(project):
        shutil.copy(source, root / "src" / source.name)
    return root


def mkdocs_site(project: Path, root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: bench\nuse_directory_urls: false\ndocs_dir: docs\nsite_dir: out\n")
    shutil.copy(project / "content" / "bench" / "index.md", root / "docs" / "index.md")
    for source in articles(project):
        shutil.copy(source, root / "docs" / source.name)
    return root


def measure(tool: Tool, repeat: int) -> tuple[float, float]:
    _, command, cwd, reset = tool
    cold, warm = [], []
    for _ in range(repeat):
        reset()
        cold.append(run(command, cwd))
        warm.append(run(command, cwd))
    return statistics.median(cold), statistics.median(warm)


def tools(tmp: Path, n: int) -> tuple[list[Tool], list[str]]:
    project = make_site(tmp / "h5press", n)
    found: list[Tool] = [("h5press", [sys.executable, "-m", "h5press", "build", "-p", str(project)], project,
                          lambda: [shutil.rmtree(project / d, ignore_errors=True) for d in ("dist", ".h5press-cache")])]
    notes = []
    if hugo := ensure_hugo():
        site = hugo_site(project, tmp / "hugo")
        found.append(("Hugo", [hugo, "--quiet", "-d", "out"], site, lambda: shutil.rmtree(site / "out", ignore_errors=True)))
    else:
        notes.append("Hugo: not available (apt-get install hugo failed)")
    if (cli := ensure_eleventy()) and shutil.which("node"):
        site = eleventy_site(project, tmp / "eleventy")
        found.append(("Eleventy", ["node", str(cli), "--input=src", "--output=out", "--quiet"], site,
                      lambda: shutil.rmtree(site / "out", ignore_errors=True)))
    else:
        notes.append("Eleventy: not available (npm install @11ty/eleventy failed)")
    if ensure_mkdocs():
        site = mkdocs_site(project, tmp / "mkdocs")
        found.append(("MkDocs", [sys.executable, "-m", "mkdocs", "build", "-q"], site,
                      lambda: shutil.rmtree(site / "out", ignore_errors=True)))
    else:
        notes.append("MkDocs: not available (pip install mkdocs failed)")
    return found, notes


def version(name: str, command: list[str]) -> str:
    probe = {"h5press": [sys.executable, "-m", "h5press", "--version"], "Hugo": [command[0], "version"],
             "Eleventy": ["node", command[1], "--version"], "MkDocs": [sys.executable, "-m", "mkdocs", "--version"]}[name]
    return subprocess.run(probe, capture_output=True, text=True).stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        found, notes = tools(Path(tmp), args.articles)
        results = {tool[0]: measure(tool, args.repeat) for tool in found}
        versions = {tool[0]: version(tool[0], tool[1]) for tool in found}
    ours_cold, ours_warm = results["h5press"]
    print(f"{args.articles} articles, median of {args.repeat}, whole processes")
    print(f"{'tool':<10}{'cold s':>8}{'no-change s':>13}{'cold ÷ h5press':>16}{'no-change ÷ h5press':>21}  version")
    for name, (cold, warm) in results.items():
        print(f"{name:<10}{cold:>8.2f}{warm:>13.2f}{cold / ours_cold:>16.2f}{warm / ours_warm:>21.2f}  {versions[name]}")
    for note in notes:
        print(note)
    if "Eleventy" in results:
        peer = results["Eleventy"][0]
        print(f"cold build: h5press {ours_cold:.2f}s vs Eleventy {peer:.2f}s [target: faster] {verdict(ours_cold < peer)}")
    if "Hugo" in results:
        peer = results["Hugo"][0]
        print(f"no-change h5press {ours_warm:.2f}s vs Hugo cold {peer:.2f}s [target: faster] {verdict(ours_warm < peer)}")


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


if __name__ == "__main__":
    main()
