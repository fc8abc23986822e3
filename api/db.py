"""Tables and engine setup: SQLite (one file, WAL) by default, PostgreSQL by URL.

Times are stored as integer milliseconds since the epoch (UTC) and local days as `YYYY-MM-DD`
text in the campaign's timezone, so both databases compare and sort them the same way.
"""
from __future__ import annotations

import functools
import json
import os
import select
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.sql import Executable

from . import driver

metadata = MetaData()

# Every event received, once: the unique `event_id` (the client's ULID) makes replays harmless.
events = Table(
    "events", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(26), nullable=False, unique=True),
    Column("campaign", String(64), nullable=False),
    Column("identity", String(200), nullable=False),
    Column("type", String(40), nullable=False),
    Column("component", String(64)),
    Column("payload", Text, nullable=False),
    Column("client_ms", BigInteger),  # the device's `at`, as sent
    Column("at_ms", BigInteger, nullable=False),  # the time that counts (client time within the skew rule)
    Column("received_ms", BigInteger, nullable=False),
    Column("day", String(10), nullable=False),  # local day of at_ms in the campaign timezone
    Column("action", String(64)),  # for `points` events: the action the server looked up
    Column("points", Integer, nullable=False, default=0),  # points the server awarded (never the client's)
    Column("status", String(20), nullable=False),
)
Index("events_member_action", events.c.campaign, events.c.identity, events.c.action, events.c.day)
Index("events_campaign_at", events.c.campaign, events.c.at_ms)

