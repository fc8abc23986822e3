"""Events into DuckDB: from the newline-delimited JSON export or from the API's `analytics` table, and
back out as that export. Everything the figures read is the table `ev` this module creates."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import adbc_driver_manager
import adbc_driver_postgresql
import adbc_driver_sqlite
import duckdb

if TYPE_CHECKING:  # SQLAlchemy is imported only where a database is read
    from sqlalchemy import ColumnElement

COLUMNS = ("id", "campaign", "type", "component", "payload", "at", "visitor", "session", "page", "variants")
REQUIRED_TEXT = ("id", "campaign", "type", "visitor", "session", "page")
BATCH = 100_000  # rows one export write takes
ProgressFn = Callable[[int, int | None], None]  # (done, total); a total not known yet is None
MB = 1_000_000  # the unit of an export's read shown
PATIENCE = 1.0  # seconds an export's read runs before its progress shows: a quick one prints nothing
TICK = 0.2  # seconds between two updates of that progress

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
    return event_problem(event)


def event_problem(event: object) -> str | None:
    """What is wrong with one decoded event, or None."""
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


class _LongRun:
    """A progress display for a long run only: silent for its first PATIENCE seconds, then updated every TICK at
    most (and only when it changed); once shown, `finish` draws it complete (a terminal's line is left ended)."""

    def __init__(self, progress: ProgressFn) -> None:
        self.progress, self.due = progress, time.monotonic() + PATIENCE
        self.last: tuple[int, int | None] | None = None

    def __call__(self, done: int, total: int | None) -> None:
        if time.monotonic() >= self.due and (done, total) != self.last:
            self.progress(done, total)
            self.last, self.due = (done, total), time.monotonic() + TICK

    def finish(self, total: int) -> None:
        if self.last not in (None, (total, total)):
            self.progress(total, total)


def _stdin_copy(scratch: Path, shown: _LongRun | None) -> Path:
    """`-`: standard input, copied to a file DuckDB can scan (and we can name lines of); the MB received are
    shown as they come (how many will come is not known)."""
    copy = scratch / "stdin.ndjson"
    received = 0
    with copy.open("wb") as out:
        while chunk := sys.stdin.buffer.read(1 << 20):
            out.write(chunk)
            received += len(chunk)
            if shown is not None:
                shown(received // MB, None)
    return copy


@contextmanager
def _polled(con: duckdb.DuckDBPyConnection, size: int, shown: _LongRun | None) -> Iterator[None]:
    """The body's queries on `con`, reading a file of `size` bytes, shown as the MB read: DuckDB's measure of a
    query's progress, asked for from a thread as the query runs (DuckDB keeps it only while a display needs it)."""
    if shown is None:
        yield
        return
    total, stop = -(-size // MB), threading.Event()

    def poll() -> None:
        while True:  # at least once, however quick the read
            shown(int(size * max(con.query_progress(), 0.0) / 100) // MB, total)
            if stop.wait(TICK):
                return

    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        con.execute("RESET enable_progress_bar; RESET enable_progress_bar_print")
    shown.finish(total)


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
BLOCK = 250_000  # primary keys one database query covers (the progress shown after each)
WORKERS = min(8, os.cpu_count() or 2)  # database queries read at once, each in a thread (and connection) of its own


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


def _check(con: duckdb.DuckDBPyConnection, keep_payload: bool, first_bad: Callable[[], str]) -> None:
    """Values the readers let through that are not an event's (an empty id, variants that are not an object)."""
    bad = con.execute(
        "SELECT count(*) FROM ev WHERE at_ms IS NULL OR " + " OR ".join(f"coalesce({c}, '') = ''" for c in REQUIRED_TEXT)
        + " OR json_type(variants) <> 'OBJECT'" + (" OR json_type(payload) <> 'OBJECT'" if keep_payload else "")
    ).fetchone()
    if bad and bad[0]:
        raise EventsError(first_bad())


def _insert_file(con: duckdb.DuckDBPyConnection, path: Path, keep_payload: bool) -> bool:
    """The export at `path` into `ev`, by the fast reader, else the lenient one; False if both refused it."""
    for strict in (True, False):
        try:
            con.execute(f"INSERT INTO ev {_scan(keep_payload, strict)}", [str(path)])
            return True
        except duckdb.Error:
            con.execute("DELETE FROM ev")
    return False


def load_file(con: duckdb.DuckDBPyConnection, source: str, selection: Selection, scratch: Path,
              keep_payload: bool = False, progress: ProgressFn | None = None) -> None:
    """The export (a path, or `-` for standard input) into `ev`; a bad line fails with its number.
    `keep_payload`: keep whole payloads (for `export`), not only the keys the figures read. `progress` shows
    a long read (standard input's copy, then the file's read) in MB."""
    shown = _LongRun(progress) if progress else None
    path = _stdin_copy(scratch, shown) if source == "-" else Path(source)
    if not path.is_file():
        raise EventsError(f"{source}: no such file")
    con.execute(EV_TABLE)
    with _polled(con, path.stat().st_size, shown):
        read = _insert_file(con, path, keep_payload)
    if not read:
        raise EventsError(first_bad_line(path))
    _check(con, keep_payload, lambda: first_bad_line(path))
    where, params = _window_sql(selection, "at_ms")
    if where:
        con.execute(f"DELETE FROM ev WHERE NOT ({where.removeprefix(' WHERE ')})", params)


# The database's rows reach DuckDB as Arrow columns through the database's ADBC driver (no row becomes a
# Python object). A driver and a database server pay per value, so six of the eleven fields travel as one
# text, joined by U+001F: the three ULIDs and the type (their patterns exclude it) and the payload and
# variants (JSON, which writes a control character escaped); DuckDB splits it again. A row where a field
# holds U+001F all the same does not split in six and fails, named by `row_problem`. The component's NULL
# travels as a flag beside it: SQLite's driver takes each column's type from its first rows, which may all
# be NULL.
SEPARATOR = "\x1f"
PACKED = ("event_id", "type", "visitor", "session", "variants", "payload")


def _row_scan(keep_payload: bool) -> str:
    """The reader of the rows `_rows` selects, registered with DuckDB as `rows`."""
    whole = f"CASE WHEN len(s) = {len(PACKED)} THEN s[1] ELSE error('a row does not split in {len(PACKED)}') END"
    fields = ", ".join(f"{whole if i == 1 else f's[{i}]'} AS {name}" for i, name in enumerate(PACKED, 1))
    unpacked = f"(SELECT *, {fields} FROM (SELECT *, string_split(packed, chr(31)) AS s FROM rows))"
    return ("SELECT event_id, campaign, type, CASE WHEN no_component::BOOLEAN THEN NULL ELSE component END, "
            f"{'payload' if keep_payload else 'NULL'}, at_ms, visitor, session, page, variants, {DERIVED} FROM {unpacked}")


def _where(selection: Selection) -> list[ColumnElement[bool]]:
    """The selection as conditions on `analytics` rows."""
    from sqlalchemy import true

    from ..api.db import analytics

    t = analytics.c
    where: list[ColumnElement[bool]] = [t.campaign.in_(selection.campaigns) if selection.campaigns else true()]
    if selection.start_ms is not None:
        where.append(t.at_ms >= selection.start_ms)
    if selection.end_ms is not None:
        where.append(t.at_ms < selection.end_ms)
    return where


def _rows(selection: Selection) -> Any:
    """The SELECT of the selected rows of `analytics`, as `_row_scan` reads them."""
    from sqlalchemy import func, select

    from ..api.db import analytics

    t = analytics.c
    packed: ColumnElement[Any] = t[PACKED[0]]
    for name in PACKED[1:]:
        packed = packed + SEPARATOR + t[name]
    return select(t.campaign, func.coalesce(t.component, "").label("component"), t.component.is_(None).label("no_component"),
                  t.at_ms, t.page, packed.label("packed")).where(*_where(selection))


@contextmanager
def _adbc(url: str) -> Iterator[Any]:
    """A connection of the database's ADBC driver (SQLite's or PostgreSQL's, both in the report extra).
    SQLite's waits for a lock as the API's connections do, instead of failing at once."""
    from sqlalchemy import make_url

    from ..api.db import BUSY_TIMEOUT_MS, normalise_url, sqlite_path

    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        database = adbc_driver_sqlite.connect(str(sqlite_path(str(parsed)) or ":memory:"))
    else:
        database = adbc_driver_postgresql.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        with adbc_driver_manager.AdbcConnection(database) as connection:
            if parsed.get_backend_name() == "sqlite":
                with adbc_driver_manager.AdbcStatement(connection) as statement:
                    statement.set_sql_query(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    statement.execute_update()
            yield connection
    finally:
        database.close()


def _same_schema(conn: Any, url: str) -> None:
    """The database must be at the schema version this h5press reads: the report never migrates it."""
    from ..api.migrations import MIGRATIONS, current_version

    version, reads = current_version(conn), len(MIGRATIONS)
    if version == 0:
        raise EventsError(f"database {url}: holds no tables of h5press api (`h5press api --db URL` creates them)")
    if version < reads:
        raise EventsError(f"database {url}: at schema version {version}, this h5press reads version {reads}: "
                          "`h5press api` migrates it as it starts")
    if version > reads:
        raise EventsError(f"database {url}: at schema version {version}, newer than this h5press reads ({reads}): "
                          "upgrade h5press")


def _insert_block(cursor: duckdb.DuckDBPyConnection, url: str, query: str, scan: str) -> None:
    """One query's rows into `ev`, through a DuckDB cursor and a driver connection of its own."""
    try:
        with _adbc(url) as connection, adbc_driver_manager.AdbcStatement(connection) as statement:
            statement.set_sql_query(query)
            stream, _ = statement.execute_query()
            cursor.register("rows", stream)
            cursor.execute(f"INSERT INTO ev {scan}")
    finally:
        cursor.close()


def _insert_rows(con: duckdb.DuckDBPyConnection, url: str, selection: Selection, progress: ProgressFn | None,
                 keep_payload: bool) -> None:
    """The selected rows into `ev`, BLOCK primary keys per query, WORKERS queries at once (each reads and
    converts its rows in its own thread, without Python's lock). The table only grows: the primary keys
    present at the start bound what is read."""
    from sqlalchemy import func, select

    from ..api.db import analytics, make_engine, normalise_url, sqlite_path

    path = sqlite_path(normalise_url(url))
    if path is not None and not path.is_file():  # reading must not leave an empty database behind
        raise FileNotFoundError(f"no such file {path}")
    engine = make_engine(url)
    rows, pk = _rows(selection), analytics.c.pk
    try:
        with engine.connect() as conn:
            _same_schema(conn, url)
            # One aggregate per query: SQLite answers a lone min() or max() of the key from the B-tree's ends, and
            # scans every row for both at once (≈0.1 s per million).
            ends = [select(f(pk)).where(rows.whereclause).scalar_subquery() for f in (func.min, func.max)]
            low, high = conn.execute(select(*ends)).one()
    finally:
        engine.dispose()
    firsts = range(low or 0, (high or -1) + 1, BLOCK)
    queries = [str(rows.where(pk >= first, pk < first + BLOCK).compile(dialect=engine.dialect,
                                                                       compile_kwargs={"literal_binds": True}))
               for first in firsts]
    pool = ThreadPoolExecutor(WORKERS)
    try:
        blocks = [pool.submit(_insert_block, con.cursor(), url, query, _row_scan(keep_payload)) for query in queries]
        for first, block in zip(firsts, blocks, strict=True):
            block.result()
            if progress:
                progress(min(first + BLOCK, high + 1) - low, high + 1 - low)
    finally:
        pool.shutdown(cancel_futures=True)


def row_problem(row: dict[str, Any]) -> str | None:
    """What is wrong with one row of `analytics` as an event, or None."""
    for key in PACKED:
        if isinstance(row[key], str) and SEPARATOR in row[key]:
            return f'"{key}" holds the control character U+001F'
    event = {**row, "id": row["event_id"]}
    for key in ("payload", "variants"):
        try:
            event[key] = json.loads(row[key])
        except (TypeError, json.JSONDecodeError):
            return f'"{key}" is not JSON: {json.dumps(row[key], ensure_ascii=False)[:80]}'
    try:
        event["at"] = dt.datetime.fromtimestamp(row["at_ms"] / 1000, dt.UTC).isoformat()
    except (TypeError, OverflowError, ValueError, OSError):
        return f'"at_ms" is not a time: {row["at_ms"]!r}'
    return event_problem(event)


def first_bad_row(url: str, selection: Selection) -> str | None:
    """The first selected row that is not an event, as `analytics row <pk> (event <id>): problem` (the slow
    path, only on error: every row through the driver's cursor)."""
    from sqlalchemy import select

    from ..api.db import analytics, make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execution_options(yield_per=10_000).execute(
                select(analytics).where(*_where(selection)).order_by(analytics.c.pk))
            for row in rows.mappings():
                if (problem := row_problem(dict(row))) is not None:
                    return f"analytics row {row['pk']} (event {row['event_id']}): {problem}"
    finally:
        engine.dispose()
    return None


def load_db(con: duckdb.DuckDBPyConnection, url: str, selection: Selection, progress: ProgressFn | None = None,
            keep_payload: bool = False) -> None:
    """The `analytics` table (SQLite or PostgreSQL) into `ev`, column-wise; a row that is not an event fails
    with its primary key."""
    con.execute(EV_TABLE)
    try:
        _insert_rows(con, url, selection, progress, keep_payload)
    except duckdb.Error as exc:  # a value DuckDB refused: name the row, else say what DuckDB said
        problem = first_bad_row(url, selection) or (str(exc).splitlines() or [""])[0]
        raise EventsError(f"database {url}: {problem}") from None
    except EventsError:
        raise
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached or read is one readable line
        first = (str(exc).splitlines() or [""])[0]
        raise EventsError(f"database {url}: {type(exc).__name__}: {first}") from None
    _check(con, keep_payload, lambda: f"database {url}: {first_bad_row(url, selection) or 'a stored event is not valid'}")


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
