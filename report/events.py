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
BATCH = 100_000  # primary keys one database query covers; rows one export write takes
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


def _scan(keep_payload: bool, strict: bool, at_ms: bool = False) -> str:
    """The reader of the export. Fast: the JSON reader parses `p` (and `at`) itself, the whole payload is kept
    only for an export; lenient: payloads as JSON, their keys picked without complaint (a mistyped `ms`).
    `at_ms`: lines the database wrote, with the time as milliseconds (exact) instead of ISO text."""
    typed = strict and not keep_payload
    payload = f"'{PAYLOAD}'" if typed else "'JSON'"
    at = "'BIGINT'" if at_ms else "'TIMESTAMPTZ'"
    columns = (f"{{id: 'VARCHAR', campaign: 'VARCHAR', type: 'VARCHAR', component: 'VARCHAR', payload: {payload}, "
               f"\"at\": {at}, visitor: 'VARCHAR', session: 'VARCHAR', page: 'VARCHAR', variants: 'JSON'}}")
    kept = "coalesce(payload, '{}')" if keep_payload else "NULL"
    derived = "payload" if typed else DERIVED
    when = '"at"' if at_ms else 'epoch_ms("at")'
    return (f"SELECT id, campaign, type, component, {kept}, {when}, visitor, session, page, "
            f"coalesce(variants, '{{}}'), {derived} FROM read_json(?, format = 'newline_delimited', columns = {columns})")


def load_file(con: duckdb.DuckDBPyConnection, source: str, selection: Selection, scratch: Path,
              keep_payload: bool = False, at_ms: bool = False) -> None:
    """The export (a path, or `-` for standard input) into `ev`; a bad line fails with its number.
    `keep_payload`: keep whole payloads (for `export`), not only the keys the figures read."""
    path = _stdin_copy(scratch) if source == "-" else Path(source)
    if not path.is_file():
        raise EventsError(f"{source}: no such file")
    con.execute(EV_TABLE)
    for strict in (True, False):
        try:
            con.execute(f"INSERT INTO ev {_scan(keep_payload, strict, at_ms)}", [str(path)])
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


def _db_chunks(url: str, selection: Selection, progress: ProgressFn | None) -> Iterator[str]:
    """The selected rows of `analytics` as export lines (`at` in milliseconds), BATCH primary keys at
    a time, each chunk joined into one text by the database: no row crosses into Python on its own."""
    from sqlalchemy import ColumnElement, func, literal_column, select

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
            low, high = conn.execute(select(func.min(t.pk), func.max(t.pk)).where(*where)).one()
            joined: Any = literal_column(_joined(conn.dialect.name))
            for first in range(low or 0, (high or -1) + 1, BATCH):
                text = conn.execute(select(joined).select_from(analytics)
                                    .where(*where, t.pk >= first, t.pk < first + BATCH)).scalar()
                if text:
                    yield text
                if progress:
                    progress(min(first + BATCH, high + 1) - low, high + 1 - low)
    finally:
        engine.dispose()


def _joined(dialect: str) -> str:
    """The SQL of the rows as export lines joined by line breaks, made by the database's own JSON functions."""
    keys = ("id", "event_id"), ("campaign", "campaign"), ("type", "type"), ("component", "component"), \
        ("at", "at_ms"), ("visitor", "visitor"), ("session", "session"), ("page", "page")
    pairs = ", ".join(f"'{k}', {c}" for k, c in keys)
    if dialect == "postgresql":
        return (f"string_agg(json_build_object({pairs}, 'payload', payload::json, 'variants', variants::json)::text, "
                "E'\\n')")
    return f"group_concat(json_object({pairs}, 'payload', json(payload), 'variants', json(variants)), char(10))"


def load_db(con: duckdb.DuckDBPyConnection, url: str, selection: Selection, scratch: Path,
            progress: ProgressFn | None = None, keep_payload: bool = False) -> None:
    """The `analytics` table (SQLite or PostgreSQL) into `ev`: the database writes each row as a JSON
    line, a scratch file collects them and the export's reader loads it."""
    lines = scratch / "analytics.ndjson"
    try:
        with lines.open("w", encoding="utf-8") as out:
            for chunk in _db_chunks(url, selection, progress):
                out.write(chunk)
                out.write("\n")
    except Exception as exc:  # noqa: BLE001 - a database that cannot be reached or read is one readable line
        first = (str(exc).splitlines() or [""])[0]
        if "malformed JSON" in first or "invalid input syntax for type json" in first:
            raise EventsError(f"database {url}: a stored event is not valid JSON: {first}") from None
        raise EventsError(f"database {url}: {type(exc).__name__}: {first}") from None
    try:
        load_file(con, str(lines), Selection(), scratch, keep_payload, at_ms=True)
    except EventsError as exc:
        raise EventsError(f"database {url}: a stored event is not valid: {exc}") from None


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
