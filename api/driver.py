"""The request path's statements on SQLite, run straight on the driver's cursor.

SQLite does a request's work in microseconds inside the server's process; SQLAlchemy's execution path
around each statement (cache key, execution context, parameter and result processing, events) cost
30–70 µs more, four to eight times SQLite's own work, on the writer thread that every request of a
process waits for. Here a statement is compiled once per kind of database, and each run binds its
parameters by position and reads plain rows. On other databases (one network round trip per statement
dwarfs that overhead) the statement runs through SQLAlchemy as usual.

Statements given here must have no "expanding" parameters (`IN` lists) and no column types that convert
values on the way out; `_Compiled` refuses them when it is built.
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.schema import ScalarElementColumnDefault


def rows(conn: Connection, statement: Executable, params: dict[str, Any]) -> Sequence[Any]:
    """Every row `statement` returns (attributes named after its columns), run with `params`."""
    if conn.dialect.name != "sqlite":
        return conn.execute(statement, params).all()
    compiled = _compiled(statement, conn.dialect, frozenset(params))
    cursor = conn.connection.driver_connection.execute(compiled.sql, compiled.bind(params))  # type: ignore[union-attr]
    return compiled.rows(cursor)


def each(conn: Connection, statement: Executable, params: Sequence[dict[str, Any]]) -> None:
    """`statement` once for each of `params`, returning nothing (`executemany`)."""
    if not params:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(statement, list(params))
        return
    compiled = _compiled(statement, conn.dialect, frozenset(params[0]))
    conn.connection.driver_connection.executemany(compiled.sql, [compiled.bind(p) for p in params])  # type: ignore[union-attr]


_CACHE: dict[tuple[Executable, str, frozenset[str]], _Compiled] = {}


def _compiled(statement: Executable, dialect: Dialect, keys: frozenset[str]) -> _Compiled:
    """The statement compiled for this kind of database (by name: each engine has a dialect object of its own,
    and the statements are few and long-lived); an INSERT without values compiles to the columns its parameters
    name (`keys`), as SQLAlchemy's would."""
    found = _CACHE.get((statement, dialect.name, keys))
    if found is None:
        found = _CACHE[(statement, dialect.name, keys)] = _Compiled(statement, dialect, keys)
    return found


class _Compiled:
    """A statement's SQL with positional parameters, how to bind them, and the type of its rows."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: frozenset[str]) -> None:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
        assert isinstance(compiled, SQLCompiler)
        if dialect.paramstyle != "qmark":
            raise ValueError(f"{dialect.name}: positional parameters expected")
        self.sql = str(compiled)
        defaults = _column_defaults(compiled)
        self._binds: list[tuple[str, bool, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.expanding or bind.callable is not None:
                raise ValueError(f"parameter {name} is computed when run: run this statement through SQLAlchemy")
            self._binds.append((bind.key, bind.required, defaults.get(bind.key, bind.value), bind.type.bind_processor(dialect)))
        columns: Any = getattr(statement, "selected_columns", None) or getattr(statement, "exported_columns", None) or ()
        if any(column.type.result_processor(dialect, None) for column in columns):
            raise ValueError("a column converts values on the way out: run this statement through SQLAlchemy")
        self._row: Any = None  # a namedtuple class, made from the first run's cursor

    def bind(self, params: dict[str, Any]) -> list[Any]:
        values = []
        for key, required, default, process in self._binds:
            value = params[key] if required else params.get(key, default)
            values.append(process(value) if process is not None else value)
        return values

    def rows(self, cursor: Any) -> list[Any]:
        found = cursor.fetchall()
        if self._row is None and cursor.description:
            self._row = namedtuple("Row", [d[0] for d in cursor.description], rename=True)  # type: ignore[misc]
        return [self._row._make(r) for r in found] if self._row else found


def _column_defaults(compiled: SQLCompiler) -> dict[str, Any]:
    """The values of the columns an INSERT or UPDATE leaves to their `default=` (SQLAlchemy fills them in as it runs
    the statement); a default computed by a function is refused."""
    found = {}
    for column in [*compiled.insert_prefetch, *compiled.update_prefetch]:
        default = column.default if compiled.isinsert else column.onupdate
        if not isinstance(default, ScalarElementColumnDefault):
            raise ValueError(f"column {column.key} is computed when run: run this statement through SQLAlchemy")
        found[column.key] = default.arg
    return found
