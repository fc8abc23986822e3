"""Seeded, realistic analytics events for the report's benchmark, statistical tests and screenshot.

Visitors arrive over two weeks, some by a shared link; each has 1–3 sessions of 1–3 page views, a
dwell chain per view (a `dwell` event every 15 s and one when hidden; skewed, log-normal visible
times), component starts and completions, shares (which bring new visitors by `ref=`), and a variant
in two experiments: `hero` (b raises dwell by `dwell_uplift`) and `cta` (b raises the share rate by
`share_uplift`). Events are the export's lines (docs/report.md)."""
from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
PAGES = ("index.html", "quiz.html", "game.html")
CHANNELS = ("wechat", "wechat", "wechat", "system", "copy", "poster")


@dataclass
class Truth:
    """The effects the data is made with."""

    dwell_uplift: float = 0.4
    share_uplift: float = 0.6
    share_p: float = 0.05
    dwell_mu: float = math.log(25)  # median visible seconds of one view, variant a
    dwell_sigma: float = 1.0


class Ids:
    def __init__(self, prefix: str) -> None:
        self.prefix, self.n = prefix, 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:023d}"


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _view(rng: random.Random, ids: Ids, base: dict[str, Any], at: int, page: str, ref: str | None,
          seconds: float) -> Iterator[dict[str, Any]]:
    """A view and its dwell chain: a dwell event per 15 visible seconds and one for the rest."""
    view = ids()
    yield {**base, "id": view, "type": "view", "component": None, "payload": {"ref": ref} if ref else {}, "at": _iso(at),
           "page": page}
    left, t = max(1, int(seconds * 1000)), at
    while left > 0:
        ms = min(15000, left)
        t += ms
        left -= ms
        yield {**base, "id": ids(), "type": "dwell", "component": None, "payload": {"view": view, "ms": ms}, "at": _iso(t),
               "page": page}


def visitor_events(rng: random.Random, ids: Ids, truth: Truth, campaign: str, at: int, ref: str | None,
                   pending: list[tuple[int, str]]) -> Iterator[dict[str, Any]]:
    """Every event of one visitor; their shares are appended to `pending` as (time, share id)."""
    visitor = ids()
    variants = {"hero": rng.choice("ab"), "cta": rng.choice("ab")}
    dwell_mu = truth.dwell_mu + (math.log1p(truth.dwell_uplift) if variants["hero"] == "b" else 0)
    share_p = truth.share_p * (1 + truth.share_uplift if variants["cta"] == "b" else 1)
    will_share = rng.random() < share_p
    sessions = rng.choice((1, 1, 1, 2, 2, 3))
    for s in range(sessions):
        base = {"campaign": campaign, "visitor": visitor, "session": ids(), "variants": variants}
        t = at + s * rng.randint(3_600_000, 3 * 86_400_000)
        for v in range(rng.choice((1, 1, 2, 3))):
            page = PAGES[0] if v == 0 else rng.choice(PAGES[1:])
            seconds = rng.lognormvariate(dwell_mu, truth.dwell_sigma)
            yield from _view(rng, ids, base, t, page, ref if s == 0 and v == 0 else None, seconds)
            if page != "index.html" and rng.random() < 0.6:
                kind = page.removesuffix(".html")
                yield {**base, "id": ids(), "type": "start", "component": kind, "payload": {"kind": kind}, "at": _iso(t + 2000),
                       "page": page}
                if rng.random() < 0.5:
                    yield {**base, "id": ids(), "type": "completion", "component": kind, "payload": {"kind": kind},
                           "at": _iso(t + 4000), "page": page}
            t += int(seconds * 1000) + 5000
        if will_share and s == 0:
            share = ids()
            yield {**base, "id": ids(), "type": "share", "component": None,
                   "payload": {"share": share, "channel": rng.choice(CHANNELS)}, "at": _iso(t), "page": PAGES[0]}
            pending.extend((t + rng.randint(60_000, 86_400_000), share) for _ in range(rng.choice((0, 1, 1, 2, 3))))


def events(count: int, seed: int = 1, truth: Truth | None = None, campaign: str = "green") -> Iterator[dict[str, Any]]:
    """About `count` events (whole visitors), arrivals spread over 14 days."""
    rng, ids, truth = random.Random(seed), Ids("01J"), truth or Truth()
    pending: list[tuple[int, str]] = []
    made, start = 0, int(START.timestamp() * 1000)
    while made < count:
        if pending and rng.random() < 0.5:
            at, ref = pending.pop(rng.randrange(len(pending)))
        else:
            at, ref = start + rng.randint(0, 14 * 86_400_000), None
        for event in visitor_events(rng, ids, truth, campaign, at, ref, pending):
            made += 1
            yield {k: event[k] for k in ("id", "campaign", "type", "component", "payload", "at", "visitor", "session", "page",
                                         "variants")}


def write(path: Path, count: int, seed: int = 1) -> int:
    """The export of `events(count, seed)` at `path`; returns how many lines."""
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for event in events(count, seed):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            n += 1
    return n
