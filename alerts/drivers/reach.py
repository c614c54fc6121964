"""Reach: one risk driver (its weight and its points); the shared reading of the window is in `signals`."""

from __future__ import annotations

import math

from alerts.drivers.signals import driver, human, Signals, strongest_span
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("reach", 15)
def reach(s: Signals) -> Driver | None:
    """Followers of the authors of negative posts, against the usual (×3 starts, ×30 is full). The usual is
    what the span's negative posts would reach as usual negative posts (amplification, not volume).

    Judged over the window, 1 h and 3 h like negative volume: an influencer's post keeps being read for hours,
    and a bad buzz's first hour after it is a trickle of posts. Over the window alone the amplifier of a bad
    buzz was forgotten 30 minutes after it posted, long before the story had the posts to show in any other
    figure (issue 14h, tune split). Longer spans fade with the story's pace, like every look-back driver."""

    def score(span: int) -> tuple[float, tuple[int, float, float]]:
        value = s.total("negative_reach", span)
        negatives = s.total("negative", span)
        usual = max(s.base.reach_per_negative * negatives, 1_000.0)
        if (value + 1) / (usual + 1) > 3:  # else under x3 whatever the expectation: 0 (the same, cheaper)
            usual = max(sum(s.expectations("negative_reach", span)), usual)
        ratio = (value + 1) / (usual + 1)
        return ramp(math.log10(max(ratio, 1e-9)), math.log10(3), math.log10(30)), (value, usual, ratio)

    strength, span, (value, usual, ratio), note = strongest_span(s, score)
    return driver("reach", s.cfg.weights.reach, strength, value, usual,
                  N_("reach of negative authors {reach} followers, ×{ratio} over baseline ({usual})", reach=human(value),
                     ratio=f"{ratio:.1f}", usual=human(usual)) + s.over(span) + note)
