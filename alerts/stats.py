"""Statistics used by detection: count tails for overdispersed traffic, dispersion estimates, robust means.

Kept apart from the detector so the maths has one reason to change and can be tested on its own.

Real mention counts are not Poisson: around a 1-hour moving mean their variance is 1.6 to 375 times their
mean (median about 9), because people post in cascades (a retweet wave, a thread, a TV segment). The count
model here is the **negative binomial** with mean `mu` and variance `mu + alpha * mu**2`: `alpha = 0` is
Poisson, `alpha = 1` gives a variance of 11 at a mean of 10. Each topic (and each source) learns its own
`alpha` from the residuals of its history (`nb_dispersion`), and every count driver judges a count with the
NB tail (`nb_log10_sf`), so a busy lunchtime on a bursty topic is not read as a 1-in-a-billion event.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

LOG10 = math.log(10)
MAX_SURPRISE = 1e6  # decimal digits: only to keep the value finite


def poisson_log10_sf(observed: int, expected: float) -> float:
    """-log10 P(X >= observed) for X ~ Poisson(expected): the "surprise" of a count, in decimal digits.

    0 means unsurprising; 2 means a 1-in-100 event; 10 means practically impossible by chance. Only the
    upper tail matters (a quiet bucket is never alarming), so observed <= expected gives 0.
    """
    return nb_log10_sf(observed, expected, 0.0)


def nb_log10_sf(observed: int, expected: float, alpha: float) -> float:
    """-log10 P(X >= observed) for X ~ NB(mean=expected, variance=expected + alpha*expected**2).

    alpha = 0 is Poisson. observed <= expected gives 0 (only excess is alarming). Far in the tail, where
    the probability underflows, the log of the first term of the tail series (a tight bound) is used.
    """
    expected = max(expected, 1e-9)
    if observed <= expected:
        return 0.0
    k = int(observed)
    if alpha <= 1e-9:
        sf = float(special.gammainc(k, expected))  # P(X >= k) = regularized lower gamma P(k, mu)
        if sf > 1e-300:
            return min(MAX_SURPRISE, max(0.0, -math.log10(sf)))
        log_pmf = k * math.log(expected) - expected - math.lgamma(k + 1)
        ratio = expected / (k + 1)
    else:
        r = 1.0 / alpha
        q = expected / (expected + r)  # the "success" probability of the failures count
        sf = float(special.betainc(k, r, q))  # P(X >= k) = I_q(k, r)
        if sf > 1e-300:
            return min(MAX_SURPRISE, max(0.0, -math.log10(sf)))
        log_pmf = (math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1) + r * math.log(1 - q) + k * math.log(q))
        ratio = q * (k + r) / (k + 1)
    log_sf = log_pmf - math.log(max(1e-12, 1 - min(ratio, 1 - 1e-12)))
    return min(MAX_SURPRISE, max(0.0, -log_sf / LOG10))


def nb_mid_p(observed: int, expected: float, alpha: float) -> float:
    """Mid-p upper tail P(X > observed) + P(X = observed) / 2 under NB(expected, alpha).

    Its average under the model is 1/2 and it spreads over (0, 1) even for small counts, which makes it the
    raw material of a calibrated score for discrete data (`vigie.sim.backtest.score_series`).
    """
    expected = max(expected, 1e-9)
    k = max(0, int(observed))
    if alpha <= 1e-9:
        upper = float(special.gammainc(k + 1, expected)) if k >= 0 else 1.0  # P(X > k) = P(X >= k+1)
        at = float(special.gammainc(k, expected)) - upper if k > 0 else 1.0 - upper
    else:
        r = 1.0 / alpha
        q = expected / (expected + r)
        upper = float(special.betainc(k + 1, r, q))
        at = (float(special.betainc(k, r, q)) if k > 0 else 1.0) - upper
    return min(1.0, max(0.0, upper + 0.5 * max(at, 0.0)))


def nb_tail(observed: int, expected: float, alpha: float) -> tuple[float, float]:
    """(P(X > observed), P(X = observed)) under NB(expected, alpha): the pieces of a randomized p-value
    P(X > x) + V * P(X = x), V uniform, which is exactly uniform under the model even for counts of 0-2."""
    expected = max(expected, 1e-9)
    k = max(0, int(observed))
    if alpha <= 1e-9:
        upper = float(special.gammainc(k + 1, expected))
        at_least = float(special.gammainc(k, expected)) if k > 0 else 1.0
    else:
        r = 1.0 / alpha
        q = expected / (expected + r)
        upper = float(special.betainc(k + 1, r, q))
        at_least = float(special.betainc(k, r, q)) if k > 0 else 1.0
    return upper, max(0.0, at_least - upper)


def nb_cdf(observed: int, expected: float, alpha: float) -> float:
    """Lower tail P(X <= observed) under NB(expected, alpha) (Poisson when alpha is 0): how improbable a
    count this *low* is. Collection health uses it to tell a collapsed source from a quiet hour."""
    if expected <= 0:
        return 1.0
    k = int(observed)
    if k < 0:
        return 0.0
    if alpha <= 1e-9:
        return float(special.gammaincc(k + 1, expected))  # P(X <= k) = regularized upper gamma Q(k+1, mu)
    r = 1.0 / alpha
    q = expected / (expected + r)
    return float(special.betainc(r, k + 1, 1 - q))  # P(X <= k) = I_{1-q}(r, k+1)


def nb_dispersion(observed: Sequence[float], expected: Sequence[float], trim: float = 0.02,
                  max_alpha: float = 50.0, winsor: float | None = None, min_points: int = 8) -> float:
    """Overdispersion `alpha` of counts around their expectations, by robust method of moments.

    Under NB, E[(x - e)**2 - x] = alpha * e**2, so alpha = sum((x - e)**2 - x) / sum(e**2). Made robust by
    leaving out the `trim` share of points with the largest Pearson residuals (a past crisis in the history
    must not teach the topic that crises are normal); clipped to [0, max_alpha]. Too little data (fewer
    than `min_points`, or an empty history) gives 0 here: callers add their own prior.

    `winsor` (instead of trimming, for short histories where 2% is not even one point): every Pearson
    residual beyond `winsor` robust standard deviations (the median absolute residual * 1.4826, at least 1)
    is clipped to that bound, so one viral hour among ten still counts, but as a merely large one.
    """
    x = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    keep = e > 0
    x, e = x[keep], e[keep]
    if len(x) < min_points:
        return 0.0
    if winsor is not None:
        r = (x - e) / np.sqrt(e)
        cap = winsor * max(float(np.sort(np.abs(r))[len(r) // 2]) * 1.4826, 1.0)
        r = np.clip(r, -cap, cap)
        den = float(np.dot(e, e))
        num = float(np.sum(r * r * e - e))  # (x - e)**2 - e with the clipped residual
        return min(max_alpha, max(0.0, num / den)) if den > 0 else 0.0
    if trim > 0:
        cut = max(8, len(x) - int(len(x) * trim))
        if cut < len(x):
            order = np.argsort((x - e) / np.sqrt(e), kind="stable")[:cut]
            x, e = x[order], e[order]
    den = float(np.dot(e, e))
    if den <= 0:
        return 0.0
    num = float(np.sum((x - e) ** 2 - x))
    return min(max_alpha, max(0.0, num / den))


def trimmed_mean(values: Sequence[float], trim: float = 0.1, low: float = 0.0) -> float:
    """Mean without the top `trim` fraction: a past burst inside the baseline does not inflate it.

    By default only the upper side is trimmed: counts are bounded below by zero and the outliers that
    matter to detection (yesterday's bad buzz) are high. `low` trims that fraction from the bottom too,
    for baselines of *collection* volume, where a past outage hour is the low outlier.
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    keep = max(1, len(ordered) - int(len(ordered) * trim))
    start = min(int(len(ordered) * low), keep - 1)
    kept = ordered[start:keep]
    return sum(kept) / len(kept)


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


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
