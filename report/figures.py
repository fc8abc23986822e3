"""The figures of one campaign, from the events table `ev` (see events.py), as report.json holds them.

Definitions (docs/report.md says them in words): a session's dwell is the sum of the dwell events of
its views; a visitor's variant of an experiment is the one on their earliest event that names it;
median and p75 interpolate linearly between sessions.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import duckdb
import numpy as np

from . import stats
from .funnel import Step

DWELL_BUCKETS = (0, 10, 30, 60, 120, 300)  # seconds: the histogram's lower edges

T = TypeVar("T")
QUARTER_MS = 900_000  # every timezone's offset is a multiple of 15 minutes: days are read per quarter hour

# Derived tables of one campaign (`cev`: its events). A dwell event counts for the session of its view (or
# its own session when the view is not in the data). Each group's statements read only the tables of the
# groups before it: they run at once, each on a cursor of its own (a cursor sees the database's tables, not
# another connection's TEMP ones), as do the figures after them: DuckDB releases Python's lock while a query
# runs, and a query over a few hundred thousand rows alone would leave a core idle.
SETUP = [
    [
        f"""CREATE OR REPLACE TABLE quarters AS SELECT session, visitor, variants, at_ms // {QUARTER_MS} AS quarter,
            min(at_ms) AS at_ms, count_if(type = 'view') AS views, count_if(type = 'share') AS shares FROM cev GROUP BY ALL""",
        """CREATE OR REPLACE TABLE dwells AS SELECT p.view AS view, any_value(session) AS session, sum(p.ms) / 1000 AS dwell_s
           FROM cev WHERE type = 'dwell' AND p.ms >= 0 GROUP BY p.view""",
        """CREATE OR REPLACE TABLE shares AS SELECT DISTINCT p.share AS share, visitor, coalesce(p.channel, '') AS channel
           FROM cev WHERE type = 'share'""",
    ],
    [
        """CREATE OR REPLACE TABLE views AS SELECT v.id, v.visitor, v.session, v.page, v.at_ms, v.p.ref AS ref,
           coalesce(d.dwell_s, 0) AS dwell_s FROM cev v LEFT JOIN dwells d ON d.view = v.id WHERE v.type = 'view'""",
        """CREATE OR REPLACE TABLE assigned AS SELECT visitor, key AS experiment, arg_min(value ->> '$', at_ms) AS variant
           FROM (SELECT visitor, variants, min(at_ms) AS at_ms FROM quarters WHERE variants <> '{}' GROUP BY visitor, variants),
                json_each(variants) GROUP BY visitor, key""",
    ],
    [
        """CREATE OR REPLACE TABLE sessions AS SELECT s.session, s.visitor, coalesce(w.dwell_s, 0) AS dwell_s
           FROM (SELECT session, min(visitor) AS visitor FROM quarters GROUP BY session) s
           LEFT JOIN (SELECT coalesce(v.session, d.session) AS session, sum(d.dwell_s) AS dwell_s
                      FROM dwells d LEFT JOIN views v ON v.id = d.view GROUP BY 1) w USING (session)""",
    ],
    [
        """CREATE OR REPLACE TABLE visitors AS
           WITH firsts AS (SELECT visitor, arg_min_null(ref, at_ms) AS ref FROM views GROUP BY visitor),  -- the first view's
                referred AS (SELECT DISTINCT f.visitor FROM firsts f JOIN shares x ON x.share = f.ref AND x.visitor <> f.visitor)
           SELECT s.visitor, s.sessions, s.dwell_s, s.visitor IN (SELECT visitor FROM shares) AS shared,
                  s.visitor IN (SELECT visitor FROM referred) AS referred
           FROM (SELECT visitor, count(*) AS sessions, sum(dwell_s) AS dwell_s FROM sessions GROUP BY visitor) s""",
    ],
]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _dwell(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params: list[Any] | None = None) -> dict[str, float | None]:
    row = _rows(con, f"""SELECT avg(dwell_s) AS mean, quantile_cont(dwell_s, 0.5) AS median, quantile_cont(dwell_s, 0.75) AS p75
                         FROM sessions WHERE {where}""", params)[0]
    return {k: (None if v is None else round(float(v), 3)) for k, v in row.items()}


def _literal(text: str) -> str:
    """A SQL string literal (a view cannot take parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def headline(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """visitors, sessions, views, dwell_s, share_rate, k_factor, event counts per type."""
    row = _rows(con, """SELECT (SELECT count(*) FROM visitors) AS visitors, (SELECT count(*) FROM sessions) AS sessions,
                        (SELECT count(*) FROM views) AS views, (SELECT count_if(shared) FROM visitors) AS sharers,
                        (SELECT count_if(referred) FROM visitors) AS referred""")[0]
    events = {r["type"]: r["n"] for r in _rows(con, "SELECT type, count(*) AS n FROM cev GROUP BY type ORDER BY type")}
    return {"visitors": row["visitors"], "sessions": row["sessions"], "views": row["views"], "dwell_s": _dwell(con),
            "share_rate": _ratio(row["sharers"], row["visitors"]), "k_factor": _ratio(row["referred"], row["visitors"]),
            "events": events}


def funnel(con: duckdb.DuckDBPyConnection, steps: list[Step]) -> list[dict[str, Any]]:
    """Visitors who reached each step and every step before it (in any order, within the data)."""
    conditions, params = [], []
    for step in steps:
        conditions.append("bool_or(type = ?" + (" AND (component = ? OR p.kind = ?))" if step.name else ")"))
        params.extend([step.type, step.name, step.name] if step.name else [step.type])
    flags = ", ".join(f"{c} AS s{i}" for i, c in enumerate(conditions))
    counts = ", ".join(f"count_if({' AND '.join(f's{j}' for j in range(i + 1))})" for i in range(len(steps)))
    sql = f"WITH reach AS (SELECT visitor, {flags} FROM cev GROUP BY visitor) SELECT {counts} FROM reach"
    row = con.execute(sql, params).fetchone() or ()
    return [{"step": step.label, "visitors": n} for step, n in zip(steps, row, strict=True)]


def pages(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return _rows(con, """SELECT page, count(*) AS views, count(DISTINCT visitor) AS visitors, round(avg(dwell_s), 3) AS dwell_s
                         FROM views GROUP BY page ORDER BY views DESC, page""")


def components(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per block id: its kind, visitors who touched it, events per type."""
    rows = _rows(con, """SELECT component, max(p.kind) AS kind, count(DISTINCT visitor) AS visitors,
                         any_value(e.events) AS events FROM cev
                         JOIN (SELECT component, map(list(type ORDER BY type), list(n ORDER BY type)) AS events
                               FROM (SELECT component, type, count(*) AS n FROM cev WHERE component IS NOT NULL GROUP BY ALL)
                               GROUP BY component) e USING (component)
                         GROUP BY component ORDER BY component""")
    return [{**r, "events": dict(r["events"])} for r in rows]


def daily(con: duckdb.DuckDBPyConnection, zone: str) -> list[dict[str, Any]]:
    """Per local day of `zone`."""
    local = f"timezone(?, epoch_ms(quarter * {QUARTER_MS})::TIMESTAMPTZ)"
    rows = _rows(con, f"""WITH days AS (SELECT quarter, CAST({local} AS DATE) AS day FROM (SELECT DISTINCT quarter FROM quarters))
                          SELECT day, count(DISTINCT visitor) AS visitors, count(DISTINCT session) AS sessions,
                          sum(views)::BIGINT AS views, sum(shares)::BIGINT AS shares
                          FROM quarters JOIN days USING (quarter) GROUP BY day ORDER BY day""", [zone])
    return [{**r, "day": r["day"].isoformat()} for r in rows]


def share_channels(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return _rows(con, """SELECT channel, count(*) AS shares, count(DISTINCT visitor) AS visitors FROM shares
                         GROUP BY channel ORDER BY shares DESC, channel""")


def dwell_histogram(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Sessions per dwell bucket, every bucket present (empty ones as 0)."""
    edges = list(DWELL_BUCKETS)
    above = " + ".join(f"(dwell_s >= {e})::INT" for e in edges[1:])
    rows = _rows(con, f"SELECT {above} AS bucket, count(*) AS sessions FROM sessions GROUP BY bucket")
    found = {r["bucket"]: r["sessions"] for r in rows}
    return [{"from_s": low, "to_s": edges[i + 1] if i + 1 < len(edges) else None, "sessions": found.get(i, 0)}
            for i, low in enumerate(edges)]


def experiments(con: duckdb.DuckDBPyConnection, order: dict[str, list[str]], replicates: int,
                seed: int) -> dict[str, Any]:
    """Per experiment: each variant's visitors, dwell and share rate; uplift of each against the first
    (the control: first in campaign.yaml's `order`, else alphabetically). The per-visitor values come
    as three arrays sorted by (experiment, variant); each arm is a slice of them (no loop over visitors)."""
    arms_sql = "FROM assigned a JOIN visitors v USING (visitor)"
    per_visitor = con.execute(f"""SELECT v.sessions, v.dwell_s, v.shared::DOUBLE AS shared {arms_sql}
                                  ORDER BY a.experiment, a.variant""").fetchnumpy()
    rows = _rows(con, f"""WITH n AS (SELECT a.experiment, a.variant, count(*) AS visitors {arms_sql} GROUP BY ALL),
        d AS (SELECT a.experiment, a.variant, avg(s.dwell_s) AS mean, quantile_cont(s.dwell_s, 0.5) AS median,
                     quantile_cont(s.dwell_s, 0.75) AS p75 FROM assigned a JOIN sessions s USING (visitor) GROUP BY ALL)
        SELECT * FROM n JOIN d USING (experiment, variant) ORDER BY experiment, variant""")
    ends = np.cumsum([r["visitors"] for r in rows])
    slices = {(r["experiment"], r["variant"]): (slice(end - r["visitors"], end), r) for r, end in zip(rows, ends, strict=True)}
    found: dict[str, Any] = {}
    for name in dict.fromkeys(e for e, _ in slices):
        seen = [v for e, v in slices if e == name]
        declared = order.get(name, [])
        arms: dict[str, stats.Arm] = {}
        variants: dict[str, Any] = {}
        for variant in [v for v in declared if v in seen] + [v for v in seen if v not in declared]:
            part, d = slices[(name, variant)]
            shared = per_visitor["shared"][part]
            arms[variant] = stats.arm(per_visitor["sessions"][part], per_visitor["dwell_s"][part], shared)
            variants[variant] = {"visitors": arms[variant].visitors,
                                 "dwell_s": {k: round(float(d[k]), 3) for k in ("mean", "median", "p75")},
                                 "share_rate": _ratio(int(shared.sum()), arms[variant].visitors)}
        base = next(iter(arms))
        uplift = {v: stats.uplift(arms[base], a, key=f"{name}/{v}", replicates=replicates, seed=seed)
                  for v, a in arms.items() if v != base}
        found[name] = {"baseline": base, "variants": variants, "uplift": uplift}
    return found


def _on_cursor(con: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """`work` on a cursor of its own (a DuckDB connection is not for two threads at once)."""
    cursor = con.cursor()
    try:
        return work(cursor)
    finally:
        cursor.close()


def campaign(con: duckdb.DuckDBPyConnection, name: str, zone: str, steps: list[Step],
             variants: dict[str, list[str]] | None = None, replicates: int = stats.REPLICATES,
             seed: int = stats.SEED) -> dict[str, Any]:
    """Every figure of campaign `name`, days counted in `zone` (the queries of each stage at once)."""
    con.execute(f"CREATE OR REPLACE VIEW cev AS SELECT * FROM ev WHERE campaign = {_literal(name)}")
    work: dict[str, Callable[[duckdb.DuckDBPyConnection], Any]] = {
        "headline": headline, "funnel": lambda c: funnel(c, steps), "pages": pages, "components": components,
        "daily": lambda c: daily(c, zone), "share_channels": share_channels, "dwell_histogram": dwell_histogram,
        "experiments": lambda c: experiments(c, variants or {}, replicates, seed)}
    with ThreadPoolExecutor(len(work)) as pool:
        for group in SETUP:
            for done in [pool.submit(_on_cursor, con, lambda c, sql=sql: c.execute(sql)) for sql in group]:
                done.result()
        found = {key: pool.submit(_on_cursor, con, fn) for key, fn in work.items()}
        figures = {key: future.result() for key, future in found.items()}
    return {**figures.pop("headline"), "timezone": zone, **figures}
