"""Daily and weekly rhythm of posting, and sampling post times from a rate.

The audience is French, so the rhythm follows Paris time; a fixed UTC+1 offset (winter time) keeps the
generator identical on every machine whatever its tz database says.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

LOCAL_OFFSET = timedelta(hours=1)

# Relative activity per local hour (mean ~1 over a weekday): night lows, lunch and evening peaks.
WEEKDAY = [0.35, 0.2, 0.12, 0.08, 0.07, 0.12, 0.3, 0.6, 0.9, 1.0, 1.05, 1.2, 1.6, 1.5, 1.05, 0.95,
           1.0, 1.15, 1.35, 1.55, 1.75, 1.65, 1.2, 0.75]
# Weekends: a late morning, a long afternoon, a Sunday-evening peak.
WEEKEND = [0.5, 0.35, 0.22, 0.12, 0.08, 0.08, 0.12, 0.25, 0.5, 0.85, 1.1, 1.3, 1.45, 1.4, 1.2, 1.15,
           1.15, 1.2, 1.3, 1.45, 1.6, 1.55, 1.2, 0.8]
WEEKEND_VOLUME = 0.85  # fewer posts about a brand on weekends


def local(t: datetime) -> datetime:
    return t + LOCAL_OFFSET


def activity(t: datetime) -> float:
    """Relative posting activity at UTC time `t` (hour profile interpolated, weekend scaled)."""
    lt = local(t)
    weekend = lt.weekday() >= 5
    prof = WEEKEND if weekend else WEEKDAY
    pos = lt.hour + lt.minute / 60.0 - 0.5  # hour weights sit at the middle of each hour
    i = math.floor(pos)
    frac = pos - i
    value = prof[i % 24] * (1 - frac) + prof[(i + 1) % 24] * frac
    return value * (WEEKEND_VOLUME if weekend else 1.0)


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw (Knuth for small rates, normal approximation above 30: plenty for post counts)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def sample_times(
    rng: random.Random, start: datetime, end: datetime, rate: Callable[[datetime], float]
) -> list[datetime]:
    """Times of a non-homogeneous Poisson process, `rate(t)` in posts per minute, sorted."""
    out: list[datetime] = []
    t = start
    minute = timedelta(minutes=1)
    while t < end:
        for _ in range(poisson(rng, rate(t))):
            out.append(t + timedelta(seconds=rng.randrange(60)))
        t += minute
    out.sort()
    return out


def day_factors(rng: random.Random, days: int) -> list[float]:
    """Some days are busier than others, for no reason a detector should care about."""
    return [rng.uniform(0.88, 1.12) for _ in range(days + 1)]
