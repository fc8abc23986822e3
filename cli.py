"""The `h5press` command: `new` scaffolds a site project, `build` turns it into bundles, `check`
renders them on phone profiles, `api` runs the collaboration server, `report` says how the campaigns did."""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .api.settings import ApiSettings
from .check.browser import BrowserNotFound
from .generator.errors import BuildError
from .generator.incremental import fingerprint
from .generator.incremental.cache import CACHE_DIR
from .generator.scaffold import scaffold


class Progress:
    """A bar on a terminal; a line every 10 % in CI logs, so they stay short. Counts are of `unit` (none: items);
    a total not known yet (None) shows the count alone, on a terminal only."""

    def __init__(self, verb: str, unit: str = "") -> None:
        self.verb, self.unit = verb, f" {unit}" if unit else ""
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int | None) -> None:
        if total is None:
            if self.tty:
                click.echo(f"\r{self.verb} {done}{self.unit}", nl=False, err=True)
            return
        share = done / total if total else 1
        if self.tty:
            bar = "#" * int(share * 30)
            click.echo(f"\r[{bar:<30}] {done}/{total}{self.unit}", nl=False, err=True)
            if done == total:
                click.echo("", err=True)
        elif int(share * 10) != self.shown:
            self.shown = int(share * 10)
            click.echo(f"{self.verb} {done}/{total}{self.unit}", err=True)


F = TypeVar("F", bound=Callable[..., Any])


def project_option(purpose: str) -> Callable[[F], F]:
    """`-p/--project`, the site project folder, as every command takes it; `purpose` is its help text."""
    return click.option("-p", "--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".",
                        show_default=True, help=purpose)


_finished_build = False  # set when `build` has written and closed everything


def _fail_cleanly(debug: bool, exc: Exception) -> None:
    """Unexpected failures get one readable line; `--debug` shows the traceback instead."""
    if debug:
        raise exc
    raise click.ClickException(f"{type(exc).__name__}: {exc} (run again with --debug for the traceback)") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="h5press")
def cli() -> None:
    """Markdown campaigns into offline-first H5 bundles."""


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def new(directory: Path) -> None:
    """Create a site project in DIRECTORY that builds as it is."""
    try:
        created = scaffold(directory)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot create {directory}: {exc.strerror}") from None
    click.echo(f"created {len(created)} files in {directory}/")
    click.echo(f"next: cd {shlex.quote(str(directory))} && h5press build")


@cli.command()
@click.argument("campaigns", nargs=-1, metavar="[CAMPAIGN]...")
@project_option("site project folder (holds h5press.yaml)")
@click.option("--strict", is_flag=True, help="warnings fail too")
def lint(campaigns: tuple[str, ...], project: Path, strict: bool) -> None:
    """Check campaigns against the compliance rules (all of content/ by default); write their reports."""
    from .compliance.command import lint as run_lint

    run_lint(project, campaigns, strict)


@cli.command()
@click.argument("campaign")
@project_option("site project folder (holds h5press.yaml)")
@click.option("--by", required=True, metavar="NAME", help="the reviewer who approves")
@click.option("--note", default="", help="the reviewer's note, kept with the approval")
def approve(campaign: str, project: Path, by: str, note: str) -> None:
    """Record that CAMPAIGN, as it is now, was reviewed (content/CAMPAIGN/approvals.yaml)."""
    from .compliance.command import approve as run_approve

    run_approve(project, campaign, by, note)


