"""Events into DuckDB: from the newline-delimited JSON export or from the API's `analytics` table, and
back out as that export. Everything the figures read is the table `ev` this module creates."""
from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb

COLUMNS = ("id", "campaign", "type", "component", "payload", "at", "visitor", "session", "page", "variants")
REQUIRED_TEXT = ("id", "campaign", "type", "visitor", "session", "page")
BATCH = 100_000  # rows fetched from the database at a time
ProgressFn = Callable[[int, int], None]

# `p`: the payload keys the figures read, parsed once as the events are loaded (NULL when absent or mistyped).
SHAPE = '{"view": "VARCHAR", "ms": "DOUBLE", "ref": "VARCHAR", "share": "VARCHAR", "channel": "VARCHAR", "kind": "VARCHAR"}'
DERIVED = f"json_transform(payload, '{SHAPE}')"
EV_TABLE = """CREATE TABLE ev (id VARCHAR, campaign VARCHAR, type VARCHAR, component VARCHAR, payload JSON,
    at_ms BIGINT, visitor VARCHAR, session VARCHAR, page VARCHAR, variants JSON,
    p STRUCT(view VARCHAR, ms DOUBLE, ref VARCHAR, share VARCHAR, channel VARCHAR, kind VARCHAR))"""


class EventsError(Exception):
    """Input the report cannot read: the message names the file or database and, for a file, the line."""


