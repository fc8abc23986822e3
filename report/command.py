"""`h5press report`: read the events once, compute each campaign's figures, write report.json, index.html
and CSV files into --out (all computed first, then written: a failure leaves --out as it was)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

from ..generator.config import CampaignConfig
from ..generator.errors import BuildError, Diagnostics
from ..generator.load import CAMPAIGN_FILE, CONTENT_DIR, load_site_config, read_yaml
from ..generator.schema import validate
from . import events, figures, funnel, stats, tables
from .html import render

DAY_MS = 86_400_000


class Display(Protocol):
    """Makes the progress display of one phase: its verb ("read", "analysed") and what it counts ("MB"; none: items)."""

    def __call__(self, verb: str, unit: str = "") -> events.ProgressFn: ...


class ReportError(Exception):
    """A readable reason the report was not written."""


@dataclass
class ReportOptions:
    project: Path = Path(".")
    campaigns: tuple[str, ...] = ()
    db: str | None = None
    events_file: str | None = None  # a path or "-"; when set, `db` is not read
    out: Path | None = None  # None: no report (only an export)
    export_to: Path | None = None
    start: dt.date | None = None  # inclusive local days of each campaign's timezone
    end: dt.date | None = None
    funnel: tuple[str, ...] = ()  # overrides every campaign's analytics.funnel
    replicates: int = stats.REPLICATES
    seed: int = stats.SEED
    progress: Display | None = None
    # The display of the phases only a terminal shows (None elsewhere): the export's read, polled as it runs; in a
    # log, its "reading" line is enough.
    terminal_progress: Display | None = None
    log: Callable[[str], None] = field(default=lambda _: None)


@dataclass(frozen=True)
class Setup:
    """What the project says about one campaign: its timezone, funnel and experiments' variants
    (in campaign.yaml order: the first is the control, the baseline of the uplifts)."""

    zone: str
    steps: list[funnel.Step]
    variants: dict[str, list[str]] = field(default_factory=dict)


def campaign_setup(project: Path, name: str, site_zone: str, override: tuple[str, ...]) -> Setup:
    """The campaign's timezone and funnel from its campaign.yaml when the project has one (errors at the line)."""
    path = project / CONTENT_DIR / name / CAMPAIGN_FILE
    if not path.is_file():
        return Setup(site_zone, funnel.parse(override or funnel.DEFAULT))
    report = Diagnostics()
    source = f"{CONTENT_DIR}/{name}/{CAMPAIGN_FILE}"
    doc = read_yaml(path, source, report)
    config = validate(CampaignConfig, doc, source, report) if doc else None
    if config is None:
        raise BuildError(report.errors)
    return Setup(config.timezone or site_zone, funnel.parse(override or config.analytics.funnel),
                 {e.id: list(e.variants) for e in config.experiments})


def _selection(options: ReportOptions) -> events.Selection:
    """What to read: the date window widened by a day on each side (any timezone), cut exactly per campaign."""
    start = end = None
    if options.start:
        start = int(dt.datetime.combine(options.start, dt.time(), dt.UTC).timestamp() * 1000) - DAY_MS
    if options.end:
        end = int(dt.datetime.combine(options.end, dt.time(), dt.UTC).timestamp() * 1000) + 2 * DAY_MS
    return events.Selection(options.campaigns, start, end)


