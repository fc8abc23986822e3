"""`h5press check`: resolve the target, config and profiles, run, write the report, summarise."""
from __future__ import annotations

import asyncio
import concurrent.futures
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from ..generator.load import load_site_config
from .config import CheckConfig
from .findings import Visit, apply_waivers
from .profiles import select
from .report import html_report, junit
from .runner import CheckOptions, Runner

T = TypeVar("T")


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run`, also when the caller already runs an event loop in this thread (a notebook,
    Playwright's sync API in a test): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()

def load_check_config(project: Path) -> CheckConfig:
    """The `check:` section of the project's h5press.yaml (defaults when there is none)."""
    return load_site_config(project).check


def cjk_font_installed() -> bool | None:
    """True/False from fontconfig, None when fontconfig is not there to ask."""
    if not shutil.which("fc-list"):
        return None
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return bool(listed.strip())


def run_check(target: str | None, project: Path, devices: str | None, report: Path, junit_path: Path | None,
              browser: str | None, workers: int, update_baseline: bool, engine: str, live_api: bool = False,
              progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    """Run the check and return the exit status: 1 on any error-level finding, else 0."""
    config = load_check_config(project)
    target = target or str(project / "dist")
    if not re.match(r"^https?://", target):
        if not Path(target).is_dir():
            raise click.ClickException(f"{target}: no such folder (build first with `h5press build`, or pass a URL)")
        target = str(Path(target).resolve())
    try:
        profiles = select(config, devices.split(",") if devices else None)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--devices") from None
    if cjk_font_installed() is False:
        click.secho("warning: no CJK font is installed: Chinese text renders as boxes in screenshots and measures "
                    "wrong (Debian/Ubuntu: apt-get install fonts-noto-cjk)", fg="yellow", err=True)
    if report.exists():
        shutil.rmtree(report / "shots", ignore_errors=True)
    report.mkdir(parents=True, exist_ok=True)
    options = CheckOptions(target, profiles, report.resolve(), config, (project / config.baseline).resolve(),
                           update_baseline, browser, engine, workers, live_api=live_api, progress=progress)
    started = time.perf_counter()
    visits: list[Visit] = run_async(Runner(options).run)
    seconds = time.perf_counter() - started
    apply_waivers(visits, config.waive)
    names = [p.name for p in profiles]
    index = html_report(visits, names, report, f"h5press check: {target}", seconds)
    if junit_path:
        junit(visits, junit_path, seconds)
    errors = sum(len(v.errors) for v in visits)
    warnings = sum(len(v.warnings) for v in visits)
    waived = sum(1 for v in visits for f in v.findings if f.waived)
    pages = len({v.page for v in visits})
    for visit in visits:
        for finding in visit.errors:
            click.echo(f"error: {visit.page} [{visit.device}] {finding.rule}: {finding.message} {finding.selector}".rstrip(),
                       err=True)
    colour = "red" if errors else "green"
    click.secho(f"checked {pages} pages × {len(names)} profiles in {seconds:.1f}s: {errors} errors, {warnings} warnings, "
                f"{waived} waived → {index}", fg=colour, err=True)
    return 1 if errors else 0
