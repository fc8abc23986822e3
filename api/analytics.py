"""Visitor analytics: the append-only `analytics` table, filled by pages without an identity.

Rows are written as they come and never read back here (`h5press report` reads them); a row is kept
once per campaign and event id, so an event the page sent twice (a beacon at `pagehide`, then again
from the outbox on the next visit) counts once. Nothing here touches points.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from . import db


@dataclass(frozen=True)
class Visit:
    """One analytics event with the visitor, session, page and experiment variants it happened in."""

    id: str
    type: str
    component: str | None
    payload: dict[str, Any]
    at_ms: int
    visitor: str
    session: str
    page: str
    variants: dict[str, str]


def store(conn: Connection, campaign: str, visits: Sequence[Visit], received_ms: int) -> int:
    """Insert the events in one statement (`db.insert_new`); returns how many were new (the others were stored before)."""
    if not visits:
        return 0
    rows = [{"campaign": campaign, "event_id": v.id, "type": v.type, "component": v.component,
             "payload": json.dumps(v.payload, ensure_ascii=False, separators=(",", ":")), "at_ms": v.at_ms,
             "received_ms": received_ms, "visitor": v.visitor, "session": v.session, "page": v.page,
             "variants": json.dumps(v.variants, separators=(",", ":"), sort_keys=True)} for v in visits]
    return len(db.insert_new(conn, db.analytics, ("campaign", "event_id"), rows))