@cli.command()
@project_option("site project folder (holds h5press.yaml)")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="output folder [default: PROJECT/dist]")
@click.option("--base-url", help="absolute URL where dist/ is published (overrides h5press.yaml)")
@click.option("--api-url", help="base URL of the collaboration API, `h5press api` (overrides h5press.yaml)")
@click.option("--only", multiple=True, metavar="CAMPAIGN", help="build only this campaign (repeatable)")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
@click.option("-j", "--workers", type=click.IntRange(1), help="processes to use [default: all cores]")
@click.option("--no-cache", is_flag=True, help="ignore and do not update .h5press-cache/")
@click.option("--timings", is_flag=True, help="print the time each stage took (stderr)")
@click.option("--debug", is_flag=True, help="show tracebacks of unexpected errors")
def build(project: Path, out: Path | None, base_url: str | None, api_url: str | None, only: tuple[str, ...], strict: bool,
          workers: int | None, no_cache: bool, timings: bool, debug: bool) -> None:
    """Build every campaign in content/ into DIST/<campaign>/."""
    started = time.perf_counter()
    root, target = project.resolve(), (out or project / "dist").resolve()
    command = json.dumps([str(target), base_url, api_url, only, strict])
    remember = not no_cache and not only
    known = fingerprint.unchanged(root, target, command) if remember else None
    if known is not None:  # nothing read or written changed: not even the pipeline is loaded
        for text in known.warnings:
            click.secho(f"warning: {text}", fg="yellow", err=True)
        click.echo(f"built {known.campaigns} campaign(s), {known.pages} page(s) into {target} "
                   f"in {time.perf_counter() - started:.2f}s: 0 rendered, {known.pages} from cache, nothing changed")
        return
    from .generator.build import BuildOptions
    from .generator.build import build as run_build

    seen = fingerprint.inputs(root) if remember else {}  # stated before the build reads them
    fingerprint.forget(root)
    options = BuildOptions(project, out, base_url, only, strict, api_url=api_url, cache=not no_cache)
    if workers:
        options.workers = workers
    try:
        result = run_build(options)
    except BuildError:
        raise
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors are turned into messages
        _fail_cleanly(debug, exc)
        return
    for warning in result.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if timings:
        click.echo("timings: " + ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in result.timings_ms.items()), err=True)
    campaigns = result.report["campaigns"]
    pages = sum(len(c["pages"]) for c in campaigns.values())
    if remember:
        summary = fingerprint.Summary([str(w) for w in result.warnings], len(campaigns), pages)
        fingerprint.record(root, target, command, seen, summary)
    changed = f"{len(result.written)} file(s) written" if result.written else "nothing changed"
    click.echo(f"built {len(campaigns)} campaign(s), {pages} page(s) into {result.out} "
               f"in {time.perf_counter() - started:.2f}s: {result.rendered} rendered, {pages - result.rendered} "
               f"from cache, {changed}")
    global _finished_build
    _finished_build = True


@cli.command()
@project_option("site project folder (holds h5press.yaml)")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="output folder [default: PROJECT/.h5press-cache/serve, so dist/ keeps the production build]")
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (0.0.0.0 for phones on the LAN)")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--api-url", help="base URL of a running `h5press api` (overrides h5press.yaml)")
def serve(project: Path, out: Path | None, host: str, port: int, api_url: str | None) -> None:
    """Build, serve dist/, rebuild on every save and reload open pages."""
    from .serve.dev import DevServer

    server = DevServer(project, out or project / CACHE_DIR / "serve", host, port, log=lambda m: click.echo(m, err=True),
                       api_url=api_url)
    try:
        server.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"serving {server.out} at {server.url()} — watching for changes, Ctrl+C to stop", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


@cli.command()
@click.argument("target", required=False)
@project_option("site project whose h5press.yaml has the check settings")
@click.option("--devices", metavar="NAMES", help='comma-separated profile names, e.g. "iPhone SE,Pixel 7"')
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default="check-report",
              show_default=True, help="folder for the HTML report and screenshots")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), help="write JUnit XML here")
@click.option("--browser", metavar="PATH", help="Chromium executable to use instead of the one found")
@click.option("--engine", type=click.Choice(["chromium", "webkit"]), default="chromium", show_default=True,
              help="webkit: iPhone profiles on Playwright's WebKit")
@click.option("-j", "--workers", type=click.IntRange(1), default=4, show_default=True, help="pages checked at once")
@click.option("--update-baseline", is_flag=True, help="store these screenshots as the pixel baseline")
@click.option("--live-api", is_flag=True, help="let pages call the collaboration API (by default its requests are "
                                                  "refused: QA never writes to a real server)")
@click.option("--debug", is_flag=True, help="show tracebacks of unexpected errors")
def check(target: str | None, project: Path, devices: str | None, report_dir: Path, junit_path: Path | None,
          browser: str | None, engine: str, workers: int, update_baseline: bool, live_api: bool, debug: bool) -> None:
    """Render every page of TARGET (a dist/ folder, a bundle or an URL; default PROJECT/dist)
    on phone profiles and report what breaks."""
    from .check.command import run_check  # Playwright loads only for this command

    try:
        status = run_check(target, project, devices, report_dir, junit_path, browser, workers, update_baseline, engine,
                           live_api, Progress("checked"))
    except BrowserNotFound as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        raise SystemExit(2) from None
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001
        _fail_cleanly(debug, exc)
        return
    raise SystemExit(status)


API_INSTALL = "pip install 'h5press[api]'"
DEPLOY_INSTALL = "pip install 'h5press[deploy]'"


@cli.command()
@project_option("site project whose dist/ is published (h5press.yaml has the targets)")
@click.option("--to", metavar="NAME|URL", help="a target of h5press.yaml's deploy:, or s3://bucket/prefix "
                                                 "[default: the only target]")
@click.option("--endpoint-url", metavar="URL", help="the storage's S3 endpoint (overrides the target's)")
@click.option("--dry-run", is_flag=True, help="print the plan (upload, keep, delete) and change nothing")
@click.option("-j", "--workers", type=click.IntRange(1), default=8, show_default=True, help="uploads at once")
@click.option("--prune-older-than", "prune_days", type=click.IntRange(0), metavar="DAYS",
              help="delete hashed assets no build has referenced for DAYS days [default: keep them]")
