"""The uplift intervals on generated data with known true effects: each 95 % interval should cover the
truth in about 95 % of replications, for skewed (log-normal) dwell and for share rates, including an A/A
test where the truth is no change."""
from __future__ import annotations

import math

import pytest

pytest.importorskip("numpy", reason="the report extra is not installed: pip install 'h5press[report]'")

import numpy as np  # noqa: E402

from h5press.report import stats  # noqa: E402

REPLICATIONS = 200
SIGMA = 1.2  # log-normal dwell: mean ≈ 2 × median, a long tail


def visitors(rng: np.random.Generator, n: int, dwell_factor: float, share_p: float) -> stats.Arm:
    """n visitors with 1–3 sessions of log-normal dwell (mean 30 s × dwell_factor) who share with share_p."""
    sessions = rng.integers(1, 4, n)
    mu = math.log(30 * dwell_factor) - SIGMA**2 / 2  # E[dwell] = 30 s × dwell_factor
    dwell = np.array([rng.lognormal(mu, SIGMA, k).sum() for k in sessions])
    return stats.arm(sessions, dwell, rng.random(n) < share_p)


def coverage(true_dwell: float, true_share: float, n: int, share_p: float, seed: int) -> tuple[float, float]:
    """How often the intervals hold the true relative changes, over REPLICATIONS generated experiments."""
    rng = np.random.default_rng(seed)
    hits = {"dwell_s": 0, "share_rate": 0}
    for i in range(REPLICATIONS):
        a = visitors(rng, n, 1.0, share_p)
        b = visitors(rng, n, 1 + true_dwell, share_p * (1 + true_share))
        result = stats.uplift(a, b, key=str(i), replicates=400, seed=seed)
        for metric, truth in (("dwell_s", true_dwell), ("share_rate", true_share)):
            low, high = result[metric]["ci95"]
            hits[metric] += low <= truth <= high
    return hits["dwell_s"] / REPLICATIONS, hits["share_rate"] / REPLICATIONS


@pytest.mark.parametrize(("true_dwell", "true_share"), [(0.4, 0.6), (0.0, 0.0)], ids=["effect", "a-a"])
def test_intervals_cover_the_true_effect_at_about_95_percent(true_dwell: float, true_share: float) -> None:
    dwell, share = coverage(true_dwell, true_share, n=600, share_p=0.1, seed=7)
    # 200 replications at a true 95 %: 90 %–99 % holds the observed rate with > 99 % probability
    assert 0.90 <= dwell <= 0.99, dwell
    assert 0.90 <= share <= 0.99, share


def test_intervals_find_a_large_effect_and_are_reproducible() -> None:
    rng = np.random.default_rng(3)
    a, b = visitors(rng, 3000, 1.0, 0.05), visitors(rng, 3000, 1.4, 0.08)
    first = stats.uplift(a, b, key="hero/b")
    assert first == stats.uplift(a, b, key="hero/b")  # the same seed and key: the same interval
    assert first["dwell_s"]["ci95"][0] > 0 and first["share_rate"]["ci95"][0] > 0
    assert first["dwell_s"]["ci95"][0] < 0.4 < first["dwell_s"]["ci95"][1]


def test_grouping_keeps_the_point_estimates_exact() -> None:
    rng = np.random.default_rng(5)
    sessions, dwell, shared = rng.integers(1, 4, 500), rng.lognormal(3, 1.5, 500), rng.random(500) < 0.2
    grouped = stats.arm(sessions, dwell, shared)
    assert len(grouped.count) < 500 and grouped.visitors == 500
    assert stats.point(grouped) == pytest.approx((dwell.sum() / sessions.sum(), shared.mean()))


def test_no_baseline_no_interval() -> None:
    none = stats.arm([1, 1], [0.0, 0.0], [False, False])
    some = stats.arm([1], [5.0], [True])
    assert stats.uplift(none, some)["share_rate"] == {"estimate": None, "ci95": None}
    assert stats.uplift(stats.arm([], [], []), some)["dwell_s"] == {"estimate": None, "ci95": None}