def load(options: ReportOptions, scratch: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("LOAD icu; LOAD json")  # built into the wheel: nothing downloads
    con.execute("SET TimeZone = 'UTC'; SET preserve_insertion_order = false")  # every query orders what it needs
    # DuckDB compresses the tables of an in-memory database at a checkpoint, by default once 16 MiB were written.
    # The figures' derived tables are the database's (their cursors see no TEMP table): the first to be written
    # after a database read took the checkpoint, 0.5–0.8 CPU-s per million events, for tables read a few times.
    con.execute("SET checkpoint_threshold = '1TB'")
    if options.events_file is not None:
        options.log(f"reading {options.events_file}")
        everything = dataclasses.replace(_selection(options), campaigns=())  # an unknown campaign is told what there is
        events.load_file(con, options.events_file, everything, scratch, options.export_to is not None,
                         options.terminal_progress("read", "MB") if options.terminal_progress else None)
    else:
        assert options.db is not None
        options.log(f"reading {options.db}")
        events.load_db(con, options.db, _selection(options), options.progress("read") if options.progress else None,
                       options.export_to is not None)
    return con


def _cut_days(con: duckdb.DuckDBPyConnection, name: str, zone: str, options: ReportOptions) -> None:
    """Drop campaign `name`'s events outside --from/--to, read as days of its own timezone."""
    local = "CAST(timezone(?, epoch_ms(at_ms)::TIMESTAMPTZ) AS DATE)"
    if options.start:
        con.execute(f"DELETE FROM ev WHERE campaign = ? AND {local} < ?", [name, zone, options.start])
    if options.end:
        con.execute(f"DELETE FROM ev WHERE campaign = ? AND {local} > ?", [name, zone, options.end])


def prepare(con: duckdb.DuckDBPyConnection, options: ReportOptions) -> dict[str, Setup]:
    """Each selected campaign's setup, its events cut to --from/--to; an asked-for campaign without events fails."""
    site_zone = load_site_config(options.project).timezone
    present = [r[0] for r in con.execute("SELECT DISTINCT campaign FROM ev ORDER BY campaign").fetchall()]
    setups = {name: campaign_setup(options.project, name, site_zone, options.funnel)
              for name in present if not options.campaigns or name in options.campaigns}
    for name, setup in setups.items():
        _cut_days(con, name, setup.zone, options)
    present = [r[0] for r in con.execute("SELECT DISTINCT campaign FROM ev ORDER BY campaign").fetchall()]
    missing = [c for c in options.campaigns if c not in present]
    if missing:
        known = ", ".join(present) or "none"
        raise ReportError(f"no events of campaign {', '.join(missing)} (campaigns with events in the window: {known})")
    if options.campaigns:
        con.execute(f"DELETE FROM ev WHERE campaign NOT IN ({', '.join('?' for _ in options.campaigns)})", options.campaigns)
    return {name: setups[name] for name in (list(options.campaigns) or present)}


def compute(con: duckdb.DuckDBPyConnection, setups: dict[str, Setup], options: ReportOptions) -> dict[str, Any]:
    """report.json's content."""
    found: dict[str, Any] = {}
    progress = options.progress("analysed") if options.progress else None
    for done, (name, setup) in enumerate(setups.items(), 1):
        found[name] = figures.campaign(con, name, setup.zone, setup.steps, setup.variants, options.replicates, options.seed)
        found[name]["funnel_titles"] = [s.title for s in setup.steps]
        if progress:
            progress(done, len(setups))
    return {"generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "source": options.events_file if options.events_file is not None else "database",
            "from": options.start.isoformat() if options.start else None,
            "to": options.end.isoformat() if options.end else None,
            "uplift_method": {"name": "percentile bootstrap over visitors", "replicates": options.replicates,
                              "seed": options.seed, "baseline": "the experiment's first variant in campaign.yaml (the control); "
                                                                     "else the first in alphabetical order"},
            "campaigns": found}


def write(out: Path, files: dict[str, bytes]) -> None:
    """Every file to a scratch folder inside `out` first, then renamed into place one by one."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".partial-", dir=out) as scratch:
        for name, data in files.items():
            (Path(scratch) / name).write_bytes(data)
        for name in files:
            os.replace(Path(scratch) / name, out / name)


def run(options: ReportOptions) -> dict[str, Any] | None:
    """Export and/or report as the options say; returns report.json's content when a report was made."""
    if options.start and options.end and options.start > options.end:
        raise ReportError(f"--from {options.start} is after --to {options.end}")
    if options.out is not None and options.out.exists() and not options.out.is_dir():
        raise ReportError(f"--out {options.out} exists and is not a folder")
    with tempfile.TemporaryDirectory(prefix="h5press-report-") as scratch:
        con = load(options, Path(scratch))
        setups = prepare(con, options)
        if options.export_to is not None:
            count = events.export(con, options.export_to)
            options.log(f"exported {count} events to {options.export_to}")
        if options.out is None:
            return None
        report = compute(con, setups, options)
    files = {"report.json": json.dumps(report, ensure_ascii=False, indent=2).encode(), "index.html": render(report).encode()}
    files.update(tables.csv_files(report))
    write(options.out, files)
    return report