@dataclass(frozen=True)
class Selection:
    """Which events to read: campaigns (empty: all) and a window of UTC milliseconds [start, end)."""

    campaigns: tuple[str, ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None


def parse_at(value: object) -> int | None:
    """`at` as ms since the epoch: ISO-8601 with a zone (`Z` or an offset), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def line_problem(text: str) -> str | None:
    """What is wrong with one line of the export, or None: the rules the fast reader applies, in words."""
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(event, dict):
        return "expected a JSON object (one event)"
    for key in REQUIRED_TEXT:
        if not isinstance(event.get(key), str) or not event[key]:
            return f'"{key}" must be a non-empty string'
    if parse_at(event.get("at")) is None:
        return f'"at" must be an ISO-8601 time with a zone, like "2026-12-06T17:50:05.123Z", got {json.dumps(event.get("at"))}'
    for key in ("payload", "variants"):
        if not isinstance(event.get(key, {}), dict):
            return f'"{key}" must be a JSON object'
    if event.get("component") is not None and not isinstance(event["component"], str):
        return '"component" must be a string or null'
    return None


def first_bad_line(path: Path) -> str:
    """The first line the fast reader refused, as `file:line: problem` (the slow path, only on error)."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, 1):
            if text.strip() and (problem := line_problem(text)) is not None:
                return f"{path}:{number}: {problem}"
    return f"{path}: unreadable as newline-delimited JSON events"


def _stdin_copy(scratch: Path) -> Path:
    """`-`: standard input, copied to a file DuckDB can scan (and we can name lines of)."""
    copy = scratch / "stdin.ndjson"
    with copy.open("wb") as out:
        while chunk := sys.stdin.buffer.read(1 << 20):
            out.write(chunk)
    return copy


def _window_sql(selection: Selection, at: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if selection.campaigns:
        clauses.append(f"campaign IN ({', '.join('?' for _ in selection.campaigns)})")
        params.extend(selection.campaigns)
    if selection.start_ms is not None:
        clauses.append(f"{at} >= ?")
        params.append(selection.start_ms)
    if selection.end_ms is not None:
        clauses.append(f"{at} < ?")
        params.append(selection.end_ms)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


PAYLOAD = "STRUCT(view VARCHAR, ms DOUBLE, ref VARCHAR, share VARCHAR, channel VARCHAR, kind VARCHAR)"


def _scan(keep_payload: bool, strict: bool) -> str:
    """The reader of the export. Fast: the JSON reader parses `p` (and `at`) itself, the whole payload is kept
    only for an export; lenient: payloads as JSON, their keys picked without complaint (a mistyped `ms`)."""
    typed = strict and not keep_payload
    payload = f"'{PAYLOAD}'" if typed else "'JSON'"
    columns = (f"{{id: 'VARCHAR', campaign: 'VARCHAR', type: 'VARCHAR', component: 'VARCHAR', payload: {payload}, "
               "\"at\": 'TIMESTAMPTZ', visitor: 'VARCHAR', session: 'VARCHAR', page: 'VARCHAR', variants: 'JSON'}")
    kept = "coalesce(payload, '{}')" if keep_payload else "NULL"
    derived = "payload" if typed else DERIVED
    return (f"SELECT id, campaign, type, component, {kept}, epoch_ms(\"at\"), visitor, session, page, "
            f"coalesce(variants, '{{}}'), {derived} FROM read_json(?, format = 'newline_delimited', columns = {columns})")


def load_file(con: duckdb.DuckDBPyConnection, source: str, selection: Selection, scratch: Path,
              keep_payload: bool = False) -> None:
    """The export (a path, or `-` for standard input) into `ev`; a bad line fails with its number.
    `keep_payload`: keep whole payloads (for `export`), not only the keys the figures read."""
    path = _stdin_copy(scratch) if source == "-" else Path(source)
    if not path.is_file():
        raise EventsError(f"{source}: no such file")
    con.execute(EV_TABLE)
    for strict in (True, False):
        try:
            con.execute(f"INSERT INTO ev {_scan(keep_payload, strict)}", [str(path)])
            break
        except duckdb.Error:
            con.execute("DELETE FROM ev")
    else:
        raise EventsError(first_bad_line(path))
    bad = con.execute(
        "SELECT count(*) FROM ev WHERE at_ms IS NULL OR " + " OR ".join(f"coalesce({c}, '') = ''" for c in REQUIRED_TEXT)
        + " OR json_type(variants) <> 'OBJECT'" + (" OR json_type(payload) <> 'OBJECT'" if keep_payload else "")
    ).fetchone()
    if bad and bad[0]:
        raise EventsError(first_bad_line(path))
    where, params = _window_sql(selection, "at_ms")
    if where:
        con.execute(f"DELETE FROM ev WHERE NOT ({where.removeprefix(' WHERE ')})", params)


def _db_batches(url: str, selection: Selection, progress: ProgressFn | None) -> Iterator[list[Any]]:
    """Rows of `analytics`, BATCH at a time, in the export's column order (at as ms)."""
    from sqlalchemy import ColumnElement, func, select

    from ..api.db import analytics, make_engine, normalise_url, sqlite_path

    path = sqlite_path(normalise_url(url))
    if path is not None and not path.is_file():  # reading must not leave an empty database behind
        raise FileNotFoundError(f"no such file {path}")
    t = analytics.c
    engine = make_engine(url)
    try:
        where: list[ColumnElement[bool]] = []
        if selection.campaigns:
            where.append(t.campaign.in_(selection.campaigns))
        if selection.start_ms is not None:
            where.append(t.at_ms >= selection.start_ms)
        if selection.end_ms is not None:
            where.append(t.at_ms < selection.end_ms)
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(analytics).where(*where)).scalar_one()
            query = select(t.event_id, t.campaign, t.type, t.component, t.payload, t.at_ms, t.visitor, t.session, t.page,
                           t.variants).where(*where)
            yield from _fetch(conn, query, total, progress)
    finally:
        engine.dispose()


def _fetch(conn: Any, query: Any, total: int, progress: ProgressFn | None) -> Iterator[list[Any]]:
    """The query's rows through the driver's own cursor: SQLAlchemy's row objects cost twice the
    reading itself. PostgreSQL streams through a named (server-side) cursor."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    driver = conn.connection.driver_connection
    cursor = driver.cursor(name="h5press_report") if conn.dialect.name == "postgresql" else driver.cursor()
    try:
        cursor.execute(str(compiled), params)
        done = 0
        while rows := cursor.fetchmany(BATCH):
            done += len(rows)
            if progress:
                progress(done, total)
            yield rows
    finally:
        cursor.close()


def load_db(con: duckdb.DuckDBPyConnection, url: str, selection: Selection, progress: ProgressFn | None = None) -> None:
    """The `analytics` table (SQLite or PostgreSQL, through SQLAlchemy) into `ev`, a batch at a time."""
    import numpy as np

    con.execute(EV_TABLE)
    names = ("id", "campaign", "type", "component", "payload", "at_ms", "visitor", "session", "page", "variants")
    try:
        for rows in _db_batches(url, selection, progress):
            batch = {name: np.array(column, dtype=np.int64 if name == "at_ms" else object)
                     for name, column in zip(names, zip(*rows, strict=True), strict=True)}
            con.register("batch", batch)
            con.execute(f"INSERT INTO ev SELECT *, {DERIVED} FROM batch")
            con.unregister("batch")
    except duckdb.Error as exc:
        raise EventsError(f"database {url}: a stored event is not valid JSON: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached or read is one readable line
        first = (str(exc).splitlines() or [""])[0]
        raise EventsError(f"database {url}: {type(exc).__name__}: {first}") from None


def export(con: duckdb.DuckDBPyConnection, target: Path) -> int:
    """`ev` as the newline-delimited export (written to a sibling, then renamed: never half a file)."""
    partial = target.with_name(f".{target.name}.partial")
    query = """SELECT id, campaign, type, component, payload,
        strftime(make_timestamp(at_ms * 1000), '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS "at",
        visitor, session, page, variants FROM ev ORDER BY at_ms, id"""
    count = 0
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            count = _write_lines(con.execute(query), out)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _write_lines(cursor: duckdb.DuckDBPyConnection, out: IO[str]) -> int:
    count = 0
    while rows := cursor.fetchmany(BATCH):
        for row in rows:
            event = dict(zip(COLUMNS, row, strict=True))
            event["payload"], event["variants"] = json.loads(event["payload"]), json.loads(event["variants"])
            out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += len(rows)
    return count