def deploy(project: Path, to: str | None, endpoint_url: str | None, dry_run: bool, workers: int,
           prune_days: int | None) -> None:
    """Publish PROJECT/dist to S3-compatible object storage: assets first, pages next, service
    workers last, only what changed."""
    from .generator.load import load_site_config

    try:
        from .deploy.command import DeployOptions, resolve_target
        from .deploy.command import deploy as run_deploy
    except ImportError as exc:
        raise click.ClickException(f"deploy needs extra packages ({exc.name or 'boto3'} is missing): {DEPLOY_INSTALL}") from None
    config = load_site_config(project)
    options = DeployOptions(resolve_target(config, to), endpoint_url, dry_run, workers, prune_days, Progress("deployed"))
    raise SystemExit(run_deploy(project, project / "dist", config, options))


@cli.command()
@project_option("site project whose campaign.yaml files hold the rules")
@click.option("--db", envvar="H5PRESS_API_DB", default=ApiSettings.db, show_default=True,
              help="database: a SQLite file path or URL, or postgresql://user:pass@host/db [env H5PRESS_API_DB]")
@click.option("--host", default=ApiSettings.host, show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(0, 65535), default=ApiSettings.port, show_default=True)
@click.option("-w", "--workers", type=click.IntRange(1), default=ApiSettings.workers, show_default=True,
              help="worker processes")
@click.option("--secret", envvar="H5PRESS_API_SECRET",
              help="key signing identity tokens, 16+ characters [env H5PRESS_API_SECRET]")
@click.option("--issuer", "issuers", multiple=True, metavar="NAME=KEY",
              help="accept tokens an institution signs with KEY and `iss` NAME (repeatable) "
                   "[env H5PRESS_API_ISSUERS, comma-separated]")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="origin allowed to call the API (repeatable) [default: the origin of base_url]")
@click.option("--admin-token", envvar="H5PRESS_API_ADMIN_TOKEN", default=ApiSettings.admin_token,
              help="bearer token of the admin export, 16+ characters; none: admin endpoints are off "
                   "[env H5PRESS_API_ADMIN_TOKEN]")
@click.option("--wechat-app-id", envvar="H5PRESS_API_WECHAT_APP_ID", default=ApiSettings.wechat_app_id,
              help="AppID of the WeChat official account signing JS-SDK configs [env H5PRESS_API_WECHAT_APP_ID]")
@click.option("--wechat-secret", envvar="H5PRESS_API_WECHAT_SECRET", default=ApiSettings.wechat_secret,
              help="its AppSecret [env H5PRESS_API_WECHAT_SECRET]")
@click.option("--wechat-api", envvar="H5PRESS_API_WECHAT_API", default=ApiSettings.wechat_api, show_default=True,
              help="base URL of the WeChat API (a proxy, or a stand-in for tests) [env H5PRESS_API_WECHAT_API]")
@click.option("--ip-rate", type=click.FloatRange(0), envvar="H5PRESS_API_IP_RATE", default=ApiSettings.ip_rate,
              show_default=True,
              help="requests per second per IP address on /api/ (bursts of 5×); 0: no limit [env H5PRESS_API_IP_RATE]")
@click.option("--identity-rate", type=click.FloatRange(0), envvar="H5PRESS_API_IDENTITY_RATE",
              default=ApiSettings.identity_rate, show_default=True,
              help="requests per second per identity (bursts of 5×); 0: no limit [env H5PRESS_API_IDENTITY_RATE]")
@click.option("--session-rate", type=click.FloatRange(0), envvar="H5PRESS_API_SESSION_RATE",
              default=ApiSettings.session_rate, show_default=True,
              help="new anonymous identities per second per IP (bursts of 30×); 0: no limit [env H5PRESS_API_SESSION_RATE]")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS|CIDR",
              help="a load balancer or proxy whose X-Forwarded-For names the client (repeatable) [default: none, "
                   "the peer address counts]")
@click.option("--analytics-rate", type=click.FloatRange(0), envvar="H5PRESS_API_ANALYTICS_RATE",
              default=ApiSettings.analytics_rate, show_default=True,
              help="analytics events per second per IP address (bursts of 20×); 0: no limit [env H5PRESS_API_ANALYTICS_RATE]")