# Analytics from every visitor, identified or not: append-only, never earning points. `event_id` is the
# client's ULID, unique per campaign, so an event replayed from an offline outbox is stored once.
# `visitor` and `session` are the page's pseudonymous ids; `variants` is a JSON object
# {experiment id: variant} and `payload` the event's JSON payload.
analytics = Table(
    "analytics", metadata,
    Column("pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("campaign", String(64), nullable=False),
    Column("event_id", String(26), nullable=False),
    Column("type", String(40), nullable=False),
    Column("component", String(64)),
    Column("payload", Text, nullable=False),
    Column("at_ms", BigInteger, nullable=False),  # the device's time of the event
    Column("received_ms", BigInteger, nullable=False),
    Column("visitor", String(26), nullable=False),
    Column("session", String(26), nullable=False),
    Column("page", String(300), nullable=False),  # path of the page within the campaign, e.g. "quiz.html"
    Column("variants", Text, nullable=False),
)
Index("analytics_event", analytics.c.campaign, analytics.c.event_id, unique=True)
Index("analytics_campaign_at", analytics.c.campaign, analytics.c.at_ms)

# One row per person per campaign: the running totals, and the row locked to serialise a person's writes.
members = Table(
    "members", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("earned", Integer, nullable=False, default=0),
    Column("spent", Integer, nullable=False, default=0),
    Column("reached_ms", BigInteger),  # when `earned` reached its current value (leaderboard ties)
    Column("team_id", Integer),
    Column("joined_ms", BigInteger),
    Column("created_ms", BigInteger, nullable=False),
    Column("nickname", String(64)),  # shown on boards and in teams; JSON data, never HTML (16 clusters of ≤ 4 code points)
)
Index("members_team", members.c.team_id)
# The all-time board: top N and "how many are ahead of me" are index range scans.
Index("members_board", members.c.campaign, members.c.earned.desc(), members.c.reached_ms, members.c.identity)

# Board totals kept at ingestion, so that no board aggregates the event log or the members table:
# a person's points per week, a team's points for the whole campaign and per week. Each board's top
# and "how many are ahead of me" are then range scans of `scores_board`.
PERSON_KIND, TEAM_KIND = "person", "team"  # scores.kind
ALL = "all"  # scores.period of the whole campaign
scores = Table(
    "scores", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("kind", String(6), primary_key=True),  # PERSON_KIND or TEAM_KIND
    Column("period", String(10), primary_key=True),  # ALL, or the Monday `YYYY-MM-DD` (local) of a week
    Column("subject", String(200), primary_key=True),  # the identity, or the team id
    Column("points", Integer, nullable=False),
    Column("reached_ms", BigInteger, nullable=False),  # when `points` reached its value (ties: earlier first)
)
Index("scores_board", scores.c.campaign, scores.c.kind, scores.c.period, scores.c.points.desc(), scores.c.reached_ms,
      scores.c.subject)

# Share links: who shared with code X (`share` events, `ref=` in payload.url) and who arrived with it
# (`view` events, payload.ref). A sharer and a viewer of the same code are friends.
refs = Table(
    "refs", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("role", String(5), primary_key=True),  # "share" or "view"
    Column("code", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
)
Index("refs_identity", refs.c.campaign, refs.c.identity, refs.c.role, refs.c.code)

# Append-only log of what changed (board points, a team, a vote tally), polled by the live stream of
# every worker process; rows older than a few minutes are pruned by the writers.
changes = Table(
    "changes", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("campaign", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # "board", "team" or "vote"
    Column("key", String(64), nullable=False),  # team id or vote id; "" for the board
    Column("at_ms", BigInteger, nullable=False),
)
Index("changes_campaign", changes.c.campaign, changes.c.id)
Index("changes_at", changes.c.at_ms)

# A person's counted `points` events per action and local day, kept as events are counted: the caps,
# `/me` and team views read these few rows instead of aggregating the person's event log.
tallies = Table(
    "tallies", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("action", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("count", Integer, nullable=False),
)

# Rate limits shared by every server process (GCRA): a key's "theoretical arrival time" in milliseconds.
# A request is allowed when pushing `tat_ms` one interval on keeps it within the burst of now.
limits = Table(
    "limits", metadata,
    Column("key", String(250), primary_key=True),
    Column("tat_ms", BigInteger, nullable=False),
)
Index("limits_tat", limits.c.tat_ms)

badges = Table(
    "badges", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("badge", String(64), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
)

checkins = Table(
    "checkins", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("day", String(10), primary_key=True),
)

votes = Table(
    "votes", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("vote", String(64), primary_key=True),
    Column("identity", String(200), primary_key=True),
    Column("choices", Text, nullable=False),  # JSON list of 1-based option numbers
    Column("at_ms", BigInteger, nullable=False),
)

teams = Table(
    "teams", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(64), nullable=False),
    Column("code", String(16), nullable=False, unique=True),
    Column("name", String(80), nullable=False),  # 20 grapheme clusters of at most 4 code points
    Column("owner", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

claims = Table(
    "claims", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(64), nullable=False),
    Column("reward", String(64), nullable=False),
    Column("identity", String(200), nullable=False),
    Column("team_id", Integer),
    Column("at_ms", BigInteger, nullable=False),
)
Index("claims_member", claims.c.campaign, claims.c.reward, claims.c.identity)

# Items with a stock (rewards, lottery prizes): `used` only grows through a conditional UPDATE.
stock = Table(
    "stock", metadata,
    Column("campaign", String(64), primary_key=True),
    Column("kind", String(10), primary_key=True),  # "reward" or "prize"
    Column("item", String(80), primary_key=True),  # reward id, or "<lottery id>/<prize index>"
    Column("used", Integer, nullable=False, default=0),
)

draws = Table(
    "draws", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(64), nullable=False),
    Column("lottery", String(64), nullable=False),
    Column("identity", String(200), nullable=False),
    Column("day", String(10), nullable=False),
    Column("prize", Integer),  # index into the lottery's prizes; null: no prize
    Column("cost", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
)
Index("draws_member", draws.c.campaign, draws.c.lottery, draws.c.identity, draws.c.day)

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def normalise_url(url: str) -> str:
    """A bare file path means SQLite; `postgresql://` uses psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


WRITE = "h5press_write"  # execution option of `transaction()` connections
# Threads of a server process that use the database at once (`app.lifespan` sets the thread pool to it) and
# the connections its pool keeps open: every request finds an idle connection, none is opened and closed
# per request (a PostgreSQL connection is a new server process). Beyond 16 at once on a few cores, requests
# only queue inside the database instead of in the thread pool.
CONCURRENCY = 16


BUSY_TIMEOUT_MS = 30_000  # how long a SQLite connection waits for another's lock before failing


def make_engine(url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """SQLite: WAL, a busy timeout and `BEGIN IMMEDIATE` for write transactions (writers queue instead
    of failing; readers never wait); PostgreSQL: a connection pool whose connections are checked without a
    round trip (`_check_alive`)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
                               pool_size=CONCURRENCY, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # SQLAlchemy's `begin` below starts transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:  # readers must not queue for the write lock
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

        return engine
    engine = create_engine(url, pool_size=CONCURRENCY, max_overflow=8)
    event.listen(engine, "checkout", _check_alive)
    return engine


def _check_alive(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection is used only if it is open and nothing waits on its socket: an idle
    connection receives nothing unless the server ended it (a restart or `pg_terminate_backend` sends a
    FATAL message and closes the socket). No round trip (`pool_pre_ping` cost one per request); a
    connection that dies while in use fails its statement, SQLAlchemy then replaces every connection of
    the pool opened before, and `writer.Writer` runs the write again on a new one."""
    if dbapi_conn.closed or dbapi_conn.broken or _readable(dbapi_conn.pgconn.socket):
        raise DisconnectionError("the server closed this connection")  # the pool connects anew


def _readable(fd: int) -> bool:
    """Whether something waits on socket `fd` (or it hung up), without waiting. `poll` where there is one: `select`
    refuses descriptors numbered 1024 and above, which a server holding many client connections reaches."""
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def is_postgres(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "postgresql"


Insert = postgresql.Insert | sqlite.Insert
InsertOf = Callable[[Table], Insert]  # postgresql.insert or sqlite.insert


def insert(conn: Connection, table: Table) -> Insert:
    """An INSERT that can `on_conflict_do_nothing()` on either database."""
    if is_postgres(conn):
        return postgresql.insert(table)
    return sqlite.insert(table)


S = TypeVar("S", bound=Executable)


def prepared(build: Callable[[InsertOf], S]) -> Prepared[S]:
    """A statement of the request path, built once per kind of database (given that database's INSERT) with
    `bindparam`s for its values. SQLAlchemy computes a statement's cache key once per object: building the
    statement on every request cost more than running it (≈ 0.1 ms a statement)."""
    return Prepared(build)


class Prepared(Generic[S]):
    """A statement per kind of database (see `prepared`): `stmt(conn)`, or `stmt.build(postgresql.insert)`."""

    def __init__(self, build: Callable[[InsertOf], S]) -> None:
        self.build = functools.cache(build)

    def __call__(self, conn: Connection) -> S:
        return self.build(postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)


def insert_new(conn: Connection, table: Table, unique: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    """Insert the rows whose `unique` columns are not stored yet; returns the `event_id` of each row inserted.

    PostgreSQL gets the rows as one JSON array (`json_to_recordset`): one short statement, prepared once
    whatever the number of rows, and one parameter that Python's C encoder writes. As a multi-row VALUES
    list the statement's text changes with the batch size, and psycopg parsed its several hundred
    parameters anew for each batch (≈ 9 ms for 50 events); as one array per column it dumped each value."""
    if not rows:
        return []
    if not is_postgres(conn):
        stmt = _insert_new_sqlite(table, unique)  # row by row: each insert costs SQLite microseconds
        return [found[0] for row in rows for found in driver.rows(conn, stmt, row)]
    stmt = _insert_new_postgres(table, unique, tuple(rows[0]))
    return list(conn.execute(stmt, {"rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))}).scalars())


@functools.cache
def _insert_new_sqlite(table: Table, unique: tuple[str, ...]) -> Executable:
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.event_id)


@functools.cache
def _insert_new_postgres(table: Table, unique: tuple[str, ...], names: tuple[str, ...]) -> TextClause:
    return text(insert_new_sql(table, unique, names))


def insert_new_sql(table: Table, unique: tuple[str, ...], names: tuple[str, ...]) -> str:
    """PostgreSQL's `insert_new` of the columns `names`, its JSON array the parameter `rows`."""
    dialect = postgresql.dialect()
    columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in names)
    return (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(names)} "
            f"FROM json_to_recordset(CAST(:rows AS json)) AS r({columns}) "
            f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING event_id")


class WriteLock:
    """SQLite's one writer at a time, taken before `BEGIN IMMEDIATE` so that writers queue instead of
    waiting in SQLite's busy handler, which sleeps in growing steps (1, 2, 5 … 100 ms: seconds of latency
    under load). The threads of a process take turns on a lock; the processes of a database file
    (`--workers N`) then on an exclusive `flock` of a file beside it, which the kernel hands on the moment it
    is released (and releases when a process dies). Where there is no `fcntl` (Windows) only the threads queue."""

    def __init__(self, database: Path | None) -> None:
        self._threads = threading.Lock()
        self._fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT, 0o600) if database and fcntl else None
        if self._fd is not None:
            weakref.finalize(self, os.close, self._fd)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None or fcntl is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_sqlite_writers: weakref.WeakKeyDictionary[Engine, WriteLock] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _writer(engine: Engine) -> WriteLock:
    with _writers_lock:
        found = _sqlite_writers.get(engine)
        if found is None:
            found = _sqlite_writers[engine] = WriteLock(sqlite_path(engine.url.render_as_string(hide_password=False)))
        return found


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction; on SQLite it holds the write lock from the start (`WriteLock`, then BEGIN IMMEDIATE)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with _writer(engine).held(), engine.connect() as conn:
        with conn.execution_options(**{WRITE: True}).begin():
            yield conn
