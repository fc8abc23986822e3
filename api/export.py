"""Admin CSV export of reward claims and lottery draws, for whoever hands out the prizes.

UTF-8 with a byte order mark, so Excel opens Chinese text correctly; text cells that a spreadsheet
would run as a formula (starting with = + - @, tab or carriage return) get a leading apostrophe
(CSV injection: nicknames and team names are user text). Rows are streamed from the database.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, Select, func, select

from . import db
from .rules import CampaignRules

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = {
    "claims": ["time", "identity", "who", "nickname", "team", "reward_id", "reward"],
    "draws": ["time", "identity", "who", "nickname", "team", "lottery_id", "prize", "cost"],
}


def neutralise(value: object) -> object:
    """A text cell that cannot start a formula."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _query(rules: CampaignRules, what: str) -> Select[Any]:
    """time, identity, nickname, team name, item (reward id / lottery id, prize index) and cost, oldest first."""
    m, t = db.members.c, db.teams.c
    source = db.claims if what == "claims" else db.draws
    s = source.c
    team_id = func.coalesce(s.team_id, m.team_id) if what == "claims" else m.team_id
    joined = (source.outerjoin(db.members, (m.campaign == s.campaign) & (m.identity == s.identity))
              .outerjoin(db.teams, t.id == team_id))
    item = [s.reward] if what == "claims" else [s.lottery, s.prize, s.cost]
    return (select(s.at_ms, s.identity, m.nickname, t.name, *item).select_from(joined)
            .where(s.campaign == rules.name).order_by(s.at_ms, s.id))


def _cells(rules: CampaignRules, what: str, row: Any) -> list[object]:
    at_ms, identity, nickname, team = row[:4]
    when = dt.datetime.fromtimestamp(at_ms / 1000, rules.zone).isoformat(timespec="seconds")
    if what == "claims":
        reward = next((r for r in rules.config.rewards if r.id == row[4]), None)
        item: list[object] = [row[4], reward.name if reward else ""]
    else:
        lottery = next((x for x in rules.config.lottery if x.id == row[4]), None)
        prize = lottery.prizes[row[5]].name if lottery and row[5] is not None and row[5] < len(lottery.prizes) else ""
        item = [row[4], prize, row[6]]
    return [when, *(neutralise(v) for v in [identity, rules.who(identity), nickname or "", team or "", *item])]


def export_csv(engine: Engine, rules: CampaignRules, what: str, chunk_rows: int = 1000) -> Iterator[str]:
    """The CSV text in chunks: BOM and header first, then `chunk_rows` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS[what])
    yield BOM + buffer.getvalue()
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk_rows).execute(_query(rules, what))
        for rows in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_cells(rules, what, row) for row in rows)
            yield buffer.getvalue()