def api(**options: Any) -> None:
    """Run the collaboration server for the campaigns of PROJECT."""
    try:
        import uvicorn

        from .api import processes
        from .api.app import PARENT_ENV, create_app, frozen_heap
        from .api.db import make_engine
        from .api.migrations import migrate
        from .api.project import load_project
    except ImportError as exc:
        missing = exc.name or "a package"
        raise click.ClickException(f"the collaboration server needs extra packages ({missing} is missing): "
                                   f"{API_INSTALL}") from None
    try:  # the options are named after the settings' fields
        settings = ApiSettings.from_options(options, os.environ)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        loaded = load_project(settings.project)
    except BuildError as exc:  # config errors are reported like the build's
        noun = "error" if len(exc.errors) == 1 else "errors"
        summary = f"cannot serve the campaigns: {len(exc.errors)} {noun} in the project"
        raise BuildError(exc.errors, exc.warnings, summary) from None
    try:
        engine = make_engine(settings.db)
        before, after = migrate(engine)
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached or migrated is one readable line
        raise click.ClickException(f"database {settings.db}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    if before != after:
        click.echo(f"database migrated from schema version {before} to {after}", err=True)
    click.echo(f"serving {len(loaded.campaigns)} campaign(s) at http://{settings.host}:{settings.port}/ (OpenAPI at /docs)",
               err=True)
    grace = 10  # open live streams end 10 s after a shutdown signal; browsers reconnect
    if settings.workers == 1:
        uvicorn.run(frozen_heap(create_app(loaded, settings)), host=settings.host, port=settings.port, log_level="info",
                    timeout_graceful_shutdown=grace, proxy_headers=False)
        return
    os.environ.update(settings.as_env())
    os.environ[PARENT_ENV] = str(os.getpid())
    try:
        processes.serve("h5press.api.app:app_from_env", factory=True, host=settings.host, port=settings.port,
                        workers=settings.workers, log_level="info", timeout_graceful_shutdown=grace, proxy_headers=False)
    except (OSError, processes.WorkerFailed) as exc:
        raise click.ClickException(f"cannot serve at {settings.host}:{settings.port}: {exc}") from None


REPORT_INSTALL = "pip install 'h5press[report]'"


@cli.command()
@click.argument("campaigns", nargs=-1, metavar="[CAMPAIGN]...")
@project_option("site project whose campaign.yaml files give each campaign's timezone and funnel")
@click.option("--db", envvar="H5PRESS_API_DB", default=ApiSettings.db, show_default=True,
              help="the database of `h5press api`: a SQLite file path or URL, or postgresql://… [env H5PRESS_API_DB]")
@click.option("--events", "events_file", metavar="FILE|-",
              help="read a newline-delimited JSON export instead of the database (- for standard input)")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path),
              help="folder for report.json, index.html and the CSV files [default: campaign-report, or none with "
                   "--export-events]")
@click.option("--export-events", "export_to", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="write the events read (after --from/--to) as newline-delimited JSON")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="first day (in each campaign's timezone)")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="last day, inclusive")
@click.option("--funnel", metavar="STEPS", help='comma-separated funnel steps for every campaign, e.g. '
                                               '"view,start:quiz,completion:quiz,share" [default: analytics.funnel]')
@click.option("--debug", is_flag=True, help="show tracebacks of unexpected errors")
def report(campaigns: tuple[str, ...], project: Path, db: str, events_file: str | None, out: Path | None,
           export_to: Path | None, start: Any, end: Any, funnel: str | None, debug: bool) -> None:
    """Did the campaign work? Visitors, dwell, shares, funnel and experiments of CAMPAIGN (default: all)
    from the API's database or an export."""
    try:
        from .report.command import ReportError, ReportOptions, run
        from .report.events import EventsError
        from .report.funnel import step_problem
    except ImportError as exc:
        raise click.ClickException(f"the report needs extra packages ({exc.name or 'duckdb'} is missing): "
                                   f"{REPORT_INSTALL}") from None
    steps = tuple(s.strip() for s in funnel.split(",")) if funnel else ()
    for step in steps:
        if problem := step_problem(step):
            raise click.BadParameter(problem, param_hint="--funnel")
    options = ReportOptions(project, campaigns, db, events_file, out or (None if export_to else Path("campaign-report")),
                            export_to, start.date() if start else None, end.date() if end else None, steps,
                            progress=Progress, terminal_progress=Progress if sys.stderr.isatty() else None,
                            log=lambda m: click.echo(m, err=True))
    try:
        result = run(options)
    except (ReportError, EventsError) as exc:
        raise click.ClickException(str(exc)) from None
    except BuildError as exc:
        summary = f"cannot report: {len(exc.errors)} error(s) in the project's campaign.yaml"
        raise BuildError(exc.errors, exc.warnings, summary) from None
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001
        _fail_cleanly(debug, exc)
        return
    if result is not None:
        click.echo(f"report of {len(result['campaigns'])} campaign(s) in {options.out}/index.html")


def main() -> None:
    try:
        cli(prog_name="h5press")
    except SystemExit as done:
        if _finished_build:  # all written and closed: tearing down a large site's heap is ≈0.1 s for nothing
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(done.code if isinstance(done.code, int) else 0)
        raise


if __name__ == "__main__":
    main()
