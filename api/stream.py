"""Live updates over Server-Sent Events, safe with several worker processes.

Writers append to the `changes` table (see `changes.py`). In each process one poller per campaign
with listeners reads the rows after the last it has seen and fans the resulting events out to the
connections through bounded asyncio queues; it stops when the last listener leaves. Ids of rows
seen in the last `LOOKBACK_S` seconds are read again (PostgreSQL may commit a lower id after a
higher one), and each row is delivered once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from . import db
from .changes import BOARD, TEAM, VOTE
from .ledger import vote_tally
from .rules import CampaignRules
from .teams import TeamView, load_team

RETRY_MS = 5000  # the browser's reconnection delay
LOOKBACK_S = 3.0
QUEUE_MAX = 64  # events waiting for one connection; a connection that falls further behind is closed
log = logging.getLogger("h5press.api.stream")


def sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


@dataclass(eq=False)
class Listener:
    campaign: str
    identity: str | None  # None: an anonymous stream, no `team` events
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflowed: bool = False

    def put(self, message: str) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # too slow to read: end the stream, the browser reconnects
            self.overflowed = True


@dataclass
class Cursor:
    """What one poller has read: every id up to `after`, and the later ids in `seen` (id → when seen)."""

    after: int
    seen: dict[int, float] = field(default_factory=dict)
    board_sent: float = float("-inf")
    board_pending: bool = False


class Hub:
    """The listeners and pollers of one worker process."""

    def __init__(self, engine: Engine, campaigns: dict[str, CampaignRules], poll_s: float = 1.0, board_every_s: float = 1.0,
                 ping_s: float = 15.0) -> None:
        self.engine, self.campaigns = engine, campaigns
        self.poll_s, self.board_every_s, self.ping_s = poll_s, board_every_s, ping_s
        self.listeners: dict[str, set[Listener]] = {}
        self.pollers: dict[str, asyncio.Task[None]] = {}

    def subscribe(self, campaign: str, identity: str | None) -> Listener:
        listener = Listener(campaign, identity)
        self.listeners.setdefault(campaign, set()).add(listener)
        loop = asyncio.get_running_loop()
        task = self.pollers.get(campaign)
        if task is None or task.done() or task.get_loop() is not loop:
            self.pollers[campaign] = loop.create_task(self._poll(campaign), name=f"h5press-stream-{campaign}")
        return listener

    def unsubscribe(self, listener: Listener) -> None:
        group = self.listeners.get(listener.campaign)
        if group is not None:
            group.discard(listener)
            if not group:
                del self.listeners[listener.campaign]

    async def close(self) -> None:
        for task in list(self.pollers.values()):
            task.cancel()
        self.pollers.clear()

    async def events(self, campaign: str, identity: str | None) -> AsyncIterator[str]:
        """One connection's stream: `retry:`, then events as they come and `: ping` every `ping_s`."""
        listener = self.subscribe(campaign, identity)
        try:
            yield f"retry: {RETRY_MS}\n\n"
            next_ping = time.monotonic() + self.ping_s
            while not listener.overflowed:
                try:
                    message = await asyncio.wait_for(listener.queue.get(), max(0.0, next_ping - time.monotonic()))
                except TimeoutError:
                    message, next_ping = ": ping\n\n", next_ping + self.ping_s
                yield message
        finally:  # also when the client went away (the response task is cancelled)
            self.unsubscribe(listener)

    # --- the poller -----------------------------------------------------------------------------
    async def _poll(self, campaign: str) -> None:
        rules = self.campaigns[campaign]
        try:
            cursor = Cursor(await asyncio.to_thread(self._latest, campaign))
            while self.listeners.get(campaign):
                await asyncio.sleep(self.poll_s)
                if not self.listeners.get(campaign):
                    break
                try:
                    await self._tick(rules, cursor)
                except Exception:  # noqa: BLE001 - a database hiccup must not end the live stream
                    log.warning("live stream of campaign %s: polling failed", campaign, exc_info=True)
        finally:  # no await between the last listener check and this: a new subscriber starts a new poller
            if self.pollers.get(campaign) is asyncio.current_task():
                del self.pollers[campaign]

    def _latest(self, campaign: str) -> int:
        c = db.changes.c
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(c.id)).where(c.campaign == campaign)).scalar() or 0)

    def _read(self, campaign: str, cursor: Cursor) -> list[tuple[str, str]]:
        """The (kind, key) of rows not delivered yet; advances the cursor past rows older than the lookback."""
        c = db.changes.c
        with self.engine.connect() as conn:
            query = select(c.id, c.kind, c.key).where(c.campaign == campaign, c.id > cursor.after).order_by(c.id)
            rows = conn.execute(query).all()
        now = time.monotonic()
        fresh = [(row.kind, row.key) for row in rows if row.id not in cursor.seen]
        cursor.seen.update((row.id, now) for row in rows if row.id not in cursor.seen)
        settled = [i for i, at in cursor.seen.items() if now - at > LOOKBACK_S]
        if settled:
            cursor.after = max(settled)
            cursor.seen = {i: at for i, at in cursor.seen.items() if i > cursor.after}
        return fresh

    def _load(self, rules: CampaignRules, teams: set[int], votes: set[str],
              listening: set[str]) -> tuple[list[TeamView], list[dict[str, Any]]]:
        """The changed teams that someone listening belongs to, and the changed vote tallies."""
        views: list[TeamView] = []
        with self.engine.connect() as conn:
            if teams and listening:
                m = db.members.c
                rows = conn.execute(select(m.team_id, m.identity).where(m.campaign == rules.name, m.team_id.in_(sorted(teams))))
                for team_id in sorted({team_id for team_id, identity in rows if identity in listening}):
                    views.append(load_team(conn, rules, team_id))
            tallies = [vote_tally(conn, rules, vote) for vote in sorted(votes)]
        return views, tallies

    async def _tick(self, rules: CampaignRules, cursor: Cursor) -> None:
        fresh = await asyncio.to_thread(self._read, rules.name, cursor)
        group = self.listeners.get(rules.name, set())
        now = time.monotonic()
        cursor.board_pending = cursor.board_pending or any(kind == BOARD for kind, _ in fresh)
        if cursor.board_pending and now - cursor.board_sent >= self.board_every_s:  # at most once per board_every_s
            cursor.board_pending, cursor.board_sent = False, now
            message = sse("leaderboard", {"at": int(time.time() * 1000)})
            for listener in group:
                listener.put(message)
        teams = {int(key) for kind, key in fresh if kind == TEAM and key.isdigit()}
        votes = {key for kind, key in fresh if kind == VOTE and key in rules.votes}
        if not teams and not votes:
            return
        listening = {listener.identity for listener in group if listener.identity}
        views, tallies = await asyncio.to_thread(self._load, rules, teams, votes, listening)
        group = self.listeners.get(rules.name, set())  # some may have left meanwhile
        for listener in group:
            for view in views:
                if listener.identity in view.identities:
                    listener.put(sse("team", view.as_json(listener.identity)))
            for tally in tallies:
                listener.put(sse("vote", tally))


TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


class RedactTokens(logging.Filter):
    """Access logs print the query string: keep stream tokens (`?token=`) out of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_QUERY.sub(r"\1…", arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
