"""Items with a stock (rewards, lottery prizes), never oversold.

An item's `used` counter only grows through `UPDATE stock SET used = used + 1 WHERE … AND used < :stock`,
which both databases apply atomically (the row is locked by the update; PostgreSQL re-checks the
condition after waiting for the lock).
"""
from __future__ import annotations

from sqlalchemy import Connection, select, update

from . import db


def take_stock(conn: Connection, campaign: str, kind: str, item: str, limit: int | None) -> bool:
    """One unit of `item`; False when sold out. Unlimited items are counted too."""
    conn.execute(db.insert(conn, db.stock).values(campaign=campaign, kind=kind, item=item, used=0).on_conflict_do_nothing())
    s = db.stock.c
    query = update(db.stock).where(s.campaign == campaign, s.kind == kind, s.item == item).values(used=s.used + 1)
    if limit is not None:
        query = query.where(s.used < limit)
    return conn.execute(query).rowcount == 1


def used(conn: Connection, campaign: str, kind: str, item: str) -> int:
    s = db.stock.c
    return conn.execute(select(s.used).where(s.campaign == campaign, s.kind == kind, s.item == item)).scalar() or 0

