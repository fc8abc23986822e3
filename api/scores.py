"""Board totals (`db.scores`): added to as points are counted and as people join teams."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, select

from . import db, driver


@db.prepared
def _add(insert: db.InsertOf) -> db.Insert:
    s = db.scores.c
    stmt = insert(db.scores)
    return stmt.on_conflict_do_update(
        index_elements=["campaign", "kind", "period", "subject"],
        set_={"points": s.points + stmt.excluded.points,
              "reached_ms": case((s.reached_ms > stmt.excluded.reached_ms, s.reached_ms), else_=stmt.excluded.reached_ms)})


def add_score(conn: Connection, campaign: str, kind: str, period: str, subject: object, points: int, reached_ms: int) -> None:
    """Add `points` to one total; its `reached_ms` becomes the later of the stored one and `reached_ms`."""
    add_scores(conn, campaign, [{"kind": kind, "period": period, "subject": str(subject), "points": points,
                                 "reached_ms": reached_ms}])


def add_scores(conn: Connection, campaign: str, rows: list[dict[str, Any]]) -> None:
    """`add_score` for several totals (rows of kind, period, subject, points and reached_ms) in one statement."""
    if rows:
        driver.each(conn, _add(conn), [{"campaign": campaign, **row} for row in rows])


def score(conn: Connection, campaign: str, kind: str, period: str, subject: object) -> int:
    s = db.scores.c
    query = select(s.points).where(s.campaign == campaign, s.kind == kind, s.period == period, s.subject == str(subject))
    return int(conn.execute(query).scalar() or 0)
