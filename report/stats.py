"""Relative uplift with a 95 % interval that holds for skewed dwell times: a percentile Poisson bootstrap
over visitors, seeded so that a report is reproducible.

A visitor is the unit of resampling (their sessions and shares are not independent). In each replicate
every visitor weighs Poisson(1) (the Poisson bootstrap, which matches resampling n of n for all but tiny
n). Visitors with the same number of sessions, the same share flag and a dwell in the same 10 %-wide
bin (on a log scale) are one group of c visitors, weighing Poisson(c), at the group's mean dwell: the
cost follows the number of groups (hundreds), not of visitors. What grouping ignores is the spread
within a bin, under 0.1 % of a visitor's squared dwell, against a spread between visitors of the order
of the squared mean itself.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

REPLICATES = 1000
BINS_PER_E = 10  # dwell bins per factor e (≈10 % wide)
SEED = 20261206
DECIMALS = 6  # of a relative change, as the report's other ratios
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Arm:
    """One variant's visitors, grouped: how many visitors (count) had these sessions, dwell, shared."""

    count: Floats
    sessions: Floats  # sessions of one visitor of the group
    dwell_s: Floats  # mean total dwell of the group's visitors
    shared: Floats  # 1.0: the group's visitors shared

    @property
    def visitors(self) -> int:
        return int(self.count.sum())


def arm(sessions: npt.ArrayLike, dwell_s: npt.ArrayLike, shared: npt.ArrayLike) -> Arm:
    """Group per-visitor values (one entry per visitor) into an `Arm`."""
    s, d, h = (np.asarray(a, dtype=np.float64) for a in (sessions, dwell_s, shared))
    if not len(s):
        empty = np.zeros(0)
        return Arm(empty, empty, empty, empty)
    dwell_bin = np.round(BINS_PER_E * np.log1p(d)).astype(np.int64)  # < 7,100 for any dwell a float holds
    keys = (s.astype(np.int64) * 2 + h.astype(np.int64)) * 10_000 + dwell_bin  # one integer: a fast np.unique
    _, group, count = np.unique(keys, return_inverse=True, return_counts=True)
    group = group.ravel()
    return Arm(count.astype(np.float64), np.bincount(group, s) / count, np.bincount(group, d) / count,
               np.bincount(group, h) / count)


def _statistics(counts: Floats, a: Arm) -> tuple[Floats, Floats]:
    """Mean session dwell and share rate for each row of group counts."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dwell = (counts @ a.dwell_s) / (counts @ a.sessions)
        share = (counts @ a.shared) / counts.sum(axis=1)
    return dwell, share


def _replicates(a: Arm, rng: np.random.Generator, replicates: int) -> tuple[Floats, Floats]:
    """`replicates` bootstrap draws of the arm's (mean session dwell, share rate), in blocks."""
    block = max(1, 4_000_000 // max(1, len(a.count)))
    dwell, share = [], []
    for start in range(0, replicates, block):
        counts = rng.poisson(a.count, size=(min(block, replicates - start), len(a.count))).astype(np.float64)
        d, s = _statistics(counts, a)
        dwell.append(d)
        share.append(s)
    return np.concatenate(dwell), np.concatenate(share)


def point(a: Arm) -> tuple[float, float]:
    """The arm's mean session dwell (s) and share rate."""
    d, s = _statistics(a.count[None, :], a)
    return float(d[0]), float(s[0])


def _interval(base: float, other: float, base_draws: Floats, other_draws: Floats) -> dict[str, object]:
    """Rounded to DECIMALS: the last bits of a sum depend on the order the events were read in (in
    parallel), so unrounded figures could differ between two reads of the same events."""
    if not base or np.isnan(base) or np.isnan(other):
        return {"estimate": None, "ci95": None}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = other_draws / base_draws - 1
    ratios = ratios[np.isfinite(ratios)]
    low, high = np.percentile(ratios, [2.5, 97.5]) if len(ratios) else (np.nan, np.nan)
    return {"estimate": round(other / base - 1, DECIMALS), "ci95": [round(float(low), DECIMALS), round(float(high), DECIMALS)]}


def uplift(base: Arm, other: Arm, *, key: str = "", replicates: int = REPLICATES, seed: int = SEED) -> dict[str, dict]:
    """`other` against `base` as relative change (0.4 = +40 %) of the mean session dwell (`dwell_s`) and
    of the share rate, each `{estimate, ci95: [low, high]}`; None where the baseline is zero or empty.
    `key` (experiment and variant) picks the random stream, so adding an experiment changes no other."""
    if not base.visitors or not other.visitors:
        empty = {"estimate": None, "ci95": None}
        return {"dwell_s": empty, "share_rate": empty}
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    base_dwell, base_share = _replicates(base, rng, replicates)
    other_dwell, other_share = _replicates(other, rng, replicates)
    (bd, bs), (od, os_) = point(base), point(other)
    return {"dwell_s": _interval(bd, od, base_dwell, other_dwell), "share_rate": _interval(bs, os_, base_share, other_share)}
