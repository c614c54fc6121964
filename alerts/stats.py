"""Small, dependency-free statistics used by detection: count tails and robust means.

Kept apart from the detector so the maths has one reason to change and can be tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def poisson_log10_sf(observed: int, expected: float) -> float:
    """-log10 P(X >= observed) for X ~ Poisson(expected): the "surprise" of a count, in decimal digits.

    0 means unsurprising; 2 means a 1-in-100 event; 10 means practically impossible by chance. Computed
    in log space from the first term of the upper tail, so 400 posts against an expectation of 5 does not
    underflow. Only the upper tail matters (a quiet bucket is never alarming), so observed <= expected
    gives 0.
    """
    if expected <= 0:
        expected = 1e-9
    if observed <= expected:
        return 0.0
    # log pmf(observed) then sum the ratio series pmf(k+1)/pmf(k) = lam/(k+1) until negligible.
    log_pmf = observed * math.log(expected) - expected - math.lgamma(observed + 1)
    total, term, k = 1.0, 1.0, observed
    while True:
        k += 1
        term *= expected / k
        total += term
        if term < 1e-12 * total or k > observed + 10_000:
            break
    log_sf = log_pmf + math.log(total)
    return max(0.0, -log_sf / math.log(10))


def trimmed_mean(values: Sequence[float], trim: float = 0.1) -> float:
    """Mean without the top `trim` fraction: a past burst inside the baseline does not inflate it.

    Only the upper side is trimmed: counts are bounded below by zero and the outliers that matter
    (yesterday's bad buzz) are high.
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    keep = max(1, len(ordered) - int(len(ordered) * trim))
    kept = ordered[:keep]
    return sum(kept) / len(kept)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (deterministic, no interpolation surprises on tiny samples)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[idx]


def ramp(x: float, lo: float, hi: float) -> float:
    """0 below `lo`, 1 above `hi`, linear in between: how far a signal is into its alarming range."""
    if hi <= lo:
        return 1.0 if x >= hi else 0.0
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))
