"""Reach: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

import math

from alerts.drivers.signals import driver, human, Signals
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("reach", 15)
def reach(s: Signals) -> Driver | None:
    """Followers of the authors of negative posts, against the usual (×3 starts, ×30 is full). The usual is
    what the window's negative posts would reach as usual negative posts (amplification, not volume)."""
    value = sum(b.negative_reach for b in s.window)
    negatives = sum(b.negative for b in s.window)
    usual = max(s.exp["negative_reach"], s.base.reach_per_negative * negatives)
    ratio = (value + 1) / (max(usual, 1_000.0) + 1)
    strength = ramp(math.log10(max(ratio, 1e-9)), math.log10(3), math.log10(30)) * s.gate
    return driver("reach", s.cfg.weights.reach, strength, value, usual,
                  N_("reach of negative authors {reach} followers, ×{ratio} over baseline ({usual})", reach=human(value),
                     ratio=f"{ratio:.1f}", usual=human(usual)) + s.damped)
