"""Statements run straight on SQLite's driver (`api.driver`) read and write what SQLAlchemy would."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from h5press.api import db, driver
from h5press.api.members import STATE, _lock
from h5press.api.migrations import migrate


@pytest.fixture
def engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_rows_and_their_columns_match_sqlalchemys(engine):
    person = {"campaign": "c", "identity": "h5press:a", "now_ms": 5}
    with db.transaction(engine) as conn:
        fast = driver.rows(conn, _lock(conn), person)[0]
        assert (fast.earned, fast.spent, fast.created_ms, fast.team_id) == (0, 0, 5, None)  # the statement's constants bound
        again = conn.execute(_lock(conn), {**person, "now_ms": 9}).one()
        assert tuple(fast) == tuple(again)  # the upsert found the row the driver made
        driver.each(conn, db.tallies.insert(), [{"campaign": "c", "identity": "h5press:a", "action": "read", "day": d, "count": 2}
                                               for d in ("2026-01-01", "2026-01-02")])
        state = {"campaign": "c", "identity": "h5press:a"}
        assert sorted(driver.rows(conn, STATE, state)) == sorted(tuple(r) for r in conn.execute(STATE, state))
        assert [tuple(r) for r in driver.rows(conn, STATE, state)] == [("tally", "read", "2026-01-01", 2),
                                                                    ("tally", "read", "2026-01-02", 2)]


def test_an_insert_without_a_column_gets_its_default(engine):
    with db.transaction(engine) as conn:  # `earned` and `spent` have Python-side defaults (0)
        driver.each(conn, db.members.insert(), [{"campaign": "c", "identity": "h5press:b", "created_ms": 1}])
        row = conn.execute(select(db.members).where(db.members.c.identity == "h5press:b")).one()
    assert (row.earned, row.spent) == (0, 0)


def test_a_missing_parameter_and_an_expanding_one_are_refused(engine):
    with db.transaction(engine) as conn:
        with pytest.raises(KeyError, match="identity"):
            driver.rows(conn, STATE, {"campaign": "c"})
        in_list = select(db.members.c.identity).where(db.members.c.identity.in_(bindparam("who", expanding=True)))
        with pytest.raises(ValueError, match="computed when run"):
            driver.rows(conn, in_list, {"who": ["a"]})
