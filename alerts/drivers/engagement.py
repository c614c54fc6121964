"""Engagement velocity: one risk driver (its weight and its points); what drivers share is in `signals`."""

from __future__ import annotations

import math

from alerts.drivers.signals import driver, human, MIN_ENGAGEMENT_PER_HOUR, Signals, strongest_span
from alerts.stats import ramp
from vigie.core.drivers import risk_driver
from vigie.core.messages import N_
from vigie.core.models import Driver


@risk_driver("engagement", 10)  # interactions per hour on negative posts vs usual (a complaint that travels)
def engagement(s: Signals) -> Driver | None:
    """Engagement velocity: interactions on negative posts per hour. Listeners store a post's engagement as
    first fetched, minutes after publication, and so does the baseline: both measure how fast complaints
    are picked up (likes, reposts, replies), the early sign that a story is travelling. Judged over the
    window, 1 h and 3 h like reach (the amplifier's post is picked up for longer than 30 minutes)."""

    def score(span: int) -> tuple[float, tuple[float, float, float]]:
        hours = span * s.cfg.bucket_minutes / 60
        pace = s.total("negative_engagement", span) / hours
        negatives = s.total("negative", span)
        usual = s.base.engagement_per_negative * negatives / hours
        if (pace + 1) / (max(usual, MIN_ENGAGEMENT_PER_HOUR) + 1) > 3:  # else 0 whatever the expectation (cheaper)
            usual = max(sum(s.expectations("negative_engagement", span)) / hours, usual)
        ratio = (pace + 1) / (max(usual, MIN_ENGAGEMENT_PER_HOUR) + 1)
        return ramp(math.log10(max(ratio, 1e-9)), math.log10(3), math.log10(30)), (pace, usual, ratio)

    strength, span, (pace, usual, ratio), note = strongest_span(s, score)
    shown_usual = f"≤{human(MIN_ENGAGEMENT_PER_HOUR)}" if usual < MIN_ENGAGEMENT_PER_HOUR else human(round(usual))
    return driver("engagement", s.cfg.weights.engagement, strength, pace, usual,
                  N_("engagement velocity on negative posts {pace}/h, ×{ratio} over baseline ({usual}/h)",
                     pace=human(round(pace)), ratio=f"{ratio:.1f}", usual=shown_usual) + s.over(span) + note)
